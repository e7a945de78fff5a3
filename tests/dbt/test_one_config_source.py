"""One configuration source: a setting changed in config/shinrai.yaml changes everything that reads it.

``quality.risk_stale_after_days`` used to change the Great Expectations rule only, while the mart's
``is_stale`` kept dbt_project.yml's copy (issue 15). Now dbt gets it from the configuration like
every var, and the GX rule reads the same value.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml
from dbt_helpers import SandboxBuild, scalar

from shinrai.quality import gx
from shinrai.settings import PROJECT_ROOT, paths
from shinrai.transform import dbt

pytestmark = pytest.mark.slow

STALE = "select count(*) from marts.fct_risk_records where is_stale"
# what the GX warning open_risk_reviewed_recently fails, at a limit of ? days
GX_STALE = "select count(*) from marts.fct_risk_records where is_open and days_since_last_review > ?"


def test_risk_stale_after_days_moves_the_mart_and_the_gx_rule_together(
        sandbox_build: SandboxBuild, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    home = tmp_path / "home"
    home.mkdir()
    for name in ("warehouse.duckdb", "landing", "dbt"):  # a copy: the session's build stays as it is
        source = sandbox_build.home / name
        (shutil.copytree if source.is_dir() else shutil.copy2)(source, home / name)
    tree = yaml.safe_load((PROJECT_ROOT / "config" / "shinrai.yaml").read_text(encoding="utf-8"))
    shipped = tree["quality"]["risk_stale_after_days"]
    assert scalar(home, STALE) == scalar(home, GX_STALE, [shipped])  # the build used the shipped value

    changed = 30
    assert scalar(home, GX_STALE, [changed]) != scalar(home, GX_STALE, [shipped])  # the sandbox tells them apart
    tree["quality"]["risk_stale_after_days"] = changed
    config_file = tmp_path / "shinrai.yaml"
    config_file.write_text(yaml.safe_dump(tree, allow_unicode=True), encoding="utf-8")
    monkeypatch.setenv("SHINRAI_HOME", str(home))
    monkeypatch.setenv("SHINRAI_CONFIG", str(config_file))
    p = paths()
    dbt.run_dbt(["run", "--select", "fct_risk_records"], p, {"as_of_date": sandbox_build.as_of_date})

    assert gx.expectation_parameters(p)["risk_stale_after_days"] == changed
    assert scalar(home, STALE) == scalar(home, GX_STALE, [changed])
