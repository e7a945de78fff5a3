"""Notion property types against the sandbox over HTTP: a type that cannot carry a logical
property's meaning fails at resolution naming the key, the property and its type; a relation
longer than the page object's 25 references (and a people list, a rollup) is read whole through
the page-property endpoint (paginated), and the related pages' titles are cached for staging."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import duckdb
import pytest
import yaml

from shinrai import config, pipeline
from shinrai.extract.notion import DataSource, NotionExtractor
from shinrai.hooks.notion import NotionHook
from shinrai.load.landing import LandingStore
from shinrai.sandbox import Sandbox
from shinrai.sandbox.notion_render import rich
from shinrai.settings import PROJECT_ROOT, paths

RELATED = 130  # more than a page object's 25 and than one endpoint page of 100
PEOPLE = 30
ROLLED_UP = 40


def _config(shinrai_home: Path, monkeypatch: pytest.MonkeyPatch, edit: Any = None) -> None:
    tree = yaml.safe_load((PROJECT_ROOT / "config" / "shinrai.yaml").read_text(encoding="utf-8"))
    if edit:
        edit(tree)
    shinrai_home.mkdir(parents=True, exist_ok=True)
    path = shinrai_home / "shinrai.yaml"
    path.write_text(yaml.safe_dump(tree, allow_unicode=True), encoding="utf-8")
    monkeypatch.setenv("SHINRAI_CONFIG", str(path))


def test_a_timestamp_mapped_to_a_people_property_fails_naming_key_property_and_type(
        sandbox: Sandbox, connections: dict[str, str], shinrai_home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _config(shinrai_home, monkeypatch,
            lambda t: t["notion"]["risk_records"]["properties"].update(recognized_at="Assignee"))
    sandbox.reset_requests()
    with pytest.raises(config.ConfigError) as err:
        pipeline.extract_notion("run-1")
    assert str(err.value) == (
        "config notion.risk_records.properties.recognized_at: property 'Assignee' is of type people; a timestamp "
        "needs one of date, created_time, last_edited_time, formula, rollup")
    assert not [r for r in sandbox.requests if r.path.endswith("/query")]  # no page was asked for
    with duckdb.connect(str(paths().landing_file("notion")), read_only=True) as con:
        tables = {r[0] for r in con.execute("select table_name from information_schema.tables").fetchall()}
        assert "risk_records" not in tables or con.execute("select count(*) from raw.risk_records").fetchone()[0] == 0


def test_a_left_out_optional_property_is_not_resolved_nor_mapped(
        sandbox: Sandbox, connections: dict[str, str], shinrai_home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _config(shinrai_home, monkeypatch, lambda t: t["notion"]["release_calendar"]["properties"].pop("status"))
    pipeline.extract_notion("run-1")
    with duckdb.connect(str(paths().landing_file("notion")), read_only=True) as con:
        mapped = con.execute("select logical_name, property_type, reader, part, pick from raw.property_map "
                             "where stream = 'release_calendar' order by 1").fetchall()
        assert con.execute("select count(*) from raw.release_calendar").fetchone()[0] > 0
    assert [m[0] for m in mapped] == ["jira_version", "product", "release_at", "release_type", "title"]
    assert ("release_at", "date", "timestamp", "start", "first") in mapped


# -- a page whose relation holds more than 25 entries ---------------------------------------------

def _linked_pages() -> tuple[dict[str, Any], dict[str, dict[str, Any]]]:
    """A risk page relating to RELATED issue pages (titled with an issue key) and naming PEOPLE owners."""
    related = {}
    for n in range(RELATED):
        pid = str(uuid.UUID(int=0xABC000 + n))
        related[pid] = {"object": "page", "id": pid, "created_time": "2026-01-01T00:00:00.000Z",
                        "last_edited_time": "2026-01-01T00:00:00.000Z", "in_trash": False, "archived": False,
                        "properties": {"Key": {"id": "title", "type": "title", "title": rich(f"INC-{n + 1}")}}}
    owners = [{"object": "user", "id": str(uuid.UUID(int=0xDEF000 + n))} for n in range(PEOPLE)]
    page_id = str(uuid.UUID(int=0x123456))
    page = {"object": "page", "id": page_id, "created_time": "2026-01-01T00:00:00.000Z",
            "last_edited_time": "2026-01-02T00:00:00.000Z", "in_trash": False, "archived": False,
            "properties": {
                "Name": {"id": "title", "type": "title", "title": rich("Linked risk")},
                "Issues": {"id": "Is%3Bu", "type": "relation", "relation": [{"id": p} for p in related],
                           "has_more": False},
                "Owners": {"id": "Ow%3Dn", "type": "people", "people": owners},
                "Issue keys": {"id": "Kr%3Bo", "type": "rollup", "rollup": {
                    "type": "array", "function": "show_original",
                    "array": [{"type": "title", "title": rich(f"INC-{n + 1}")} for n in range(ROLLED_UP)]}},
            }}
    return page, related


@pytest.fixture
def linked(sandbox: Sandbox) -> Any:
    page, related = _linked_pages()
    pages = {page["id"]: page, **related}
    provider = pages.get
    sandbox.notion.page_providers.append(provider)
    try:
        yield page
    finally:
        sandbox.notion.page_providers.remove(provider)


def test_relation_and_people_past_25_are_read_whole_through_the_page_property_endpoint(
        sandbox: Sandbox, connections: dict[str, str], shinrai_home: Path, monkeypatch: pytest.MonkeyPatch,
        linked: dict[str, Any]) -> None:
    _config(shinrai_home, monkeypatch)
    cfg = config.load()
    hook = NotionHook(cfg.notion_conn_id)
    served = hook.call(lambda: hook.client.pages.retrieve(page_id=linked["id"]))
    # the page object is cut as Notion cuts it
    assert len(served["properties"]["Issues"]["relation"]) == 25 and served["properties"]["Issues"]["has_more"]
    assert len(served["properties"]["Owners"]["people"]) == 25
    assert len(served["properties"]["Issue keys"]["rollup"]["array"]) == 25

    source = DataSource("risk_records", "notion.risk_records", "ds", {
        "related_issues": {"name": "Issues", "id": "Is%3Bu", "type": "relation"},
        "assignee": {"name": "Owners", "id": "Ow%3Dn", "type": "people"},
        "backlog_ticket": {"name": "Issue keys", "id": "Kr%3Bo", "type": "rollup"},
    })
    sandbox.reset_requests()
    with LandingStore(paths().landing_file("notion"), "notion") as store:
        extractor = NotionExtractor(cfg, hook, store)
        related: set[str] = set()
        whole = extractor._complete(served, source, related)
        assert extractor._related_titles(related) == RELATED
        titles = dict(store.con.execute("select page_id, title from raw.page_titles").fetchall())

    issues = whole["properties"]["Issues"]
    assert [r["id"] for r in issues["relation"]] == [r["id"] for r in linked["properties"]["Issues"]["relation"]]
    assert issues["has_more"] is False
    assert [p["id"] for p in whole["properties"]["Owners"]["people"]] == [
        p["id"] for p in linked["properties"]["Owners"]["people"]]
    rolled = whole["properties"]["Issue keys"]["rollup"]
    assert rolled["type"] == "array" and [e["title"][0]["plain_text"] for e in rolled["array"]] == [
        f"INC-{n + 1}" for n in range(ROLLED_UP)]
    endpoint = [r for r in sandbox.requests if "/properties/" in r.path]
    # 130 relations: two pages of at most 100 (the second with the first's cursor); 30 people and
    # 40 rolled-up titles: one each
    assert [(r.path.rsplit("/", 1)[-1], bool(r.query.get("start_cursor"))) for r in endpoint] == [
        ("Is%3Bu", False), ("Is%3Bu", True), ("Ow%3Dn", False), ("Kr%3Bo", False)]
    assert len(titles) == RELATED and titles[issues["relation"][-1]["id"]] == f"INC-{RELATED}"


def test_the_page_property_endpoint_pages_any_paginated_property(
        sandbox: Sandbox, connections: dict[str, str], shinrai_home: Path, monkeypatch: pytest.MonkeyPatch,
        linked: dict[str, Any]) -> None:
    _config(shinrai_home, monkeypatch)
    hook = NotionHook(config.load().notion_conn_id)
    client = hook.client
    first = client.pages.properties.retrieve(page_id=linked["id"], property_id="Is%3Bu", page_size=50)
    assert first["object"] == "list" and first["type"] == "property_item" and first["has_more"] is True
    assert first["results"][0] == {"object": "property_item", "id": "Is%3Bu", "type": "relation",
                                   "relation": {"id": linked["properties"]["Issues"]["relation"][0]["id"]}}
    assert first["property_item"]["type"] == "relation" and first["property_item"]["next_url"]
    second = client.pages.properties.retrieve(page_id=linked["id"], property_id="Is%3Bu", page_size=100,
                                              start_cursor=first["next_cursor"])
    assert len(second["results"]) == RELATED - 50 and second["has_more"] is False and second["next_cursor"] is None
    title = client.pages.properties.retrieve(page_id=linked["id"], property_id="title")
    assert title["results"][0]["title"]["plain_text"] == "Linked risk"
