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
    del tree["jira"]["fields"]["occurred_at"]
    with pytest.raises(config.ConfigError, match=r"jira\.fields\.occurred_at: is missing"):
        config.load(_write(tmp_path, tree))


def test_optional_jira_fields_may_be_left_out_and_mappings_carry_part_and_pick(tmp_path: Path):
    tree = _tree()
    del tree["jira"]["fields"]["detected_at"]
    tree["jira"]["fields"]["product"] = {"name": "Product", "part": "child", "pick": "last"}
    cfg = config.load(_write(tmp_path, tree))
    assert "detected_at" not in cfg.jira_fields and cfg.jira_fields["product"] == "Product"
    assert cfg.jira_field_options["product"] == config.JiraFieldOptions("child", "last")
    assert cfg.jira_field_options["severity"] == config.JiraFieldOptions("parent", "first")
    tree["jira"]["fields"]["product"] = {"name": "Product", "pick": "middle"}
    with pytest.raises(config.ConfigError, match=r"^config jira\.fields\.product\.pick: must be 'first' or 'last'"):
        config.load(_write(tmp_path, tree))
    tree["jira"]["fields"]["product"] = 3
    with pytest.raises(config.ConfigError, match=r"^config jira\.fields\.product: must be a Jira field name"):
        config.load(_write(tmp_path, tree))


def test_cancelled_resolutions_reach_dbt(tmp_path: Path):
    from shinrai.transform.dbt import dbt_vars

    tree = _tree()
    tree["jira"]["cancelled_resolutions"] = ["Abandoned"]
    assert dbt_vars(config.load(_write(tmp_path, tree)))["jira_cancelled_resolutions"] == ["Abandoned"]


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


# -- validated up front: one line naming the key, whatever the mistake --------------------------------

def _refusal(tmp_path: Path, change) -> str:
    """The error line of the shipped configuration with ``change(tree)`` applied."""
    tree = _tree()
    change(tree)
    with pytest.raises(config.ConfigError) as err:
        config.load(_write(tmp_path, tree))
    line = str(err.value)
    assert "\n" not in line
    return line


def test_a_non_numeric_share_is_one_line_naming_the_key(tmp_path: Path):
    """Used to be a bare ``ValueError: could not convert string to float`` from deep in GX."""
    line = _refusal(tmp_path, lambda t: t["quality"].update(quarantine_max_share="lots"))
    assert line == "config quality.quarantine_max_share: must be a share from 0 to 1 (0.05 is 5%), got 'lots'"


def test_a_negative_freshness_is_refused_not_read_as_stale_data(tmp_path: Path):
    line = _refusal(tmp_path, lambda t: t["quality"].update(freshness_max_hours=-1))
    assert line == "config quality.freshness_max_hours: must be a number of hours > 0, got -1"


def test_a_share_above_one_a_rule_that_could_never_fail_is_refused(tmp_path: Path):
    line = _refusal(tmp_path, lambda t: t["quality"].update(quarantine_max_share=2))
    assert line == "config quality.quarantine_max_share: must be a share from 0 to 1 (0.05 is 5%), got 2"
    line = _refusal(tmp_path, lambda t: t["landing"].update(max_deleted_share=5))
    assert line == "config landing.max_deleted_share: must be a share from 0 to 1 (0.05 is 5%), got 5"


def test_a_misspelled_section_is_refused_with_a_suggestion_a_missing_one_keeps_its_defaults(tmp_path: Path):
    """``quallity:`` used to be ignored: every quality threshold silently fell back to its default.
    Left out, or left empty (every key commented out), an optional section still means its defaults."""
    line = _refusal(tmp_path, lambda t: t.update(quallity=t.pop("quality")))
    assert line == "config quallity: is not a known key (did you mean 'quality'?)"
    tree = _tree()
    for section in ("pacing", "duckdb", "landing"):
        del tree[section]
    tree["quality"] = None
    cfg = config.load(_write(tmp_path, tree))
    assert cfg.quality == config.QualitySettings() and cfg.max_deleted_share == config.DEFAULT_MAX_DELETED_SHARE
    assert cfg.max_record_bytes == config.DEFAULT_MAX_RECORD_BYTES and cfg.pacing is False


