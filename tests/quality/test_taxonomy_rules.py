"""Issue 15: the rules follow the configured taxonomy. A source value no taxonomy entry claims is
named with the number of incidents that use it (a warning, never a drop); the severity counts add
up over the configured levels, whatever they are called, and fail when a level's counts go missing.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb
import pytest

from quality.conftest import Org, write_config
from shinrai import pipeline
from shinrai.sandbox import model


def test_each_unclaimed_source_value_is_named_with_its_incident_count(nightly, org: Org):
    report, _ = nightly
    rule = report.rule("stg_unmapped_values", "source_values_in_taxonomy")
    assert not rule.success and rule.severity == "warning"
    with duckdb.connect(str(org.home / "warehouse.duckdb"), read_only=True) as con:
        planted = dict(con.execute(
            "select cause_category, count(*) from staging.stg_jira__incidents "
            "where cause_category in (select unnest(?)) group by all", [list(model.UNKNOWN_CAUSES)]).fetchall())
    assert planted, "the sandbox plants unknown cause categories"
    notes = {s["record_key"]: s["record_note"] for s in rule.samples}
    for value, count in planted.items():
        key = f"cause_category '{value}'"
        assert key in rule.failing_keys
        if key in notes:
            assert notes[key] == f"in {count} incident{'' if count == 1 else 's'}"
    # a configured value is never reported
    assert not any(k.startswith("severity 'SEV") for k in rule.failing_keys)


@pytest.fixture()
def copied(org: Org, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "shinrai"
    home.mkdir()
    shutil.copy2(org.home / "warehouse.duckdb", home / "warehouse.duckdb")
    shutil.copytree(org.home / "landing", home / "landing")
    monkeypatch.setenv("SHINRAI_HOME", str(home))
    monkeypatch.setenv("SHINRAI_CONFIG", str(write_config(home, "clean", risk_stale_after_days=100_000)))
    monkeypatch.setenv("SHINRAI_PUBLISH_DIR", str(tmp_path / "published"))
    return home


def test_severity_counts_add_up_over_the_configured_levels_and_fail_when_one_is_missing(copied: Path):
    summary = pipeline.check_quality("marts")
    assert summary["success"], summary
    with duckdb.connect(str(copied / "warehouse.duckdb")) as con:
        level = con.execute("select severity from marts.rpt_severity_monthly where incident_count > 0 "
                            "order by severity_rank desc limit 1").fetchone()[0]
        con.execute("delete from marts.rpt_severity_monthly where severity = ?", [level])
    with pytest.raises(pipeline.QualityGateFailed) as failed:
        pipeline.check_quality("marts")
    assert "mart_monthly_totals.severity_counts_add_up" in failed.value.summary["critical_failures"]
