"""`shinrai run` (README "First hour with your own Jira, Notion and Slack"): the nightly job once
under real Airflow against the sources the configuration and the connections name, with no sandbox
of its own. Here the sandbox is started separately, in this process, and served as if it were a
real site: its URLs and tokens are only in the AIRFLOW_CONN_* variables, as a user's would be.

One whole nightly run (scale 0.1), shared by the assertions below; the refusals start no Airflow."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from shinrai.airflow_env import sandbox_connections
from shinrai.sandbox import Sandbox

SHINRAI = str(Path(sys.executable).with_name("shinrai"))
SCALE = 0.1


def _user_env(home: Path, connections: dict[str, str]) -> dict[str, str]:
    """A user's shell: their home and connections, nothing of the sandbox but what the connections say."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AIRFLOW_CONN_") and k != "SHINRAI_CONFIG"}
    return {**env, **connections, "SHINRAI_HOME": str(home), "COLUMNS": "200"}


@pytest.fixture(scope="module")
def site():
    with Sandbox(seed=7, scale=SCALE) as sb:
        yield sb


@pytest.fixture(scope="module")
def connections(site) -> dict[str, str]:
    return sandbox_connections(site.jira_url, site.notion_url, site.slack_url, site.credentials)


@pytest.fixture(scope="module")
def configured_run(site, connections, tmp_path_factory):
    home = tmp_path_factory.mktemp("run") / "shinrai"
    run = subprocess.run([SHINRAI, "run"], env=_user_env(home, connections), capture_output=True, text=True,
                         timeout=1200)
    return home, run


def test_run_completes_the_nightly_against_the_configured_sources(configured_run, site):
    home, run = configured_run
    output = run.stdout + run.stderr
    assert run.returncode == 0, output[-4000:]
    for task in ("plan", "extract_jira", "extract_notion", "extract_slack", "build_marts", "check_quality",
                 "publish", "chase"):
        assert re.search(rf"^{task}\s+success\s+\d+\.\ds\b", run.stdout, re.M), (task, run.stdout)
    manifest = site.manifest()
    published = home / "publish" / "marts.duckdb"
    assert published.is_file() and f"BI publication  {published}" in run.stdout
    with duckdb.connect(str(published), read_only=True) as con:
        incidents = con.execute("select count(*) from marts.main.fct_incidents").fetchone()[0]
    assert incidents == manifest["counts"]["jira.incidents"] > 0
    # the summary names each headline mart with its rows
    for table, stream in (("fct_incidents", "jira.incidents"), ("fct_postmortems", "jira.postmortems"),
                          ("fct_prevention_actions", "jira.actions"), ("fct_risk_records", "notion.risk_records")):
        assert re.search(rf"marts\.{table}\s*│\s*{manifest['counts'][stream]}\s*│", run.stdout), run.stdout[-3000:]
    # nothing of the sandbox's own commands: no organisation marker, no sandbox column, no servers of its own
    assert not (home / "sandbox.json").exists()
    assert "sandbox" not in run.stdout.lower(), run.stdout
    log = Path(run.stdout.strip().splitlines()[-1].split()[-1])
    assert log.parent == home / "logs" and log.name.startswith("run-") and log.is_file()


def test_a_missing_connection_is_named_and_airflow_never_starts(connections, tmp_path):
    home = tmp_path / "shinrai"
    partial = {k: v for k, v in connections.items() if k != "AIRFLOW_CONN_SHINRAI_NOTION"}
    run = subprocess.run([SHINRAI, "run"], env=_user_env(home, partial), capture_output=True, text=True,
                         timeout=120)
    assert run.returncode != 0
    lines = run.stderr.strip().splitlines()
    assert len(lines) == 1, run.stderr
    assert "shinrai_notion" in lines[0] and "notion.conn_id" in lines[0] and "AIRFLOW_CONN_SHINRAI_NOTION" in lines[0]
    assert "Traceback" not in run.stderr
    assert not home.exists(), "Airflow (or anything) started before the connections were checked"


def test_a_home_holding_the_sandbox_is_refused_before_anything_runs(connections, tmp_path):
    """`make demo` then `shinrai run` in the same home would read the sandbox's records as deleted."""
    home = tmp_path / "shinrai"
    home.mkdir()
    (home / "sandbox.json").write_text('{"seed": 7, "scale": 1.0, "anchor": "2026-11-01"}\n')
    run = subprocess.run([SHINRAI, "run"], env=_user_env(home, connections), capture_output=True, text=True,
                         timeout=120)
    assert run.returncode != 0
    assert "sandbox organisation seed 7" in run.stderr and "SHINRAI_HOME" in run.stderr, run.stderr
    assert sorted(p.name for p in home.iterdir()) == ["sandbox.json"]


def test_the_scheduler_against_configured_sources_starts_no_sandbox_and_refuses_its_home(connections, tmp_path):
    """`make airflow SOURCES=configured` is `shinrai airflow --sources configured`: refused, before any
    Airflow or sandbox starts, in a home holding the sandbox organisation (what `make airflow` left)."""
    import shutil

    from shinrai.settings import PROJECT_ROOT

    make = shutil.which("make")
    if make is not None:
        dry = subprocess.run([make, "-n", "--no-print-directory", "airflow", "SOURCES=configured"], cwd=PROJECT_ROOT,
                             capture_output=True, text=True, check=True)
        line = next(x for x in dry.stdout.splitlines() if "shinrai airflow" in x)
        assert "--sources configured" in line and "--scale" not in line, line
    home = tmp_path / "shinrai"
    home.mkdir()
    (home / "sandbox.json").write_text('{"seed": 7, "scale": 0.25, "anchor": "2026-11-01"}\n')
    run = subprocess.run([SHINRAI, "airflow", "--sources", "configured", "--port", "1"],
                         env=_user_env(home, connections), capture_output=True, text=True, timeout=120)
    assert run.returncode != 0
    assert "sandbox organisation seed 7 at scale 0.25" in run.stderr and "Traceback" not in run.stderr, run.stderr
    assert "sandbox:" not in run.stdout  # no sandbox was served
    assert sorted(p.name for p in home.iterdir()) == ["sandbox.json"]