def test_unknown_keys_are_refused_at_every_depth(tmp_path: Path):
    """A misspelled key also leaves its right spelling missing: the unknown key, with the
    suggestion, is the line shown; every problem is kept for ``shinrai config check``."""
    def misspell(tree: dict) -> None:
        tree["jira"]["fields"]["ocurred_at"] = tree["jira"]["fields"].pop("occurred_at")

    tree = _tree()
    misspell(tree)
    with pytest.raises(config.ConfigError) as err:
        config.load(_write(tmp_path, tree))
    assert str(err.value).startswith("config jira.fields.ocurred_at: is not a known key (did you mean 'occurred_at'")
    assert ("jira.fields.occurred_at", "is missing") in err.value.problems
    assert _refusal(tmp_path, lambda t: t["quality"].update(freshnes_max_hours=3)) == (
        "config quality.freshnes_max_hours: is not a known key (did you mean 'freshness_max_hours'?)")
    assert _refusal(tmp_path, lambda t: t["pacing"].update(speedup={"teams": 2})) == (
        "config pacing.speedup.teams: is not a known key (expected jira, notion, slack)")


@pytest.mark.parametrize(("change", "line"), [
    (lambda t: t["jira"].update(page_size="100"),
     "config jira.page_size: must be a whole number from 1 to 5000 (the search/jql ceiling), got '100'"),
    (lambda t: t["jira"].update(release_projects=["PAY", 7]),
     "config jira.release_projects[1]: must be a string, got 7"),
    (lambda t: t["reporting"].update(languages="en"),  # used to be read as the languages 'e' and 'n'
     "config reporting.languages: must be a non-empty list of languages, e.g. [en, ja], got 'en'"),
    (lambda t: t["reporting"].update(languages=["en", "jp"]),
     "config reporting.languages[1]: must be one of en, ja, got 'jp' (did you mean 'ja'?)"),
    (lambda t: t["slack"].update(product_pattern="product: (.+)"),
     "config slack.product_pattern: needs the named group (?P<product>...), got 'product: (.+)'"),
    (lambda t: t["jira"]["actions_relation"].pop("link_type"),
     "config jira.actions_relation.link_type: is missing (needed with mode 'link')"),
    (lambda t: t.update(quality=5), "config quality: must be a mapping, got 5"),
])
def test_types_and_ranges_are_one_line_naming_the_key(tmp_path: Path, change, line):
    assert _refusal(tmp_path, change) == line


def test_a_yaml_syntax_error_is_one_line_with_file_line_and_column(tmp_path: Path):
    """Used to be PyYAML's four-line message at the end of 73 lines of traceback."""
    text = DEFAULT.read_text(encoding="utf-8").replace("  quarantine_max_share: 0.05", " quarantine_max_share: 0.05")
    path = tmp_path / "shinrai.yaml"
    path.write_text(text, encoding="utf-8")
    line = next(i for i, s in enumerate(text.splitlines(), 1) if s.startswith(" quarantine_max_share"))
    with pytest.raises(config.ConfigError) as err:
        config.load(path)
    assert str(err.value) == (f"config (file): {path}:{line}:2: not valid YAML: expected <block end>, but found "
                              "'<block mapping start>'")
    path.write_text(DEFAULT.read_text(encoding="utf-8").replace("languages: [en, ja]", "languages: [en, ja"))
    opened = next(i for i, s in enumerate(text.splitlines(), 1) if "languages: [en, ja]" in s)
    with pytest.raises(config.ConfigError, match=r"^config \(file\): .*shinrai.yaml:\d+:\d+: not valid YAML: "
                       rf"expected ',' or '\]', but got .* \(while parsing a flow sequence started on line "
                       rf"{opened}\)$"):
        config.load(path)


def test_a_key_given_twice_or_read_as_a_boolean_is_refused(tmp_path: Path):
    text = DEFAULT.read_text(encoding="utf-8") + "quality:\n  freshness_max_hours: 3\n"
    path = tmp_path / "shinrai.yaml"
    path.write_text(text, encoding="utf-8")
    first = next(i for i, s in enumerate(text.splitlines(), 1) if s.startswith("quality:"))
    with pytest.raises(config.ConfigError) as err:
        config.load(path)
    assert str(err.value) == (f"config (file): {path}:{len(text.splitlines()) - 1}:1: "
                              f"key 'quality' is given twice (first on line {first})")
    path.write_text(DEFAULT.read_text(encoding="utf-8") + "on: true\n", encoding="utf-8")
    with pytest.raises(config.ConfigError, match=r"shinrai.yaml:\d+:1: key 'on' is read as bool True, not a name: "
                       r"quote it$"):
        config.load(path)


