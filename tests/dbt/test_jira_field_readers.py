"""Jira staging reads each configured field by its type on the site: issue payloads shaped like Jira
Cloud's (select, multi-select, cascading select, labels, components, priority, version, project,
text, number, user pickers, date picker, date-time), landed with a field map as the extractor
writes it, staged by the real dbt models.

Two mappings in turn over the same issues: changing the mapping (a reader, a part, a pick) reparses
every issue (mapping_hash), so the second build's rows are the second mapping's.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from dbt_helpers import query

from shinrai import config
from shinrai.load.landing import LandingStore, Record
from shinrai.settings import paths
from shinrai.transform import dbt

pytestmark = pytest.mark.slow

T0 = datetime(2026, 5, 1, tzinfo=UTC)
# field ids of this fake site, by the type of field (ids are what the payloads are keyed by)
SELECT, MULTI, CASCADE, DATE_PICKER, DATE_TIME = (f"customfield_300{n:02d}" for n in range(1, 6))
NUMBER, TEXT, USER, PEOPLE, VERSION = (f"customfield_300{n:02d}" for n in range(6, 11))
STAGED = ("stg_jira__field_map", "stg_jira__incidents", "stg_jira__postmortems", "stg_jira__actions")


def option(value: str, option_id: str = "10100") -> dict[str, str]:
    return {"self": f"https://example.atlassian.net/rest/api/3/customFieldOption/{option_id}", "value": value,
            "id": option_id}


def person(name: str) -> dict[str, Any]:
    return {"self": "https://example.atlassian.net/rest/api/3/user?accountId=5b10", "accountId": "5b10ac8d82e0",
            "displayName": name, "active": True, "timeZone": "UTC", "accountType": "atlassian"}


def issue(issue_id: str, kind: str, custom: dict[str, Any], **system: Any) -> Record:
    key = f"OPS-{issue_id}"
    fields: dict[str, Any] = {
        "summary": f"{kind} {key}", "status": {"name": "Open", "statusCategory": {"key": "new"}},
        "issuetype": {"name": kind}, "project": {"self": "s", "id": "10000", "key": "OPS", "name": "Operations"},
        "priority": {"self": "s", "iconUrl": "i", "name": "Highest", "id": "1"},
        "created": "2026-04-01T09:00:00.000+0900", "updated": "2026-04-01T09:00:00.000+0900",
        "resolution": None, "resolutiondate": None, "assignee": None, "reporter": None, "duedate": None,
        "labels": [], "issuelinks": [], "subtasks": [], "components": [], "fixVersions": [],
        **system, **custom,
    }
    return Record(issue_id, key, T0, {"id": issue_id, "key": key, "fields": fields})


INCIDENTS = [
    issue("1", "Incident", {
        SELECT: option("Level 1"),
        MULTI: [option("Billing", "10101"), option("Payments", "10102"), option("Ledger", "10103")],
        CASCADE: {**option("Code", "10200"), "child": option("Regression", "10201")},
        DATE_PICKER: "2026-04-01",
        DATE_TIME: "2026-04-01T10:02:34.255+0900",
        NUMBER: 3.0, TEXT: "  Alerting  ", USER: person("Aoi Sato"),
        PEOPLE: [person("Aoi Sato"), person("Ren Ito")],
        VERSION: {"self": "s", "id": "10300", "name": "2.4.0", "archived": False, "released": True},
    }, labels=["edge", "manual"], components=[{"self": "s", "id": "1", "name": "Gateway"}],
        fixVersions=[{"self": "s", "id": "2", "name": "2.4.1"}, {"self": "s", "id": "3", "name": "2.5.0"}]),
    # one value each; a cascading select with only its parent set; a fractional number; empty text
    issue("2", "Incident", {
        SELECT: option("Level 2"), MULTI: [option("Billing", "10101")], CASCADE: option("Config", "10202"),
        DATE_PICKER: None, DATE_TIME: None, NUMBER: 2.5, TEXT: "", USER: None, PEOPLE: [], VERSION: None,
    }, labels=["edge"]),
]
POSTMORTEMS = [issue("3", "Postmortem", {MULTI: [option("Billing", "10101"), option("Ledger", "10103")]})]
ACTIONS = [issue("4", "Prevention Action", {MULTI: [option("Payments", "10102")]})]


def mapping(*rows: tuple[str, str, str, str, str, str]) -> list[tuple]:
    """(logical, field id, type, reader, part, pick) -> raw.field_map rows (name = the logical name)."""
    return [(logical, fid, logical.title(), ftype, reader, part, pick)
            for logical, fid, ftype, reader, part, pick in rows]


FIRST = mapping(
    ("severity", SELECT, "option", "option", "parent", "first"),
    ("product", MULTI, "array of option", "option_array", "parent", "first"),
    ("cause_category", CASCADE, "option-with-child", "cascading", "child", "first"),
    ("detection_route", "labels", "array of string", "string_array", "parent", "last"),
    ("development_category", "components", "array of component", "name_array", "parent", "first"),
    ("occurred_at", DATE_PICKER, "date", "date", "parent", "first"),
    ("detected_at", DATE_TIME, "datetime", "datetime", "parent", "first"),
    # introduced_at .. recovered_at left out: their columns are null
)
SECOND = mapping(
    ("severity", NUMBER, "number", "number", "parent", "first"),
    ("product", MULTI, "array of option", "option_array", "parent", "last"),
    ("cause_category", CASCADE, "option-with-child", "cascading", "parent", "first"),
    ("detection_route", TEXT, "string", "string", "parent", "first"),
    ("development_category", "fixVersions", "array of version", "name_array", "parent", "last"),
    ("occurred_at", DATE_TIME, "datetime", "datetime", "parent", "first"),
)
THIRD = mapping(
    ("severity", "priority", "priority", "name", "parent", "first"),
    ("product", "project", "project", "key", "parent", "first"),
    ("cause_category", USER, "user", "user", "parent", "first"),
    ("detection_route", PEOPLE, "array of user", "user_array", "parent", "last"),
    ("development_category", VERSION, "version", "name", "parent", "first"),
    ("occurred_at", DATE_TIME, "datetime", "datetime", "parent", "first"),
)
COLUMNS = ("incident_key, severity, product_name, cause_category, detection_route, development_category, "
           "multi_valued_fields, occurred_at, detected_at, introduced_at, recovered_at")


def staged(home: Path, rows: list[tuple]) -> dict[str, tuple]:
    with LandingStore(paths().landing_file("jira"), "jira") as store:
        store.replace_field_map(rows)
    dbt.run_dbt(["run", "--select", *STAGED])
    return {r[0]: r[1:] for r in query(home, f"select {COLUMNS} from staging.stg_jira__incidents")}


@pytest.fixture(scope="module")
def landed(module_home: Path) -> Path:
    dbt.ensure_landing_files()
    with LandingStore(paths().landing_file("jira"), "jira") as store:
        store.ensure_reference_tables()
        store.save_page("incidents", INCIDENTS, [], None, "readers-1")
        store.save_page("postmortems", POSTMORTEMS, [], None, "readers-1")
        store.save_page("actions", ACTIONS, [], None, "readers-1")
    return module_home


def local_midnight(day: str) -> datetime:
    """The day's midnight in the configured reporting zone, as a UTC instant."""
    zone = ZoneInfo(config.load().timezone)
    return datetime.fromisoformat(day).replace(tzinfo=zone).astimezone(UTC)


