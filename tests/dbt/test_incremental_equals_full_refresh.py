"""An incremental night equals a full refresh, row for row, on every mart.

The sandbox at a small scale is extracted and built; then a night passes: records change and some
are deleted (``Sandbox.mutate``), the next day is extracted and built incrementally. A copy of that
home is rebuilt with ``--full-refresh`` (the DAG param ``full_refresh``), and every ``dim_``, ``fct_``
and ``rpt_`` mart of the two warehouses must hold the same rows. Rebuilding the same day again (a
rerun or backfill) must leave the marts as they were.
"""

from __future__ import annotations

import json
import shutil
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import pytest

from shinrai import pipeline
from shinrai.airflow_env import sandbox_connections
from shinrai.sandbox import Sandbox

SCALE = 0.25
MART_PREFIXES = ("dim_", "fct_", "rpt_")


def _marts(con: duckdb.DuckDBPyConnection, catalog: str) -> list[str]:
    return [r[0] for r in con.execute(
        "select table_name from information_schema.tables where table_catalog = ? and table_schema = 'marts' "
        "order by table_name", [catalog]).fetchall() if r[0].startswith(MART_PREFIXES)]


def _select(con: duckdb.DuckDBPyConnection, catalog: str, table: str) -> str:
    """Every column; doubles rounded to 9 decimals (an aggregate's last bits may depend on the order
    DuckDB's threads add in, in a full build as in an incremental one)."""
    columns = con.execute(
        "select column_name, data_type from information_schema.columns where table_catalog = ? "
        "and table_schema = 'marts' and table_name = ? order by ordinal_position", [catalog, table]).fetchall()
    exprs = [f'round("{c}", 9) as "{c}"' if t in ("DOUBLE", "FLOAT") else f'"{c}"' for c, t in columns]
    return f"select {', '.join(exprs)} from {catalog}.marts.\"{table}\""


def differences(left: Path, right: Path) -> dict[str, str]:
    """Per mart, what differs between two warehouses (missing tables, rows only on one side)."""
    found: dict[str, str] = {}
    with duckdb.connect() as con:
        con.execute("set timezone = 'UTC'")
        con.execute(f"attach '{left}' as l (read_only)")
        con.execute(f"attach '{right}' as r (read_only)")
        lt, rt = _marts(con, "l"), _marts(con, "r")
        for table in sorted(set(lt) ^ set(rt)):
            found[table] = "only in " + ("the first" if table in lt else "the second")
        for table in sorted(set(lt) & set(rt)):
            a, b = _select(con, "l", table), _select(con, "r", table)
            only_l = con.execute(f"select count(*) from ({a} except all {b})").fetchone()[0]
            only_r = con.execute(f"select count(*) from ({b} except all {a})").fetchone()[0]
            if only_l or only_r:
                sample = con.execute(f"select * from ({a} except all {b}) limit 1").fetchall()
                found[table] = f"{only_l} rows only in the first, {only_r} only in the second; e.g. {sample}"
    return found


def _ran(home: Path) -> set[str]:
    """The nodes the last dbt invocation of ``home`` ran (dbt's run_results.json)."""
    results = json.loads((home / "dbt" / "target" / "run_results.json").read_text())
    return {r["unique_id"] for r in results["results"]}


@pytest.fixture(scope="module")
def nights(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """Two homes after the second night: built incrementally, and the same rebuilt with --full-refresh;
    the nodes each build ran (``ran``)."""
    home = tmp_path_factory.mktemp("incremental") / "shinrai"
    sb = Sandbox(seed=7, scale=SCALE).start()
    try:
        with pytest.MonkeyPatch.context() as mp:
            mp.setenv("SHINRAI_HOME", str(home))
            mp.delenv("AIRFLOW_CTX_DAG_RUN_ID", raising=False)
            for key, value in sandbox_connections(sb.jira_url, sb.notion_url, sb.slack_url, sb.credentials).items():
                mp.setenv(key, value)
            day1 = date.fromisoformat(sb.manifest()["anchor"]) + timedelta(days=1)
            day2 = day1 + timedelta(days=1)
            pipeline.extract_jira("run-1")
            pipeline.extract_notion("run-1")
            pipeline.extract_slack("run-1")
            pipeline.build_marts(as_of_date=day1.isoformat())
            ran = {"first": _ran(home)}
            # a night: 5% of the records change, 1% are deleted
            sb.mutate(fraction=0.05, delete_fraction=0.01, seed=5)
            pipeline.extract_jira("run-2")
            pipeline.extract_notion("run-2")
            pipeline.extract_slack("run-2", now=datetime.now(UTC) + timedelta(days=1))
            pipeline.build_marts(as_of_date=day2.isoformat())
            ran["night"] = _ran(home)
            full = home.parent / "full-refresh"
            shutil.copytree(home, full)
            incremental_copy = home.parent / "incremental-night"
            shutil.copytree(home, incremental_copy)
            # a rerun of the same day on the incremental home
            pipeline.build_marts(as_of_date=day2.isoformat())
            mp.setenv("SHINRAI_HOME", str(full))
            pipeline.build_marts(full_refresh=True, as_of_date=day2.isoformat())
            ran["full_refresh"] = _ran(full)
    finally:
        sb.stop()
    return {"incremental": incremental_copy / "warehouse.duckdb", "rerun": home / "warehouse.duckdb",
            "full_refresh": full / "warehouse.duckdb", "ran": ran}


def test_an_incremental_night_equals_a_full_refresh(nights: dict[str, Any]) -> None:
    assert differences(nights["incremental"], nights["full_refresh"]) == {}


def test_rebuilding_the_same_day_changes_no_mart(nights: dict[str, Any]) -> None:
    assert differences(nights["incremental"], nights["rerun"]) == {}


def test_the_comparison_sees_a_changed_row(nights: dict[str, Any], tmp_path: Path) -> None:
    """The comparison itself: one changed value in one mart is reported, naming the mart."""
    changed = tmp_path / "changed.duckdb"
    shutil.copy(nights["incremental"], changed)
    with duckdb.connect(str(changed)) as con:
        key = con.execute("select min(incident_id) from marts.fct_incidents").fetchone()[0]
        con.execute("update marts.fct_incidents set summary = summary || '!' where incident_id = ?", [key])
    assert set(differences(nights["incremental"], changed)) == {"fct_incidents"}


def test_tests_that_only_guard_code_run_when_the_code_changed(nights: dict[str, Any]) -> None:
    """The first build and a full refresh run the seeds, the configuration's tables and their tests;
    a night on unchanged code and configuration leaves them as they were, and still runs the
    marts' tests, the relationships from a mart to a configuration table among them."""
    seeds_and_config = {"seed.shinrai.business_calendar", "model.shinrai.stg_config__severities"}
    config_test = "test.shinrai.unique_stg_config__severities_severity"
    view_test = "test.shinrai.unique_int_incidents_published_incident_month_key"
    for build in ("first", "full_refresh"):
        ran = nights["ran"][build]
        assert seeds_and_config <= ran, build
        assert any(r.startswith(config_test) for r in ran), build
        assert any(r.startswith(view_test) for r in ran), build
    night = nights["ran"]["night"]
    assert not seeds_and_config & night
    assert not any(r.startswith((config_test, view_test)) for r in night)
    assert any(r.startswith("test.shinrai.unique_fct_incidents_incident_id") for r in night)
    assert any(r.startswith("test.shinrai.relationships_fct_releases_release_type") for r in night)