# -- release rules and metrics (issue 15: rules in configuration, one configuration source) ----------


def test_release_rules_and_metrics_load_and_reach_dbt():
    from shinrai.transform.dbt import dbt_vars

    cfg = config.load(DEFAULT)
    tree = _tree()
    assert [t.code for t in cfg.release_types] == [t["code"] for t in tree["taxonomies"]["release_types"]]
    assert cfg.releases.shipped_by == tuple(tree["releases"]["shipped_by"])
    assert cfg.releases.shipped_statuses == tuple(tree["releases"]["shipped_statuses"])
    passed = dbt_vars(cfg)
    assert passed["release_types"] == [{"code": t["code"], "values": t.get("values", [t["code"]]),
                                        "version_pattern": t.get("version_pattern")}
                                       for t in tree["taxonomies"]["release_types"]]
    assert passed["releases_shipped_by"] == tree["releases"]["shipped_by"]
    assert {k: passed[k] for k in tree["metrics"]} == tree["metrics"]
    assert passed["risk_stale_after_days"] == tree["quality"]["risk_stale_after_days"]
    assert passed["reporting_timezone"] == tree["reporting"]["timezone"]


def test_a_release_type_without_values_means_its_code_and_metrics_have_defaults(tmp_path: Path):
    tree = _tree()
    tree["taxonomies"]["release_types"] = [{"code": "Major", "version_pattern": r"\.0\.0$"}, {"code": "Minor"}]
    del tree["metrics"]
    tree["quality"].pop("risk_stale_after_days")
    cfg = config.load(_write(tmp_path, tree))
    assert cfg.release_types == (config.ReleaseType("Major", ("Major",), r"\.0\.0$"),
                                 config.ReleaseType("Minor", ("Minor",), None))
    assert cfg.metrics == config.MetricSettings() and cfg.quality.risk_stale_after_days == 120


@pytest.mark.parametrize(("change", "line"), [
    (lambda t: t["releases"].update(shipped_by=["jira_released", "deployed"]),
     "config releases.shipped_by[1]: must be 'jira_released', 'calendar_status' or 'date_passed', got 'deployed'"),
    (lambda t: t["releases"].update(shipped_by=[]),
     "config releases.shipped_by: must be a non-empty list of jira_released, calendar_status, date_passed, got []"),
    (lambda t: t["releases"].update(shipped_statuses=[]),
     "config releases: shipped_statuses is empty, so calendar_status in shipped_by would never ship a release"),
    (lambda t: t["taxonomies"].update(release_types=[{"code": "Major"}, {"code": "Minor"}, {"code": "Major"}]),
     "config taxonomies.release_types: must name each code once, got 'Major' twice"),
    (lambda t: t["taxonomies"].update(release_types=[{"code": "Major"}, {"code": "Minor", "values": [" major"]}]),
     "config taxonomies.release_types: value ' major' means both 'Major' and 'Minor'"),
    (lambda t: t["taxonomies"]["release_types"][0].update(version_pattern="(unclosed"),
     "config taxonomies.release_types[0].version_pattern: is not a valid regular expression "
     "(missing ), unterminated subpattern at position 0)"),
    (lambda t: t["metrics"].update(error_budget_at_risk_share=1.5),
     "config metrics.error_budget_at_risk_share: must be a share from 0 to 1 (0.05 is 5%), got 1.5"),
    (lambda t: t["metrics"].update(release_attribution_window_hours=0),
     "config metrics.release_attribution_window_hours: must be a whole number >= 1, got 0"),
    (lambda t: t.pop("releases"), "config releases: is missing"),
])
def test_release_rules_and_metrics_are_validated(tmp_path: Path, change, line):
    assert _refusal(tmp_path, change) == line


# -- slack.messages and people.match_by: validated here, passed to dbt as vars -------------------------

