"""Planted data-quality defects (always present) and malformed records (present with Faults.malformed)."""

from __future__ import annotations

from datetime import date, timedelta

from .ids import rng_for
from .model import Issue, Person, RiskRecord
from .timefmt import at_midnight_jst

MIN = 60.0
DAY = 86400.0


def _defect(kind: str, source: str, stream: str, key: str, detail: str) -> dict:
    return {"kind": kind, "source": source, "stream": stream, "key": key, "detail": detail}


def plant_issue_defects(
    seed: int, incidents: list[Issue], actions: list[Issue], people: list[Person],
) -> tuple[list[dict], list[dict], int]:
    """Mutates the chosen issues. Returns (defects, malformed, duplicate issue id)."""
    r = rng_for(seed, "defects")
    ordered = sorted(incidents, key=lambda i: i.number)
    pool = [i for i in ordered if i.status0 == "Closed" and i.mitigated is not None and not i.chatty]
    if len(pool) < 12:
        pool = [i for i in ordered if i.status0 == "Closed"]
    if len(pool) < 12:
        pool = list(ordered)
    middle = pool[len(pool) // 3]
    rest = [i for i in pool if i is not middle]
    chosen = r.sample(rest, min(11, len(rest)))
    chosen += [ordered[k % len(ordered)] for k in range(11 - len(chosen))]
    defects: list[dict] = []
    ooo, cause, dev, sev, malformed_inc = chosen[0:3], chosen[3:5], chosen[5:7], chosen[7:9], chosen[9:11]

    def add(kind: str, inc: Issue, detail: str) -> None:
        defects.append(_defect(kind, "jira", "jira.incidents", inc.key, detail))

    for n, inc in enumerate(ooo):
        assert inc.occurred is not None and inc.detected is not None
        if n == 0:
            inc.detected = inc.occurred - 20 * MIN
            add("timestamps_out_of_order", inc, "Detected At is 20 minutes before Occurred At")
        elif n == 1 and inc.mitigated is not None:
            inc.recovered = inc.mitigated - 30 * MIN
            add("timestamps_out_of_order", inc, "Recovered At is 30 minutes before Mitigated At")
        else:
            inc.acknowledged = inc.detected - 5 * MIN
            add("timestamps_out_of_order", inc, "Acknowledged At is 5 minutes before Detected At")
    for inc, value in zip(cause, ("Human error", "その他"), strict=False):
        inc.cause = value
        add("unknown_cause_category", inc, f"Cause Category {value!r} is not in the taxonomy")
    for inc, value in zip(dev, ("Refactoring", "不明"), strict=False):
        inc.devcat = value
        add("unknown_development_category", inc, f"Development Category {value!r} is not in the taxonomy")
    for inc in sev:
        inc.severity = inc.severity0 = None
        add("missing_severity", inc, "Incident Level is empty")
    add("duplicate_across_pages", middle,
        "search/jql delivers this incident twice: last item of one page and first item of the next")

    ordered_actions = sorted(actions, key=lambda a: (a.project, a.number))
    no_due = r.sample(ordered_actions, min(3, len(ordered_actions)))
    for a in no_due:
        a.due = a.due0 = None
        a.due_changed = None
        defects.append(_defect("action_without_due_date", "jira", "jira.actions", a.key, "duedate is empty"))
    left = [p.index for p in people if p.left]
    open_actions = [a for a in ordered_actions if a.status0 in ("To Do", "In Progress") and a not in no_due]
    for n, a in enumerate(r.sample(open_actions, min(len(left), len(open_actions)))):
        a.assignee = left[n]
    for a in open_actions:
        if a.assignee in left:
            who = people[a.assignee]  # type: ignore[index]
            defects.append(_defect(
                "action_owner_left", "jira", "jira.actions", a.key,
                f"open action owned by {who.email}, who has left (Jira active=false, Slack deleted)",
            ))
    malformed = [
        _defect("malformed_record", "jira", "jira.incidents", malformed_inc[0].key,
                "Occurred At is the unparseable string '2024-13-45T99:00'"),
        _defect("malformed_record", "jira", "jira.incidents", malformed_inc[1].key,
                "fields.summary is missing"),
    ]
    return defects, malformed, middle.id


def plant_risk_defects(risks: list[RiskRecord], anchor: date, seed: int,
                       as_of: date | None = None) -> tuple[list[dict], list[dict]]:
    """Plants a stale risk record as of ``anchor`` and lists the stale ones as of ``as_of`` (default the
    same day: a later day finds more of them stale, as records age)."""
    r = rng_for(seed, "risk-defects")
    open_risks = [x for x in risks if x.status != "Closed"]
    target = r.choice([x for x in open_risks if x.status == "Open"] or open_risks)
    reviewed = anchor - timedelta(days=150)
    target.last_reviewed = reviewed.isoformat()
    target.created = min(target.created, at_midnight_jst(reviewed) - 30 * DAY)
    target.recognized = min(target.recognized, target.created)
    target.edited = max(target.created + 3600, min(target.edited, at_midnight_jst(reviewed) + 11 * 3600))
    defects = []
    day = as_of or anchor
    for x in sorted(open_risks, key=lambda x: x.index):
        if x.last_reviewed is not None and (day - date.fromisoformat(x.last_reviewed)).days > 120:
            defects.append(_defect(
                "stale_risk_record", "notion", "notion.risk_records", x.page_id,
                f"{x.status} risk last reviewed {x.last_reviewed} (> 120 days before {day.isoformat()})",
            ))
    other = [x for x in risks if x is not target]
    bad = other[len(other) // 2] if other else target
    malformed = [_defect(
        "malformed_record", "notion", "notion.risk_records", bad.page_id,
        "Recognized At date.start is the garbage string '2024-02-30T25:61:00+09:00'",
    )]
    return defects, malformed
