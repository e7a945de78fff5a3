"""Connecting to the publication the way a BI reader should (docs/bi.md shows the same by hand).

``connect()`` opens the current ``marts.duckdb`` read-only. ``connect_parquet()`` resolves the
Parquet pointer once and exposes every table of that one set as a view in an in-memory DuckDB, so
a batch of queries never mixes two publications.
"""

from __future__ import annotations

from pathlib import Path

import duckdb

from shinrai.publish.layout import PublishLayout, layout
from shinrai.publish.publication import PublishError, quote_ident, quote_literal


def connect(target: PublishLayout | None = None) -> duckdb.DuckDBPyConnection:
    """A read-only connection to the current publication. Close it to see the next one."""
    path = (target or layout()).duckdb_file
    if not path.exists():
        raise PublishError(f"nothing published yet at {path}")
    return duckdb.connect(str(path), read_only=True)


def parquet_views(con: duckdb.DuckDBPyConnection, directory: Path) -> list[str]:
    """Create one view per ``<table>.parquet`` of ``directory`` in ``con``; return the table names."""
    names = []
    for file in sorted(Path(directory).glob("*.parquet")):
        con.execute(f"create or replace view {quote_ident(file.stem)} as "
                    f"select * from read_parquet({quote_literal(str(file))})")
        names.append(file.stem)
    return names


def connect_parquet(target: PublishLayout | None = None) -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB with a view per table of the current Parquet set (resolved once)."""
    target = target or layout()
    directory = target.current_parquet_dir()
    if directory is None:
        raise PublishError(f"nothing published yet at {target.parquet_link}")
    con = duckdb.connect(":memory:")
    parquet_views(con, directory)
    return con
