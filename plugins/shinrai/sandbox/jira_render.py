"""Render organisation records as Jira Cloud REST JSON (v2 and v3)."""

from __future__ import annotations

import hashlib

from . import jira_schema as js
from .changelog import base_events, render_histories
from .model import (
    INCIDENT_PROJECT_ID,
    INCIDENT_PROJECT_KEY,
    PRODUCT_BY_CODE,
    PRODUCT_BY_KEY,
    Issue,
    Org,
    Person,
    Release,
)
from .shapes import DEFAULT as DEFAULT_SHAPE
from .shapes import Shape
from .text import ACTIONS as ACTION_TEXTS
from .text import IMPACTS, SYMPTOMS, bilingual
from .timefmt import jira_ts, jst_date

ISSUE_EXPAND = "renderedFields,names,schema,operations,editmeta,changelog,versionedRepresentations"
MALFORMED_OCCURRED = "2024-13-45T99:00"
OMIT = object()


def issue_summary(i: Issue) -> str:
    if i.summary_override is not None:
        return i.summary_override
    product = PRODUCT_BY_CODE[i.product]
    if i.kind == "action":
        return bilingual(ACTION_TEXTS[i.text_variant % len(ACTION_TEXTS)], i.text_style)
    ja, en = SYMPTOMS[i.product][i.text_variant % 4]
    core = {0: f"{ja} / {en}", 1: ja, 2: en}[i.text_style]
    if i.kind == "postmortem":
        return f"ポストモーテム / Postmortem: {core}"
    return f"【{product.name_ja}】{core}" if i.text_style != 2 else f"[{product.name}] {core}"


def release_description(rel: Release) -> str:
    if rel.description_override is not None:
        return rel.description_override
    return "定期リリース / Regular release" if rel.kind == "Regular" else "緊急修正 / Hotfix"


def adf(text: str) -> dict:
    return {
        "type": "doc", "version": 1,
        "content": [
            {"type": "paragraph", "content": [{"type": "text", "text": line}]} if line else {"type": "paragraph"}
            for line in text.split("\n")
        ],
    }


def adf_text(doc: object) -> str:
    """Plain text of an ADF document (or a string body)."""
    if isinstance(doc, str):
        return doc
    out: list[str] = []

    def walk(node: object) -> None:
        if isinstance(node, dict):
            if node.get("type") == "text":
                out.append(str(node.get("text", "")))
            for child in node.get("content", []) or []:
                walk(child)
            if node.get("type") == "paragraph":
                out.append("\n")
        elif isinstance(node, list):
            for child in node:
                walk(child)

    walk(doc)
    return "".join(out).strip()