def test_slack_message_patterns_and_people_matching_reach_dbt(tmp_path: Path):
    """The incident-channel patterns were dbt_project.yml vars that the configuration could not
    change; now they are config keys and each reaches dbt under its var name."""
    from shinrai.transform.dbt import dbt_vars

    tree = _tree()
    tree["slack"]["messages"]["declared"] = "(We have an incident)"
    tree["people"] = {"match_by": ["display_name", "email"]}
    cfg = config.load(_write(tmp_path, tree))
    passed = dbt_vars(cfg)
    assert passed["slack_declared_pattern"] == "(We have an incident)"
    assert passed["slack_status_board_pattern"] == tree["slack"]["messages"]["status_board"]
    assert passed["slack_ended_pattern"] == tree["slack"]["messages"]["ended"]
    assert passed["slack_status_update_pattern"] == tree["slack"]["messages"]["status_update"]
    assert passed["people_match_by"] == ["display_name", "email"]
    del tree["people"]
    assert config.load(_write(tmp_path, tree)).people_match_by == ("email", "display_name")


@pytest.mark.parametrize(("change", "line"), [
    (lambda t: t["slack"]["messages"].update(ended="(Incident response ended"),
     "config slack.messages.ended: is not a valid regular expression (missing ), unterminated subpattern at "
     "position 0)"),
    (lambda t: t["slack"]["messages"].pop("status_update"), "config slack.messages.status_update: is missing"),
    (lambda t: t["people"].update(match_by=["email", "phone"]),
     "config people.match_by[1]: must be 'email' or 'display_name', got 'phone'"),
    (lambda t: t["people"].update(match_by=["email", "email"]),
     "config people.match_by: must name each way at most once, got ['email', 'email']"),
    (lambda t: t["people"].update(match_by=[]),
     "config people.match_by: must be a non-empty list of email and display_name, each at most once (the order "
     "is the precedence), got []"),
])
def test_slack_messages_and_people_are_one_line_naming_the_key(tmp_path: Path, change, line):
    assert _refusal(tmp_path, change) == line


# -- taxonomies and products -----------------------------------------------------------------------


def test_shipped_taxonomies_and_products_default_values_to_the_code_and_keep_their_order():
    cfg = config.load(DEFAULT)
    severities = cfg.taxonomies.severities
    assert [s["values"] for s in severities] == [[s["code"]] for s in severities]
    assert [s["major"] for s in severities] == [True, True, False, False]
    assert all(r["values"] == [r["code"]] for r in cfg.taxonomies.cause_categories)
    assert (cfg.products.incidents_from, cfg.products.actions_from) == ("field", "project")
    assert cfg.products.catalogue[0]["objectives"]["availability_target"] == 0.999


def test_a_site_with_other_severity_names_loads(tmp_path: Path):
    tree = _tree()
    tree["taxonomies"]["severities"] = [
        {"code": "L1", "values": ["レベル1", "Level 1", "P1"], "availability_impact_weight": 1.0,
         "postmortem_required": True, "major": True},
        {"code": "L2", "values": ["レベル2"], "availability_impact_weight": 0.2, "postmortem_required": False},
    ]
    tree["products"]["incidents_from"] = "project"
    tree["products"]["actions_from"] = "incident"
    tree["products"]["catalogue"][0]["aliases"] = ["給与", "payroll-app"]
    del tree["products"]["catalogue"][1]["objectives"]
    cfg = config.load(_write(tmp_path, tree))
    assert [s["code"] for s in cfg.taxonomies.severities] == ["L1", "L2"]
    assert cfg.taxonomies.severities[1]["major"] is False
    assert cfg.products.catalogue[1]["objectives"] is None


