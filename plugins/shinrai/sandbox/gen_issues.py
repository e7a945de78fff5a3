"""Jira issues of the organisation: incidents, postmortems and prevention actions."""

from __future__ import annotations

from bisect import bisect_right
from dataclasses import dataclass
from datetime import date, timedelta

from .ids import lognormal, rng_for, round_minute, round_ms
from .model import (
    CAUSE_CATEGORIES,
    CAUSE_WEIGHTS,
    DETECTION_ROUTES,
    DETECTION_WEIGHTS,
    DEVELOPMENT_CATEGORIES,
    INCIDENT_PROJECT_KEY,
    PRODUCT_BY_CODE,
    PRODUCTS,
    SEVERITIES,
    SEVERITY_WEIGHTS,
    Issue,
    Release,
)
from .text import ACTIONS
from .timefmt import at_midnight_jst, to_jst

MIN = 60.0
HOUR = 3600.0
DAY = 86400.0
RELEASE_WINDOW = 72 * HOUR
ROUTE_DETECT_FACTOR = {"System alert": 0.6, "Customer inquiry": 2.5, "Internal report": 1.5, "Business SOS": 2.0}
NON_RELEASE_DEVCAT_WEIGHTS = (8, 8, 4, 18, 17, 10, 12, 23)


@dataclass
class IssueContext:
    seed: int
    scale: float
    start_t: float
    anchor_t: float
    team_t: float
    reliability: list[int]  # person indices of the reliability team
    by_product: dict[str, list[int]]  # person indices per product
    releases: list[Release]


def _release_times(releases: list[Release], anchor_t: float) -> dict[str, tuple[list[float], list[int]]]:
    out: dict[str, tuple[list[float], list[int]]] = {p.code: ([], []) for p in PRODUCTS}
    for r in releases:
        if r.at <= anchor_t:
            out[r.product][0].append(r.at)
            out[r.product][1].append(r.index)
    return out


def _sample_time(rng, ctx: IssueContext) -> float:
    span = ctx.anchor_t - ctx.start_t - 6 * HOUR
    after = max(ctx.anchor_t - ctx.team_t, 1.0)
    while True:
        t = ctx.start_t + rng.random() * span
        w = 1.0 if t < ctx.team_t else 0.5 - 0.15 * (t - ctx.team_t) / after
        dt = to_jst(t)
        if dt.hour < 8 or dt.hour >= 21:
            w *= 0.45
        if dt.weekday() >= 5:
            w *= 0.6
        if rng.random() < w:
            return t


def generate_incidents(ctx: IssueContext) -> list[Issue]:
    rel = _release_times(ctx.releases, ctx.anchor_t)
    n = max(20, round(400 * ctx.scale))
    weights = [p.weight for p in PRODUCTS]
    out: list[Issue] = []
    for i in range(n):
        r = rng_for(ctx.seed, "incident", i)
        t = _sample_time(r, ctx)
        product = r.choices(PRODUCTS, weights)[0]
        linked = r.random() < 0.30
        times, idxs = rel[product.code]
        k = bisect_right(times, t) - 1
        release: int | None = None
        if linked and k >= 0:
            if r.random() < 0.7:
                delay = min(lognormal(r, 4 * HOUR, 1.0), 71 * HOUR)
            else:
                delay = r.uniform(0.2 * HOUR, 71 * HOUR)
            if times[k] + delay < ctx.anchor_t - 3 * HOUR:
                release, t = idxs[k], times[k] + delay
        if release is None and k >= 0 and t - times[k] < RELEASE_WINDOW:
            nxt = times[k + 1] if k + 1 < len(times) else ctx.anchor_t
            lo, hi = times[k] + RELEASE_WINDOW + 0.5 * HOUR, min(nxt, ctx.anchor_t - 3 * HOUR)
            if hi > lo:
                t = r.uniform(lo, hi)
        out.append(_incident(ctx, r, i, product.code, t, release))
    _keep_recent_open(out, ctx)
    return out


