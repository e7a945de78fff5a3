"""The nightly DAG end to end under real Airflow (`airflow dags test`, SQLite metadata),
extracting from the sandbox over HTTP, building with real dbt and checking with real GX."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from shinrai.airflow_env import airflow_env, sandbox_connections
from shinrai.settings import paths

AIRFLOW = str(Path(sys.executable).with_name("airflow"))


@pytest.fixture(scope="module")
def nightly_run(sandbox, tmp_path_factory):
    home = tmp_path_factory.mktemp("nightly")
    env = airflow_env(
        extra={
            "SHINRAI_HOME": str(home),
            **sandbox_connections(sandbox.jira_url, sandbox.notion_url, sandbox.slack_url, sandbox.credentials),
        }
    )
    (home / "airflow").mkdir(parents=True)
    migrate = subprocess.run([AIRFLOW, "db", "migrate"], env=env, capture_output=True, text=True)
    assert migrate.returncode == 0, migrate.stderr[-2000:]
    run = subprocess.run(
        [AIRFLOW, "dags", "test", "shinrai_nightly"], env=env, capture_output=True, text=True, timeout=900
    )
    return home, run


def test_dag_run_succeeds(nightly_run):
    _, run = nightly_run
    output = run.stdout + run.stderr
    assert run.returncode == 0, output[-4000:]
    assert "state=success" in output or "success" in output.lower()


def test_fct_incidents_has_one_row_per_sandbox_incident(nightly_run, sandbox, monkeypatch):
    home, run = nightly_run
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
    planted = {d["key"] for d in manifest["defects"] if d["kind"] == "timestamps_out_of_order"}
    assert planted and planted <= out_of_order