def test_each_reader_on_real_payload_shapes_and_a_new_mapping_reparses(landed: Path) -> None:
    first = staged(landed, FIRST)
    utc = datetime(2026, 4, 1, 1, 2, 34, 255000, tzinfo=UTC)
    assert first["OPS-1"] == (
        "Level 1", "Billing", "Regression", "manual", "Gateway",  # select; multi first; child; labels last
        ["product", "detection_route"],  # held several: the pick chose one
        local_midnight("2026-04-01"), utc, None, None,  # date picker = local midnight; left out = null
    )
    assert first["OPS-2"] == ("Level 2", "Billing", None, "edge", None, [], None, None, None, None)

    second = staged(landed, SECOND)  # same landing, new mapping: every issue reparsed
    assert second["OPS-1"][:6] == ("3", "Ledger", "Code", "Alerting", "2.5.0", ["product", "development_category"])
    assert second["OPS-1"][6:8] == (utc, None)  # detected_at no longer mapped
    assert second["OPS-2"][:6] == ("2.5", "Billing", "Config", None, None, [])

    third = staged(landed, THIRD)
    assert third["OPS-1"][:6] == ("Highest", "OPS", "Aoi Sato", "Ren Ito", "2.4.0", ["detection_route"])
    assert third["OPS-2"][:6] == ("Highest", "OPS", None, None, None, [])


def test_postmortems_and_actions_read_the_product_field_too(landed: Path) -> None:
    staged(landed, FIRST)
    assert query(landed, "select product_name, multi_valued_fields from staging.stg_jira__postmortems") == [
        ("Billing", ["product"])]
    assert query(landed, "select product_name, multi_valued_fields from staging.stg_jira__actions") == [
        ("Payments", [])]


def test_the_multi_valued_warning_lists_each_issue_with_its_fields(landed: Path) -> None:
    """The rows of the quality warning one_value_per_jira_field (record_note must be null)."""
    import duckdb

    from shinrai.quality.rules import STG_JIRA_MULTI_VALUED

    staged(landed, FIRST)
    with duckdb.connect(str(landed / "warehouse.duckdb"), read_only=True) as con:
        con.execute(f"attach '{paths().landing_file('jira')}' as jira (read_only)")
        rows = con.execute(f"select record_key, record_note from ({STG_JIRA_MULTI_VALUED}) order by 1").fetchall()
    # only the issues whose fields held several values are rows (each one fails the warning)
    assert rows == [("OPS-1", "product, detection_route"), ("OPS-3", "product")]
