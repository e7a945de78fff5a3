"""Orchestration fixtures: one sandbox for the session, a migrated Airflow DB to copy, and the
reference runs under a real scheduler that the backfill and crash tests compare against."""

from __future__ import annotations

import signal
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest

from shinrai.airflow_env import airflow_env
from shinrai.orchestration.setup import setup_airflow
from shinrai.sandbox import Sandbox
from shinrai.sandbox.canaries import canary_credentials

from ._support import (
    CHASER,
    NIGHTLY,
    REPORT,
    SCALE,
    local_stack,
    logical_date_at,
    mart_contents,
    today_in,
    wait_for_runs,
)


def _interrupt(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


# A SIGTERM (a CI timeout, `timeout`, `kill`) unwinds like Ctrl-C, so the fixtures' teardown stops
# every Airflow process the tests started instead of leaving them running.
signal.signal(signal.SIGTERM, _interrupt)


# Recognisable credentials: test_scheduler.py asserts they never reach a task log.
CANARIES = canary_credentials("airflow")


@pytest.fixture(scope="session")
def sandbox() -> Iterator[Sandbox]:
    sb = Sandbox(seed=7, scale=SCALE, credentials=CANARIES)
    sb.start()
    try:
        yield sb
    finally:
        sb.stop()


@pytest.fixture(scope="session")
def template_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A metadata DB migrated once, with shinrai's pools created the way every deployment gets them."""
    home = tmp_path_factory.mktemp("airflow-template") / "shinrai"
    env = airflow_env(extra={"SHINRAI_HOME": str(home)})
    setup_airflow(env)
    return home / "airflow" / "airflow.db"


@dataclass
class Run:
    run_id: str
    state: str
    tasks: dict[str, str | None]
    xcoms: dict[str, Any]
    posted: list[dict]
    seconds: float

    @property
    def plan(self) -> dict[str, Any] | None:
        return self.xcoms.get("plan")


@dataclass
class SchedulerRuns:
    """What happened on the reference stack (kept after the stack is stopped)."""

    home: Path
    today: date
    past: date
    pools: list[tuple]
    nightly: Run
    marts_today: dict[str, list[tuple]]
    chaser: Run
    bad_window: Run
    past_run: Run
    marts_past: dict[str, list[tuple]]
    past_chaser: Run
    report: dict[str, Any]
    timings: dict[str, float] = field(default_factory=dict)


def run_dag(stack: Any, sandbox: Sandbox, dag_id: str, timeout: float = 900, **trigger: Any) -> Run:
    """Trigger with `airflow dags trigger`, wait (bounded), collect states, return values and posts."""
    started = time.monotonic()
    posted_before = len(sandbox.posted_messages)
    run_id = stack.trigger(dag_id, **trigger)
    state = stack.wait_run(dag_id, run_id, timeout=timeout)
    tasks = stack.task_states(dag_id, run_id)
    xcoms = {task: stack.xcom(dag_id, run_id, task) for task in tasks}
    return Run(run_id, state, tasks, xcoms, sandbox.posted_messages[posted_before:], time.monotonic() - started)


@pytest.fixture(scope="session")
def scheduler_runs(sandbox: Sandbox, template_db: Path, tmp_path_factory: pytest.TempPathFactory) -> SchedulerRuns:
    """A real scheduler (LocalExecutor, SQLite) runs: the nightly DAG triggered plainly (for today),
    the chaser, a nightly run with an invalid window, then both for a past date (the reference for
    the backfill test)."""
    home = tmp_path_factory.mktemp("scheduler") / "shinrai"
    today = today_in()
    past = today - timedelta(days=1)
    timings: dict[str, float] = {}
    started = time.monotonic()
    with local_stack(home, sandbox, template_db) as stack:
        timings["stack_start"] = time.monotonic() - started
        stack.wait_dag(CHASER)
        stack.cli("dags", "unpause", "--treat-dag-id-as-regex", "--yes", "^shinrai_")
        pools = stack.query("select pool, slots from slot_pool where pool like 'shinrai%'")
        nightly = run_dag(stack, sandbox, NIGHTLY)
        marts_today = mart_contents(home) if nightly.state == "success" else {}
        chaser = run_dag(stack, sandbox, CHASER, timeout=300)
        bad_window = run_dag(stack, sandbox, NIGHTLY, timeout=300,
                             conf={"window_start": "2026-03-05", "window_end": "2026-03-01"})
        past_run = run_dag(stack, sandbox, NIGHTLY, logical_date=logical_date_at(past))
        marts_past = mart_contents(home) if past_run.state == "success" else {}
        past_chaser = run_dag(stack, sandbox, CHASER, timeout=300, logical_date=logical_date_at(past, hour=10))
        # The report DAG is scheduled on the publication asset: let the scheduler create runs now
        # (with the time-scheduled DAGs paused, so nothing else starts) and wait for that run.
        stack.cli("dags", "pause", "--treat-dag-id-as-regex", "--yes", "^shinrai_(nightly|chaser)$")
        stack.kill("scheduler")
        stack.start("scheduler", env={"AIRFLOW__SCHEDULER__USE_JOB_SCHEDULE": "True"})
        report_runs = wait_for_runs(stack, REPORT, 1, timeout=300)
        report = {"runs": report_runs,
                  "tasks": {r["run_id"]: stack.task_states(REPORT, r["run_id"]) for r in report_runs},
                  "files": sorted(p.name for p in (home / "publish" / "reports").glob("*.html"))}
    timings["total"] = time.monotonic() - started
    return SchedulerRuns(home, today, past, pools, nightly, marts_today, chaser, bad_window, past_run, marts_past,
                         past_chaser, report, timings)