class JiraRenderer:
    def __init__(self, org: Org, base_url: str) -> None:
        self.org = org
        self.base = base_url
        self.shape = org.shape
        self.hidden_emails = hidden_email_people(org)

    # ------------------------------------------------------------ small objects
    def api(self, version: str) -> str:
        return f"{self.base}/rest/api/{version}"

    def user(self, p: Person, version: str = "3") -> dict:
        digest = hashlib.md5(p.email.encode()).hexdigest()  # noqa: S324 - gravatar style, not security
        avatar = f"https://secure.gravatar.com/avatar/{digest}?d=identicon"
        out = {
            "self": f"{self.api(version)}/user?accountId={p.jira_account_id}",
            "accountId": p.jira_account_id,
            "emailAddress": p.email,
            "avatarUrls": {k: f"{avatar}&s={k.split('x')[0]}" for k in ("48x48", "24x24", "16x16", "32x32")},
            "displayName": p.display_name,
            "active": not p.left,
            "timeZone": "Asia/Tokyo",
            "accountType": "atlassian",
        }
        if p.index in self.hidden_emails:  # profile visibility: Jira then leaves the key out
            del out["emailAddress"]
        return out

    def status(self, name: str, version: str) -> dict:
        sid, cat = js.STATUSES[name]
        cid, cname, color = js.STATUS_CATEGORIES[cat]
        return {
            "self": f"{self.api(version)}/status/{sid}", "description": "",
            "iconUrl": f"{self.base}/images/icons/statuses/generic.png", "name": name, "id": sid,
            "statusCategory": {"self": f"{self.api(version)}/statuscategory/{cid}", "id": cid, "key": cat,
                               "colorName": color, "name": cname},
        }

    def issuetype(self, kind: str, version: str) -> dict:
        tid, name = js.ISSUE_TYPES[kind]
        return {
            "self": f"{self.api(version)}/issuetype/{tid}", "id": tid, "description": f"{name} (shinrai sandbox)",
            "iconUrl": f"{self.base}/rest/api/2/universal_avatar/view/type/issuetype/avatar/{tid}",
            "name": name, "subtask": False, "avatarId": int(tid), "hierarchyLevel": 0,
        }

    def project(self, key: str, version: str) -> dict:
        if key == INCIDENT_PROJECT_KEY or key == self.shape.single_project:
            pid, name = INCIDENT_PROJECT_ID, "Incidents" if key == INCIDENT_PROJECT_KEY else "Operations"
        else:
            p = PRODUCT_BY_KEY[key]
            pid, name = p.project_id, p.name
        return {
            "self": f"{self.api(version)}/project/{pid}", "id": str(pid), "key": key, "name": name,
            "projectTypeKey": "software", "simplified": False,
            "avatarUrls": {k: f"{self.base}/rest/api/3/universal_avatar/view/type/project/avatar/{pid}"
                           for k in ("48x48", "24x24", "16x16", "32x32")},
        }

    def priority(self, name: str, version: str) -> dict:
        pid = js.PRIORITIES[name]
        return {"self": f"{self.api(version)}/priority/{pid}",
                "iconUrl": f"{self.base}/images/icons/priorities/{name.lower()}.svg", "name": name, "id": pid}

    def option(self, field_id: str, value: str | None, version: str, label: str | None = None) -> dict | None:
        """The option ``value`` (its id is the value's), shown as ``label`` when the shape names it otherwise."""
        if value is None:
            return None
        oid = js.option_id(field_id, value)
        return {"self": f"{self.api(version)}/customFieldOption/{oid}", "value": label or value, "id": oid}

    def component(self, i: Issue, version: str) -> dict:
        product = PRODUCT_BY_CODE[i.product]
        cid = str(10000 + product.project_id % 100)
        return {"self": f"{self.api(version)}/component/{cid}", "id": cid, "name": product.name,
                "description": f"{product.name_ja} ({product.name})"}

    # ------------------------------------------------------------ text
    def summary(self, i: Issue) -> str:
        return issue_summary(i)

    def description(self, i: Issue) -> str:
        product = PRODUCT_BY_CODE[i.product]
        if i.kind == "incident":
            ja, en = IMPACTS[i.text_variant % len(IMPACTS)]
            text = (f"概要 / Overview: {product.name_ja} ({product.name})\n影響: {ja}\nImpact: {en}\n"
                    f"検知経路 / Detection: {i.route}")
        elif i.kind == "postmortem":
            inc = self.org.by_id.get(i.link_to or -1)
            ref = inc.key if inc else "?"
            text = (f"{ref} のポストモーテム / Postmortem of {ref}\n"
                    "タイムライン / Timeline\n根本原因 / Root causes\n再発防止策 / Prevention measures\n"
                    "学び / Lessons learned")
        else:
            pm = self.org.by_id.get(i.link_to or -1)
            ref = pm.key if pm else "?"
            text = f"ポストモーテム {ref} の再発防止策です。\nPrevention action from postmortem {ref}."
        if i.description_extra:
            text += "\n" + i.description_extra
        return text

    # ------------------------------------------------------------ links
    def _link_stub(self, other: Issue, version: str) -> dict:
        return {
            "id": str(other.id), "key": other.key, "self": f"{self.api(version)}/issue/{other.id}",
            "fields": {
                "summary": self.summary(other), "status": self.status(other.status, version),
                "priority": self.priority(self._priority_name(other), version),
                "issuetype": self.issuetype(other.kind, version),
            },
        }

    def links(self, i: Issue, version: str) -> list[dict]:
        out: list[dict] = []

        def link_type(kind: str) -> dict:
            lid, name, inward, outward = js.LINK_TYPES[kind]
            return {"id": lid, "name": name, "inward": inward, "outward": outward,
                    "self": f"{self.api(version)}/issueLinkType/{lid}"}

        if i.link_to is not None:
            other = self.org.by_id.get(i.link_to)
            if other is not None and not other.deleted:
                kind = "postmortem" if i.kind == "postmortem" else "prevention"
                lid = 100000 + i.id
                out.append({"id": str(lid), "self": f"{self.api(version)}/issueLink/{lid}",
                            "type": link_type(kind), "outwardIssue": self._link_stub(other, version)})
        for oid in i.linked_from:
            other = self.org.by_id.get(oid)
            if other is None or other.deleted:
                continue
            kind = "postmortem" if other.kind == "postmortem" else "prevention"
            lid = 100000 + other.id
            out.append({"id": str(lid), "self": f"{self.api(version)}/issueLink/{lid}",
                        "type": link_type(kind), "inwardIssue": self._link_stub(other, version)})
        return out

    @staticmethod
    def _priority_name(i: Issue) -> str:
        return js.SEVERITY_PRIORITY.get(i.severity, "Medium") if i.kind == "incident" else "Medium"

    # ------------------------------------------------------------ fields
    def field_value(self, i: Issue, fid: str, version: str, comments: list[dict], malformed: bool) -> object:
        people = self.org.people
        if fid == "summary":
            return self.summary(i)
        if fid == "description":
            text = self.description(i)
            return adf(text) if version == "3" else text
        if fid == "status":
            return self.status(i.status, version)
        if fid == "issuetype":
            return self.issuetype(i.kind, version)
        if fid == "project":
            return self.project(i.project, version)
        if fid == "priority":
            return self.priority(self._priority_name(i), version)
        if fid == "resolution":
            if i.resolved is None:
                return None
            name = "Won't Do" if i.status == "Won't Do" else "Done"
            rid = js.RESOLUTIONS[name]
            return {"self": f"{self.api(version)}/resolution/{rid}", "id": rid, "description": name, "name": name}
        if fid == "assignee":
            return self.user(people[i.assignee], version) if i.assignee is not None else None
        if fid in ("reporter", "creator"):
            return self.user(people[i.reporter], version)
        if fid == "created":
            return jira_ts(i.created)
        if fid == "updated":
            return jira_ts(i.updated)
        if fid == "resolutiondate":
            return jira_ts(i.resolved) if i.resolved is not None else None
        if fid == "statuscategorychangedate":
            return jira_ts(self._status_category_changed(i))
        if fid == "duedate":
            return i.due
        if fid == "labels":
            return list(i.labels)
        if fid == "components" and self.shape.product_as == "components":
            return [self.component(i, version)]
        if fid in ("components", "fixVersions", "subtasks"):
            return []
        if fid == "parent":
            return OMIT  # no issue of the sandbox has a parent; Jira then leaves the key out
        if fid == "issuelinks":
            return self.links(i, version)
        if fid == "comment":
            return {"comments": comments, "self": f"{self.api(version)}/issue/{i.id}/comment",
                    "maxResults": len(comments), "total": len(comments), "startAt": 0}
        if fid == js.RANK:
            return f"0|i{i.id:05x}:"
        if fid == js.START_DATE:
            return None
        if fid == js.PRODUCT:
            if self.shape.product_as == "components":
                return OMIT  # no such field on this site
            option = self.option(fid, PRODUCT_BY_CODE[i.product].name, version)
            return [option] if self.shape.product_as == "multiselect" else option
        if i.kind != "incident":
            return None
        if fid == js.SEVERITY:
            return self.option(fid, i.severity, version, self.shape.severity_label(i.severity))
        if fid == js.DETECTION_ROUTE:
            return self.option(fid, i.route, version)
        if fid == js.CAUSE_CATEGORY:
            return self.option(fid, i.cause, version) if i.status == "Closed" else None
        if fid == js.DEVELOPMENT_CATEGORY:
            return self.option(fid, i.devcat, version) if i.status == "Closed" else None
        if fid == js.OCCURRED_AT and malformed and self._malformed(i, "Occurred At"):
            return MALFORMED_OCCURRED
        attr = {
            js.INTRODUCED_AT: "introduced", js.OCCURRED_AT: "occurred", js.DETECTED_AT: "detected",
            js.ACKNOWLEDGED_AT: "acknowledged", js.MITIGATED_AT: "mitigated", js.RECOVERED_AT: "recovered",
        }.get(fid)
        if attr is None:
            return None
        t = getattr(i, attr)
        if t is None:
            return None
        return jst_date(t) if attr in self.shape.date_pickers else jira_ts(t)

    def _status_category_changed(self, i: Issue) -> float:
        t = i.created
        for ev_t, _a, items in _status_events(i):
            if any(it[0] == "status" for it in items):
                t = max(t, ev_t)
        for h in i.extra_histories or []:
            if any(it.get("field") == "status" for it in h.get("items", [])):
                t = max(t, h.get("_t", t))
        return t

    def _malformed(self, i: Issue, what: str) -> bool:
        for d in self.org.malformed:
            if d["key"] == i.key and d["source"] == "jira" and what in d["detail"]:
                return True
        return False

    def issue(
        self, i: Issue, field_ids: list[str], version: str, *, changelog_cap: int | None = None,
        comments: list[dict] | None = None, malformed: bool = False, names: bool = False,
        summaries: dict[str, str] | None = None,
    ) -> dict:
        out: dict = {"expand": ISSUE_EXPAND, "id": str(i.id), "self": f"{self.api(version)}/issue/{i.id}",
                     "key": i.key}
        if field_ids:
            fields: dict = {}
            for fid in field_ids:
                if fid == "summary" and malformed and self._malformed(i, "summary"):
                    continue
                if fid == "summary" and summaries and i.key in summaries:  # planted_text
                    fields[fid] = summaries[i.key]
                    continue
                value = self.field_value(i, fid, version, comments or [], malformed)
                if value is not OMIT:
                    fields[fid] = value
            out["fields"] = fields
        if names:
            out["names"] = {fid: field_name(fid, self.shape) for fid in field_ids}
        if changelog_cap is not None:
            histories = self.histories(i)
            newest = list(reversed(histories))[:changelog_cap]
            out["changelog"] = {"startAt": 0, "maxResults": len(newest), "total": len(histories),
                                "histories": newest}
        return out

    def histories(self, i: Issue) -> list[dict]:
        hs = render_histories(i, self.org.seed, self.org.people, self.user)
        out = [{k: v for k, v in h.items() if not k.startswith("_")} for h in hs]
        if self.shape is not DEFAULT_SHAPE:
            for h in out:
                for item in h.get("items", []):
                    if item.get("fieldId") == js.SEVERITY:
                        item["field"] = self.shape.severity_field
                        for k in ("fromString", "toString"):
                            item[k] = self.shape.severity_label(item.get(k))
        return out


