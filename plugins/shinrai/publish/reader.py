"""Connecting to the publication the way a BI reader should (docs/bi.md shows the same by hand).

``connect()`` opens the current ``marts.duckdb`` read-only. ``connect_parquet()`` resolves the
Parquet pointer once and exposes every table of that one set as a view in an in-memory DuckDB, so
a batch of queries never mixes two publications. ``published_volumes()`` reads the figures the
quality gate compares a new build with (through ``connect()``, so it follows whatever the BI path
resolves to).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import duckdb

from shinrai.publish.layout import PUBLICATION_TABLE, PUBLICATION_TABLES_TABLE, PublishLayout, layout
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


@dataclass(frozen=True)
class PublishedVolumes:
    """Row counts of the live publication: what BI sees now, the baseline of the volume gate."""

    publication_id: str
    as_of_date: date | None
    tables: dict[str, int]  # mart -> rows (``_publication_tables``, kind ``mart``)
    product_incidents: dict[str | None, int] = field(default_factory=dict)  # product_code -> fct_incidents rows


def published_volumes(target: PublishLayout | None = None) -> PublishedVolumes | None:
    """The live publication's mart row counts and incidents per product; None when nothing is
    published yet (a first run has nothing to lose). Read through :func:`connect`, the way BI
    reads it. A publication that cannot be read raises :class:`PublishError` naming the file."""
    target = target or layout()
    try:
        con = connect(target)
    except PublishError:
        return None
    try:
        with con:
            head = con.execute(f"select publication_id, as_of_date from {PUBLICATION_TABLE}").fetchone()
            tables = con.execute(
                f"select table_name, row_count from {PUBLICATION_TABLES_TABLE} where kind = 'mart'"
            ).fetchall()
            products: list[tuple[str | None, int]] = []
            if any(name == "fct_incidents" for name, _ in tables):
                products = con.execute(
                    "select product_code, count(*) from fct_incidents group by product_code"
                ).fetchall()
    except duckdb.Error as exc:
        raise PublishError(f"cannot read the live publication {target.duckdb_file}: {exc}".splitlines()[0]) from exc
    if head is None:
        raise PublishError(f"the live publication {target.duckdb_file} has no {PUBLICATION_TABLE} row")
    return PublishedVolumes(
        publication_id=str(head[0]),
        as_of_date=head[1],
        tables={str(name): int(rows) for name, rows in tables},
        product_incidents={code: int(n) for code, n in products},
    )
