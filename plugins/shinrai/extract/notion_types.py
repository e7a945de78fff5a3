"""Which Notion property types can carry each logical property's meaning, and how a value is read.

Each logical property (config ``notion.<database>.properties``) declares its *need*: a text, a
category, a timestamp, a person, or a list of issue keys. Resolution checks the property's type in
the data source's schema (``GET /v1/data_sources/{id}``) against that need; a type that cannot carry
it is a :class:`~shinrai.config.ConfigError` naming the key, the property and its type, never a
silent null. Formula and rollup results are typed only by their expression, so their result type
is checked on the first value that shows it (rollups also by their function, at resolution).

The staging macros (``dbt_project/macros/notion_property.sql``) read each value by the type landed
in ``raw.property_map``; the two lists must agree (tests/unit/test_notion_types.py checks).
"""

from __future__ import annotations

from typing import Any

from shinrai.config import ConfigError

# logical property -> need
NEEDS: dict[str, str] = {
    "title": "text",
    "dashboard_url": "text",
    "jira_version": "text",
    "status": "category",
    "priority": "category",
    "product": "category",
    "release_type": "category",
    "recognized_at": "timestamp",
    "last_reviewed_at": "timestamp",
    "release_at": "timestamp",
    "assignee": "person",
    "related_issues": "keys",
    "backlog_ticket": "keys",
}

# need -> the Notion property types that can carry it
SUPPORTED: dict[str, tuple[str, ...]] = {
    "text": ("title", "rich_text", "url", "email", "phone_number", "formula", "unique_id", "number", "select"),
    "category": ("select", "status", "multi_select", "rich_text", "title", "checkbox", "number", "formula",
                 "rollup", "relation"),
    "timestamp": ("date", "created_time", "last_edited_time", "formula", "rollup"),
    "person": ("people", "created_by", "last_edited_by"),
    "keys": ("rich_text", "title", "url", "multi_select", "relation", "rollup"),
}

# need -> the formula result types (formula.type) that can carry it
FORMULA_RESULTS: dict[str, tuple[str, ...]] = {
    "text": ("string",),
    "category": ("string", "number", "boolean"),
    "timestamp": ("date",),
}
# need -> the rollup result types (rollup.type) that can carry it; "incomplete" is re-read whole
ROLLUP_RESULTS: dict[str, tuple[str, ...]] = {
    "category": ("array", "number"),
    "timestamp": ("date",),
    "keys": ("array",),
}
# need -> the types of the values a rollup array may hold
ROLLUP_ITEMS: dict[str, tuple[str, ...]] = {
    "category": ("select", "status", "multi_select", "rich_text", "title", "checkbox", "number", "formula"),
    "keys": ("title", "rich_text", "multi_select"),
}
# a rollup's function -> its result type (Notion's documented functions; unknown ones are checked per value)
_ROLLUP_FUNCTIONS = {
    "show_original": "array", "show_unique": "array",
    "earliest_date": "date", "latest_date": "date", "date_range": "date",
}
# types whose value is a date, so `part: start|end` means something
DATE_VALUED = ("date", "formula", "rollup")


def rollup_result(schema_entry: dict[str, Any]) -> str | None:
    """What a rollup property's function yields (array, number or date), from the data source schema."""
    function = (schema_entry.get("rollup") or {}).get("function")
    if not function:
        return None
    return _ROLLUP_FUNCTIONS.get(function, "number")


def check_property(key: str, logical: str, name: str, schema_entry: dict[str, Any], part: str | None) -> str:
    """The property's type when it can carry ``logical``'s need; else a ConfigError naming key, property, type."""
    need = NEEDS[logical]
    ptype = str(schema_entry.get("type") or "")
    if ptype not in SUPPORTED[need]:
        raise ConfigError(key, f"property {name!r} is of type {ptype or '(none)'}; {_need_words(need)} needs one "
                               f"of {', '.join(SUPPORTED[need])}")
    if ptype == "rollup" and (result := rollup_result(schema_entry)) is not None \
            and result not in ROLLUP_RESULTS[need]:
        function = schema_entry["rollup"]["function"]
        raise ConfigError(key, f"property {name!r} is a rollup ({function}) giving a {result}; {_need_words(need)} "
                               f"needs a rollup giving {' or '.join(ROLLUP_RESULTS[need])}")
    if part is not None and (need != "timestamp" or ptype not in DATE_VALUED):
        raise ConfigError(key, f"part {part!r} applies to a date; property {name!r} is of type {ptype}")
    return ptype