@pytest.mark.parametrize(("edit", "key", "problem"), [
    (lambda t: t["taxonomies"]["severities"].append(dict(t["taxonomies"]["severities"][0])),
     r"taxonomies\.severities", r"code 'SEV1' is given twice"),
    (lambda t: t["taxonomies"]["cause_categories"][1].update(values=["Capacity", " code DEFECT "]),
     r"taxonomies\.cause_categories", r"source value ' code DEFECT ' is claimed by both 'Code defect' and "
                                      r"'Configuration error'"),
    (lambda t: t["taxonomies"].update(detection_routes=[]), r"taxonomies\.detection_routes",
     r"must be a non-empty list"),
    (lambda t: t["taxonomies"]["severities"][0].update(values=[]), r"taxonomies\.severities\[0\]\.values",
     r"must not be empty"),
    (lambda t: t["taxonomies"]["severities"][0].pop("postmortem_required"),
     r"taxonomies\.severities\[0\]\.postmortem_required", r"is missing"),
    (lambda t: t["taxonomies"]["severities"][0].update(colour="red"), r"taxonomies\.severities\[0\]\.colour",
     r"is not a known key"),
    (lambda t: t["taxonomies"]["severities"][0].update(availability_impact_weight=2),
     r"taxonomies\.severities\[0\]\.availability_impact_weight", r"at most 1"),
    (lambda t: t["products"].update(incidents_from="component"), r"products\.incidents_from",
     r"'field' .* or 'project'"),
    (lambda t: t["products"].update(actions_from="epic"), r"products\.actions_from", r"'incident'"),
    (lambda t: t["products"]["catalogue"][1].update(aliases=["PAY"]), r"products\.catalogue",
     r"'PAY' names both products 'payroll' and 'attendance'"),
    (lambda t: t["products"]["catalogue"].append(dict(t["products"]["catalogue"][0])), r"products\.catalogue",
     r"code 'payroll' is given twice"),
    (lambda t: t["products"].update(catalogue=[]), r"products\.catalogue", r"must be a non-empty list"),
    (lambda t: t.pop("taxonomies"), r"taxonomies", r"is missing"),
])
def test_taxonomy_and_product_mistakes_are_one_line_naming_the_key(tmp_path: Path, edit, key, problem):
    tree = _tree()
    edit(tree)
    with pytest.raises(config.ConfigError) as raised:
        config.load(_write(tmp_path, tree))
    assert "\n" not in str(raised.value)
    assert raised.value.key.startswith(key.replace("\\", "")), str(raised.value)
    import re

    assert re.search(problem, str(raised.value)), str(raised.value)


def test_taxonomies_reach_dbt_as_vars_with_source_values():
    from shinrai.transform.dbt import dbt_vars

    passed = dbt_vars(config.load(DEFAULT))
    assert passed["taxonomy_severities"][0]["source_values"] == ["SEV1"]
    assert "values" not in passed["taxonomy_severities"][0]
    assert [r["code"] for r in passed["taxonomy_development_categories"]][:2] == ["New feature", "Regular release"]
    assert (passed["products_incidents_from"], passed["products_actions_from"]) == ("field", "project")
    first = passed["products_catalogue"][0]
    assert first["has_objectives"] is True and first["mttr_target_minutes"] == 240 and "objectives" not in first


def test_task_retries_and_their_delay_are_configured_with_defaults_and_validated(tmp_path: Path):
    """``airflow.retries`` and ``airflow.retry_delay_seconds`` (the DAGs' default_args; a failing task
    waited 2 x 120 s in `dags test` with no setting to say otherwise). Left out: 2 and 120 s."""
    tree = _tree()
    tree["airflow"] = {"retries": 0, "retry_delay_seconds": 10}
    cfg = config.load(_write(tmp_path, tree))
    assert (cfg.task_retries, cfg.retry_delay_seconds) == (0, 10)
    del tree["airflow"]
    cfg = config.load(_write(tmp_path, tree))
    assert (cfg.task_retries, cfg.retry_delay_seconds) == (config.DEFAULT_TASK_RETRIES,
                                                           config.DEFAULT_RETRY_DELAY_SECONDS) == (2, 120)
    line = _refusal(tmp_path, lambda t: t["airflow"].update(retry_delay_seconds=-5))
    assert line == "config airflow.retry_delay_seconds: must be a whole number >= 0, got -5"
    line = _refusal(tmp_path, lambda t: t["airflow"].update(retries="2"))
    assert line == "config airflow.retries: must be a whole number >= 0, got '2'"
    line = _refusal(tmp_path, lambda t: t["airflow"].update(retry_delay=5))
    assert line.startswith("config airflow.retry_delay: is not a known key (did you mean 'retry_delay_seconds'")
