"""Notion staging reads each property by the type the extractor landed in raw.property_map.

The pages below map every logical property to a type the sandbox does not use, with value shapes as
Notion's API returns them (property value objects of API 2025-09-03: rollup ``{type: array|number|
date, ...}``, formula ``{type: string|number|boolean|date, ...}``, unique_id ``{prefix, number}``, a
date range with an ``end``, a relation of page ids whose titles the extractor cached in
raw.page_titles). Only the Notion staging models are built.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb
import pytest

from shinrai.extract.notion_types import NEEDS
from shinrai.load.landing import LandingStore, Record
from shinrai.settings import paths
from shinrai.transform import dbt

T0 = datetime(2026, 4, 9, 1, 0, tzinfo=UTC)


def rich(text: str) -> list[dict[str, Any]]:
    return [{"type": "text", "text": {"content": text, "link": None}, "annotations": {"bold": False},
             "plain_text": text, "href": None}]


def page(page_id: str, props: dict[str, Any]) -> Record:
    payload = {"object": "page", "id": page_id, "created_time": "2026-04-01T00:00:00.000Z",
               "last_edited_time": "2026-04-09T01:00:00.000Z", "created_by": {"object": "user", "id": "u-maker"},
               "archived": False, "in_trash": False, "url": f"https://www.notion.so/{page_id}", "properties": props}
    return Record(page_id, "ds", T0, payload)


def prop(ptype: str, value: Any, **extra: Any) -> dict[str, Any]:
    return {"id": ptype[:3], "type": ptype, ptype: value, **extra}


def user(uid: str) -> dict[str, Any]:
    return {"object": "user", "id": uid, "name": uid, "type": "person", "person": {"email": f"{uid}@example.com"}}


# logical -> (property name, part, pick)
RISK_MAP = {
    "title": ("Name", "start", "first"),
    "status": ("State formula", "start", "first"),
    "priority": ("Priority rollup", "start", "last"),
    "product": ("Products", "start", "first"),
    "assignee": ("Owners", "start", "first"),
    "recognized_at": ("Window", "end", "first"),
    "last_reviewed_at": ("Review rollup", "start", "first"),
    "dashboard_url": ("Ticket id", "start", "first"),
    "backlog_ticket": ("Backlog", "start", "first"),
    "related_issues": ("Issue titles", "start", "first"),
}
RISK_PAGES = [
    page("risk-a", {
        "Name": prop("title", rich("Disk filling")),
        "State formula": prop("formula", {"type": "string", "string": "Open"}),
        "Priority rollup": prop("rollup", {"type": "array", "function": "show_original", "array": [
            {"type": "select", "select": {"id": "1", "name": "Low", "color": "gray"}},
            {"type": "select", "select": {"id": "2", "name": "High", "color": "red"}}]}),
        "Products": prop("multi_select", [{"id": "a", "name": "Payroll", "color": "blue"},
                                          {"id": "b", "name": "Attendance", "color": "blue"}]),
        "Owners": prop("people", [user("n-aoi"), user("n-ren")]),
        "Window": prop("date", {"start": "2026-03-01T09:00:00.000+09:00", "end": "2026-03-05T18:30:00.000+09:00",
                                "time_zone": None}),
        "Review rollup": prop("rollup", {"type": "date", "function": "latest_date",
                                         "date": {"start": "2026-04-02", "end": None}}),
        "Ticket id": prop("unique_id", {"prefix": "RISK", "number": 42}),
        "Backlog": prop("relation", [{"id": "rel-1"}, {"id": "rel-2"}], has_more=False),
        "Issue titles": prop("rollup", {"type": "array", "function": "show_original", "array": [
            {"type": "title", "title": rich("INC-7 Payroll outage")},
            {"type": "rich_text", "rich_text": rich("see INC-9")}]}),
    }),
    page("risk-b", {
        "Name": prop("title", rich("Queue backlog")),
        "State formula": prop("formula", {"type": "string", "string": None}),
        "Priority rollup": prop("rollup", {"type": "array", "function": "show_original", "array": []}),
        "Products": prop("multi_select", []),
        "Owners": prop("people", []),
        # a single date (no end): its end is its start; a date-only value is midnight in the reporting zone
        "Window": prop("date", {"start": "2026-03-10", "end": None, "time_zone": None}),
        "Review rollup": prop("rollup", {"type": "date", "function": "latest_date", "date": None}),
        "Ticket id": prop("unique_id", {"prefix": None, "number": 7}),
        "Backlog": prop("relation", [], has_more=False),
        "Issue titles": prop("rollup", {"type": "array", "function": "show_original", "array": []}),
    }),
]
# the release calendar without a status property (left out of the configuration)
CALENDAR_MAP = {
    "title": ("Release", "start", "first"),
    "product": ("Product link", "start", "first"),
    "release_at": ("Ships", "start", "first"),
    "release_type": ("Is hotfix", "start", "first"),
    "jira_version": ("Version formula", "start", "first"),
}
CALENDAR_PAGES = [
    page("cal-a", {
        "Release": prop("title", rich("Payroll 2.0.0")),
        "Product link": prop("relation", [{"id": "prod-1"}], has_more=False),
        "Ships": prop("date", {"start": "2026-04-10", "end": None, "time_zone": None}),
        "Is hotfix": prop("checkbox", False),
        "Version formula": prop("formula", {"type": "string", "string": "2.0.0"}),
    }),
    page("cal-b", {
        "Release": prop("title", rich("Payroll 2.0.1")),
        "Product link": prop("relation", [], has_more=False),
        "Ships": prop("date", {"start": "2026-04-11T03:00:00.000Z", "end": None, "time_zone": None}),
        "Is hotfix": prop("checkbox", True),
        "Version formula": prop("formula", {"type": "number", "number": 3}),
    }),
]
TITLES = [("rel-1", "PAY-11 backlog item"), ("rel-2", "PAY-12 backlog item"), ("prod-1", "Payroll")]


def _map_rows(mapping: dict[str, tuple[str, str, str]], pages: list[Record]) -> list[tuple[str, ...]]:
    rows = []
    for logical, (name, part, pick) in mapping.items():
        types = {p.payload["properties"][name]["type"] for p in pages}
        rows.append((logical, name, name[:3], min(types), NEEDS[logical], part, pick))
    return rows


@pytest.fixture(scope="module")
def staged(module_home: Path) -> Path:
    dbt.ensure_landing_files()
    with LandingStore(paths().landing_file("notion"), "notion") as store:
        store.replace_property_map("risk_records", _map_rows(RISK_MAP, RISK_PAGES))
        store.replace_property_map("release_calendar", _map_rows(CALENDAR_MAP, CALENDAR_PAGES[:1]))
        store.save_page("risk_records", RISK_PAGES, [], None, "readers-1")
        store.save_page("release_calendar", CALENDAR_PAGES, [], None, "readers-1")
        store.save_page_titles([(pid, title, T0) for pid, title in TITLES])
    dbt.run_dbt(["run", "--select", "stg_notion__property_map", "stg_notion__risk_records",
                 "stg_notion__release_calendar"])
    return module_home


def rows(home: Path, model: str, key: str, columns: str) -> dict[str, tuple]:
    """The staging view's rows by key (the view reads the landing file, attached as dbt attaches it)."""
    with duckdb.connect(str(home / "warehouse.duckdb"), read_only=True) as con:
        con.execute(f"attach '{paths().landing_file('notion')}' as notion (read_only)")
        con.execute("set timezone = 'UTC'")
        return {r[0]: r[1:] for r in con.execute(f"select {key}, {columns} from staging.{model} order by 1").fetchall()}


