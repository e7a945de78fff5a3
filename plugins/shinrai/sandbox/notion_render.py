"""Render risk records and release-calendar pages as Notion API 2025-09-03 objects."""

from __future__ import annotations

import hashlib
import uuid

from .manifest import (
    CALENDAR_DATA_SOURCE_ID,
    CALENDAR_DATABASE_ID,
    ISSUES_DATA_SOURCE_ID,
    ISSUES_DATABASE_ID,
    RISK_DATA_SOURCE_ID,
    RISK_DATABASE_ID,
)
from .model import PRODUCT_BY_CODE, PRODUCTS, Issue, Org, Person, Release, RiskRecord
from .shapes import DEFAULT as DEFAULT_SHAPE
from .shapes import Shape
from .text import RISKS
from .timefmt import jst_date, notion_datetime_jst, notion_ts

WORKSPACE_PAGE_ID = "1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d"
MALFORMED_DATE = "2024-02-30T25:61:00+09:00"

RISK_PROPS: dict[str, tuple[str, str]] = {  # name -> (property id, type)
    "Name": ("title", "title"),
    "Status": ("Zq%3Bx", "status"),
    "Priority": ("p%7CrT", "select"),
    "Assignee": ("aS%3Dg", "people"),
    "Product": ("Pr%40d", "select"),
    "Recognized At": ("rc%5EA", "date"),
    "Last Reviewed": ("Lr%3Fv", "date"),
    "Dashboard": ("Db%5Bd", "url"),
    "Backlog Ticket": ("Bk%3Et", "url"),
    "Related Jira Issues": ("Rj%7Di", "rich_text"),
}
CALENDAR_PROPS: dict[str, tuple[str, str]] = {
    "Release": ("title", "title"),
    "Product": ("Pr%40d", "select"),
    "Release At": ("Ra%3Bt", "date"),
    "Type": ("Ty%3Dp", "select"),
    "Jira Version": ("Jv%7Cn", "rich_text"),
    "Status": ("St%5Es", "select"),
}
ISSUE_PROPS: dict[str, tuple[str, str]] = {"Key": ("title", "title")}


def risk_props(shape: Shape = DEFAULT_SHAPE) -> dict[str, tuple[str, str]]:
    """``RISK_PROPS`` on a workspace of this shape (same names and ids, other types)."""
    props = dict(RISK_PROPS)
    if shape.related_as == "relation":
        props["Related Jira Issues"] = (props["Related Jira Issues"][0], "relation")
    if shape.risk_product_as == "multi_select":
        props["Product"] = (props["Product"][0], "multi_select")
    return props


def calendar_props(shape: Shape = DEFAULT_SHAPE) -> dict[str, tuple[str, str]]:
    props = dict(CALENDAR_PROPS)
    if shape.calendar_status_as == "status":
        props["Status"] = (props["Status"][0], "status")
    return props


def issue_page_id(issue: Issue) -> str:
    """The Notion page that stands for a Jira issue in a relation shape (stable per issue)."""
    return str(uuid.UUID(hashlib.md5(f"jira-issue-{issue.id}".encode()).hexdigest(), version=4))  # noqa: S324


SELECT_OPTIONS: dict[tuple[str, str], tuple[tuple[str, str], ...]] = {
    ("risk", "Priority"): (("High", "red"), ("Medium", "yellow"), ("Low", "gray")),
    ("risk", "Product"): tuple((p.name, "blue") for p in PRODUCTS),
    ("calendar", "Product"): tuple((p.name, "blue") for p in PRODUCTS),
    ("calendar", "Type"): (("Regular", "green"), ("Hotfix", "orange")),
    ("calendar", "Status"): (("Scheduled", "gray"), ("Released", "green")),
}
RISK_STATUS_OPTIONS = (("Open", "red"), ("Investigating", "orange"), ("Mitigating", "yellow"),
                       ("Monitoring", "blue"), ("Closed", "green"))
RISK_STATUS_GROUPS = (("To-do", "gray", ("Open",)),
                      ("In progress", "blue", ("Investigating", "Mitigating", "Monitoring")),
                      ("Complete", "green", ("Closed",)))
CALENDAR_STATUS_GROUPS = (("To-do", "gray", ("Scheduled",)), ("In progress", "blue", ()),
                          ("Complete", "green", ("Released",)))


