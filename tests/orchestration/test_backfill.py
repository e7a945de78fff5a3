"""`airflow backfill create` over three days, run by a real scheduler, leaves the same warehouse as
a single run for the last of those days, and never publishes or sends reminders."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest

from shinrai.orchestration.plan import backfill_args

from ._support import CHASER, NIGHTLY, local_stack, mart_contents, mart_differences, wait_for_runs

pytestmark = pytest.mark.slow

# Append-only month-end snapshots freeze whatever the marts said when a month closed: comparable
# only when no month closes between the backfill's dates and today.
SNAPSHOT_TABLES = ("rpt_incident_snapshots", "rpt_reliability_monthly_snapshots", "rpt_changes_since_last_publication")


@pytest.fixture(scope="module")
def backfill(scheduler_runs, sandbox, template_db, tmp_path_factory):
    last = scheduler_runs.past
    first = last - timedelta(days=2)
    home = tmp_path_factory.mktemp("backfill") / "shinrai"
    with local_stack(home, sandbox, template_db) as stack:
        stack.wait_dag(CHASER)
        stack.cli("dags", "unpause", "--treat-dag-id-as-regex", "--yes", "^shinrai_")
        started = time.monotonic()
        stack.cli(*backfill_args(NIGHTLY, first, last))
        nightly = wait_for_runs(stack, NIGHTLY, 3, timeout=1200, run_type="backfill")
        seconds = time.monotonic() - started
        details = {r["run_id"]: (stack.task_states(NIGHTLY, r["run_id"]), stack.xcom(NIGHTLY, r["run_id"], "plan"))
                   for r in nightly}
        marts = mart_contents(home)
        weekdays = sum(1 for d in range(3) if (first + timedelta(days=d)).weekday() < 5)
        posted_before = len(sandbox.posted_messages)
        stack.cli(*backfill_args(CHASER, first, last))
        chaser = wait_for_runs(stack, CHASER, weekdays, timeout=600, run_type="backfill")
        chases = {r["run_id"]: stack.xcom(CHASER, r["run_id"], "chase") for r in chaser}
        posted = sandbox.posted_messages[posted_before:]
    return {"first": first, "last": last, "nightly": nightly, "details": details, "marts": marts,
            "chaser": chaser, "chases": chases, "posted": posted, "seconds": seconds}


def test_backfill_creates_one_run_per_day_and_all_succeed(backfill):
    runs = backfill["nightly"]
    assert [r["state"] for r in runs] == ["success"] * 3, backfill["details"]
    dates = sorted(plan["run_date"] for _, plan in backfill["details"].values())
    days = [(backfill["first"] + timedelta(days=d)).isoformat() for d in range(3)]
    assert dates == days


def test_each_backfill_run_rereads_its_day_and_never_publishes_or_sends(backfill):
    for tasks, plan in backfill["details"].values():
        assert plan["run_type"] == "backfill"
        assert plan["window"] == {"start": plan["run_date"], "end": plan["run_date"]}
        assert plan["as_of_date"] == plan["run_date"]
        assert plan["send_reminders"] is False and plan["publish"] is False
        assert tasks["publish"] == "skipped" and tasks["chase"] == "skipped"
        assert all(tasks[t] == "success" for t in ("extract_jira", "extract_notion", "extract_slack",
                                                   "build_marts", "check_quality"))


def test_backfilled_warehouse_equals_a_single_run_for_the_last_day(backfill, scheduler_runs):
    expected, actual = scheduler_runs.marts_past, dict(backfill["marts"])
    assert expected, "the reference run for the last day did not succeed"
    if backfill["first"].month != scheduler_runs.today.month:
        for table in SNAPSHOT_TABLES:
            expected = {k: v for k, v in expected.items() if k != table}
            actual.pop(table, None)
    assert mart_differences(expected, actual) == []


def test_chaser_backfill_never_sends(backfill):
    assert [r["state"] for r in backfill["chaser"]] == ["success"] * len(backfill["chaser"])
    for summary in backfill["chases"].values():
        assert summary["sent"] == 0
    assert backfill["posted"] == []
