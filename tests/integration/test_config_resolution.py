"""Configuration that only the live source can check, against the sandbox over HTTP: a Jira field
of the wrong type fails at field resolution, naming the key, before any issue is read."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest
import yaml

from shinrai import config, pipeline
from shinrai.settings import PROJECT_ROOT, paths


def test_a_timestamp_mapped_to_a_select_field_fails_at_resolution_with_nothing_landed(
        sandbox, connections, shinrai_home: Path, monkeypatch: pytest.MonkeyPatch):
    """``occurred_at`` mapped to the select field behind ``jira.fields.product`` used to land every
    incident in quarantine ("is not a timestamp"), every night; now the extract task fails at once."""
    tree = yaml.safe_load((PROJECT_ROOT / "config" / "shinrai.yaml").read_text(encoding="utf-8"))
    select_field = tree["jira"]["fields"]["product"]
    tree["jira"]["fields"]["occurred_at"] = select_field
    shinrai_home.mkdir(parents=True)
    path = shinrai_home / "shinrai.yaml"
    path.write_text(yaml.safe_dump(tree, allow_unicode=True), encoding="utf-8")
    monkeypatch.setenv("SHINRAI_CONFIG", str(path))
    sandbox.reset_requests()

    with pytest.raises(config.ConfigError) as err:
        pipeline.extract_jira("run-1")
    assert str(err.value) == (f"config jira.fields.occurred_at: {select_field!r} is an option field; "
                              "a timestamp needs a datetime or date field")
    assert not [r for r in sandbox.requests if "/search" in r.path]  # not one issue was asked for
    with duckdb.connect(str(paths().landing_file("jira")), read_only=True) as con:
        landed = {t: con.execute(f"select count(*) from raw.{t}").fetchone()[0]
                  for t in ("incidents", "postmortems", "actions", "quarantine")}
    assert landed == {"incidents": 0, "postmortems": 0, "actions": 0, "quarantine": 0}


def test_a_field_that_does_not_resolve_fails_the_extract_task_without_retries(
        sandbox, connections, shinrai_home: Path, monkeypatch: pytest.MonkeyPatch):
    """The nightly's extract task (``shinrai.orchestration.extract``) used to let Airflow retry a
    misspelled field twice, 120 s apart (the configuration is the same at every retry): it fails at
    once, with the line naming the key."""
    from airflow.sdk.exceptions import AirflowFailException

    from shinrai.orchestration.extract import extract

    tree = yaml.safe_load((PROJECT_ROOT / "config" / "shinrai.yaml").read_text(encoding="utf-8"))
    tree["jira"]["fields"]["severity"] = "Incident Levl"
    shinrai_home.mkdir(parents=True)
    path = shinrai_home / "shinrai.yaml"
    path.write_text(yaml.safe_dump(tree, allow_unicode=True), encoding="utf-8")
    monkeypatch.setenv("SHINRAI_CONFIG", str(path))

    with pytest.raises(AirflowFailException) as err:  # the exception Airflow fails a task with, no retry
        extract("jira", "run-1", {"full_refresh": False})
    assert str(err.value).startswith("config jira.fields.severity: no Jira field is named 'Incident Levl'")