def opt_id(name: str) -> str:
    return hashlib.md5(name.encode()).hexdigest()[:8]  # noqa: S324 - stable short id, not security


RICH_TEXT_MAX = 2000  # characters of one text object; longer text comes as several


def rich(text: str) -> list[dict]:
    pieces = [text[k:k + RICH_TEXT_MAX] for k in range(0, len(text), RICH_TEXT_MAX)] or [text]
    return [{"type": "text", "text": {"content": piece, "link": None},
             "annotations": {"bold": False, "italic": False, "strikethrough": False, "underline": False,
                             "code": False, "color": "default"},
             "plain_text": piece, "href": None} for piece in pieces]


def risk_title(risk: RiskRecord) -> str:
    if risk.title_override is not None:
        return risk.title_override
    ja, en = RISKS[risk.title_variant % len(RISKS)]
    return f"{ja.format(sub=risk.subsystem)} / {en.format(sub=risk.subsystem)}"


def release_title(rel: Release) -> str:
    base = f"{PRODUCT_BY_CODE[rel.product].name} {rel.name}"
    return f"{base}{rel.title_override}" if rel.title_override else base


def person_json(p: Person) -> dict:
    return {"object": "user", "id": p.notion_id, "name": p.display_name, "avatar_url": None, "type": "person",
            "person": {"email": p.email}}


def bot_json(bot_id: str) -> dict:
    return {"object": "user", "id": bot_id, "name": "Shinrai Sandbox Integration", "avatar_url": None,
            "type": "bot", "bot": {"owner": {"type": "workspace", "workspace": True},
                                   "workspace_name": "Shinrai Sandbox"}}


def _select(name: str | None, color: str = "default") -> dict | None:
    return None if name is None else {"id": opt_id(name), "name": name, "color": color}


def _color(kind: str, prop: str, value: str) -> str:
    return dict(SELECT_OPTIONS.get((kind, prop), ())).get(value, "default")


def _prop(props: dict[str, tuple[str, str]], name: str, value: object) -> dict:
    pid, ptype = props[name]
    return {"id": pid, "type": ptype, ptype: value}


def _url(title: str, page_id: str) -> str:
    slug = "-".join("".join(c if c.isascii() and c.isalnum() else " " for c in title).split())[:40] or "page"
    return f"https://www.notion.so/{slug}-{page_id.replace('-', '')}"


def _page(page_id: str, created: float, edited: float, creator: Person, editor: Person, trashed: bool,
          database_id: str, data_source_id: str, title: str, properties: dict) -> dict:
    return {
        "object": "page", "id": page_id, "created_time": notion_ts(created), "last_edited_time": notion_ts(edited),
        "created_by": {"object": "user", "id": creator.notion_id},
        "last_edited_by": {"object": "user", "id": editor.notion_id},
        "cover": None, "icon": None,
        "parent": {"type": "data_source_id", "data_source_id": data_source_id, "database_id": database_id},
        "archived": trashed, "in_trash": trashed, "is_locked": False, "properties": properties,
        "url": _url(title, page_id), "public_url": None,
    }


def _related(org: Org, risk: RiskRecord, props: dict[str, tuple[str, str]]) -> dict:
    """The whole list: the Notion server truncates a page's relation at 25 (has_more) like Notion does."""
    if props["Related Jira Issues"][1] != "relation":
        return _prop(props, "Related Jira Issues", rich(", ".join(risk.related)) if risk.related else [])
    pages = [{"id": issue_page_id(org.by_key[k])} for k in risk.related if k in org.by_key]
    return {**_prop(props, "Related Jira Issues", pages), "has_more": False}


