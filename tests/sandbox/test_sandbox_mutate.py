"""``mutate``: edits and deletions show up in every source; Jira search lags behind GET issue."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import datetime

import pytest
import requests
from notion_client import helpers

from shinrai.sandbox import Sandbox

from ._support import jira_get, notion_client, slack_client

STREAMS = ("jira.incidents", "jira.postmortems", "jira.actions", "jira.versions", "notion.risk_records",
           "notion.release_calendar", "slack.messages")


@pytest.fixture(scope="module")
def sb() -> Iterator[Sandbox]:
    sandbox = Sandbox(seed=11, scale=0.3).start()
    yield sandbox
    sandbox.stop()


@pytest.fixture(scope="module")
def mutated(sb: Sandbox) -> tuple[dict, dict, float]:
    before = sb.manifest()
    started = time.time()
    result = sb.mutate(fraction=0.05, delete_fraction=0.02, seed=3)
    return before, result, started


def test_every_stream_changes_and_loses_records(sb: Sandbox, mutated: tuple[dict, dict, float]) -> None:
    before, result, _ = mutated
    after = sb.manifest()
    for stream in STREAMS:
        assert result["changed"][stream], stream
        assert result["deleted"][stream], stream
        assert after["counts"][stream] == before["counts"][stream] - len(result["deleted"][stream])


def test_jira_deleted_issue_vanishes(sb: Sandbox, mutated: tuple[dict, dict, float]) -> None:
    _, result, _ = mutated
    gone = result["deleted"]["jira.incidents"][0]
    r = jira_get(sb, f"/rest/api/3/issue/{gone}")
    assert r.status_code == 404
    assert r.json()["errorMessages"] == ["Issue does not exist or you do not have permission to see it."]
    keys: list[str] = []
    token = None
    while True:
        params: dict = {"jql": "project = INC", "maxResults": 5000, "fields": "id"}
        if token:
            params["nextPageToken"] = token
        body = jira_get(sb, "/rest/api/3/search/jql", **params).json()
        keys += [i["key"] for i in body["issues"]]
        token = body.get("nextPageToken")
        if not token:
            break
    assert gone not in keys and set(result["deleted"]["jira.postmortems"]).isdisjoint(keys)


def test_jira_changed_issue_is_newly_updated(sb: Sandbox, mutated: tuple[dict, dict, float]) -> None:
    _, result, started = mutated
    ms = int(started * 1000) - 1000
    body = jira_get(sb, "/rest/api/3/search/jql", jql=f"project = INC AND updated >= {ms} ORDER BY key",
                    fields="updated", maxResults=100).json()
    found = {i["key"] for i in body["issues"]}
    assert set(result["changed"]["jira.incidents"]) <= found
    key = result["changed"]["jira.incidents"][0]
    issue = jira_get(sb, f"/rest/api/3/issue/{key}").json()
    assert datetime.fromisoformat(issue["fields"]["updated"]).timestamp() >= started - 1
    log = jira_get(sb, f"/rest/api/3/issue/{key}/changelog").json()
    newest = log["values"][-1]
    assert datetime.fromisoformat(newest["created"]).timestamp() >= started - 1


def test_notion_trashed_page_only_with_in_trash(sb: Sandbox, mutated: tuple[dict, dict, float]) -> None:
    _, result, started = mutated
    ds = sb.manifest()["notion"]["risk_records_data_source_id"]
    client = notion_client(sb)
    live = {p["id"] for p in helpers.iterate_paginated_api(client.data_sources.query, data_source_id=ds)}
    trashed = {p["id"] for p in helpers.iterate_paginated_api(client.data_sources.query, data_source_id=ds,
                                                                 in_trash=True)}
    gone = set(result["deleted"]["notion.risk_records"])
    assert gone == trashed and gone.isdisjoint(live)
    page = client.pages.retrieve(next(iter(gone)))
    assert page["in_trash"] is True and page["archived"] is True
    changed = client.pages.retrieve(result["changed"]["notion.risk_records"][0])
    edited = datetime.fromisoformat(changed["last_edited_time"].replace("Z", "+00:00")).timestamp()
    assert edited >= started - 60 and changed["last_edited_time"].endswith(":00.000Z")


def test_slack_deleted_message_missing_and_edit_visible(sb: Sandbox, mutated: tuple[dict, dict, float]) -> None:
    _, result, started = mutated
    client = slack_client(sb)
    channel, ts = result["deleted"]["slack.messages"][0].split(":")
    messages = [m for page in client.conversations_history(channel=channel, limit=200) for m in page["messages"]]
    assert ts not in {m.get("ts") for m in messages}
    channel, ts = result["changed"]["slack.messages"][0].split(":")
    hit = client.conversations_history(channel=channel, oldest=ts, latest=ts, inclusive=True)["messages"]
    assert len(hit) == 1 and hit[0]["ts"] == ts and float(hit[0]["edited"]["ts"]) >= started - 1


def test_search_lag_hides_new_version_from_search_only(sb: Sandbox, mutated: tuple[dict, dict, float]) -> None:
    sb.set_faults(search_lag_s=30)
    try:
        before = {i.key: i.updated for i in sb.org.issues if i.kind == "incident" and not i.deleted}
        result = sb.mutate(fraction=0.02, seed=9)
        key = result["changed"]["jira.incidents"][0]
        searched = jira_get(sb, "/rest/api/3/search/jql", jql=f"key = {key}", fields="updated,summary,status")
        got = jira_get(sb, f"/rest/api/3/issue/{key}", fields="updated")
        old = datetime.fromisoformat(searched.json()["issues"][0]["fields"]["updated"]).timestamp()
        new = datetime.fromisoformat(got.json()["fields"]["updated"]).timestamp()
        assert abs(old - before[key]) < 0.01 and new > old
        ms = int(new * 1000) - 1
        lagging = jira_get(sb, "/rest/api/3/search/jql", jql=f"project = INC AND updated >= {ms}").json()
        assert key not in {i["key"] for i in lagging["issues"]}
        reconciled = requests.post(
            f"{sb.jira_url}/rest/api/3/search/jql",
            json={"jql": f"key = {key}", "fields": ["updated"], "reconcileIssues": [int(got.json()["id"])]},
            auth=(sb.credentials["jira"]["email"], sb.credentials["jira"]["token"]), timeout=10).json()
        assert reconciled["issues"][0]["fields"]["updated"] == got.json()["fields"]["updated"]
    finally:
        sb.set_faults(search_lag_s=0)
    caught_up = jira_get(sb, "/rest/api/3/search/jql", jql=f"key = {key}", fields="updated").json()
    assert caught_up["issues"][0]["fields"]["updated"] == got.json()["fields"]["updated"]


def test_mutate_over_http(sb: Sandbox) -> None:
    r = requests.post(f"{sb.notion_url}/_sandbox/mutate", json={"fraction": 0.01, "seed": 4}, timeout=30)
    assert r.status_code == 200 and r.json()["changed"]["notion.risk_records"]
    assert requests.post(f"{sb.notion_url}/_sandbox/mutate", json={"fraction": 2}, timeout=30).status_code == 400


def test_a_batch_can_carry_its_own_search_lag(sb: Sandbox) -> None:
    """Search indexes out of order: an older change stays hidden while a newer one is visible."""
    hidden = sb.mutate(fraction=0.02, seed=21, search_lag_s=30)["changed"]["jira.incidents"][0]
    visible = sb.mutate(fraction=0.02, seed=22)["changed"]["jira.incidents"]
    visible = next(k for k in visible if k != hidden)
    got = {k: jira_get(sb, f"/rest/api/3/issue/{k}", fields="updated").json()["fields"]["updated"]
           for k in (hidden, visible)}
    searched = {k: jira_get(sb, "/rest/api/3/search/jql", jql=f"key = {k}", fields="updated").json()
                ["issues"][0]["fields"]["updated"] for k in (hidden, visible)}
    assert searched[visible] == got[visible]
    assert searched[hidden] != got[hidden]
