"""Notion's 25-reference cap on page objects, and the page-property endpoint that reads past it.

Generic over any rendered page (any organisation shape): the sandbox renders each page whole, then
:func:`truncate_page` cuts it as Notion's page objects are cut (a page or data-source query answer),
and :func:`property_item_response` serves ``GET /v1/pages/{page_id}/properties/{property_id}`` from
the whole page, paginated with ``start_cursor``/``page_size`` (API notes 2.4; Notion's "Retrieve a
page property item": a list of ``property_item`` objects for title, rich_text, relation, people and
rollup; one ``property_item`` object for every other type).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import unquote

# relation, people and rollup arrays in a page object hold at most this many entries
PAGE_REFERENCE_LIMIT = 25
PAGINATED = ("title", "rich_text", "relation", "people", "rollup")
MAX_PAGE_SIZE = 100


class PropertyRequestError(ValueError):
    """A bad page-property request (unknown property, bad cursor or page size): a 400/404 answer."""

    def __init__(self, status: int, code: str, message: str):
        self.status = status
        self.code = code
        super().__init__(message)


def truncate_value(value: dict[str, Any]) -> dict[str, Any]:
    """A property value as a page object carries it: relations cut at 25 with ``has_more``, people
    lists and rollup arrays cut at 25 (Notion sets no flag on those)."""
    ptype = value.get("type")
    if ptype == "relation":
        related = value.get("relation") or []
        return {**value, "relation": related[:PAGE_REFERENCE_LIMIT], "has_more": len(related) > PAGE_REFERENCE_LIMIT}
    if ptype == "people" and len(value.get("people") or []) > PAGE_REFERENCE_LIMIT:
        return {**value, "people": value["people"][:PAGE_REFERENCE_LIMIT]}
    if ptype == "rollup":
        rollup = value.get("rollup") or {}
        if rollup.get("type") == "array" and len(rollup.get("array") or []) > PAGE_REFERENCE_LIMIT:
            return {**value, "rollup": {**rollup, "array": rollup["array"][:PAGE_REFERENCE_LIMIT]}}
    return value


def truncate_page(page: dict[str, Any]) -> dict[str, Any]:
    """The page object Notion serves for a whole rendered page (every property through :func:`truncate_value`)."""
    props = page.get("properties")
    if not isinstance(props, dict):
        return page
    return {**page, "properties": {name: truncate_value(v) if isinstance(v, dict) else v
                                   for name, v in props.items()}}


def _items(value: dict[str, Any]) -> list[dict[str, Any]]:
    """The property items of a paginated property: one per rich-text piece, related page, person or
    rolled-up value."""
    ptype = value["type"]
    pid = value.get("id")
    if ptype in ("title", "rich_text"):
        return [{"object": "property_item", "id": pid, "type": ptype, ptype: piece} for piece in value[ptype] or []]
    if ptype == "relation":
        return [{"object": "property_item", "id": pid, "type": "relation", "relation": {"id": r["id"]}}
                for r in value["relation"] or []]
    if ptype == "people":
        return [{"object": "property_item", "id": pid, "type": "people", "people": p} for p in value["people"] or []]
    rollup = value.get("rollup") or {}
    items = []
    for element in rollup.get("array") or [] if rollup.get("type") == "array" else []:
        etype = element.get("type")
        inner = element.get(etype)
        pieces = inner if etype in ("title", "rich_text", "people", "relation") and isinstance(inner, list) else [inner]
        items += [{"object": "property_item", "id": pid, "type": etype, etype: piece} for piece in pieces]
    return items


def find_property(page: dict[str, Any], property_id: str) -> dict[str, Any]:
    """The page's property value whose id is ``property_id`` (ids compared percent-decoded)."""
    wanted = unquote(property_id)
    for value in (page.get("properties") or {}).values():
        if isinstance(value, dict) and unquote(str(value.get("id"))) == wanted:
            return value
    raise PropertyRequestError(404, "object_not_found", f"Could not find property with ID: {property_id}.")


def property_item_response(page: dict[str, Any], property_id: str, start_cursor: str | None,
                           page_size: str | int | None, base_url: str = "https://api.notion.com") -> dict[str, Any]:
    """The answer of ``GET /v1/pages/{page_id}/properties/{property_id}`` for a whole rendered page."""
    value = find_property(page, property_id)
    ptype = value["type"]
    pid = value.get("id")
    if ptype not in PAGINATED:
        return {"object": "property_item", "id": pid, "type": ptype, ptype: value.get(ptype)}
    try:
        size = int(page_size) if page_size not in (None, "") else MAX_PAGE_SIZE
    except (TypeError, ValueError):
        raise PropertyRequestError(400, "validation_error", "page_size should be a number.") from None
    if not 1 <= size <= MAX_PAGE_SIZE:
        raise PropertyRequestError(400, "validation_error", f"page_size should be between 1 and {MAX_PAGE_SIZE}, "
                                                            f"instead was `{size}`.")
    start = 0
    if start_cursor:
        if not start_cursor.startswith("pi-") or not start_cursor[3:].isdigit():
            raise PropertyRequestError(400, "validation_error", f"start_cursor provided is invalid: {start_cursor}")
        start = int(start_cursor[3:])
    items = _items(value)
    has_more = start + size < len(items)
    next_cursor = f"pi-{start + size}" if has_more else None
    meta: dict[str, Any] = {"id": pid, "type": ptype, ptype: {},
                            "next_url": (f"{base_url}/v1/pages/{page['id']}/properties/{pid}?start_cursor={next_cursor}"
                                         if has_more else None)}
    if ptype == "rollup":
        rollup = value.get("rollup") or {}
        meta["rollup"] = ({"type": "incomplete", "incomplete": {}, "function": rollup.get("function")}
                          if has_more else rollup if rollup.get("type") != "array"
                          else {"type": "array", "array": [], "function": rollup.get("function")})
    return {"object": "list", "results": items[start:start + size], "next_cursor": next_cursor, "has_more": has_more,
            "type": "property_item", "property_item": meta}
