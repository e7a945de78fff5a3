"""What `shinrai run` checks of the connections before it starts Airflow (no network, no Airflow)."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

from shinrai.orchestration.once import connection_problems

IDS = {"jira.conn_id": "shinrai_jira", "notion.conn_id": "shinrai_notion", "slack.conn_id": "shinrai_slack"}
JIRA = json.dumps({"conn_type": "jira", "host": "https://x.atlassian.net", "login": "a@b.c", "password": "tok-123"})
NOTION = json.dumps({"conn_type": "notion", "password": "ntn_secret"})


def _slack(**extra: str) -> str:
    return json.dumps({"conn_type": "slack", "password": "xoxb-secret", **({"extra": extra} if extra else {})})


def test_every_missing_connection_is_one_line_naming_its_key_and_variable(tmp_path: Path):
    problems = connection_problems(IDS, {"AIRFLOW_CONN_SHINRAI_JIRA": JIRA}, tmp_path / "absent.db")
    assert [p.split(" is missing")[0] for p in problems] == ["connection shinrai_notion (notion.conn_id)",
                                                              "connection shinrai_slack (slack.conn_id)"]
    assert "AIRFLOW_CONN_SHINRAI_NOTION" in problems[0] and "AIRFLOW_CONN_SHINRAI_SLACK" in problems[1]


def test_connections_stored_in_the_metadata_database_count(tmp_path: Path):
    db = tmp_path / "airflow.db"
    with sqlite3.connect(db) as con:
        con.execute("create table connection (conn_id text)")
        con.executemany("insert into connection values (?)", [("shinrai_notion",), ("shinrai_slack",)])
    assert connection_problems(IDS, {"AIRFLOW_CONN_SHINRAI_JIRA": JIRA}, db) == []


def test_broken_json_and_a_slack_base_url_without_its_slash_are_named_never_the_token(tmp_path: Path):
    env = {"AIRFLOW_CONN_SHINRAI_JIRA": JIRA[:-1], "AIRFLOW_CONN_SHINRAI_NOTION": NOTION,
           "AIRFLOW_CONN_SHINRAI_SLACK": _slack(base_url="https://slack-gov.com/api")}
    jira, slack = connection_problems(IDS, env, tmp_path / "absent.db")
    assert jira.startswith("connection shinrai_jira (jira.conn_id): AIRFLOW_CONN_SHINRAI_JIRA is not valid JSON")
    assert slack.startswith("connection shinrai_slack (slack.conn_id): AIRFLOW_CONN_SHINRAI_SLACK extra.base_url "
                            "'https://slack-gov.com/api' must end with '/'")
    assert not any(secret in jira + slack for secret in ("tok-123", "xoxb-secret"))
    env["AIRFLOW_CONN_SHINRAI_JIRA"] = JIRA
    env["AIRFLOW_CONN_SHINRAI_SLACK"] = _slack(base_url="https://slack-gov.com/api/")
    assert connection_problems(IDS, env, tmp_path / "absent.db") == []