def test_category_readers_pick_and_flag_several_values(staged: Path) -> None:
    got = rows(staged, "stg_notion__risk_records", "risk_record_id", "status, priority, product_name, "
                                                                      "multi_valued_fields")
    # formula string; rollup array of selects picked last; multi_select picked first, flagged
    assert got["risk-a"] == ("Open", "High", "Payroll", ["priority", "product"])
    assert got["risk-b"] == (None, None, None, [])


def test_text_person_and_key_readers(staged: Path) -> None:
    got = rows(staged, "stg_notion__risk_records", "risk_record_id",
               "title, dashboard_url, assignee_user_ids, backlog_ticket, related_issues_text")
    assert got["risk-a"] == ("Disk filling", "RISK-42", ["n-aoi", "n-ren"],
                             "PAY-11 backlog item, PAY-12 backlog item",  # relation: the related pages' titles
                             "INC-7 Payroll outage, see INC-9")  # rollup array of title and rich_text
    assert got["risk-b"] == ("Queue backlog", "7", [], None, None)


def test_timestamps_date_range_end_and_date_only_local_midnight(staged: Path) -> None:
    got = rows(staged, "stg_notion__risk_records", "risk_record_id", "recognized_at, last_reviewed_at")
    utc = {k: tuple(None if v is None else v.astimezone(UTC).replace(tzinfo=None) for v in vals)
           for k, vals in got.items()}
    # part end: 18:30 in +09:00; the latest_date rollup's date-only value is midnight in Asia/Tokyo
    assert utc["risk-a"] == (datetime(2026, 3, 5, 9, 30), datetime(2026, 4, 1, 15, 0))
    # no end: the start, a date-only value at midnight in the reporting zone
    assert utc["risk-b"] == (datetime(2026, 3, 9, 15, 0), None)


def test_calendar_relation_checkbox_formula_and_left_out_status(staged: Path) -> None:
    got = rows(staged, "stg_notion__release_calendar", "calendar_page_id",
               "product_name, release_type, jira_version_name, status, release_at, multi_valued_fields")
    a = got["cal-a"]
    assert a[:4] == ("Payroll", "false", "2.0.0", None)
    assert a[4].astimezone(UTC).replace(tzinfo=None) == datetime(2026, 4, 9, 15, 0)
    assert a[5] == []
    b = got["cal-b"]
    assert b[:4] == (None, "true", "3", None)  # a number formula read as text
    assert b[4].astimezone(UTC).replace(tzinfo=None) == datetime(2026, 4, 11, 3, 0)
