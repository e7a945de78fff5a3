"""``mutate``: edit and delete a share of every stream, stamped with the wall clock."""

from __future__ import annotations

import math
import random
import time
from collections.abc import Sequence
from datetime import datetime

from . import jira_schema as js
from .ids import round_minute, round_ms
from .jira_render import issue_summary, release_description
from .model import Issue
from .notion_render import risk_title
from .state import SandboxState
from .timefmt import JST, jira_ts, slack_ts

EDIT_MARK = " (更新 / updated)"
PER_CHANNEL = 5  # Slack messages touched per chosen channel

# Next status for an issue that moves forward, per current status.
FORWARD: dict[str, str] = {
    "Open": "Investigating", "Investigating": "Mitigated", "Mitigated": "Closed",
    "Draft": "In Review", "In Review": "Published", "To Do": "In Progress", "In Progress": "Done",
}


def _count(fraction: float, n: int) -> int:
    return min(n, math.ceil(fraction * n)) if fraction > 0 and n else 0


def _pick(r: random.Random, items: list, fraction: float, delete_fraction: float) -> tuple[list, list]:
    n_del = _count(delete_fraction, len(items))
    n_chg = min(len(items) - n_del, _count(fraction, len(items)))
    chosen = r.sample(items, n_del + n_chg)
    return chosen[n_del:], chosen[:n_del]


def _history(issue: Issue, now: float, items: list[dict]) -> None:
    author = issue.assignee if issue.assignee is not None else issue.reporter
    issue.extra_histories = (issue.extra_histories or []) + [
        {"_t": now, "_author": author, "created": jira_ts(now), "items": items}
    ]


def _status_item(a: str, b: str) -> dict:
    return {"field": "status", "fieldtype": "jira", "fieldId": "status", "from": js.STATUSES[a][0],
            "fromString": a, "to": js.STATUSES[b][0], "toString": b}


def change_issue(issue: Issue, now: float) -> None:
    nxt = FORWARD.get(issue.status)
    if nxt is not None:
        items = [_status_item(issue.status, nxt)]
        if issue.kind == "incident":
            stamp = round_minute(now)
            if nxt == "Investigating":
                issue.acknowledged = issue.acknowledged or stamp
            elif nxt == "Mitigated":
                issue.mitigated = issue.mitigated or stamp
            elif nxt == "Closed":
                issue.recovered = issue.recovered or stamp
        issue.status = nxt
        if js.STATUSES[nxt][1] == "done":
            issue.resolved = round_ms(now)
            items.append({"field": "resolution", "fieldtype": "jira", "fieldId": "resolution", "from": None,
                          "fromString": None, "to": js.RESOLUTIONS["Done"], "toString": "Done"})
        _history(issue, now, items)
    else:
        current = issue_summary(issue)
        issue.summary_override = current + EDIT_MARK
        _history(issue, now, [{"field": "summary", "fieldtype": "jira", "fieldId": "summary", "from": None,
                               "fromString": current, "to": None, "toString": issue.summary_override}])
    issue.updated = round_ms(now)


def mutate(state: SandboxState, fraction: float = 0.01, delete_fraction: float = 0.0, seed: int = 1,
           search_lag_s: float | None = None, archive: Sequence[str] = (), unarchive: Sequence[str] = ()) -> dict:
    """``search_lag_s`` gives this batch of Jira changes its own indexing delay (search indexes
    updates out of order: an older change can stay hidden while a newer one is already visible).
    ``archive`` / ``unarchive``: Slack channel ids to archive or unarchive first (as
    ``conversations.archive`` / ``.unarchive`` would; ``changed["slack.channels"]`` lists them). Slack
    messages are edited and deleted in channels that are not archived only: Slack refuses both in an
    archived channel."""
    if not (0 <= fraction <= 1 and 0 <= delete_fraction <= 1):
        raise ValueError("fraction and delete_fraction must be within [0, 1]")
    org = state.org
    by_id = {c.id: c for c in org.channels}
    twice = [x for i, x in enumerate([*archive, *unarchive]) if x in [*archive, *unarchive][:i]]
    if twice:
        raise ValueError(f"Slack channel {twice[0]!r} is named twice in archive/unarchive")
    for ref, want in [*((x, True) for x in archive), *((x, False) for x in unarchive)]:
        if ref not in by_id:
            raise ValueError(f"no Slack channel with id {ref!r} to {'archive' if want else 'unarchive'}")
        if by_id[ref].archived == want:
            raise ValueError(f"Slack channel {ref!r} is {'already archived' if want else 'not archived'}")
    changed: dict[str, list[str]] = {}
    deleted: dict[str, list[str]] = {}
    with state.lock:
        r = random.Random(f"{org.seed}:mutate:{seed}:{state.mutations}")
        state.mutations += 1
        now = time.time()
        if archive or unarchive:
            for ref in archive:
                by_id[ref].archived = True
            for ref in unarchive:
                by_id[ref].archived = False
            changed["slack.channels"] = [*archive, *unarchive]
        for kind, stream in (("incident", "jira.incidents"), ("postmortem", "jira.postmortems"),
                             ("action", "jira.actions")):
            live = sorted((i for i in org.issues if i.kind == kind and not i.deleted), key=lambda i: i.id)
            chg, dele = _pick(r, live, fraction, delete_fraction)
            for issue in chg:
                state.remember_for_search(issue, now, search_lag_s)
                change_issue(issue, now)
            for issue in dele:
                issue.deleted = True
            changed[stream] = [i.key for i in chg]
            deleted[stream] = [i.key for i in dele]
        versions = [x for x in org.releases if not x.version_deleted]
        chg, dele = _pick(r, versions, fraction, delete_fraction)
        for rel in chg:
            rel.description_override = release_description(rel) + EDIT_MARK
        for rel in dele:
            rel.version_deleted = True
        changed["jira.versions"] = [str(x.version_id) for x in chg]
        deleted["jira.versions"] = [str(x.version_id) for x in dele]
        _mutate_notion(state, r, now, fraction, delete_fraction, changed, deleted)
        _mutate_slack(state, r, now, fraction, delete_fraction, changed, deleted)
        state.bump()
    return {"changed": changed, "deleted": deleted}


