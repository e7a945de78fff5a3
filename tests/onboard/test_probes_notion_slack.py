"""The Notion and Slack probes of ``shinrai check`` against one served sandbox, through the real hooks
(Airflow connections from the environment, as ``shinrai demo`` writes them) and the real clients."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from shinrai import config as config_mod
from shinrai.airflow_env import sandbox_connections
from shinrai.hooks.notion import NotionHook
from shinrai.hooks.slack import SlackHook
from shinrai.onboard import notion as notion_probe
from shinrai.onboard import slack as slack_probe
from shinrai.onboard.findings import Finding, SourceReport
from shinrai.sandbox import Sandbox
from shinrai.sandbox.slack_server import DEFAULT_SCOPES
from shinrai.settings import PROJECT_ROOT


@dataclass
class Site:
    sandbox: Sandbox
    manifest: dict
    tmp: Path


@pytest.fixture(scope="module")
def site(site: Sandbox, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    sb = site  # the session's one served sandbox (tests/onboard/conftest.py)
    risk_db = sb.manifest()["notion"]["risk_records_database_id"]
    tmp = tmp_path_factory.mktemp("probes")
    env = {
        **sandbox_connections(sb.jira_url, sb.notion_url, sb.slack_url, sb.credentials),
        "AIRFLOW_CONN_CHECKNS_NOTION_UNSHARED": _conn("notion", sb.notion_url, sb.notion_token(unshared=[risk_db])),
        "AIRFLOW_CONN_CHECKNS_NOTION_WRONG": _conn("notion", sb.notion_url, "not-the-token"),
        "AIRFLOW_CONN_CHECKNS_SLACK_NO_HISTORY": _conn(
            "slack", sb.slack_url, sb.slack_token([s for s in DEFAULT_SCOPES if s != "channels:history"])),
        "AIRFLOW_CONN_CHECKNS_SLACK_WRONG": _conn("slack", sb.slack_url, "not-the-token"),
        "SHINRAI_HOME": str(tmp / "home"),
    }
    with pytest.MonkeyPatch.context() as mp:
        for key, value in env.items():
            mp.setenv(key, value)
        mp.delenv("SHINRAI_CONFIG", raising=False)
        yield Site(sb, sb.manifest(), tmp)


def _conn(kind: str, url: str, token: str) -> str:
    import json

    if kind == "slack":
        return json.dumps({"conn_type": "slack", "password": token, "extra": {"base_url": url}})
    return json.dumps({"conn_type": "notion", "host": url, "password": token})


def _config(site: Site, name: str = "", **changes: object) -> config_mod.Config:
    """The shipped configuration, with ``changes`` (dotted key -> value) in a copy."""
    if not changes:
        return config_mod.load(PROJECT_ROOT / "config" / "shinrai.yaml")
    tree = yaml.safe_load((PROJECT_ROOT / "config" / "shinrai.yaml").read_text(encoding="utf-8"))
    for dotted, value in changes.items():
        *path, last = dotted.split(".")
        node = tree
        for part in path:
            node = node[int(part)] if part.isdigit() else node[part]
        node[last] = value
    path = site.tmp / f"{name or 'changed'}.yaml"
    path.write_text(yaml.safe_dump(tree, allow_unicode=True), encoding="utf-8")
    return config_mod.load(path)


def _errors(report: SourceReport) -> list[Finding]:
    return [f for f in report.findings if f.level == "error"]


def _count(report: SourceReport, stream: str) -> int | None:
    return next(c.records for c in report.counts if c.stream == stream)


def test_a_correct_configuration_gives_no_error_and_the_sandbox_counts(site: Site) -> None:
    config = _config(site)
    notion = notion_probe.probe(config, NotionHook())
    assert _errors(notion) == [], [f.line() for f in notion.findings]
    counts = site.manifest["counts"]
    assert _count(notion, "risk_records") == counts["notion.risk_records"] > 0
    assert _count(notion, "release_calendar") == counts["notion.release_calendar"] > 0
    assert _count(notion, "users") == counts["notion.users"]
    # a first load: database, schema, query pages (100 a page), trash sweep, at least
    risk = next(c for c in notion.counts if c.stream == "risk_records")
    assert risk.requests >= 3 + -(-counts["notion.risk_records"] // 100) and risk.seconds_paced >= 0
    assert notion.samples["notion.risk_records.properties.status"] in ("Open", "Investigating", "Mitigating",
                                                                       "Monitoring", "Closed")
    assert notion.samples["notion.release_calendar.properties.release_type"] in ("Regular", "Hotfix")
    assert any(f.key == "notion.risk_records.closed_statuses" and "'Closed'" in f.problem for f in notion.findings)

    slack = slack_probe.probe(config, SlackHook())
    assert _errors(slack) == [], [f.line() for f in slack.findings]
    assert _count(slack, "users") == counts["slack.users"]
    assert _count(slack, "channels") == len(site.sandbox.org.channels)
    to_read = counts["slack.incident_channels"]  # and the release channel, counted apart
    estimate = next(f for f in slack.findings if f.key == "slack.incident_channel_pattern" and f.level == "info")
    assert f"in {to_read} incident channel(s) and the release channel" in estimate.problem
    held = sum(c.n_top - c.unposted_top + c.n_reply - c.unposted_replies
               for c in site.sandbox.org.channels if c.kind in ("incident", "release"))
    # sampled incident channels scaled, the release channel's first page apart: within a factor of 2
    # (sampled together with the incident channels, the release channel made it 9x at 1x)
    assert held / 2 <= (_count(slack, "messages") or 0) <= held * 2, (held, _count(slack, "messages"))
    assert any(f.key == "slack.rate_mode" and "standard" in f.problem for f in slack.findings)


def test_a_database_not_shared_with_the_integration(site: Site) -> None:
    report = notion_probe.probe(_config(site), NotionHook(notion_conn_id="checkns_notion_unshared"))
    [error] = _errors(report)
    assert error.key == "notion.risk_records.database_id"
    assert "not shared with the integration" in error.line() and "Connections" in error.line()
    assert error.line().startswith("error   notion.risk_records.database_id: ")
    assert _count(report, "release_calendar") == site.manifest["counts"]["notion.release_calendar"]


def test_a_misspelled_notion_property(site: Site) -> None:
    config = _config(site, "misspelled", **{"notion.risk_records.properties.status": "Staus"})
    [error] = _errors(notion_probe.probe(config, NotionHook()))
    assert error.key == "notion.risk_records.properties.status"
    assert "no property named 'Staus'" in error.line() and "did you mean 'Status'" in error.line()


def test_a_notion_property_of_a_type_that_cannot_carry_its_meaning(site: Site) -> None:
    config = _config(site, "wrong-type", **{"notion.release_calendar.properties.release_at": "Type"})
    [error] = _errors(notion_probe.probe(config, NotionHook()))
    assert error.key == "notion.release_calendar.properties.release_at"
    assert "of type select" in error.problem and "a timestamp needs" in error.problem
    assert "sample value 'Regular'" in error.problem or "sample value 'Hotfix'" in error.problem


def test_a_slack_token_without_channels_history(site: Site) -> None:
    report = slack_probe.probe(_config(site), SlackHook(slack_conn_id="checkns_slack_no_history"))
    [error] = _errors(report)
    assert error.key == "connection checkns_slack_no_history"
    assert "lacks scope channels:history" in error.line() and "release-announce" in error.line()
    assert "Bot Token Scopes" in error.fix


def test_notion_rejecting_the_token(site: Site) -> None:
    report = notion_probe.probe(_config(site), NotionHook(notion_conn_id="checkns_notion_wrong"))
    [error] = _errors(report)
    assert error.key == "connection checkns_notion_wrong"
    assert "401" in error.line() and "connection checkns_notion_wrong" in error.line()
    assert report.counts == []


def test_calendar_values_no_release_type_claims_are_counted(site: Site) -> None:
    config = _config(site, "release-types", **{"taxonomies.release_types.1.values": ["Emergency"]})
    report = notion_probe.probe(config, NotionHook())
    assert _errors(report) == []  # kept and flagged by dbt: a warning
    [warning] = [f for f in report.findings if f.key == "taxonomies.release_types"]
    hotfixes = sum(1 for r in site.sandbox.org.releases if not r.trashed and r.kind == "Hotfix")
    assert warning.level == "warning" and hotfixes > 0
    assert f"'Hotfix' ({hotfixes} pages)" in warning.problem


def test_a_misspelled_release_channel(site: Site) -> None:
    report = slack_probe.probe(_config(site, "channel", **{"slack.release_channel": "release-anounce"}), SlackHook())
    [error] = _errors(report)
    assert error.key == "slack.release_channel"
    assert "no channel named 'release-anounce'" in error.line() and "did you mean 'release-announce'" in error.line()


def test_slack_rejecting_the_token(site: Site) -> None:
    report = slack_probe.probe(_config(site), SlackHook(slack_conn_id="checkns_slack_wrong"))
    [error] = _errors(report)
    assert error.key == "connection checkns_slack_wrong" and "invalid_auth" in error.problem
    assert report.counts == []