def _status_events(i: Issue):
    return base_events(i, lambda _t: "")


def field_name(fid: str, shape: Shape = DEFAULT_SHAPE) -> str:
    if fid in js.SYSTEM_FIELDS:
        return js.SYSTEM_FIELDS[fid][0]
    custom = js.shaped_custom_fields(shape)
    if fid in custom:
        return custom[fid][0]
    return fid


def field_schema(fid: str, shape: Shape = DEFAULT_SHAPE) -> dict | None:
    if fid in js.SYSTEM_FIELDS:
        return js.SYSTEM_FIELDS[fid][1]
    custom = js.shaped_custom_fields(shape)
    if fid in custom:
        name, ftype, kind, _o = custom[fid]
        schema = {"type": ftype, "custom": kind, "customId": int(fid.rsplit("_", 1)[1])}
        return {**schema, "items": "option"} if ftype == "array" else schema
    return None


def hidden_email_people(org: Org) -> frozenset[int]:
    """Who hides their e-mail on a site of this shape: every n-th person whose display name no one else
    has (so Slack can still find them by name), never the app user."""
    every = org.shape.hidden_email_every
    if not every:
        return frozenset()
    names: dict[str, int] = {}
    for p in org.people:
        names[p.display_name] = names.get(p.display_name, 0) + 1
        names[p.real_name] = names.get(p.real_name, 0) + (p.real_name != p.display_name)
    unique = [p.index for p in org.people if names[p.display_name] == 1]
    return frozenset(unique[::every])
