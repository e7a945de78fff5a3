"""The DAGs under a real scheduler: `airflow scheduler`, `airflow dag-processor` and `airflow
api-server` (in Airflow 3 task processes reach the API server's execution API, never the
database, so LocalExecutor needs it too) on SQLite, triggered with `airflow dags trigger`."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.slow

NIGHTLY_TASKS = {"plan", "extract_jira", "extract_notion", "extract_slack", "build_marts", "check_quality",
                 "publish", "chase"}


def test_pools_exist_without_manual_steps(scheduler_runs):
    assert ("shinrai_warehouse", 3) in scheduler_runs.pools


def test_triggered_nightly_run_succeeds(scheduler_runs):
    run = scheduler_runs.nightly
    assert run.state == "success", run.tasks
    assert set(run.tasks) == NIGHTLY_TASKS
    assert set(run.tasks.values()) == {"success"}, run.tasks


def test_warehouse_has_one_incident_row_per_sandbox_incident(scheduler_runs, sandbox):
    assert scheduler_runs.nightly.state == "success"
    incidents = scheduler_runs.marts_today["fct_incidents"]
    assert len(incidents) == sandbox.manifest()["counts"]["jira.incidents"]


def test_a_triggered_run_is_for_today_incremental_and_publishes(scheduler_runs):
    run = scheduler_runs.nightly
    plan = run.plan
    assert plan["run_type"] == "manual"
    assert plan["run_date"] == plan["as_of_date"] == scheduler_runs.today.isoformat()
    assert plan["window"] is None and plan["full_refresh"] is False
    assert plan["publish"] is True
    assert run.xcoms["publish"]["tables"], run.xcoms["publish"]


def test_the_nightly_previews_reminders_but_never_sends(scheduler_runs):
    preview = scheduler_runs.nightly.xcoms["chase"]
    assert preview["sent"] == 0 and preview["would_send"] == preview["planned"]


def test_chaser_for_today_sends_what_is_due(scheduler_runs):
    run = scheduler_runs.chaser
    assert run.state == "success", run.tasks
    summary = run.xcoms["chase"]
    assert summary["run_date"] == scheduler_runs.today.isoformat()
    assert summary["failed"] == 0
    assert summary["sent"] + summary["skipped_already_sent"] == summary["planned"]
    assert len([m for m in run.posted if "failed" not in str(m.get("text", ""))]) >= summary["sent"]


def test_window_ending_before_it_starts_fails_the_run_before_extracting(scheduler_runs):
    run = scheduler_runs.bad_window
    assert run.state == "failed"
    assert run.tasks["plan"] == "failed"
    assert all(run.tasks[t] == "upstream_failed" for t in ("extract_jira", "extract_notion", "extract_slack"))


def test_task_failure_alerts_slack_through_the_provider_notifier(scheduler_runs):
    alerts = [m for m in scheduler_runs.bad_window.posted if "shinrai_nightly.plan" in str(m.get("text", ""))]
    assert len(alerts) == 1, scheduler_runs.bad_window.posted  # bad params are not retried
    assert "window_end 2026-03-01 is before window_start 2026-03-05" in alerts[0]["text"]


def test_a_run_for_a_past_date_builds_marts_as_of_that_date_and_neither_publishes_nor_sends(scheduler_runs):
    run = scheduler_runs.past_run
    assert run.state == "success", run.tasks
    assert run.plan["run_date"] == run.plan["as_of_date"] == scheduler_runs.past.isoformat()
    assert run.plan["send_reminders"] is False and "never sent for the past" in run.plan["reminder_reason"]
    assert run.tasks["publish"] == "skipped" and run.tasks["chase"] == "skipped"
    assert {t: s for t, s in run.tasks.items() if t not in ("publish", "chase")} == dict.fromkeys(
        NIGHTLY_TASKS - {"publish", "chase"}, "success")


def test_the_chaser_for_a_past_date_sends_nothing(scheduler_runs):
    run = scheduler_runs.past_chaser
    assert run.state == "success", run.tasks
    summary = run.xcoms["chase"]
    assert summary["run_date"] == scheduler_runs.past.isoformat()
    assert summary["sent"] == 0 and run.posted == []


def test_publication_asset_triggers_the_report(scheduler_runs):
    report = scheduler_runs.report
    runs = report["runs"]
    assert runs and {r["run_type"] for r in runs} == {"asset_triggered"}
    assert {r["state"] for r in runs} == {"success"}, report["tasks"]
    assert report["files"] and all(f.startswith("reliability-") for f in report["files"])


def test_no_credential_reaches_a_task_log(scheduler_runs):
    """Every Airflow log of the reference runs (task logs of each try, the scheduler's, the DAG
    processor's, the API server's) holds none of the sandbox's canary credentials, nor the Jira
    Basic auth header built from them, though the tasks used them against every source."""
    from shinrai.sandbox.canaries import leak_forms

    from .conftest import CANARIES

    secrets = leak_forms(CANARIES)
    home = scheduler_runs.home
    logs = [p for root in (home / "airflow" / "logs", home / "stack-logs") for p in root.rglob("*") if p.is_file()]
    for source in ("jira", "notion", "slack"):  # the scan reads each extract task's own log, in full
        assert any("Returned value was" in p.read_text(encoding="utf-8", errors="replace")
                   for p in logs if f"task_id=extract_{source}" in str(p)), source
    leaks = [f"{p.relative_to(home)}: {name}" for p in logs for name, secret in secrets.items()
             if secret in p.read_text(encoding="utf-8", errors="replace")]
    assert leaks == []
