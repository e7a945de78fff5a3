"""The baseline of the volume gate: the live publication's figures, copied into the warehouse for
one quality run.

The rule itself (``mart_volume`` in :mod:`shinrai.quality.rules`) is a GX expectation over a query
of the warehouse, like every other rule; GX's datasource reads the warehouse only, so before a
checkpoint that includes the rule runs, :func:`write_baseline` replaces ``quality.volume_baseline``
with what BI sees now (read through :func:`shinrai.publish.reader.published_volumes`): one row
per published mart with its row count, one per product with its ``fct_incidents`` count, the
limit in force and whether this run confirmed a mass deletion (nightly param
``confirm_mass_deletion``). Nothing published yet: the table is empty and the rule has nothing
to compare (a first run passes).
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from pathlib import Path

import duckdb

log = logging.getLogger(__name__)

TABLE = "quality.volume_baseline"
DDL = (
    "create schema if not exists quality",
    f"""
    create table if not exists {TABLE} (
        run_id varchar not null,
        publication_id varchar not null,
        published_as_of date,
        table_name varchar not null,
        product_code varchar,        -- null: the table's row count; else that product's incidents
        is_product boolean not null,
        published_rows bigint not null,
        max_drop_share double not null,
        drop_confirmed boolean not null,
        written_at timestamptz not null
    )
    """,
)


def write_baseline(warehouse: Path, run_id: str, max_drop_share: float, confirmed: bool,
                   target: object | None = None) -> int:
    """Replace the baseline with the live publication's figures; return how many rows it holds.

    ``target`` is a :class:`shinrai.publish.layout.PublishLayout` (default: the configured one).
    """
    from shinrai.publish.reader import published_volumes

    volumes = published_volumes(target)  # type: ignore[arg-type]
    now = datetime.now(UTC)
    rows: list[tuple] = []
    if volumes is not None:
        head = (run_id, volumes.publication_id, volumes.as_of_date)
        tail = (float(max_drop_share), bool(confirmed), now)
        rows += [(*head, name, None, False, n, *tail) for name, n in sorted(volumes.tables.items())]
        rows += [(*head, "fct_incidents", code, True, n, *tail)
                 for code, n in sorted(volumes.product_incidents.items(), key=lambda kv: str(kv[0]))]
        log.info("volume gate: comparing with publication %s (as of %s, %d figures)%s", volumes.publication_id,
                 volumes.as_of_date, len(rows), ", a drop confirmed for this run" if confirmed else "")
    else:
        log.info("volume gate: nothing published yet, nothing to compare")
    with duckdb.connect(str(warehouse)) as con:
        for statement in DDL:
            con.execute(statement)
        con.execute("begin transaction")
        try:
            con.execute(f"delete from {TABLE}")
            if rows:
                con.executemany(f"insert into {TABLE} values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)
        except BaseException:
            con.execute("rollback")
            raise
        con.execute("commit")
    return len(rows)
