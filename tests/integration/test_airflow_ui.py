"""What a user sees in the Airflow UI: shinrai's connection types with their forms, testable
against the sandbox, and the DAGs' schedules in the configured time zone.

Airflow's own ProvidersManager and the UI's form metadata (``HookMetaService``, what the API
gives the connection form) run in a child process with a fresh AIRFLOW_HOME, as the API server
would; ``Connection.test_connection`` is what the UI's Test button and ``airflow connections
test`` call. One child answers everything (Airflow takes seconds to import).
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator

import pytest

from shinrai.airflow_env import airflow_env, sandbox_connections
from shinrai.sandbox import Sandbox

_CHILD = r"""
import json, sys
from airflow.api_fastapi.core_api.services.ui.connections import HookMetaService
from airflow.models.connection import Connection
from airflow.providers_manager import ProvidersManager

hooks = ProvidersManager().hooks
out = {"hooks": {}, "forms": {}, "tests": {}}
for conn_type in ("jira", "notion", "slack"):
    info = hooks.get(conn_type)
    out["hooks"][conn_type] = info and {"class": info.hook_class_name, "package": info.package_name}
for meta in HookMetaService.hook_meta_data():
    if meta.connection_type in ("jira", "notion", "slack"):
        out["forms"][meta.connection_type] = json.loads(meta.model_dump_json())
for conn_id in sys.argv[1:]:
    out["tests"][conn_id] = list(Connection.get_connection_from_secrets(conn_id).test_connection())
