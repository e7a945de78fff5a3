"""Notion property mappings: the config forms, the type check at resolution (every supported type
accepted, every other refused naming the key, the property and its type), formula and rollup
results, and reassembling a value cut at 25 entries from the page-property endpoint's pages."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import yaml

from shinrai import config
from shinrai.config import ConfigError, NotionProperty
from shinrai.extract.notion_types import NEEDS, SUPPORTED, assemble, check_property, check_value, is_truncated
from shinrai.settings import PROJECT_ROOT
from shinrai.transform.dbt import dbt_vars

# every type a Notion data source property can have (API 2025-09-03)
ALL_TYPES = ("title", "rich_text", "number", "select", "multi_select", "status", "date", "people", "files",
             "checkbox", "url", "email", "phone_number", "formula", "relation", "rollup", "created_time",
             "created_by", "last_edited_time", "last_edited_by", "unique_id", "verification", "button", "place")
KEY = "notion.risk_records.properties."


def _shipped() -> dict[str, Any]:
    return yaml.safe_load((PROJECT_ROOT / "config" / "shinrai.yaml").read_text(encoding="utf-8"))


@pytest.mark.parametrize("logical", sorted(NEEDS))
def test_every_supported_type_resolves_and_every_other_is_refused_naming_key_property_and_type(logical: str) -> None:
    need = NEEDS[logical]
    for ptype in ALL_TYPES:
        entry = {"id": "x", "type": ptype, ptype: {}}
        if ptype in SUPPORTED[need]:
            assert check_property(KEY + logical, logical, "Prop", entry, None) == ptype
        else:
            with pytest.raises(ConfigError) as err:
                check_property(KEY + logical, logical, "Prop", entry, None)
            assert err.value.key == KEY + logical
            assert f"property 'Prop' is of type {ptype};" in err.value.problem


def test_the_supported_types_are_the_documented_ones() -> None:
    assert SUPPORTED["timestamp"] == ("date", "created_time", "last_edited_time", "formula", "rollup")
    assert SUPPORTED["person"] == ("people", "created_by", "last_edited_by")
    assert {"relation", "rollup", "checkbox", "formula", "status", "multi_select"} <= set(SUPPORTED["category"])
    assert {"relation", "rollup", "multi_select", "rich_text", "title"} <= set(SUPPORTED["keys"])


def test_a_rollup_is_checked_by_its_function_at_resolution() -> None:
    def rollup(function: str) -> dict[str, Any]:
        return {"type": "rollup", "rollup": {"function": function, "relation_property_name": "R",
                                             "rollup_property_name": "Name"}}

    assert check_property(KEY + "recognized_at", "recognized_at", "Latest", rollup("latest_date"), None) == "rollup"
    assert check_property(KEY + "related_issues", "related_issues", "Keys", rollup("show_original"), None)
    with pytest.raises(ConfigError, match=r"rollup \(count\) giving a number; a timestamp needs a rollup giving date"):
        check_property(KEY + "recognized_at", "recognized_at", "Count", rollup("count"), None)


def test_part_applies_to_dates_only() -> None:
    assert check_property(KEY + "recognized_at", "recognized_at", "Window", {"type": "date"}, "end") == "date"
    with pytest.raises(ConfigError, match="part 'end' applies to a date; property 'Made' is of type created_time"):
        check_property(KEY + "recognized_at", "recognized_at", "Made", {"type": "created_time"}, "end")
    with pytest.raises(ConfigError, match="part 'start' applies to a date"):
        check_property(KEY + "status", "status", "Status", {"type": "status"}, "start")


def test_formula_and_rollup_results_are_checked_on_the_value() -> None:
    check_value(KEY + "status", "status", "F", {"type": "formula", "formula": {"type": "boolean", "boolean": True}})
    check_value(KEY + "recognized_at", "recognized_at", "F",
                {"type": "formula", "formula": {"type": "date", "date": {"start": "2026-01-01"}}})
    with pytest.raises(ConfigError, match="'F' is a formula giving a number; a timestamp needs a formula giving date"):
        check_value(KEY + "recognized_at", "recognized_at", "F",
                    {"type": "formula", "formula": {"type": "number", "number": 3}})
    with pytest.raises(ConfigError, match="'R' is a rollup of people values; a list of issue keys needs a rollup"):
        check_value(KEY + "related_issues", "related_issues", "R",
                    {"type": "rollup", "rollup": {"type": "array", "array": [{"type": "people", "people": []}]}})
    check_value(KEY + "related_issues", "related_issues", "R", {"type": "rollup", "rollup": {
        "type": "array", "array": [{"type": "title", "title": []}, {"type": "rich_text", "rich_text": []}]}})


def test_values_cut_at_25_are_recognised() -> None:
    assert is_truncated({"type": "relation", "relation": [{"id": "a"}], "has_more": True})
    assert not is_truncated({"type": "relation", "relation": [{"id": "a"}], "has_more": False})
    assert is_truncated({"type": "people", "people": [{"id": str(n)} for n in range(25)]})
    assert not is_truncated({"type": "people", "people": [{"id": "a"}]})
    assert is_truncated({"type": "rollup", "rollup": {"type": "incomplete", "incomplete": {}}})
    assert not is_truncated({"type": "rollup", "rollup": {"type": "number", "number": 3}})


def test_a_rollup_is_reassembled_from_the_endpoints_property_items() -> None:
    # Notion's "Retrieve a page property item" for a show_original rollup of titles, two pages
    pages = [
        {"object": "list", "results": [
            {"object": "property_item", "id": "r", "type": "title", "title": {"plain_text": "INC-1"}}],
         "has_more": True, "next_cursor": "c", "type": "property_item",
         "property_item": {"id": "r", "type": "rollup", "next_url": "u", "rollup": {"type": "incomplete",
                                                                                    "incomplete": {}}}},
        {"object": "list", "results": [
            {"object": "property_item", "id": "r", "type": "title", "title": {"plain_text": "INC-2"}}],
         "has_more": False, "next_cursor": None, "type": "property_item",
         "property_item": {"id": "r", "type": "rollup", "next_url": None,
                           "rollup": {"type": "array", "array": [], "function": "show_original"}}},
    ]
    value = {"id": "r", "type": "rollup", "rollup": {"type": "incomplete", "incomplete": {}}}
    assert assemble(value, pages)["rollup"] == {"type": "array", "function": "show_original", "array": [
        {"type": "title", "title": [{"plain_text": "INC-1"}]}, {"type": "title", "title": [{"plain_text": "INC-2"}]}]}
    number = [{"results": [], "has_more": False,
               "property_item": {"type": "rollup", "rollup": {"type": "number", "number": 7, "function": "sum"}}}]
    assert assemble(value, number)["rollup"] == {"type": "number", "number": 7, "function": "sum"}


def test_property_forms_optional_properties_and_closed_statuses() -> None:
    tree = _shipped()
    props = tree["notion"]["risk_records"]["properties"]
    props["recognized_at"] = {"name": "Window", "part": "end"}
    props["product"] = {"name": "Products", "pick": "last"}
    del props["priority"], props["related_issues"]
    del tree["notion"]["release_calendar"]["properties"]["status"]
    cfg = config.parse(tree, Path("x.yaml"))
    assert cfg.risk_records.properties["recognized_at"] == NotionProperty("Window", "end", "first")
    assert cfg.risk_records.properties["product"] == NotionProperty("Products", None, "last")
    assert cfg.risk_records.properties["status"] == NotionProperty("Status")
    assert "priority" not in cfg.risk_records.properties and "status" not in cfg.release_calendar.properties
    assert dbt_vars(cfg)["risk_closed_statuses"] == list(tree["notion"]["risk_records"]["closed_statuses"])


@pytest.mark.parametrize(("edit", "message"), [
    (lambda t: t["notion"]["risk_records"]["properties"].pop("recognized_at"),
     "config notion.risk_records.properties.recognized_at: is missing"),
    (lambda t: t["notion"]["release_calendar"]["properties"].pop("product"),
     "config notion.release_calendar.properties.product: is missing"),
    (lambda t: t["notion"]["risk_records"]["properties"].update(recognized_at={"name": "W", "part": "middle"}),
     "config notion.risk_records.properties.recognized_at.part: must be 'start' or 'end', got 'middle'"),
    (lambda t: t["notion"]["risk_records"]["properties"].update(product={"name": "P", "pick": "any"}),
     "config notion.risk_records.properties.product.pick: must be 'first' or 'last', got 'any'"),
    (lambda t: t["notion"]["risk_records"]["properties"].update(title=3),
     "config notion.risk_records.properties.title: must be a property name or a mapping {name, part, pick}, got 3"),
    (lambda t: t["notion"]["risk_records"].update(closed_statuses=[]),
     "config notion.risk_records.closed_statuses: must be a non-empty list of status names, got []"),
])
def test_property_form_mistakes_are_one_line_naming_the_key(edit: Any, message: str) -> None:
    tree = copy.deepcopy(_shipped())
    edit(tree)
    with pytest.raises(ConfigError) as err:
        config.parse(tree, Path("x.yaml"))
    assert str(err.value) == message
