"""The fake Notion (API 2025-09-03) against the real ``notion-client`` (3.1.0), unmodified."""

from __future__ import annotations

import pytest
import requests
from notion_client import Client, helpers
from notion_client.errors import APIErrorCode, APIResponseError

from shinrai.sandbox import Sandbox

from ._support import notion_client


def _all(client: Client, data_source_id: str, **kw: object) -> list[dict]:
    return list(helpers.iterate_paginated_api(client.data_sources.query, data_source_id=data_source_id, **kw))


def test_database_lists_its_data_source(notion: Client, manifest: dict, config: dict) -> None:
    ids = manifest["notion"]
    assert config["notion"]["risk_records"]["database_id"] == ids["risk_records_database_id"]
    assert config["notion"]["release_calendar"]["database_id"] == ids["release_calendar_database_id"]
    db = notion.databases.retrieve(ids["risk_records_database_id"])
    assert db["object"] == "database"
    assert [d["id"] for d in db["data_sources"]] == [ids["risk_records_data_source_id"]]
    db = notion.databases.retrieve(ids["release_calendar_database_id"])
    assert [d["id"] for d in db["data_sources"]] == [ids["release_calendar_data_source_id"]]


def test_data_source_schema_has_configured_properties(notion: Client, manifest: dict, config: dict) -> None:
    for section, key in (("risk_records", "risk_records_data_source_id"),
                         ("release_calendar", "release_calendar_data_source_id")):
        ds = notion.data_sources.retrieve(manifest["notion"][key])
        assert ds["object"] == "data_source"
        assert set(config["notion"][section]["properties"].values()) <= set(ds["properties"])
    risk = notion.data_sources.retrieve(manifest["notion"]["risk_records_data_source_id"])
    assert risk["properties"]["Status"]["type"] == "status"
    assert {o["name"] for o in risk["properties"]["Status"]["status"]["options"]} == {
        "Open", "Investigating", "Mitigating", "Monitoring", "Closed"}


def test_query_pages_to_the_end(notion: Client, manifest: dict) -> None:
    risks = _all(notion, manifest["notion"]["risk_records_data_source_id"], page_size=100)
    assert len(risks) == len({r["id"] for r in risks}) == manifest["counts"]["notion.risk_records"] == 150
    calendar = _all(notion, manifest["notion"]["release_calendar_data_source_id"], page_size=100)
    assert len({r["id"] for r in calendar}) == manifest["counts"]["notion.release_calendar"]
    page = risks[0]
    assert page["object"] == "page" and page["archived"] is False and page["in_trash"] is False
    assert page["last_edited_time"].endswith(":00.000Z")  # minute-rounded
    assert page["parent"]["data_source_id"] == manifest["notion"]["risk_records_data_source_id"]
    release_at = calendar[0]["properties"]["Release At"]["date"]["start"]
    assert release_at.endswith("+09:00")


