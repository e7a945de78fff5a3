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
