"""Fault knobs: 429 storms, published limits, Slack's non-Marketplace limits, 5xx bursts, latency."""

from __future__ import annotations

import time

import pytest
import requests
from jira.exceptions import JIRAError
from notion_client.errors import APIResponseError
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_handlers import RateLimitErrorRetryHandler

from shinrai.sandbox import Faults, Sandbox
from shinrai.sandbox.faults import FaultInjector

from ._support import jira_client, jira_get, notion_client, slack_client

INCIDENTS = "project = INC AND issuetype = Incident"


def _statuses(sb: Sandbox, server: str) -> list[int]:
    return [r.status for r in sb.requests if r.server == server]


def test_jira_client_honours_429(faulty: Sandbox) -> None:
    client = jira_client(faulty)
    faulty.set_faults(rate_429=0.5, retry_after_s=1, servers=("jira",))
    issues = client.enhanced_search_issues(INCIDENTS, maxResults=20, fields=["summary"])
    count = client.approximate_issue_count(INCIDENTS)
    assert len(issues) == 20 and count == 400
    statuses = _statuses(faulty, "jira")
    assert statuses.count(429) >= 1 and statuses[-1] == 200
    r = jira_get(faulty, "/rest/api/3/field")
    if r.status_code == 429:
        assert r.headers["Retry-After"] == "1" and r.json()["errorMessages"]


def test_notion_client_retries_429(faulty: Sandbox, manifest: dict) -> None:
    client = notion_client(faulty)
    faulty.set_faults(rate_429=0.5, servers=("notion",))
    for _ in range(2):
        res = client.data_sources.query(data_source_id=manifest["notion"]["risk_records_data_source_id"],
                                        page_size=5)
        assert len(res["results"]) == 5
    assert 429 in _statuses(faulty, "notion")


def test_slack_retry_handler_honours_429(faulty: Sandbox) -> None:
    client = slack_client(faulty, retry_handlers=[RateLimitErrorRetryHandler(max_retry_count=2)])
    faulty.set_faults(rate_429=0.5, servers=("slack",))
    assert client.auth_test()["ok"] and client.auth_test()["ok"]
    assert 429 in _statuses(faulty, "slack")
    bare = slack_client(faulty)
    errors = 0
    for _ in range(2):
        try:
            bare.auth_test()
        except SlackApiError as e:
            errors += 1
            assert e.response.status_code == 429 and e.response["error"] == "ratelimited"
            assert int(e.response.headers["Retry-After"]) >= 1
    assert errors == 1


def test_slack_non_marketplace_limits(faulty: Sandbox) -> None:
    ch = next(c for c in faulty.org.channels if c.kind == "incident" and c.n_top > 15)
    client = slack_client(faulty)
    faulty.set_faults(rate_limit="slack_non_marketplace")
    first = client.conversations_history(channel=ch.id, limit=100)
    assert len(first["messages"]) == 15 and first["has_more"] is True
    with pytest.raises(SlackApiError) as err:
        client.conversations_history(channel=ch.id, cursor=first["response_metadata"]["next_cursor"])
    assert err.value.response.status_code == 429
    assert 50 <= int(err.value.response.headers["Retry-After"]) <= 60
    parent = next(m for m in first["messages"] if m.get("reply_count")) if any(
        m.get("reply_count") for m in first["messages"]) else None
    replies_ts = parent["ts"] if parent else first["messages"][0]["ts"]
    assert client.conversations_replies(channel=ch.id, ts=replies_ts)["ok"]  # its own per-method window
    with pytest.raises(SlackApiError):
        client.conversations_replies(channel=ch.id, ts=replies_ts)
    assert client.users_list(limit=5)["ok"]


def test_published_limits_throttle_bursts() -> None:
    now = [0.0]
    inj = FaultInjector(Faults(rate_limit="published"), clock=lambda: now[0])
    jira = [inj.decide("jira", "search") for _ in range(12)]
    assert jira[:10] == [None] * 10 and jira[10] is not None and jira[10].status == 429
    assert inj.decide("jira", "issue") is None  # separate endpoint family
    notion = [inj.decide("notion", "*") for _ in range(8)]
    assert notion.count(None) == 6
    slack = [inj.decide("slack", "conversations.list") for _ in range(21)]
    assert slack.count(None) == 20 and slack[-1].retry_after == 3
    now[0] += 3.0
    assert inj.decide("slack", "conversations.list") is None
    assert inj.decide("jira", "search") is None


def test_burst_5xx_per_server(faulty: Sandbox, manifest: dict) -> None:
    faulty.set_faults(burst_5xx=2, servers=("notion", "slack"))
    r = requests.get(f"{faulty.notion_url}/v1/users", headers={
        "Authorization": f"Bearer {faulty.credentials['notion']['token']}", "Notion-Version": "2025-09-03"},
        timeout=10)
    assert r.status_code == 503 and r.json()["code"] == "service_unavailable"
    client = notion_client(faulty)
    with pytest.raises(APIResponseError) as err:  # POST queries are not retried by notion-client
        client.data_sources.query(data_source_id=manifest["notion"]["risk_records_data_source_id"])
    assert err.value.status == 503
    assert client.data_sources.query(data_source_id=manifest["notion"]["risk_records_data_source_id"])["results"]
    with pytest.raises(SlackApiError):
        slack_client(faulty).auth_test()
    assert jira_get(faulty, "/rest/api/3/serverInfo").status_code == 200  # jira is not in scope


