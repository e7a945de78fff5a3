"""Notion data-source query filters and sorts (timestamp filters, compounds, cheap property filters)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any

from .timefmt import floor_minute, parse_iso


class FilterError(ValueError):
    """Becomes a 400 ``validation_error`` with this message."""


@dataclass
class Row:
    id: str
    created: float
    edited: float
    trashed: bool
    render: Callable[[], dict]
    _page: dict | None = None

    def page(self) -> dict:
        if self._page is None:
            self._page = self.render()
        return self._page

    def forget(self) -> None:
        self._page = None

    def timestamp(self, which: str) -> float:
        # what the API exposes is minute-rounded, and that is what filters and sorts see
        return floor_minute(self.created if which == "created_time" else self.edited)


Pred = Callable[[Row], bool]
DATE_OPS = ("equals", "before", "after", "on_or_before", "on_or_after", "is_empty", "is_not_empty",
            "past_week", "past_month", "past_year", "next_week", "next_month", "next_year", "this_week")
TIMESTAMPS = ("created_time", "last_edited_time")


def _interval(value: Any, where: str) -> tuple[float, float]:
    if not isinstance(value, str):
        raise FilterError(f"body failed validation: {where} should be a string, instead was `{value!r}`.")
    try:
        if len(value) == 10:
            d = date.fromisoformat(value)
            start = parse_iso(d.isoformat() + "T00:00:00Z")
            return start, start + 86400
        t = parse_iso(value)
    except ValueError as exc:
        raise FilterError(f"body failed validation: {where} should be a valid ISO 8601 date string, "
                          f"instead was `\"{value}\"`.") from exc
    return t, t + 0.001


def _date_pred(get: Callable[[Row], float | None], cond: Any, where: str, now: float) -> Pred:
    if not isinstance(cond, dict) or len(cond) != 1:
        raise FilterError(f"body failed validation: {where} should have exactly one condition.")
    op, value = next(iter(cond.items()))
    if op not in DATE_OPS:
        raise FilterError(f"body failed validation: {where}.{op} is not a supported date condition.")
    if op == "is_empty":
        return lambda r: get(r) is None
    if op == "is_not_empty":
        return lambda r: get(r) is not None
    if op.startswith(("past_", "next_", "this_")):
        span = {"week": 7, "month": 31, "year": 366}[op.split("_", 1)[1]] * 86400
        lo, hi = (now - span, now) if not op.startswith("next_") else (now, now + span)
        return lambda r: (v := get(r)) is not None and lo <= v <= hi
    lo, hi = _interval(value, f"{where}.{op}")
    tests: dict[str, Callable[[float], bool]] = {
        "equals": lambda v: lo <= v < hi, "before": lambda v: v < lo, "after": lambda v: v >= hi,
        "on_or_before": lambda v: v < hi, "on_or_after": lambda v: v >= lo,
    }
    test = tests[op]
    return lambda r: (v := get(r)) is not None and test(v)


def _prop_value(row: Row, name: str) -> dict:
    return row.page()["properties"][name]


def _plain(prop: dict) -> str:
    t = prop["type"]
    v = prop[t]
    if t in ("title", "rich_text"):
        return "".join(x.get("plain_text", "") for x in v)
    if t in ("select", "status"):
        return v["name"] if v else ""
    return v or ""


def _date_of(prop: dict) -> float | None:
    v = prop["date"]
    if not v or not v.get("start"):
        return None
    try:
        return parse_iso(v["start"] if len(v["start"]) > 10 else v["start"] + "T00:00:00Z")
    except ValueError:
        return None


def _combine(compound: str, preds: list[Pred]) -> Pred:
    if compound == "and":
        return lambda r: all(p(r) for p in preds)
    return lambda r: any(p(r) for p in preds)


def compile_filter(f: Any, schema: dict[str, dict], now: float, depth: int = 0) -> Pred:
    if not isinstance(f, dict):
        raise FilterError("body failed validation: body.filter should be an object.")
    for compound in ("and", "or"):
        if compound in f:
            parts = f[compound]
            if not isinstance(parts, list):
                raise FilterError(f"body failed validation: body.filter.{compound} should be an array.")
            if depth >= 2:
                raise FilterError("body failed validation: filters can be nested at most two levels deep.")
            preds = [compile_filter(p, schema, now, depth + 1) for p in parts]
            return _combine(compound, preds)
    if "timestamp" in f:
        which = f["timestamp"]
        if which not in TIMESTAMPS:
            raise FilterError(f"body failed validation: body.filter.timestamp should be one of {list(TIMESTAMPS)}, "
                              f"instead was `\"{which}\"`.")
        return _date_pred(lambda r: r.timestamp(which), f.get(which), f"body.filter.{which}", now)
    if "property" in f:
        return _property_filter(f, schema, now)
    raise FilterError("body failed validation: body.filter should define `property`, `timestamp`, `and` or `or`.")


def _property_filter(f: dict, schema: dict[str, dict], now: float) -> Pred:
    key = f["property"]
    name = next((n for n, s in schema.items() if key in (n, s["id"])), None)
    if name is None:
        raise FilterError(f"Could not find property with name or id: {key}")
    ptype = schema[name]["type"]
    cond = f.get(ptype)
    if cond is None:
        raise FilterError(f"body failed validation: body.filter.{ptype} should be defined for property "
                          f"`{name}` of type {ptype}.")
    if ptype == "date":
        return _date_pred(lambda r: _date_of(_prop_value(r, name)), cond, f"body.filter.{ptype}", now)
    if not isinstance(cond, dict) or len(cond) != 1:
        raise FilterError(f"body failed validation: body.filter.{ptype} should have exactly one condition.")
    op, value = next(iter(cond.items()))
    if ptype == "people":
        def ids(r: Row) -> list[str]:
            return [u["id"] for u in _prop_value(r, name)["people"]]

        ops_p: dict[str, Pred] = {
            "contains": lambda r: value in ids(r), "does_not_contain": lambda r: value not in ids(r),
            "is_empty": lambda r: not ids(r), "is_not_empty": lambda r: bool(ids(r)),
        }
        if op not in ops_p:
            raise FilterError(f"body failed validation: body.filter.people.{op} is not supported.")
        return ops_p[op]

    def text(r: Row) -> str:
        return _plain(_prop_value(r, name))

    ops: dict[str, Pred] = {
        "equals": lambda r: text(r) == value, "does_not_equal": lambda r: text(r) != value,
        "contains": lambda r: str(value) in text(r), "does_not_contain": lambda r: str(value) not in text(r),
        "starts_with": lambda r: text(r).startswith(str(value)), "ends_with": lambda r: text(r).endswith(str(value)),
        "is_empty": lambda r: text(r) == "", "is_not_empty": lambda r: text(r) != "",
    }
    if op not in ops:
        raise FilterError(f"body failed validation: body.filter.{ptype}.{op} is not supported.")
    return ops[op]


def sort_rows(rows: list[Row], sorts: Any, schema: dict[str, dict]) -> list[Row]:
    if sorts is None:
        sorts = []
    if not isinstance(sorts, list):
        raise FilterError("body failed validation: body.sorts should be an array.")
    out = sorted(rows, key=lambda r: r.id)
    if not sorts:
        out.sort(key=lambda r: r.timestamp("created_time"), reverse=True)
        return out
    for s in reversed(sorts):
        if not isinstance(s, dict) or s.get("direction") not in ("ascending", "descending"):
            raise FilterError("body failed validation: body.sorts[0].direction should be `ascending` or "
                              "`descending`.")
        desc = s["direction"] == "descending"
        if "timestamp" in s:
            which = s["timestamp"]
            if which not in TIMESTAMPS:
                raise FilterError(f"body failed validation: body.sorts[0].timestamp should be one of "
                                  f"{list(TIMESTAMPS)}.")
            out.sort(key=lambda r, w=which: r.timestamp(w), reverse=desc)
        elif "property" in s:
            key = s["property"]
            name = next((n for n, sc in schema.items() if key in (n, sc["id"])), None)
            if name is None:
                raise FilterError(f"Could not find sort property with name or id: {key}")
            if schema[name]["type"] == "date":
                out.sort(key=lambda r, n=name: (_date_of(_prop_value(r, n)) or 0.0), reverse=desc)
            else:
                out.sort(key=lambda r, n=name: _plain(_prop_value(r, n)), reverse=desc)
        else:
            raise FilterError("body failed validation: body.sorts[0] should define `property` or `timestamp`.")
    return out
