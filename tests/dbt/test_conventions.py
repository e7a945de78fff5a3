"""Project conventions: dbt-bouncer over the manifest and over the catalog of the sandbox build
(dbt_project/dbt-bouncer.yml), the properties-file layout, a shipped taxonomy that matches the sandbox's,
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
        if folder.parent.name == "staging" and name != "config":  # config: dbt vars, no source
            assert f"_{name}__sources.yml" in yml, folder


def _taxonomy(name: str) -> tuple[dict, ...]:
    return getattr(config_mod.load(PROJECT_ROOT / "config" / "shinrai.yaml").taxonomies, name)


def test_shipped_taxonomy_matches_the_sandbox_and_jira_options() -> None:
    """config/shinrai.yaml's taxonomies and products are the sandbox organisation's (its documented default)."""
    cfg = config_mod.load(PROJECT_ROOT / "config" / "shinrai.yaml")
    assert [r["code"] for r in _taxonomy("severities")] == list(model.SEVERITIES)
    assert [r["code"] for r in _taxonomy("detection_routes")] == list(model.DETECTION_ROUTES)
    assert [r["code"] for r in _taxonomy("cause_categories")] == list(model.CAUSE_CATEGORIES)
    assert [r["code"] for r in _taxonomy("development_categories")] == list(model.DEVELOPMENT_CATEGORIES)
    products = [(p["code"], p["name"], p["name_ja"], p["jira_project_key"], p["slack_channel"])
                for p in cfg.products.catalogue]
    assert products == [(p.code, p.name, p.name_ja, p.project_key, p.channel) for p in model.PRODUCTS]
    # every configured value is a Jira select option; the planted unknown values are in no taxonomy
    options = {name: set(values or ()) for name, _t, _c, values in jira_schema.CUSTOM_FIELDS.values()}
    assert {v for r in _taxonomy("severities") for v in r["values"]} <= options["Incident Level"]
    assert {v for r in _taxonomy("cause_categories") for v in r["values"]}.isdisjoint(model.UNKNOWN_CAUSES)
    assert {v for r in _taxonomy("development_categories") for v in r["values"]}.isdisjoint(model.UNKNOWN_DEVELOPMENT)
    assert all(p["objectives"] for p in cfg.products.catalogue)
    for name in config_mod.TAXONOMY_NAMES:
        for row in _taxonomy(name):
            assert row["definition_en"] and row["definition_ja"] and row["name_ja"], (name, row)


def test_reference_tables_built_from_the_configuration_keep_the_seeds_names_and_columns(
        sandbox_build: SandboxBuild) -> None:
    """What BI and the publication read: seeds.<old seed name> with the old columns, filled from config."""
    from dbt_helpers import query

    expected = {
        "severity_levels": ["severity", "severity_rank", "name_en", "name_ja", "definition_en", "definition_ja",
                            "response_mode_en", "response_mode_ja", "availability_impact_weight",
                            "postmortem_required", "freezes_releases"],
        "cause_categories": ["cause_category", "sort_order", "name_ja", "definition_en", "definition_ja"],
        "development_categories": ["development_category", "sort_order", "name_ja", "is_release", "is_change",
                                   "definition_en", "definition_ja"],
        "detection_routes": ["detection_route", "sort_order", "name_ja", "is_automated", "definition_en",
                             "definition_ja"],
        "products": ["product_code", "product_name", "product_name_ja", "jira_project_key", "owning_team",
                     "owning_team_ja", "slack_channel", "sort_order"],
        "objectives": ["product_code", "availability_target", "mttr_target_minutes", "postmortem_within_days",
                       "postmortem_on_time_target", "action_on_time_target"],
    }
    for table, columns in expected.items():
        got = [r[0] for r in query(sandbox_build.home, "select column_name from information_schema.columns "
                                   "where table_schema = 'seeds' and table_name = ? order by ordinal_position",
                                   [table])]
        assert got[:len(columns)] == columns, table
    levels = query(sandbox_build.home, "select severity, severity_rank, postmortem_required, is_major "
                                       "from seeds.severity_levels order by severity_rank")
    assert levels == [(s, i + 1, i < 3, i < 2) for i, s in enumerate(model.SEVERITIES)]
    assert query(sandbox_build.home, "select count(*) from seeds.objectives")[0][0] == len(model.PRODUCTS)


def test_dbt_vars_have_one_home_the_configuration() -> None:
    """dbt_project.yml keeps no var defaults (a stale copy would win silently), and every var the
    models and macros read is passed by dbt_vars from config/shinrai.yaml."""
    import re

    project = yaml.safe_load((PROJECT / "dbt_project.yml").read_text(encoding="utf-8"))
    assert not project.get("vars"), project.get("vars")
    read = set()
    for sql in [*(PROJECT / "models").rglob("*.sql"), *(PROJECT / "macros").rglob("*.sql")]:
        read |= set(re.findall(r"""\bvar\(\s*['"](\w+)['"]""", sql.read_text(encoding="utf-8")))
    passed = dbt.dbt_vars(config_mod.load(PROJECT_ROOT / "config" / "shinrai.yaml"))
    assert read, "no var() found: the pattern is broken"
    assert read <= set(passed), sorted(read - set(passed))


def test_a_missing_var_fails_dbt_naming_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Without the runner's vars dbt stops, naming the var, instead of falling back to a default."""
    monkeypatch.setenv("SHINRAI_HOME", str(tmp_path))
    from shinrai.settings import paths

    p = paths()
    full = dbt.dbt_vars(config_mod.load(p.config_file))
    partial = {k: v for k, v in full.items() if k != "release_attribution_window_hours"}
    import json

    with pytest.raises(dbt.DbtFailed, match="release_attribution_window_hours"):
        dbt.run_dbt(["compile", "--select", "int_incidents_attributed",
                     "--vars", json.dumps(partial, ensure_ascii=False)], p)
