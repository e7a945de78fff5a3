"""Which build of the marts the warehouse holds: the bookkeeping of ``state.marts_build_runs``.

A build is recorded in ``state.marts_build_runs`` of the warehouse **before** dbt starts
(``running``) and marked ``success`` or ``failed`` after it. dbt writes model by model, so a build
that was killed or failed half-way leaves some marts rebuilt and the rest stale; the record that
stays ``running`` (killed) or ``failed`` is what tells publication not to touch them. Only the next
complete build, then a passing quality run over it, makes the marts publishable again.

This module only records builds and reads them back; what they allow is decided elsewhere: the
publication rule in :mod:`shinrai.quality.gate`, whether the chaser may send in
:func:`shinrai.pipeline.chase` (the latest build must be complete and as of the day it sends for).
"""

from __future__ import annotations

import os
import secrets
import signal
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import duckdb

from shinrai import duckdb_lock

TABLE = "state.marts_build_runs"
RUNNING, SUCCESS, FAILED = "running", "success", "failed"
# Test hook (harmless elsewhere): ``started`` kills the process with SIGKILL right after the build
# is recorded, as a kill -9 during ``dbt build`` would leave it.
KILL_ENV = "SHINRAI_BUILD_KILL_AT"

DDL = (
    "create schema if not exists state",
    f"""
    create table if not exists {TABLE} (
        build_id varchar primary key,
        run_id varchar,
        as_of_date date not null,
        full_refresh boolean not null,
        started_at timestamptz not null,
        finished_at timestamptz,
        status varchar not null,
        error varchar
    )
    """,
    # the digest of the dbt project and its vars the build ran with (transform.dbt.code_digest): a
    # build whose code and configuration equal the last successful one skips the tests that only
    # guard code (added after the table: warehouses built before it get the column here)
    f"alter table {TABLE} add column if not exists code_digest varchar",
)


@dataclass(frozen=True)
class Build:
    build_id: str
    run_id: str | None
    as_of_date: date
    full_refresh: bool
    started_at: datetime
    finished_at: datetime | None
    status: str
    error: str | None
    code_digest: str | None = None

    def describe(self) -> str:
        by = f"run {self.run_id!r}" if self.run_id else "a hand-run build"
        return f"build {self.build_id} ({by}, as of {self.as_of_date}, started {self.started_at:%Y-%m-%d %H:%M:%S %Z})"


def _kill_at(step: str) -> None:
    if os.environ.get(KILL_ENV) == step:
        os.kill(os.getpid(), signal.SIGKILL)


def start(warehouse: Path, run_id: str | None, as_of_date: date, full_refresh: bool,
          code_digest: str | None = None) -> str:
    """Record a build as ``running`` (before dbt touches anything); return its id.

    Opens the warehouse for writing: when another process holds it, :class:`FileInUse` is raised
    and nothing is recorded (dbt could not have run either)."""
    warehouse.parent.mkdir(parents=True, exist_ok=True)
    now = datetime.now(UTC)
    build_id = now.strftime("%Y%m%dT%H%M%S%fZ") + "-" + secrets.token_hex(3)
    with duckdb_lock.connect(warehouse) as con:
        for statement in DDL:
            con.execute(statement)
        con.execute(f"insert into {TABLE} (build_id, run_id, as_of_date, full_refresh, started_at, status, "
                    "code_digest) values (?, ?, ?, ?, ?, ?, ?)",
                    [build_id, run_id, as_of_date, full_refresh, now, RUNNING, code_digest])
    _kill_at("started")
    return build_id


def finish(warehouse: Path, build_id: str, status: str, error: str | None = None) -> None:
    with duckdb_lock.connect(warehouse) as con:
        con.execute(f"update {TABLE} set status = ?, finished_at = ?, error = ? where build_id = ?",
                    [status, datetime.now(UTC), error[:1000] if error else None, build_id])


@contextmanager
def recorded(warehouse: Path, run_id: str | None, as_of_date: date, full_refresh: bool,
             code_digest: str | None = None) -> Iterator[str]:
    """Record the build around the ``with`` body: ``running`` before, ``success``/``failed`` after.

    A kill -9 inside the body leaves it ``running``, which blocks publication like a failure."""
    build_id = start(warehouse, run_id, as_of_date, full_refresh, code_digest)
    try:
        yield build_id
    except BaseException as exc:
        try:
            finish(warehouse, build_id, FAILED, f"{type(exc).__name__}: {exc}")
        except Exception:  # the warehouse is unreachable: the row stays ``running``, which blocks too
            pass
        raise
    finish(warehouse, build_id, SUCCESS)


def _row_to_build(columns: list[str], row: tuple[Any, ...]) -> Build:
    return Build(**dict(zip(columns, row, strict=True)))


def latest_from(con: duckdb.DuckDBPyConnection, catalog: str | None = None, *,
                complete: bool = False) -> Build | None:
    """The newest build recorded in the connection's warehouse (``catalog``: an attached one);
    ``complete``: the newest that finished successfully."""
    table = f"{catalog}.{TABLE}" if catalog else TABLE
    where = f"where status = '{SUCCESS}'" if complete else ""
    try:
        cur = con.execute(f"select * from {table} {where} order by started_at desc limit 1")
    except duckdb.CatalogException:
        return None
    row = cur.fetchone()
    return _row_to_build([d[0] for d in cur.description], row) if row else None


def latest(warehouse: Path, *, complete: bool = False) -> Build | None:
    """The newest build of the warehouse, finished or not (``complete``: the newest that finished
    successfully); None: no build on record."""
    if not Path(warehouse).exists():
        return None
    with duckdb_lock.connect(warehouse, read_only=True) as con:
        return latest_from(con, complete=complete)


def mart_counts(warehouse: Path) -> dict[str, int]:
    """Row counts of every table in the warehouse's ``marts`` schema (``marts.<name>`` -> rows):
    what the latest build left."""
    counts: dict[str, int] = {}
    with duckdb_lock.connect(warehouse, read_only=True) as con:
        tables = [r[0] for r in con.execute(
            "select table_name from information_schema.tables where table_schema = 'marts' "
            "and table_type = 'BASE TABLE' order by table_name").fetchall()]
        for table in tables:
            row = con.execute(f'select count(*) from marts."{table}"').fetchone()
            counts[f"marts.{table}"] = int(row[0]) if row else 0
    return counts