def _keep_recent_open(incidents: list[Issue], ctx: IssueContext) -> None:
    """The newest incidents are still being handled at the anchor: Open, Investigating or Mitigated."""
    recent = sorted(incidents, key=lambda x: x.created)[-max(3, round(0.01 * len(incidents))):]
    for k, inc in enumerate(reversed(recent)):
        stage = k % 3  # 0: Investigating, 1: Mitigated, 2: Open
        inc.recovered = None
        inc.resolved0 = None
        if stage == 1 and inc.mitigated is None and inc.acknowledged is not None:
            inc.mitigated = max(inc.acknowledged,
                                min(round_minute(inc.acknowledged + 45 * MIN), round_minute(ctx.anchor_t - 5 * MIN)))
        if stage != 1:
            inc.mitigated = None
        if stage == 2:
            inc.acknowledged = None
            inc.assignee = None
            inc.severity0 = inc.severity
        inc.status0 = ("Investigating", "Mitigated", "Open")[stage]


def _incident(ctx: IssueContext, r, i: int, code: str, t: float, release: int | None) -> Issue:
    sev = r.choices(SEVERITIES, SEVERITY_WEIGHTS)[0]
    route = r.choices(DETECTION_ROUTES, DETECTION_WEIGHTS)[0]
    if release is not None:
        cause = r.choices(("Code defect", "Configuration error", "Data issue", "Capacity"), (70, 15, 10, 5))[0]
        if ctx.releases[release].kind == "Hotfix":
            devcat = "Hotfix" if r.random() < 0.8 else "Regular release"
        else:
            devcat = r.choices(
                ("Regular release", "New feature", "Configuration change", "Data migration"), (75, 12, 8, 5)
            )[0]
    else:
        cause = r.choices(CAUSE_CATEGORIES, CAUSE_WEIGHTS)[0]
        devcat = r.choices(DEVELOPMENT_CATEGORIES, NON_RELEASE_DEVCAT_WEIGHTS)[0]
        if cause == "Third-party outage":
            devcat = "Third party"
    occurred = round_minute(t)
    detected = round_minute(occurred + lognormal(r, 12 * MIN * ROUTE_DETECT_FACTOR[route], 1.1))
    ack: float | None = round_minute(detected + lognormal(r, (6 if sev == "SEV1" else 10) * MIN, 1.0))
    has_mit = r.random() < 0.8
    mit = round_minute(ack + lognormal(r, 60 * MIN, 1.0)) if has_mit else None
    rec = round_minute((mit or ack) + lognormal(r, 3 * HOUR, 1.1) * (1.0 if has_mit else 1.3))
    created = round_ms(detected + lognormal(r, 4 * MIN, 0.8) + r.random())
    if created > ctx.anchor_t - 30 * MIN:
        delta = created - (ctx.anchor_t - r.uniform(1, 3) * HOUR)
        occurred, detected, created = occurred - delta, detected - delta, created - delta
        ack, rec = ack - delta, rec - delta
        mit = mit - delta if mit is not None else None
        occurred, detected, ack, rec = (round_minute(x) for x in (occurred, detected, ack, rec))
        mit = round_minute(mit) if mit is not None else None
    if release is not None:
        introduced: float | None = round_minute(ctx.releases[release].at)
    elif devcat in ("Third party", "No change") or r.random() >= 0.7:
        introduced = None
    else:
        introduced = round_minute(occurred - lognormal(r, 5 * DAY, 1.0))
    if occurred > ctx.anchor_t - 14 * DAY and r.random() < 0.5:
        rec = None
        if mit is not None and r.random() < 0.4:
            mit = None
    stages: list[float | None] = [ack, mit, rec]
    for j, s in enumerate(stages):
        if s is not None and s > ctx.anchor_t:
            stages[j:] = [None] * (len(stages) - j)
            break
    ack, mit, rec = stages
    resolved = round_ms(rec + lognormal(r, 20 * HOUR, 0.9)) if rec is not None else None
    if resolved is not None and resolved > ctx.anchor_t:
        resolved = None
    if resolved is not None:
        status = "Closed"
    elif mit is not None or rec is not None:
        status = "Mitigated"
    elif ack is not None:
        status = "Investigating"
    else:
        status = "Open"
    if occurred >= ctx.team_t and r.random() < 0.5:
        commander = r.choice(ctx.reliability)
    else:
        commander = r.choice(ctx.by_product[code])
    reporter = r.choice(ctx.by_product[code] + ctx.reliability)
    sev0 = sev
    if ack is not None and r.random() < 0.15:
        k = SEVERITIES.index(sev) + r.choice((-1, 1))
        sev0 = SEVERITIES[min(max(k, 0), 3)]
    labels: list[str] = []
    if route in ("Customer inquiry", "Business SOS"):
        labels.append("customer-impact")
    if release is not None:
        labels.append("regression")
    if sev == "SEV1":
        labels.append("major")
    return Issue(
        kind="incident", gen=i, project=INCIDENT_PROJECT_KEY, product=code, created=created,
        status0=status, resolved0=resolved, assignee=commander if ack is not None else None,
        reporter=reporter, text_variant=r.randrange(4), text_style=r.choices((0, 1, 2), (60, 25, 15))[0],
        labels=tuple(labels), severity=sev, severity0=sev0, introduced=introduced, occurred=occurred,
        detected=detected, acknowledged=ack, mitigated=mit, recovered=rec, route=route, cause=cause,
        devcat=devcat, release=release,
    )