def _mutate_notion(state: SandboxState, r: random.Random, now: float, fraction: float, delete_fraction: float,
                   changed: dict, deleted: dict) -> None:
    org = state.org
    today = datetime.fromtimestamp(now, JST).date().isoformat()
    risks = [x for x in org.risks if not x.trashed]
    chg, dele = _pick(r, risks, fraction, delete_fraction)
    for risk in chg:
        if risk.status != "Closed":
            risk.last_reviewed = today
            risk.status = {"Open": "Investigating", "Investigating": "Mitigating", "Mitigating": "Monitoring",
                           "Monitoring": "Closed"}[risk.status]
        else:
            risk.title_override = f"{risk_title(risk)}{EDIT_MARK}"
        risk.edited = now
    for risk in dele:
        risk.trashed = True
        risk.edited = now
    changed["notion.risk_records"] = [x.page_id for x in chg]
    deleted["notion.risk_records"] = [x.page_id for x in dele]
    pages = [x for x in org.releases if not x.trashed]
    chg, dele = _pick(r, pages, fraction, delete_fraction)
    for rel in chg:
        rel.title_override = f"{rel.title_override or ''}{EDIT_MARK}"
        rel.page_edited = now
    for rel in dele:
        rel.trashed = True
        rel.page_edited = now
    changed["notion.release_calendar"] = [x.page_id for x in chg]
    deleted["notion.release_calendar"] = [x.page_id for x in dele]


def _mutate_slack(state: SandboxState, r: random.Random, now: float, fraction: float, delete_fraction: float,
                  changed: dict, deleted: dict) -> None:
    """Edits/deletes top-level messages, a few per chosen channel (so that few channels need generating).

    Only in channels that are not archived (Slack refuses edits and deletions there); the counts are
    still a share of every channel's messages, as for the other streams, so a run may touch fewer
    when the live channels cannot take that many."""
    org = state.org
    total = sum(c.n_top for c in org.channels)
    n_chg, n_del = _count(fraction, total), _count(delete_fraction, total)
    live = [c for c in org.channels if not c.archived]
    weights = [c.n_top for c in live]
    chg_ids: list[str] = []
    del_ids: list[str] = []
    attempts = 0
    while live and (len(chg_ids) < n_chg or len(del_ids) < n_del) and attempts < 4 * (n_chg + n_del) + 100:
        ch = r.choices(live, weights)[0]
        msgs = state.content.messages(ch).top
        for m in r.sample(msgs, min(len(msgs), PER_CHANNEL)):
            attempts += 1
            key = (ch.id, m["ts"])
            if key in state.slack_deleted or key in state.slack_edits:
                continue
            if len(del_ids) < n_del:
                if m.get("reply_count") or m is msgs[0] or m.get("subtype"):
                    continue
                state.slack_deleted.add(key)
                del_ids.append(f"{ch.id}:{m['ts']}")
            elif len(chg_ids) < n_chg:
                editor = m.get("user", org.incident_bot.user_id)
                state.slack_edits[key] = {"text": m.get("text", "") + EDIT_MARK,
                                          "edited": {"user": editor, "ts": slack_ts(now)}}
                chg_ids.append(f"{ch.id}:{m['ts']}")
    changed["slack.messages"] = chg_ids
    deleted["slack.messages"] = del_ids
