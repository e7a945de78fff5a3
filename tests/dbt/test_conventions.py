"""Project conventions: dbt-bouncer over the manifest and over the catalog of the sandbox build
(dbt_project/dbt-bouncer.yml), the properties-file layout, seeds that match the sandbox's taxonomy,
and var defaults that match the shipped configuration."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from dbt_helpers import SandboxBuild

from shinrai import config as config_mod
from shinrai.sandbox import jira_schema, model
from shinrai.settings import PROJECT_ROOT
from shinrai.transform import dbt

pytestmark = pytest.mark.slow

PROJECT = PROJECT_ROOT / "dbt_project"
BOUNCER = Path(sys.executable).with_name("dbt-bouncer")


@pytest.fixture(scope="module")
def artifacts(sandbox_build: SandboxBuild) -> Path:
    """manifest.json and catalog.json of the sandbox warehouse (the catalog checks need real tables)."""
    # the build's own target path and vars, so dbt reuses its partial parse
    target = sandbox_build.home / "dbt" / "target"
    dbt.run_dbt(["docs", "generate"], sandbox_build.paths, {"as_of_date": sandbox_build.as_of_date})
    assert (target / "manifest.json").exists() and (target / "catalog.json").exists()
    return target


def test_dbt_bouncer(artifacts: Path, tmp_path: Path) -> None:
    config = yaml.safe_load((PROJECT / "dbt-bouncer.yml").read_text(encoding="utf-8"))
    config["dbt_artifacts_dir"] = str(artifacts)
    config_file = tmp_path / "dbt-bouncer.yml"
    config_file.write_text(yaml.safe_dump(config, allow_unicode=True), encoding="utf-8")
    proc = subprocess.run([str(BOUNCER), "--config-file", str(config_file)], capture_output=True, text=True,
                          cwd=tmp_path, check=False)
    output = proc.stdout + proc.stderr
    assert proc.returncode == 0, output[-4000:]
    assert "ERROR=0" in output


def test_publications_survive_a_full_refresh(artifacts: Path) -> None:
    """`dbt build --full-refresh` must never rebuild the month-end publications."""
    import json

    nodes = json.loads((artifacts / "manifest.json").read_text(encoding="utf-8"))["nodes"]
    for name in ("rpt_reliability_monthly_snapshots", "rpt_incident_snapshots"):
        config = nodes[f"model.shinrai.{name}"]["config"]
        assert (config["materialized"], config["full_refresh"]) == ("incremental", False), name


def test_one_properties_file_per_folder() -> None:
    """`_<dir>__models.yml` beside the SQL of every model folder, `_<dir>__sources.yml` in staging."""
    for folder in sorted({p.parent for p in (PROJECT / "models").rglob("*.sql")}):
        name = folder.name
        yml = sorted(p.name for p in folder.glob("*.yml"))
        assert f"_{name}__models.yml" in yml, folder
        allowed = {f"_{name}__models.yml", f"_{name}__sources.yml", f"_{name}__unit_tests.yml"}
        assert set(yml) <= allowed, (folder, yml)
        if folder.parent.name == "staging":
            assert f"_{name}__sources.yml" in yml, folder


def _seed(name: str) -> list[dict[str, str]]:
    import csv

    with (PROJECT / "seeds" / f"{name}.csv").open(encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def test_seed_taxonomy_matches_the_sandbox_and_jira_options() -> None:
    assert [r["severity"] for r in _seed("severity_levels")] == list(model.SEVERITIES)
    assert [r["detection_route"] for r in _seed("detection_routes")] == list(model.DETECTION_ROUTES)
    assert [r["cause_category"] for r in _seed("cause_categories")] == list(model.CAUSE_CATEGORIES)
    assert [r["development_category"] for r in _seed("development_categories")] == list(model.DEVELOPMENT_CATEGORIES)
    products = [(r["product_code"], r["product_name"], r["product_name_ja"], r["jira_project_key"], r["slack_channel"])
                for r in _seed("products")]
    assert products == [(p.code, p.name, p.name_ja, p.project_key, p.channel) for p in model.PRODUCTS]
    # every seed value is a Jira select option; the planted unknown values are not in the seeds
    options = {name: set(values or ()) for name, _t, _c, values in jira_schema.CUSTOM_FIELDS.values()}
    assert {r["severity"] for r in _seed("severity_levels")} <= options["Incident Level"]
    assert {r["cause_category"] for r in _seed("cause_categories")}.isdisjoint(model.UNKNOWN_CAUSES)
    assert {r["development_category"] for r in _seed("development_categories")}.isdisjoint(model.UNKNOWN_DEVELOPMENT)
    assert {r["product_code"] for r in _seed("objectives")} == {p.code for p in model.PRODUCTS}
    for seed in ("severity_levels", "cause_categories", "development_categories", "detection_routes"):
        for row in _seed(seed):
            assert row["definition_en"] and row["definition_ja"] and row["name_ja"], (seed, row)


def test_var_defaults_equal_the_shipped_configuration() -> None:
    defaults = yaml.safe_load((PROJECT / "dbt_project.yml").read_text(encoding="utf-8"))["vars"]
    passed = dbt.dbt_vars(config_mod.load(PROJECT_ROOT / "config" / "shinrai.yaml"))
    passed.pop("reporting_timezone")  # read from the environment, default Asia/Tokyo
    # a var with no default there (people_match_by) has the configuration as its only home;
    # slack_product_pattern's copy there predates product-only resume posts (config is the home,
    # and the copies in dbt_project.yml are being removed)
    shared = [key for key in passed if key in defaults and key != "slack_product_pattern"]
    assert {key: defaults[key] for key in shared} == {key: passed[key] for key in shared}
