"""Which build of the marts the warehouse holds, and whether it may be published.

A build is recorded in ``state.marts_build_runs`` of the warehouse **before** dbt starts
(``running``) and marked ``success`` or ``failed`` after it. dbt writes model by model, so a build
that was killed or failed half-way leaves some marts rebuilt and the rest stale; the record that
stays ``running`` (killed) or ``failed`` is what tells publication not to touch them. Only the next
complete build, then a passing quality run over it, makes the marts publishable again.

The publication rule (:func:`blocker`), checked by ``shinrai.pipeline.publish`` before anything is
copied and again by the publisher while it holds the warehouse open read-only:

* the latest build must be finished (``success``);
* the latest quality run over the marts must have passed, and be newer than that build's end;
* a run that publishes (``run_id``) publishes only the build it made itself, for its own as-of
  date (a backfill's rebuild between a manual run's quality check and its publish is refused);
  a hand-run ``shinrai publish`` (no run id) publishes the latest complete, checked build.

A warehouse with no build on record (made before this table existed, or by hand with dbt) keeps
the earlier rule: publishable unless the latest quality run failed.
"""

from __future__ import annotations

import os
import secrets
import signal
from collections.abc import Iterator, Mapping
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

    def describe(self) -> str:
        by = f"run {self.run_id!r}" if self.run_id else "a hand-run build"
        return f"build {self.build_id} ({by}, as of {self.as_of_date}, started {self.started_at:%Y-%m-%d %H:%M:%S %Z})"


def _kill_at(step: str) -> None:
    if os.environ.get(KILL_ENV) == step:
        os.kill(os.getpid(), signal.SIGKILL)


def start(warehouse: Path, run_id: str | None, as_of_date: date, full_refresh: bool) -> str:
    """Record a build as ``running`` (before dbt touches anything); return its id.

    Opens the warehouse for writing: when another process holds it, :class:`FileInUse` is raised
    and nothing is recorded (dbt could not have run either)."""
    warehouse.parent.mkdir(parents=True, exist_ok=True)
    now = datetime.now(UTC)
    build_id = now.strftime("%Y%m%dT%H%M%S%fZ") + "-" + secrets.token_hex(3)
    with duckdb_lock.connect(warehouse) as con:
        for statement in DDL:
            con.execute(statement)
        con.execute(f"insert into {TABLE} values (?, ?, ?, ?, ?, null, ?, null)",
                    [build_id, run_id, as_of_date, full_refresh, now, RUNNING])
    _kill_at("started")
    return build_id


def finish(warehouse: Path, build_id: str, status: str, error: str | None = None) -> None:
    with duckdb_lock.connect(warehouse) as con:
        con.execute(f"update {TABLE} set status = ?, finished_at = ?, error = ? where build_id = ?",
                    [status, datetime.now(UTC), error[:1000] if error else None, build_id])


@contextmanager
def recorded(warehouse: Path, run_id: str | None, as_of_date: date, full_refresh: bool) -> Iterator[str]:
    """Record the build around the ``with`` body: ``running`` before, ``success``/``failed`` after.

    A kill -9 inside the body leaves it ``running``, which blocks publication like a failure."""
    build_id = start(warehouse, run_id, as_of_date, full_refresh)
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


def _when(value: datetime) -> str:
    return f"{value:%Y-%m-%d %H:%M:%S %Z}"


def blocker(
    build: Build | None,
    gate_run: Mapping[str, Any] | None,
    run_id: str | None = None,
    as_of_date: date | None = None,
) -> str | None:
    """Why the marts of ``build`` may not be published by ``run_id`` (None: they may).

    ``gate_run`` is the latest quality run over the marts (``validated_at``, ``success``,
    ``run_id``, ``checkpoint``, ``critical_failures``); ``as_of_date`` the date the publishing run
    built its marts for (None: whatever the build was for)."""
    stays = "the previous publication stays live"
    if gate_run is not None and not gate_run["success"]:
        return (f"quality run {gate_run['run_id']!r} (checkpoint {gate_run['checkpoint']}, "
                f"{_when(gate_run['validated_at'])}) failed {gate_run['critical_failures']} critical "
                f"rule(s): the marts are not published and {stays}")
    if build is None:
        return None
    if build.status == RUNNING:
        return (f"{build.describe()} never finished (still running, or killed): the marts may be half rebuilt; "
                f"build them again and run the quality checkpoint; {stays}")
    if build.status != SUCCESS:
        cause = (build.error or "no detail").splitlines()[0][:200]
        return (f"{build.describe()} failed ({cause}): the marts may be half rebuilt; build them again and run "
                f"the quality checkpoint; {stays}")
    if gate_run is None or build.finished_at is None or gate_run["validated_at"] < build.finished_at:
        checked = f"the last quality run ({_when(gate_run['validated_at'])})" if gate_run else "any quality run"
        return (f"the marts were rebuilt at {_when(build.finished_at or build.started_at)}, after {checked}: "
                f"run the quality checkpoint (nightly or marts) first; {stays}")
    if run_id is not None and build.run_id is not None and build.run_id != run_id:
        return (f"the warehouse holds {build.describe()}, not the marts run {run_id!r} built and checked: "
                f"a run publishes only its own build; {stays}")
    if as_of_date is not None and build.as_of_date != as_of_date:
        return (f"the warehouse holds marts as of {build.as_of_date} ({build.describe()}), not as of "
                f"{as_of_date}; {stays}")
    return None