def test_last_edited_time_filter_narrows(notion: Client, manifest: dict) -> None:
    ds = manifest["notion"]["risk_records_data_source_id"]
    everything = _all(notion, ds)
    stamps = sorted(p["last_edited_time"] for p in everything)
    cut = stamps[len(stamps) // 2]
    body = {"timestamp": "last_edited_time", "last_edited_time": {"on_or_after": cut}}
    recent = _all(notion, ds, filter=body, sorts=[{"timestamp": "last_edited_time", "direction": "ascending"}])
    assert 0 < len(recent) < len(everything)
    assert len(recent) == sum(1 for s in stamps if s >= cut)
    assert [p["last_edited_time"] for p in recent] == sorted(p["last_edited_time"] for p in recent)
    after = _all(notion, ds, filter={"and": [
        {"timestamp": "last_edited_time", "last_edited_time": {"after": cut}},
        {"property": "Status", "status": {"does_not_equal": "Closed"}},
    ]})
    assert all(p["last_edited_time"] > cut and p["properties"]["Status"]["status"]["name"] != "Closed" for p in after)


def test_page_size_over_100_is_a_validation_error(notion: Client, manifest: dict) -> None:
    with pytest.raises(APIResponseError) as err:
        notion.data_sources.query(data_source_id=manifest["notion"]["risk_records_data_source_id"], page_size=101)
    assert err.value.code == APIErrorCode.ValidationError and err.value.status == 400


def test_bad_token_is_unauthorized(sandbox: Sandbox, manifest: dict) -> None:
    with pytest.raises(APIResponseError) as err:
        notion_client(sandbox, token="not-the-token").databases.retrieve(
            manifest["notion"]["risk_records_database_id"])
    assert err.value.code == APIErrorCode.Unauthorized and err.value.status == 401


def test_missing_version_header(sandbox: Sandbox) -> None:
    r = requests.get(f"{sandbox.notion_url}/v1/users",
                     headers={"Authorization": f"Bearer {sandbox.credentials['notion']['token']}"}, timeout=10)
    assert r.status_code == 400
    body = r.json()
    assert body["code"] == "missing_version" and body["object"] == "error" and body["request_id"]


def test_filter_properties_and_page_retrieve(sandbox: Sandbox, notion: Client, manifest: dict) -> None:
    ds = manifest["notion"]["risk_records_data_source_id"]
    page = notion.data_sources.query(data_source_id=ds, page_size=2, filter_properties=["title", "Zq%3Bx"])
    assert page["has_more"] is True and page["next_cursor"]
    assert set(page["results"][0]["properties"]) == {"Name", "Status"}
    full = notion.pages.retrieve(page["results"][0]["id"])
    assert "Assignee" in full["properties"]


def test_stale_risk_record_is_planted(notion: Client, manifest: dict) -> None:
    stale = next(d for d in manifest["defects"] if d["kind"] == "stale_risk_record")
    page = notion.pages.retrieve(stale["key"])
    assert page["properties"]["Status"]["status"]["name"] != "Closed"
    assert page["properties"]["Last Reviewed"]["date"]["start"] < "2026-07-01"


def test_assignee_load_is_skewed(notion: Client, manifest: dict) -> None:
    counts: dict[str, int] = {}
    for p in _all(notion, manifest["notion"]["risk_records_data_source_id"]):
        for u in p["properties"]["Assignee"]["people"]:
            counts[u["id"]] = counts.get(u["id"], 0) + 1
    top3 = sum(sorted(counts.values(), reverse=True)[:3])
    assert top3 / sum(counts.values()) > 0.5


def test_users_paginate(notion: Client, manifest: dict) -> None:
    users = list(helpers.iterate_paginated_api(notion.users.list, page_size=7))
    assert len(users) == manifest["counts"]["notion.users"]
    assert any(u["type"] == "bot" for u in users)
    assert all(u["person"]["email"].endswith("@example.com") for u in users if u["type"] == "person")


def test_legacy_database_query_fails_loudly(sandbox: Sandbox, manifest: dict) -> None:
    r = requests.post(f"{sandbox.notion_url}/v1/databases/{manifest['notion']['risk_records_database_id']}/query",
                      json={}, headers={"Authorization": f"Bearer {sandbox.credentials['notion']['token']}",
                                        "Notion-Version": "2025-09-03"}, timeout=10)
    assert r.status_code == 400 and r.json()["code"] == "invalid_request_url"


def test_invalid_cursor_and_filter(notion: Client, manifest: dict) -> None:
    ds = manifest["notion"]["risk_records_data_source_id"]
    for kw in ({"start_cursor": "11111111-2222-4333-8444-555555555555"},
               {"filter": {"timestamp": "last_edited_time", "last_edited_time": {"around": "2026-01-01"}}},
               {"filter": {"property": "Nope", "select": {"equals": "x"}}}):
        with pytest.raises(APIResponseError) as err:
            notion.data_sources.query(data_source_id=ds, **kw)
        assert err.value.code == APIErrorCode.ValidationError