def test_jira_503_with_retry_after_is_retried(faulty: Sandbox) -> None:
    client = jira_client(faulty)
    faulty.set_faults(burst_5xx=1, retry_after_5xx=1, servers=("jira",))
    assert client.approximate_issue_count(INCIDENTS) == 400
    assert _statuses(faulty, "jira")[-2:] == [503, 200]
    faulty.set_faults(burst_5xx=5, retry_after_5xx=0)
    with pytest.raises(JIRAError) as err:  # no Retry-After: the client does not retry a 503
        client.approximate_issue_count(INCIDENTS)
    assert err.value.status_code == 503


def test_latency(faulty: Sandbox) -> None:
    faulty.set_faults(latency_ms=300, servers=("slack",))
    t = time.monotonic()
    slack_client(faulty).auth_test()
    assert time.monotonic() - t >= 0.3
    t = time.monotonic()
    jira_get(faulty, "/rest/api/3/serverInfo")
    assert time.monotonic() - t < 0.3


def test_malformed_records_appear_and_are_listed(faulty: Sandbox) -> None:
    assert not [d for d in faulty.manifest()["defects"] if d["kind"] == "malformed_record"]
    faulty.set_faults(malformed=True)
    malformed = [d for d in faulty.manifest()["defects"] if d["kind"] == "malformed_record"]
    assert {d["source"] for d in malformed} == {"jira", "notion", "slack"}
    jira_keys = [d["key"] for d in malformed if d["source"] == "jira"]
    body = jira_get(faulty, "/rest/api/3/search/jql", jql=f"key in ({', '.join(jira_keys)}) ORDER BY key",
                    fields="summary,customfield_10042").json()
    fields = {i["key"]: i["fields"] for i in body["issues"]}
    assert any(f.get("customfield_10042") == "2024-13-45T99:00" for f in fields.values())
    assert any("summary" not in f for f in fields.values())
    notion_key = next(d["key"] for d in malformed if d["source"] == "notion")
    page = notion_client(faulty).pages.retrieve(notion_key)
    assert page["properties"]["Recognized At"]["date"]["start"] == "2024-02-30T25:61:00+09:00"
    channel = next(d["key"] for d in malformed if d["source"] == "slack")
    messages = slack_client(faulty).conversations_history(channel=channel, limit=999)["messages"]
    assert sum(1 for m in messages if "ts" not in m) == 1


def test_faults_over_http(faulty: Sandbox) -> None:
    r = requests.post(f"{faulty.slack_url.removesuffix('/api/')}/_sandbox/faults", json={"latency_ms": 5},
                      timeout=10)
    assert r.status_code == 200 and r.json()["latency_ms"] == 5 and faulty.faults.latency_ms == 5
    r = requests.post(f"{faulty.jira_url}/_sandbox/faults", json={"rate_limit": "bogus"}, timeout=10)
    assert r.status_code == 400
    r = requests.post(f"{faulty.jira_url}/_sandbox/faults", json={"nope": 1}, timeout=10)
    assert r.status_code == 400
    assert not [x for x in faulty.requests if x.path.startswith("/_sandbox")]


def _planted(sb: Sandbox, kind: str) -> dict[str, dict]:
    return {d["source"]: d for d in sb.manifest()["defects"] if d["kind"] == kind}


def test_lone_surrogate_is_served_as_a_json_escape_by_every_server(faulty: Sandbox) -> None:
    faulty.set_faults(lone_surrogate=True)
    planted = _planted(faulty, "invalid_unicode_record")
    assert set(planted) == {"jira", "notion", "slack"}
    r = jira_get(faulty, f"/rest/api/3/issue/{planted['jira']['key']}", fields="summary")
    assert r.status_code == 200 and b"\\ud800" in r.content  # legal JSON: the escape, not raw bytes
    assert "\ud800" in r.json()["fields"]["summary"]
    page = notion_client(faulty).pages.retrieve(page_id=planted["notion"]["key"])
    title = "".join(t["plain_text"] for t in page["properties"]["Name"]["title"])
    assert "\ud800" in title
    channel, ts = planted["slack"]["key"].split(":")
    history = slack_client(faulty).conversations_history(channel=channel, latest=ts, inclusive=True, limit=1)
    assert "\ud800" in history["messages"][0]["text"]
    faulty.set_faults(lone_surrogate=False)
    assert b"\\ud800" not in jira_get(faulty, f"/rest/api/3/issue/{planted['jira']['key']}").content


def test_duplicate_id_serves_two_incidents_under_one_id(faulty: Sandbox) -> None:
    faulty.set_faults(duplicate_id=True)
    planted = _planted(faulty, "duplicate_id_record")["jira"]
    found = jira_client(faulty).enhanced_search_issues(
        f"{INCIDENTS} ORDER BY key ASC", maxResults=5000, fields=["summary"], json_result=True)["issues"]
    by_id: dict[str, set[str]] = {}
    for issue in found:
        by_id.setdefault(issue["id"], set()).add(issue["key"])
    [(shared_id, keys)] = [(i, k) for i, k in by_id.items() if len(k) > 1]
    assert planted["key"] in keys and shared_id in planted["detail"]
    assert jira_get(faulty, f"/rest/api/3/issue/{planted['key']}").json()["id"] == shared_id


def test_html_answer_serves_a_login_page_with_status_200(faulty: Sandbox) -> None:
    faulty.set_faults(html_answer=True, servers=("jira", "notion"))
    r = jira_get(faulty, "/rest/api/3/field")
    assert r.status_code == 200 and r.headers["Content-Type"].startswith("text/html")
    assert r.text.startswith("<!DOCTYPE html>")
    r = requests.get(f"{faulty.notion_url}/v1/users", timeout=30, headers={
        "Authorization": f"Bearer {faulty.credentials['notion']['token']}", "Notion-Version": "2025-09-03"})
    assert r.status_code == 200 and r.headers["Content-Type"].startswith("text/html")
    assert slack_client(faulty).auth_test()["ok"]  # slack is not in scope