def generate_postmortems(ctx: IssueContext, incidents: list[Issue]) -> tuple[list[Issue], list[Issue]]:
    """Postmortems and, aligned with them, the incident each one belongs to."""
    pms: list[Issue] = []
    parents: list[Issue] = []
    for inc in incidents:
        r = rng_for(ctx.seed, "postmortem", inc.gen)
        if inc.recovered is None:
            continue
        p = {"SEV1": 0.97, "SEV2": 0.97, "SEV3": 0.97, "SEV4": 0.35}.get(inc.severity or "", 0.5)
        if r.random() >= p:
            continue
        created = round_ms(inc.recovered + lognormal(r, 20 * HOUR, 0.7))
        if created > ctx.anchor_t - HOUR:
            continue
        u = r.random()
        done: float | None
        if u < 0.70:
            done = max(created + 2 * HOUR, inc.recovered + r.uniform(1.5, 7.0) * DAY)
        elif u < 0.90:
            done = max(created + 2 * HOUR, inc.recovered + r.uniform(8, 45) * DAY)
        else:
            done = None
        if done is not None and done > ctx.anchor_t:
            done = None
        started: float | None
        if done is not None:
            started = created + (done - created) * r.uniform(0.3, 0.7)
        elif r.random() < 0.5:
            started = created + r.uniform(1, 3) * DAY
        else:
            started = None
        if started is not None and started > ctx.anchor_t:
            started = None
        status = "Published" if done is not None else ("In Review" if started is not None else "Draft")
        owner = inc.assignee if inc.assignee is not None else inc.reporter
        pms.append(Issue(
            kind="postmortem", gen=inc.gen, project=INCIDENT_PROJECT_KEY, product=inc.product,
            created=created, status0=status, resolved0=round_ms(done) if done is not None else None,
            assignee=owner, reporter=owner, text_variant=inc.text_variant, text_style=inc.text_style,
            started=round_ms(started) if started is not None else None,
        ))
        parents.append(inc)
    return pms, parents


def generate_actions(ctx: IssueContext, pms: list[Issue]) -> tuple[list[Issue], list[Issue]]:
    """Prevention actions and, aligned with them, their postmortem."""
    actions: list[Issue] = []
    parents: list[Issue] = []
    anchor_day = to_jst(ctx.anchor_t).date()
    for pm in pms:
        r = rng_for(ctx.seed, "actions", pm.gen)
        k = r.choices(range(1, 9), (5, 12, 20, 22, 18, 12, 7, 4))[0]
        for j in range(k):
            a = _action(ctx, rng_for(ctx.seed, "action", f"{pm.gen}:{j}"), pm, j, anchor_day)
            if a is not None:
                actions.append(a)
                parents.append(pm)
    return actions, parents


