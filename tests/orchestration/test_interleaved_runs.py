"""Issue 17: nightly, manual and backfill runs interleaved by a real scheduler never publish a stale
as-of. A backfill over two past days and a manual nightly run for today are started at once on
one stack; the warehouse pool (one slot) interleaves their build, quality and publish tasks in
whatever order the scheduler picks (it favours upstream tasks, so a backfill's build often runs
between the manual run's quality check and its publish: the case that used to publish marts built
as of an earlier day under the manual run's name). The ordered proof, step by step, is
tests/publish/test_publish_builds.py; this is the same rule under the scheduler."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from shinrai.orchestration.plan import backfill_args
from shinrai.publish.publication import read_publication

from ._support import CHASER, NIGHTLY, local_stack, today_in, wait_for_runs

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def interleaved(sandbox, template_db, tmp_path_factory):
    today = today_in()
    first, last = today - timedelta(days=2), today - timedelta(days=1)
    home = tmp_path_factory.mktemp("interleaved") / "shinrai"
    with local_stack(home, sandbox, template_db) as stack:
        stack.wait_dag(CHASER)
        stack.unpause(NIGHTLY)
        stack.cli(*backfill_args(NIGHTLY, first, last))
        manual = stack.trigger(NIGHTLY)
        runs = wait_for_runs(stack, NIGHTLY, 3, timeout=1500)
        tasks = {r["run_id"]: stack.task_states(NIGHTLY, r["run_id"]) for r in runs}
        plans = {r["run_id"]: stack.xcom(NIGHTLY, r["run_id"], "plan") for r in runs}
    history = home / "publish" / "publications.jsonl"
    lines = [json.loads(line) for line in history.read_text().splitlines()] if history.exists() else []
    return {"today": today, "manual": manual, "runs": runs, "tasks": tasks, "plans": plans,
            "history": lines, "live": read_publication(home / "publish" / "marts.duckdb")}


def test_backfill_runs_succeed_and_never_publish(interleaved):
    backfills = [r for r in interleaved["runs"] if r["run_type"] == "backfill"]
    assert len(backfills) == 2
    for run in backfills:
        tasks = interleaved["tasks"][run["run_id"]]
        assert run["state"] == "success", tasks
        assert interleaved["plans"][run["run_id"]]["publish"] is False
        assert tasks["publish"] == "skipped"


def test_no_publication_is_ever_as_of_an_earlier_day_than_its_run(interleaved):
    today = interleaved["today"].isoformat()
    assert [(p["source_run_id"], p["as_of_date"]) for p in interleaved["history"]
            if p["as_of_date"] != today] == []
    live = interleaved["live"]
    if live is not None:
        assert str(live["as_of_date"]) == today
        assert live["source_run_id"] == interleaved["manual"]


def test_the_manual_run_publishes_its_own_marts_or_fails_only_at_publish(interleaved):
    """Either the manual run's build was still the warehouse's when it published (it published its
    own marts as of today), or a backfill rebuilt the warehouse in between and publish refused: the
    run fails at its publish task and nothing stale goes live."""
    manual = next(r for r in interleaved["runs"] if r["run_id"] == interleaved["manual"])
    tasks = interleaved["tasks"][manual["run_id"]]
    if manual["state"] == "success":
        assert [p["source_run_id"] for p in interleaved["history"]] == [manual["run_id"]]
    else:
        failed = {t for t, s in tasks.items() if s == "failed"}
        assert failed == {"publish"}, tasks
        assert interleaved["history"] == []
