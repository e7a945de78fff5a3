"""`make demo`'s command end to end: `shinrai demo` starts its own sandbox, migrates a SQLite
Airflow metadata database, runs the nightly DAG under real Airflow (`airflow dags test`),
extracting over HTTP, building with real dbt, checking with real GX and publishing, then prints
where everything is. The in-process `sandbox` fixture is the same organisation (seed 7, 0.25x,
history ending 2026-11-01), so its manifest says what the demo's warehouse must hold."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from shinrai.settings import paths

SHINRAI = str(Path(sys.executable).with_name("shinrai"))


@pytest.fixture(scope="module")
def demo_run(tmp_path_factory):
    home = tmp_path_factory.mktemp("demo") / "shinrai"
    env = {**os.environ, "SHINRAI_HOME": str(home), "COLUMNS": "200"}
    run = subprocess.run([SHINRAI, "demo", "--seed", "7", "--scale", "0.25", "--anchor", "2026-11-01"], env=env,
                         capture_output=True, text=True, timeout=900)
    return home, run


def test_demo_exits_0_and_says_where_everything_is(demo_run):
    home, run = demo_run
    output = run.stdout + run.stderr
    assert run.returncode == 0, output[-4000:]
    for where in (home / "warehouse.duckdb", home / "publish" / "marts.duckdb",
                  home / "quality" / "data_docs" / "index.html"):
        assert str(where) in run.stdout and where.exists()
    report = next(line.split()[-1] for line in run.stdout.splitlines() if line.startswith("monthly report"))
    assert Path(report).is_file() and Path(report).parent == home / "publish" / "reports"


NIGHTLY_TASKS = ("plan", "extract_jira", "extract_notion", "extract_slack", "build_marts", "check_quality",
                 "publish", "chase")


def test_demo_is_quiet_one_line_a_task_and_the_full_log_in_a_file(demo_run):
    """`make demo` prints under 60 lines: one per task with its state and duration, dbt's progress
    while it runs; Airflow's and dbt's own output (every line of it) is in the log file named last."""
    home, run = demo_run
    assert run.returncode == 0, (run.stdout + run.stderr)[-4000:]
    lines = (run.stdout + run.stderr).splitlines()
    assert len(lines) < 60, "\n".join(lines)
    assert not [x for x in lines if re.match(r"\d{4}-\d\d-\d\dT", x)], "an Airflow log line on the terminal"
    for task in NIGHTLY_TASKS:
        assert len([x for x in lines if re.match(rf"{task}\s+success\s+\d+\.\ds\b", x)]) == 1, (task, lines)
    assert re.search(r"^build_marts\s+success\s.*dbt PASS=\d+ WARN=\d+ ERROR=0", run.stdout, re.M), run.stdout
    assert re.search(r"^build_marts\s+dbt \d+/\d+ nodes done$", run.stdout, re.M), run.stdout  # progress
    log = Path(lines[-1].split()[-1])
    assert lines[-1].startswith("log") and log.parent == home / "logs" and log.is_file(), lines[-1]
    text = log.read_text(encoding="utf-8")
    for task in NIGHTLY_TASKS:
        assert f"[DAG TEST] end task task_id={task} " in text
    # dbt's lines were logged as dbt printed them, with one clock (Airflow's), not dbt's as well: a
    # build of hundreds of nodes spans more than a few seconds, a replay of its output does not
    nodes = re.findall(r"^(\S+) \[info\s*\] dbt \| \d+ of \d+ (?:OK|PASS)", text, re.M)
    assert len({stamp[:19] for stamp in nodes}) > 3, "dbt's output logged at once, after dbt ended"


def test_fct_incidents_has_one_row_per_sandbox_incident(demo_run, sandbox, monkeypatch):
    home, run = demo_run
    assert run.returncode == 0
    monkeypatch.setenv("SHINRAI_HOME", str(home))
    with duckdb.connect(str(paths().warehouse_file), read_only=True) as con:
        total, distinct = con.execute(
            "select count(*), count(distinct incident_key) from marts.fct_incidents"
        ).fetchone()
        out_of_order = {r[0] for r in con.execute(
            "select incident_key from marts.fct_incidents where not timestamps_in_order").fetchall()}
    manifest = sandbox.manifest()
    assert total == distinct == manifest["counts"]["jira.incidents"]
    assert re.search(rf"marts\.fct_incidents\s*│\s*{total}\s*│\s*{total}\s*│", run.stdout), run.stdout[-3000:]
    planted = {d["key"] for d in manifest["defects"] if d["kind"] == "timestamps_out_of_order"}
    assert planted and planted <= out_of_order