print("SHINRAI_UI " + json.dumps(out), flush=True)
"""


@pytest.fixture(scope="module")
def sandbox() -> Iterator[Sandbox]:
    with Sandbox(seed=7, scale=0.02) as sb:
        yield sb


@pytest.fixture(scope="module")
def ui(sandbox: Sandbox, tmp_path_factory: pytest.TempPathFactory) -> dict:
    conns = sandbox_connections(sandbox.jira_url, sandbox.notion_url, sandbox.slack_url, sandbox.credentials)
    jira, notion = json.loads(conns["AIRFLOW_CONN_SHINRAI_JIRA"]), json.loads(conns["AIRFLOW_CONN_SHINRAI_NOTION"])
    wrong = {
        "AIRFLOW_CONN_WRONG_JIRA": json.dumps({**jira, "password": "not-the-token-1234"}),
        "AIRFLOW_CONN_WRONG_NOTION": json.dumps({**notion, "password": "not-the-token-1234"}),
        # the form's optional Timeout left empty
        "AIRFLOW_CONN_BLANK_TIMEOUT_JIRA": json.dumps({**jira, "extra": {"timeout": None}}),
        "AIRFLOW_CONN_BLANK_TIMEOUT_NOTION": json.dumps({**notion, "extra": {"timeout": None}}),
    }
    env = airflow_env(extra={"SHINRAI_HOME": str(tmp_path_factory.mktemp("home")), **conns, **wrong})
    conn_ids = ["shinrai_jira", "shinrai_notion", "shinrai_slack", "wrong_jira", "wrong_notion",
                "blank_timeout_jira", "blank_timeout_notion"]
    proc = subprocess.run([sys.executable, "-c", _CHILD, *conn_ids], env=env, capture_output=True, text=True,
                          timeout=300, check=False)
    marked = [line for line in proc.stdout.splitlines() if line.startswith("SHINRAI_UI ")]
    assert proc.returncode == 0 and marked, proc.stderr[-3000:]
    return json.loads(marked[-1].split(" ", 1)[1])


def test_connection_types_registered_with_shinrai_hooks(ui):
    assert ui["hooks"]["jira"] == {"class": "shinrai.hooks.jira.JiraHook", "package": "shinrai"}
    assert ui["hooks"]["notion"] == {"class": "shinrai.hooks.notion.NotionHook", "package": "shinrai"}
    # Slack keeps the Slack provider's type (its SlackNotifier sends the alerts); our hook reads its fields
    assert ui["hooks"]["slack"]["class"] == "airflow.providers.slack.hooks.slack.SlackHook"


def test_connection_forms_ask_for_what_the_hooks_read(ui):
    jira, notion, slack = ui["forms"]["jira"], ui["forms"]["notion"], ui["forms"]["slack"]
    fields = jira["standard_fields"]
    assert (fields["host"]["title"], fields["login"]["title"], fields["password"]["title"]) == (
        "Site URL", "E-mail", "API token")
    assert fields["port"]["hidden"] and fields["url_schema"]["hidden"]
    assert set(jira["extra_fields"]) == {"timeout"}
    assert notion["standard_fields"]["password"]["title"] == "Integration token"
    assert notion["standard_fields"]["login"]["hidden"]
    assert set(notion["extra_fields"]) == {"timeout"}
    assert {"base_url", "timeout"} <= set(slack["extra_fields"])  # what shinrai's SlackHook reads
    assert jira["hook_name"] == "Jira Cloud (shinrai)" and notion["hook_name"] == "Notion (shinrai)"


def test_test_connection_succeeds_against_the_sandbox(ui):
    for conn_id in ("shinrai_jira", "shinrai_notion", "shinrai_slack", "blank_timeout_jira", "blank_timeout_notion"):
        ok, message = ui["tests"][conn_id]
        assert ok, f"{conn_id}: {message}"
    assert "accepts the token of" in ui["tests"]["shinrai_jira"][1]


def test_test_connection_fails_clearly_with_a_wrong_token(ui):
    for conn_id, source, hint in (("wrong_jira", "Jira", "API token"), ("wrong_notion", "Notion", "integration token")):
        ok, message = ui["tests"][conn_id]
        assert not ok
        assert message.startswith(f"{source} is unavailable: HTTP 401"), message
        assert hint in message and "\n" not in message and "not-the-token" not in message
        assert "after 1 attempt(s)" in message  # no back-off while a person waits on the Test button


@pytest.fixture(scope="module")
def airflow_settings(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """This process as an Airflow component (the DAG processor) would be configured."""
    import os

    saved = dict(os.environ)
    os.environ.update(airflow_env(extra={"SHINRAI_HOME": str(tmp_path_factory.mktemp("home"))}))
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


@pytest.mark.parametrize("zone", ["Asia/Tokyo", "Europe/Paris"])
def test_schedules_follow_and_name_the_configured_zone(zone, airflow_settings, tmp_path, monkeypatch):
    """The DAG processor stores each timetable in the zone of ``reporting.timezone`` (a config copy
    here), and the summary and description the UI shows next to the schedule name that zone."""
    import re

    from airflow.dag_processing.dagbag import DagBag
    from airflow.serialization.serialized_objects import LazyDeserializedDAG

    from shinrai.settings import PROJECT_ROOT

    config = tmp_path / "shinrai.yaml"
    text = (PROJECT_ROOT / "config" / "shinrai.yaml").read_text()
    config.write_text(re.sub(r"(?m)^(  timezone: )\S+", rf"\g<1>{zone}", text, count=1))
    monkeypatch.setenv("SHINRAI_CONFIG", str(config))
    bag = DagBag(dag_folder=str(PROJECT_ROOT / "dags"))
    assert bag.import_errors == {}
    for dag_id, cron, at in (("shinrai_nightly", "0 2 * * *", "At 02:00"),
                             ("shinrai_chaser", "0 10 * * 1-5", "At 10:00")):
        stored = LazyDeserializedDAG.from_dag(bag.dags[dag_id]).timetable  # what the scheduler and UI read
        assert stored.summary == f"{cron} {zone}"  # the UI's schedule column
        assert stored.description.startswith(at) and stored.description.endswith(zone)  # its tooltip
        assert stored.serialize()["timezone"] == zone  # and the runs really are in that zone
