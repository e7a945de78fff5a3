from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from shinrai import config
from shinrai.settings import PROJECT_ROOT

DEFAULT = PROJECT_ROOT / "config" / "shinrai.yaml"


def _write(tmp_path: Path, tree: dict) -> Path:
    path = tmp_path / "shinrai.yaml"
    path.write_text(yaml.safe_dump(tree, allow_unicode=True), encoding="utf-8")
    return path


def _tree() -> dict:
    return yaml.safe_load(DEFAULT.read_text(encoding="utf-8"))


def test_default_configuration_loads_with_sandbox_names():
    cfg = config.load(DEFAULT)
    assert cfg.timezone == "Asia/Tokyo"
    assert cfg.jira_fields["severity"] == "Incident Level"
    assert set(cfg.jira_fields) == set(config.JIRA_LOGICAL_FIELDS)
    assert cfg.incident_channel_pattern.match("inc-123-payroll").group("number") == "123"
    assert cfg.freeze_pattern.search("🧊 *リリース停止 / Release freeze* product: Payroll incident: INC-1")


def test_missing_mapping_is_named_by_its_key(tmp_path: Path):
    tree = _tree()
    del tree["jira"]["fields"]["detected_at"]
    with pytest.raises(config.ConfigError, match=r"jira\.fields\.detected_at: is missing"):
        config.load(_write(tmp_path, tree))


def test_bad_regex_and_time_zone_are_named(tmp_path: Path):
    tree = _tree()
    tree["slack"]["freeze_pattern"] = "(unclosed"
    with pytest.raises(config.ConfigError, match=r"slack\.freeze_pattern"):
        config.load(_write(tmp_path, tree))
    tree = _tree()
    tree["reporting"]["timezone"] = "Mars/Olympus"
    with pytest.raises(config.ConfigError, match=r"reporting\.timezone"):
        config.load(_write(tmp_path, tree))


def test_actions_relation_mode_is_validated(tmp_path: Path):
    tree = _tree()
    tree["jira"]["actions_relation"]["mode"] = "magic"
    with pytest.raises(config.ConfigError, match=r"jira\.actions_relation\.mode"):
        config.load(_write(tmp_path, tree))


def test_pacing_is_off_by_default_and_its_speedup_is_validated(tmp_path: Path):
    cfg = config.load(DEFAULT)
    assert cfg.pacing is False and cfg.pacing_speedup == {}
    tree = _tree()
    tree["pacing"] = {"enabled": True, "speedup": {"slack": 60}}
    cfg = config.load(_write(tmp_path, tree))
    assert cfg.pacing is True and cfg.pacing_speedup == {"slack": 60.0}
    tree["pacing"]["speedup"] = {"slack": 0}
    with pytest.raises(config.ConfigError, match=r"pacing\.speedup"):
        config.load(_write(tmp_path, tree))


def test_duckdb_memory_limit_reaches_every_step_that_opens_duckdb(tmp_path: Path, monkeypatch):
    """``duckdb.memory_limit`` bounds the landing files' connection, dbt's profile and the GX
    datasources; a value DuckDB would not take is refused by name before any step runs."""
    import duckdb

    from shinrai.load.landing import LandingStore
    from shinrai.quality import gx
    from shinrai.settings import paths
    from shinrai.transform.dbt import dbt_env

    tree = _tree()
    assert config.load(DEFAULT).duckdb_memory_limit == tree["duckdb"]["memory_limit"] == "512MB"
    for bad in ("lots", "80%", 512):
        tree["duckdb"] = {"memory_limit": bad}
        with pytest.raises(config.ConfigError, match=r"duckdb\.memory_limit: must be"):
            config.load(_write(tmp_path, tree))
    tree["duckdb"] = {"memory_limit": "300MB"}
    monkeypatch.setenv("SHINRAI_CONFIG", str(_write(tmp_path, tree)))
    monkeypatch.setenv("SHINRAI_HOME", str(tmp_path / "home"))
    cfg = config.load()
    assert cfg.duckdb_memory_limit == "300MB"

    def limit(con: duckdb.DuckDBPyConnection) -> str:
        return con.execute("select current_setting('memory_limit')").fetchone()[0]

    with LandingStore(tmp_path / "jira.duckdb", "jira", memory_limit=cfg.duckdb_memory_limit) as store:
        assert limit(store.con) == "286.1 MiB"  # DuckDB shows 300 MB in MiB
    assert dbt_env()["SHINRAI_DUCKDB_MEMORY_LIMIT"] == "300MB"  # profiles.yml reads it
    profile = (PROJECT_ROOT / "dbt_project" / "profiles.yml").read_text(encoding="utf-8")
    assert "memory_limit: \"{{ env_var('SHINRAI_DUCKDB_MEMORY_LIMIT'" in profile
    assert gx.runtime_environment(paths())["SHINRAI_DUCKDB_MEMORY_LIMIT"] == "300MB"
    landing = gx.context(paths()).data_sources.get("landing")
    with landing.connect() as con:
        assert limit(con) == "286.1 MiB"
