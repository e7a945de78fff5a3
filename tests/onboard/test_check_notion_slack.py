"""``shinrai check`` as the user runs it (a separate process, connections in the environment) for the
Notion and Slack mistakes of issue 16: each exits non-zero with one error line naming the key. The
probes' finer behaviour is tested in test_probes_notion_slack.py."""

from __future__ import annotations

import json
import re

from shinrai.sandbox import Sandbox
from shinrai.sandbox.slack_server import DEFAULT_SCOPES


def _errors(out: str) -> list[str]:
    return [line for line in out.splitlines() if line.startswith("error ")]


def test_all_three_sources_pass_on_a_correct_configuration(check) -> None:
    result = check()
    assert result.returncode == 0, result.stdout + result.stderr
    assert not _errors(result.stdout)
    assert "probe not available" not in result.stdout  # every source is probed, none skipped


def test_a_notion_database_not_shared_with_the_integration(check, site: Sandbox) -> None:
    risk_db = site.manifest()["notion"]["risk_records_database_id"]
    conn = json.dumps({"conn_type": "notion", "host": site.notion_url,
                       "password": site.notion_token(unshared=[risk_db])})
    result = check("--source", "notion", env={"AIRFLOW_CONN_SHINRAI_NOTION": conn})
    assert result.returncode == 1, result.stdout + result.stderr
    [line] = _errors(result.stdout)
    assert line.startswith("error   notion.risk_records.database_id: ") and "not shared" in line


def test_a_notion_property_missing(check, shipped_config, write_config) -> None:
    shipped_config["notion"]["risk_records"]["properties"]["status"] = "Staus"
    result = check("--source", "notion", env={"SHINRAI_CONFIG": write_config(shipped_config)})
    assert result.returncode == 1, result.stdout + result.stderr
    [line] = _errors(result.stdout)
    assert re.match(r"^error\s+notion\.risk_records\.properties\.status: ", line), line
    assert "did you mean 'Status'" in line


def test_a_slack_token_without_channels_history(check, site: Sandbox) -> None:
    token = site.slack_token([s for s in DEFAULT_SCOPES if s != "channels:history"])
    conn = json.dumps({"conn_type": "slack", "password": token, "extra": {"base_url": site.slack_url}})
    result = check("--source", "slack", env={"AIRFLOW_CONN_SHINRAI_SLACK": conn})
    assert result.returncode == 1, result.stdout + result.stderr
    [line] = _errors(result.stdout)
    assert line.startswith("error   connection shinrai_slack: ") and "channels:history" in line
