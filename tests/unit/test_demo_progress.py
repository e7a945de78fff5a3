"""`shinrai demo`'s progress from the output of `airflow dags test`: one line per task with its
state and duration, dbt's nodes done while dbt runs, and on failure the one line that says why.

``data/dags_test_output.log`` is real output of `shinrai demo`'s log file (Airflow 3 ``dags test``,
shinrai's streamed dbt lines), cut down: a successful ``build_marts`` (its first and last dbt
nodes), then ``extract_jira`` failing twice (up for retry, then failed) on a landing file another
process held, and the run's end. The end-to-end run is ``tests/integration/test_nightly_skeleton.py``."""

from __future__ import annotations

import io
from pathlib import Path

from rich.console import Console

from shinrai.orchestration.progress import DagTestLog, DbtNodes, Reporter, RunFinished, TaskFinished

RECORDED = Path(__file__).parent / "data" / "dags_test_output.log"


def test_each_task_is_one_event_with_its_state_and_duration_and_dbt_counts_its_nodes():
    log = DagTestLog(clock=lambda: 0.0)
    events = log.feed_all(RECORDED.read_text(encoding="utf-8").splitlines())
    finished = [e for e in events if isinstance(e, TaskFinished)]
    assert [(e.task_id, e.state) for e in finished] == [
        ("build_marts", "success"), ("extract_jira", "up_for_retry"), ("extract_jira", "failed")]
    build = finished[0]
    assert round(build.seconds, 1) == 52.3  # from the lines' own timestamps
    assert build.dbt == "PASS=271 WARN=0 ERROR=0 SKIP=0" and build.excerpt == []
    nodes = [e for e in events if isinstance(e, DbtNodes)]
    assert [(e.done, e.total) for e in nodes] == [(i, 271) for i in range(1, 8)]  # results, not START lines
    assert events[-1] == RunFinished("failed") and log.run_state == "failed"
    # why it failed: the exception the traceback ends with, one line, not the traceback
    failed = finished[-1]
    assert len(failed.excerpt) == 1 and failed.excerpt[0].startswith("FileInUse: ")
    assert "landing/jira.duckdb is in use by" in failed.excerpt[0]


def test_without_a_terminal_the_output_is_plain_lines_a_task_each():
    out = io.StringIO()
    console = Console(file=out, width=200, force_terminal=False, color_system=None)
    log = DagTestLog()
    with Reporter(console) as report:
        for line in RECORDED.read_text(encoding="utf-8").splitlines():
            for event in log.feed(line):
                report(event)
    lines = out.getvalue().splitlines()
    assert lines[0].split() == ["build_marts", "success", "52.3s", "dbt", "PASS=271", "WARN=0", "ERROR=0", "SKIP=0"]
    assert lines[1].split()[:2] == ["extract_jira", "up_for_retry"] and lines[2].strip().startswith("FileInUse: ")
    assert lines[3].split()[:2] == ["extract_jira", "failed"] and lines[4].strip().startswith("FileInUse: ")
    assert len(lines) == 5
    assert not any("Traceback" in x or x.startswith("20") for x in lines)