def check_value(key: str, logical: str, name: str, value: dict[str, Any]) -> None:
    """A formula's or rollup's result type (known only from a value) can carry the need, else ConfigError."""
    need = NEEDS[logical]
    ptype = value.get("type")
    if ptype == "formula":
        result = (value.get("formula") or {}).get("type")
        if result and result not in FORMULA_RESULTS.get(need, ()):
            raise ConfigError(key, f"property {name!r} is a formula giving a {result}; {_need_words(need)} needs "
                                   f"a formula giving {' or '.join(FORMULA_RESULTS.get(need, ())) or 'nothing'}")
    elif ptype == "rollup":
        rollup = value.get("rollup") or {}
        result = rollup.get("type")
        if result and result != "incomplete" and result not in ROLLUP_RESULTS.get(need, ()):
            raise ConfigError(key, f"property {name!r} is a rollup giving a {result}; {_need_words(need)} needs a "
                                   f"rollup giving {' or '.join(ROLLUP_RESULTS.get(need, ()))}")
        if result == "array":
            for item in rollup.get("array") or []:
                item_type = item.get("type") if isinstance(item, dict) else None
                if item_type not in ROLLUP_ITEMS.get(need, ()):
                    raise ConfigError(key, f"property {name!r} is a rollup of {item_type} values; "
                                           f"{_need_words(need)} needs a rollup of "
                                           f"{', '.join(ROLLUP_ITEMS.get(need, ()))}")


def _need_words(need: str) -> str:
    return {"text": "a text", "category": "a category", "timestamp": "a timestamp", "person": "a person",
            "keys": "a list of issue keys"}[need]


# -- values truncated in page objects --------------------------------------------------------------

# page objects carry at most this many references in a relation, people list or rollup
PAGE_REFERENCE_LIMIT = 25


def is_truncated(value: Any) -> bool:
    """A page object's property value that may hold only part of the list (read it whole through
    ``GET /v1/pages/{page_id}/properties/{property_id}``): a relation with ``has_more``; a people list
    or a rollup array at the 25-entry cap (no flag says so); a rollup computed ``incomplete``."""
    if not isinstance(value, dict):
        return False
    ptype = value.get("type")
    if ptype == "relation":
        return bool(value.get("has_more")) or len(value.get("relation") or []) >= PAGE_REFERENCE_LIMIT
    if ptype == "people":
        return bool(value.get("has_more")) or len(value.get("people") or []) >= PAGE_REFERENCE_LIMIT
    if ptype == "rollup":
        rollup = value.get("rollup") or {}
        return rollup.get("type") == "incomplete" or (
            rollup.get("type") == "array" and len(rollup.get("array") or []) >= PAGE_REFERENCE_LIMIT)
    return False


_LIST_ITEM_TYPES = ("title", "rich_text", "people", "relation")


def assemble(value: dict[str, Any], pages: list[dict[str, Any]]) -> dict[str, Any]:
    """The whole property value from the property-item pages of the page-property endpoint.

    Relation items are ``{relation: {id}}`` and people items ``{people: <user>}``; for a rollup the
    items are the rolled-up values, one per related value, and ``property_item.rollup`` holds the
    result (the last page's is final)."""
    items = [item for page in pages for item in page.get("results") or [] if isinstance(item, dict)]
    ptype = value.get("type")
    if ptype == "relation":
        return {**value, "relation": [{"id": item["relation"]["id"]} for item in items if item.get("relation")],
                "has_more": False}
    if ptype == "people":
        return {**value, "people": [item["people"] for item in items if item.get("people")], "has_more": False}
    if ptype == "rollup":
        final = dict((pages[-1].get("property_item") or {}).get("rollup") or {}) if pages else {}
        if final.get("type") in (None, "array", "incomplete"):
            array = []
            for item in items:
                item_type = item.get("type")
                if item_type in _LIST_ITEM_TYPES:
                    array.append({"type": item_type, item_type: [item.get(item_type)]})
                elif item_type:
                    array.append({"type": item_type, item_type: item.get(item_type)})
            final = {**final, "type": "array", "array": array}
            final.pop("incomplete", None)
        return {**value, "rollup": final}
    return value
