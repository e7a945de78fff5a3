"""Jira changelog histories, derived deterministically from an issue's generated lifecycle."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from . import jira_schema as js
from .ids import rng_for
from .model import Issue, Person
from .timefmt import jira_ts

# (field, fieldtype, fieldId, from, fromString, to, toString); user values are resolved at render time.
Item = tuple[str, str, str | None, Any, Any, Any, Any]
Event = tuple[float, int | None, list[Item]]


def _status(a: str, b: str) -> Item:
    return ("status", "jira", "status", js.STATUSES[a][0], a, js.STATUSES[b][0], b)


def _custom(field_id: str, old: str | None, new: str | None, ids: bool = False) -> Item:
    name = js.CUSTOM_FIELDS[field_id][0]
    fr = js.option_id(field_id, old) if ids and old in (js.CUSTOM_FIELDS[field_id][3] or ()) else None
    to = js.option_id(field_id, new) if ids and new in (js.CUSTOM_FIELDS[field_id][3] or ()) else None
    return (name, "custom", field_id, fr, old, to, new)


def _resolution(name: str) -> Item:
    return ("resolution", "jira", "resolution", None, None, js.RESOLUTIONS[name], name)


def base_events(issue: Issue, fmt: Callable[[float | None], str | None] = jira_ts) -> list[Event]:
    """Lifecycle events of the issue as generated (before any runtime mutation), sorted by time."""
    ev: list[Event] = []
    if issue.kind == "incident":
        cmd = issue.assignee
        if issue.acknowledged is not None:
            ev.append((issue.acknowledged, cmd, [
                _status("Open", "Investigating"),
                ("assignee", "jira", "assignee", None, None, ("@user", cmd), ("@name", cmd)),
                _custom(js.ACKNOWLEDGED_AT, None, fmt(issue.acknowledged)),
            ]))
            if issue.severity0 != issue.severity and issue.severity is not None:
                ev.append((issue.acknowledged + 600, cmd, [
                    _custom(js.SEVERITY, issue.severity0, issue.severity, ids=True),
                ]))
        reached_mitigated = issue.status0 in ("Mitigated", "Closed")
        if issue.mitigated is not None:
            ev.append((issue.mitigated, cmd, [
                _status("Investigating", "Mitigated"), _custom(js.MITIGATED_AT, None, fmt(issue.mitigated)),
            ]))
        if issue.recovered is not None:
            items: list[Item] = [_custom(js.RECOVERED_AT, None, fmt(issue.recovered))]
            if issue.mitigated is None and reached_mitigated:
                items.insert(0, _status("Investigating", "Mitigated"))
            ev.append((issue.recovered, cmd, items))
        if issue.resolved0 is not None:
            ev.append((issue.resolved0, cmd, [
                _status("Mitigated", "Closed"), _resolution("Done"),
                _custom(js.CAUSE_CATEGORY, None, issue.cause, ids=True),
                _custom(js.DEVELOPMENT_CATEGORY, None, issue.devcat, ids=True),
            ]))
    elif issue.kind == "postmortem":
        if issue.started is not None:
            ev.append((issue.started, issue.assignee, [_status("Draft", "In Review")]))
        if issue.resolved0 is not None:
            prev = "In Review" if issue.started is not None else "Draft"
            ev.append((issue.resolved0, issue.assignee, [_status(prev, "Published"), _resolution("Done")]))
    else:
        if issue.started is not None:
            ev.append((issue.started, issue.assignee, [_status("To Do", "In Progress")]))
        if issue.due_changed is not None:
            ev.append((issue.due_changed, issue.assignee, [
                ("duedate", "jira", "duedate", issue.due0, f"{issue.due0} 00:00:00.0", issue.due,
                 f"{issue.due} 00:00:00.0"),
            ]))
        if issue.resolved0 is not None:
            prev = "In Progress" if issue.started is not None else "To Do"
            ev.append((issue.resolved0, issue.assignee, [
                _status(prev, issue.status0), _resolution("Done" if issue.status0 == "Done" else "Won't Do"),
            ]))
    ev.sort(key=lambda e: e[0])
    return ev


def base_updated(issue: Issue) -> float:
    times = [issue.created] + [t for t, _, _ in base_events(issue, lambda _t: "")]
    return max(times)


def chatty_events(issue: Issue, seed: int, until: float) -> list[Event]:
    """Noise edits on long-running incidents (so that embedded changelogs get truncated)."""
    if not issue.chatty:
        return []
    r = rng_for(seed, "chatty", issue.id)
    labels = ("investigating", "customer-impact", "db", "network", "rollback", "monitoring")
    span = max(until - issue.created, 60.0)
    out: list[Event] = []
    current = ""
    for _ in range(issue.chatty):
        t = issue.created + r.random() * span
        new = r.choice(labels)
        out.append((t, issue.reporter, [("labels", "jira", "labels", None, current, None, new)]))
        current = new
    return out


def render_histories(
    issue: Issue, seed: int, people: list[Person], user_json: Callable[[Person], dict],
) -> list[dict]:
    """All histories of the issue, oldest first (ids are stable)."""
    base = base_events(issue)
    until = base_updated(issue)
    events = sorted(base + chatty_events(issue, seed, until), key=lambda e: e[0])
    out: list[dict] = []
    for n, (t, author, items) in enumerate(events):
        who = people[author if author is not None else issue.reporter]
        out.append({
            "id": str(issue.id * 1000 + n),
            "author": user_json(who),
            "created": jira_ts(t),
            "items": [_item(it, people) for it in items],
        })
    if issue.extra_histories:
        base_n = len(out)
        for k, h in enumerate(issue.extra_histories):
            who = people[h["_author"]]
            out.append({"id": str(issue.id * 1000 + base_n + k), "author": user_json(who),
                        "created": h["created"], "items": [dict(x) for x in h["items"]], "_t": h["_t"]})
    return out


def _item(it: Item, people: list[Person]) -> dict:
    field, ftype, fid, fr, frs, to, tos = it
    if isinstance(to, tuple) and to[0] == "@user":
        to = people[to[1]].jira_account_id if to[1] is not None else None
    if isinstance(tos, tuple) and tos[0] == "@name":
        tos = people[tos[1]].display_name if tos[1] is not None else None
    d: dict = {"field": field, "fieldtype": ftype}
    if fid is not None:
        d["fieldId"] = fid
    d.update({"from": fr, "fromString": frs, "to": to, "toString": tos})
    return d