def risk_page(org: Org, risk: RiskRecord, malformed: bool = False, title: str | None = None) -> dict:
    people = org.people
    props_of = risk_props(org.shape)
    status_color = dict(RISK_STATUS_OPTIONS)[risk.status]
    if malformed:
        recognized: dict | None = {"start": MALFORMED_DATE, "end": None, "time_zone": None}
    elif risk.recognized_date_only:
        recognized = {"start": jst_date(risk.recognized), "end": None, "time_zone": None}
    else:
        recognized = {"start": notion_datetime_jst(risk.recognized), "end": None, "time_zone": None}
    title = risk_title(risk) if title is None else title
    product = _select(PRODUCT_BY_CODE[risk.product].name, "blue")
    props = {
        "Name": _prop(props_of, "Name", rich(title)),
        "Status": _prop(props_of, "Status", _select(risk.status, status_color)),
        "Priority": _prop(props_of, "Priority", _select(risk.priority, _color("risk", "Priority", risk.priority))),
        "Assignee": _prop(props_of, "Assignee", [person_json(people[i]) for i in risk.assignees]),
        "Product": _prop(props_of, "Product", [product] if props_of["Product"][1] == "multi_select" else product),
        "Recognized At": _prop(props_of, "Recognized At", recognized),
        "Last Reviewed": _prop(props_of, "Last Reviewed", None if risk.last_reviewed is None else
                               {"start": risk.last_reviewed, "end": None, "time_zone": None}),
        "Dashboard": _prop(props_of, "Dashboard", risk.dashboard),
        "Backlog Ticket": _prop(props_of, "Backlog Ticket", risk.backlog),
        "Related Jira Issues": _related(org, risk, props_of),
    }
    editor = people[risk.assignees[0]] if risk.assignees else people[risk.creator]
    return _page(risk.page_id, risk.created, risk.edited, people[risk.creator], editor, risk.trashed,
                 RISK_DATABASE_ID, RISK_DATA_SOURCE_ID, title, props)


def release_page(org: Org, rel: Release, title: str | None = None) -> dict:
    people = org.people
    owner = people[(rel.index * 7) % len(people)]
    if owner.left:
        owner = people[0]
    released = rel.at <= org.anchor_t
    title = release_title(rel) if title is None else title
    cal = calendar_props(org.shape)
    props = {
        "Release": _prop(cal, "Release", rich(title)),
        "Product": _prop(cal, "Product", _select(PRODUCT_BY_CODE[rel.product].name, "blue")),
        "Release At": _prop(cal, "Release At",
                            {"start": notion_datetime_jst(rel.at), "end": None, "time_zone": None}),
        "Type": _prop(cal, "Type", _select(rel.kind, _color("calendar", "Type", rel.kind))),
        "Jira Version": _prop(cal, "Jira Version", rich(rel.name)),
        "Status": _prop(cal, "Status", _select("Released" if released else "Scheduled",
                                               "green" if released else "gray")),
    }
    return _page(rel.page_id, rel.page_created, rel.page_edited, owner, owner, rel.trashed,
                 CALENDAR_DATABASE_ID, CALENDAR_DATA_SOURCE_ID, title, props)


def issue_page(org: Org, issue: Issue) -> dict:
    """A page of the Jira issues database (relation shapes): its title is the issue key."""
    owner = org.people[issue.reporter]
    return _page(issue_page_id(issue), issue.created, issue.created, owner, owner, False,
                 ISSUES_DATABASE_ID, ISSUES_DATA_SOURCE_ID, issue.key,
                 {"Key": _prop(ISSUE_PROPS, "Key", rich(issue.key))})


def schema(kind: str, shape: Shape = DEFAULT_SHAPE) -> dict:
    props = {"risk": risk_props, "calendar": calendar_props}[kind](shape) if kind != "issues" else ISSUE_PROPS
    out: dict = {}
    for name, (pid, ptype) in props.items():
        cfg: dict = {}
        if ptype in ("select", "multi_select"):
            cfg = {"options": [{"id": opt_id(n), "name": n, "color": c, "description": None}
                               for n, c in SELECT_OPTIONS[(kind, name)]]}
        elif ptype == "status":
            options, groups = ((RISK_STATUS_OPTIONS, RISK_STATUS_GROUPS) if kind == "risk"
                               else (SELECT_OPTIONS[(kind, name)], CALENDAR_STATUS_GROUPS))
            cfg = {"options": [{"id": opt_id(n), "name": n, "color": c, "description": None} for n, c in options],
                   "groups": [{"id": opt_id(g), "name": g, "color": c, "option_ids": [opt_id(o) for o in opts]}
                              for g, c, opts in groups]}
        elif ptype == "relation":
            cfg = {"data_source_id": ISSUES_DATA_SOURCE_ID, "database_id": ISSUES_DATABASE_ID,
                   "type": "single_property", "single_property": {}}
        out[name] = {"id": pid, "name": name, "description": "", "type": ptype, ptype: cfg}
    return out
