"""Kill the scheduler (and every task process it runs) in the middle of the Slack extraction,
start it again and trigger again: the warehouse ends up exactly as an uninterrupted run leaves it."""

from __future__ import annotations

import time

import pytest

from ._support import NIGHTLY, local_stack, mart_contents, mart_differences, today_in

pytestmark = pytest.mark.slow

HISTORY = "/api/conversations.history"


def _history_calls(sandbox, since: float) -> int:
    return sum(1 for r in sandbox.requests if r.path == HISTORY and r.at >= since)


@pytest.fixture(scope="module")
def crashed(scheduler_runs, sandbox, template_db, tmp_path_factory):
    home = tmp_path_factory.mktemp("crash") / "shinrai"
    summary = None
    try:
        with local_stack(home, sandbox, template_db) as stack:
            stack.unpause(NIGHTLY)
            sandbox.set_faults(latency_ms=250, servers=("slack",))  # a slow Slack: time to kill mid-stream
            started = time.time()
            first = stack.trigger(NIGHTLY, conf={"publish_docs": False})
            stack.wait_task_state(NIGHTLY, first, "extract_slack", {"running"}, timeout=600)
            deadline = time.monotonic() + 300
            while _history_calls(sandbox, started) < 12 and time.monotonic() < deadline:
                assert stack.task_states(NIGHTLY, first)["extract_slack"] == "running"
                time.sleep(0.5)
            before_kill = _history_calls(sandbox, started)
            stack.kill("scheduler")  # SIGKILL: scheduler, executor workers, task supervisors, tasks
            state_at_kill = stack.task_states(NIGHTLY, first)["extract_slack"]
            sandbox.set_faults(latency_ms=0)
            restarted = time.time()
            stack.start("scheduler")
            second = stack.trigger(NIGHTLY, conf={"publish_docs": False})
            first_state = stack.wait_run(NIGHTLY, first, timeout=900)
            second_state = stack.wait_run(NIGHTLY, second, timeout=900)
            tries = stack.query("select try_number from task_instance where dag_id = :d and run_id = :r "
                                "and task_id = 'extract_slack'", d=NIGHTLY, r=first)[0][0]
            summary = stack.xcom(NIGHTLY, first, "extract_slack")
            after_restart = _history_calls(sandbox, restarted)
            marts = mart_contents(home) if second_state == "success" else {}
    finally:
        sandbox.set_faults(latency_ms=0)
    return {"before_kill": before_kill, "state_at_kill": state_at_kill, "first": first_state,
            "second": second_state, "tries": tries, "after_restart": after_restart, "marts": marts,
            "summary": summary}


def test_extraction_was_killed_midway(crashed):
    assert crashed["state_at_kill"] == "running"
    assert crashed["before_kill"] >= 12


def test_interrupted_run_recovers_and_the_rerun_succeeds(crashed):
    assert crashed["tries"] >= 2  # the killed attempt was failed by the heartbeat timeout and retried
    assert crashed["first"] == "success"
    assert crashed["second"] == "success"


def test_resumed_instead_of_starting_over(crashed):
    # A first extraction reads every channel; the retry skips the channels finished before the
    # kill (their cursors were saved page by page) and resumes the one it was in.
    messages = crashed["summary"]["messages"]
    assert messages["channels_skipped"] > 0 and messages["channels_read"] > 0
    assert crashed["after_restart"] >= 1


def test_warehouse_equals_an_uninterrupted_run(crashed, scheduler_runs):
    if today_in() != scheduler_runs.today:
        pytest.skip("the date changed in Asia/Tokyo between the reference run and this one")
    assert crashed["marts"], "the rerun did not succeed"
    assert mart_differences(scheduler_runs.marts_today, crashed["marts"]) == []
