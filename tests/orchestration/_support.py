"""Helpers for the orchestration tests: stacks of real Airflow components, mart comparison."""

from __future__ import annotations

import atexit
import math
import re
import shutil
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import duckdb
import yaml

from shinrai import config
from shinrai.airflow_env import airflow_env, components_env, sandbox_connections
from shinrai.orchestration.stack import AirflowStack, free_port
from shinrai.settings import PROJECT_ROOT

NIGHTLY = "shinrai_nightly"
CHASER = "shinrai_chaser"
REPORT = "shinrai_report"
TZ = config.load().timezone  # the DAGs' zone: the configuration's
SCALE = 0.1

def fast_retry_config(delay_seconds: int = 5) -> Path:
    """A copy of the shipped configuration whose tasks retry after ``delay_seconds`` (not 2 minutes)."""
    tree = yaml.safe_load((PROJECT_ROOT / "config" / "shinrai.yaml").read_text(encoding="utf-8"))
    tree.setdefault("airflow", {})["retry_delay_seconds"] = delay_seconds
    where = Path(tempfile.mkdtemp(prefix="shinrai-fast-retry-"))
    atexit.register(shutil.rmtree, where, ignore_errors=True)
    path = where / "shinrai.yaml"
    path.write_text(yaml.safe_dump(tree, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


# Settings for test stacks only: no automatic scheduled runs (only what a test triggers or
# backfills), fast retries, and a dead task noticed within half a minute.
TEST_SETTINGS = {
    "AIRFLOW__SCHEDULER__USE_JOB_SCHEDULE": "False",
    "AIRFLOW__SCHEDULER__TASK_INSTANCE_HEARTBEAT_TIMEOUT": "30",
    # a killed scheduler's running tasks are reset by the next orphan check (default every 300 s)
    "AIRFLOW__SCHEDULER__ORPHANED_TASKS_CHECK_INTERVAL": "15",
    # fast retries: the shipped configuration with airflow.retry_delay_seconds 5
    "SHINRAI_CONFIG": str(fast_retry_config()),
}

# Columns that record *when* something was extracted or published (wall clock, dbt invocation,
# Airflow run id): they differ between any two runs by design, never with the data. In the
# append-only month-end snapshots, ``as_of_date`` is the same kind of record: the as-of date of
# the build that froze the month (a backfill freezes at its first date, a single run at its own).
VOLATILE_COLUMN = re.compile(r"(extracted_at|published_at|invocation_id|loaded_at|run_id)$")
VOLATILE_IN_SNAPSHOTS = {"as_of_date"}


def volatile(table: str, column: str) -> bool:
    return bool(VOLATILE_COLUMN.search(column)) or (table.endswith("_snapshots") and column in VOLATILE_IN_SNAPSHOTS)


def today_in(tz: str = TZ) -> date:
    return datetime.now(ZoneInfo(tz)).date()


def stack_env(home: Path, sandbox: Any, **extra: str) -> dict[str, str]:
    env = airflow_env(extra={"SHINRAI_HOME": str(home)})
    env.update(components_env(free_port(), free_port(), free_port()))
    env.update(sandbox_connections(sandbox.jira_url, sandbox.notion_url, sandbox.slack_url, sandbox.credentials))
    env.update(TEST_SETTINGS)
    env.update(extra)
    return env


@contextmanager
def local_stack(home: Path, sandbox: Any, template_db: Path, **extra: str) -> Iterator[AirflowStack]:
    """API server, DAG processor and scheduler (LocalExecutor, SQLite) on a copy of a migrated DB."""
    (home / "airflow").mkdir(parents=True, exist_ok=True)
    shutil.copy(template_db, home / "airflow" / "airflow.db")
    stack = AirflowStack(stack_env(home, sandbox, **extra), home / "stack-logs")
    try:
        stack.start("api-server", "dag-processor", "scheduler")
        stack.wait_api()
        stack.wait_dag(NIGHTLY)
        yield stack
    finally:
        stack.stop()
        assert not stack.alive(), f"processes survived teardown: {stack.alive()}"


def wait_for_runs(stack: Any, dag_id: str, count: int, timeout: float, run_type: str | None = None) -> list[dict]:
    """Until ``count`` runs (of ``run_type``) of the DAG exist and all are finished."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        runs = [r for r in stack.runs(dag_id) if run_type is None or r["run_type"] == run_type]
        if len(runs) >= count and all(r["state"] in ("success", "failed") for r in runs):
            return runs
        stack.check_running()
        time.sleep(2)
    raise TimeoutError(f"{dag_id}: {stack.runs(dag_id)}\n{stack.diagnostics()}")


def logical_date_at(day: date, hour: int = 2, tz: str = TZ) -> str:
    """The nightly's scheduled instant on ``day`` (02:00 in the DAG's zone), as the CLI takes it."""
    return datetime.combine(day, datetime.min.time(), ZoneInfo(tz)).replace(hour=hour).isoformat()


def _norm(value: Any) -> Any:
    if isinstance(value, float | Decimal):
        value = float(value)
        if math.isnan(value):
            return "nan"
        return round(value, 6) + 0.0  # parallel aggregation may differ in the last bits; no -0.0
    if isinstance(value, list | tuple):
        return tuple(_norm(v) for v in value)
    if isinstance(value, dict):
        return tuple(sorted((k, _norm(v)) for k, v in value.items()))
    if isinstance(value, timedelta):
        return value.total_seconds()
    return value


def mart_contents(home: Path) -> dict[str, list[tuple]]:
    """Every table of the ``marts`` schema: its rows (sorted), volatile columns left out."""
    out: dict[str, list[tuple]] = {}
    with duckdb.connect(str(home / "warehouse.duckdb"), read_only=True) as con:
        tables = [t for (t,) in con.execute(
            "select table_name from information_schema.tables where table_schema = 'marts' order by 1").fetchall()]
        for table in tables:
            cols = [c for (c,) in con.execute(
                "select column_name from information_schema.columns where table_schema = 'marts' "
                "and table_name = ? order by ordinal_position", [table]).fetchall() if not volatile(table, c)]
            select = ", ".join(f'"{c}"' for c in cols)
            rows = con.execute(f'select {select} from marts."{table}"').fetchall()
            out[table] = sorted((tuple(_norm(v) for v in row) for row in rows), key=repr)
    return out


def mart_differences(expected: dict[str, list[tuple]], actual: dict[str, list[tuple]]) -> list[str]:
    problems = []
    if expected.keys() != actual.keys():
        problems.append(f"tables differ: only expected {sorted(expected.keys() - actual.keys())}, "
                        f"only actual {sorted(actual.keys() - expected.keys())}")
    for table in sorted(expected.keys() & actual.keys()):
        a, b = expected[table], actual[table]
        if a != b:
            missing = [r for r in a if r not in b][:2]
            extra = [r for r in b if r not in a][:2]
            problems.append(f"{table}: {len(a)} vs {len(b)} rows; e.g. missing {missing} extra {extra}")
    return problems