def _action(ctx: IssueContext, r, pm: Issue, j: int, anchor_day: date) -> Issue | None:
    created = round_ms(pm.created + r.uniform(0.1, 10) * DAY)
    if created > ctx.anchor_t - HOUR:
        return None
    due_d = to_jst(created).date() + timedelta(days=r.choice((14, 21, 30, 30, 45, 60, 90)))
    due_end = at_midnight_jst(due_d) + DAY
    owner = r.choice(ctx.reliability) if r.random() < 0.08 else r.choice(ctx.by_product[pm.product])
    resolved: float | None = None
    status = ""
    if due_end <= ctx.anchor_t:
        u = r.random()
        if u < 0.55:
            resolved, status = created + (due_end - created) * r.uniform(0.2, 0.98), "Done"
        elif u < 0.75:
            resolved, status = due_end + lognormal(r, 10 * DAY, 0.8), "Done"
        elif u < 0.80:
            resolved, status = created + (due_end - created) * r.uniform(0.1, 0.9), "Won't Do"
    elif r.random() < 0.25:
        resolved, status = created + (ctx.anchor_t - created) * r.uniform(0.2, 0.95), "Done"
    if resolved is not None and resolved > ctx.anchor_t:
        resolved = None
    if resolved is None:
        status = "In Progress" if r.random() < 0.5 else "To Do"
    end = resolved if resolved is not None else ctx.anchor_t
    started = None
    if status == "In Progress" or (status == "Done" and r.random() < 0.8):
        started = round_ms(created + (end - created) * r.uniform(0.1, 0.5))
    due0 = None
    due_changed = None
    if r.random() < 0.1 and due_d - timedelta(days=14) > to_jst(created).date():
        due0 = (due_d - timedelta(days=14)).isoformat()
        due_changed = round_ms(created + (end - created) * r.uniform(0.2, 0.6))
    return Issue(
        kind="action", gen=pm.gen * 16 + j, project=PRODUCT_BY_CODE[pm.product].project_key,
        product=pm.product, created=created, status0=status,
        resolved0=round_ms(resolved) if resolved is not None else None, assignee=owner,
        reporter=pm.assignee if pm.assignee is not None else owner, text_variant=r.randrange(len(ACTIONS)),
        text_style=r.choices((0, 1, 2), (50, 30, 20))[0], due=due_d.isoformat(), due0=due0,
        due_changed=due_changed, started=started,
    )


def number_and_link(
    incidents: list[Issue], pms: list[Issue], pm_parents: list[Issue],
    actions: list[Issue], action_parents: list[Issue],
) -> list[Issue]:
    """Assign keys (per project, creation order) and global ids (creation order); wire links."""
    inc_project = sorted(incidents + pms, key=lambda x: (x.created, x.kind, x.gen))
    for n, x in enumerate(inc_project, 1):
        x.number = n
    for product in PRODUCTS:
        mine = sorted((a for a in actions if a.project == product.project_key), key=lambda x: (x.created, x.gen))
        for n, x in enumerate(mine, 1):
            x.number = n
    everything = incidents + pms + actions
    for x in everything:
        x.linked_from = []
    everything.sort(key=lambda x: (x.created, x.project, x.number))
    for rank, x in enumerate(everything):
        x.id = 10001 + rank
    for pm, inc in zip(pms, pm_parents, strict=True):
        pm.link_to = inc.id
        inc.linked_from.append(pm.id)
    for a, pm in zip(actions, action_parents, strict=True):
        a.link_to = pm.id
        pm.linked_from.append(a.id)
    for x in everything:
        x.status = x.status0
        x.resolved = x.resolved0
    return everything
