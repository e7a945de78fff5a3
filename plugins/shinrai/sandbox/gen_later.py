"""What happens after the reference day: new Jira issues, and the records still open at it moving on.

The organisation as of the reference day (``REFERENCE_ANCHOR``) is generated once, the same for every
anchor. A later anchor adds the days between the two: incidents drawn per calendar day (from the seed
and the day, never from the anchor), their postmortems and prevention actions, and the later stages of
the records that were still open. Every record here has an absolute lifecycle drawn before the anchor
is looked at; the anchor only decides what of it has happened yet (a record exists once created, a
stage shows once reached). So the records of day D are the same at every anchor after D, and a later
anchor only adds records created after the earlier one and edits the open ones: the past stays put.
"""

from __future__ import annotations

import math
from bisect import bisect_right
from dataclasses import replace
from datetime import timedelta

from .gen_issues import DAY, HOUR, MIN, RELEASE_WINDOW, IssueContext, _incident
from .ids import lognormal, rng_for, round_minute, round_ms
from .model import PRODUCT_BY_CODE, PRODUCTS, Issue
from .text import ACTIONS
from .timefmt import at_midnight_jst, to_jst

# the decline of the incident rate after the team forms ends at the reference day's level
RATE_AT_REFERENCE = 0.35
WEEKEND_FACTOR = 0.6
NIGHT_FACTOR = 0.45
RELEASE_SHARE = 0.9
LONG_RUNNING_SHARE = 0.5  # as on the reference day: half the last fortnight's incidents are still open
ACTION_COUNT_WEIGHTS = (5, 12, 20, 22, 18, 12, 7, 4)


def grow(ctx: IssueContext, anchor_t: float, incidents: list[Issue], pms: list[Issue], pm_parents: list[Issue],
         actions: list[Issue], action_parents: list[Issue], left: set[int]) -> None:
    """Extends the reference-day lists in place to ``anchor_t`` (>= ``ctx.anchor_t``, the reference day;
    on it, only the open records get their whole lifecycle, which their Slack channels are drawn from)."""
    base_incidents, base_pms = list(incidents), list(pms)
    base_action_gens = {a.gen for a in actions}
    moving = [inc for inc in base_incidents if inc.status0 != "Closed"]
    for inc in moving:
        _progress_incident(ctx, inc, anchor_t)
    for pm in base_pms:
        if pm.status0 != "Published":
            _progress_postmortem(ctx, pm, anchor_t)
    for a in list(actions):
        if a.status0 in ("To Do", "In Progress") and a.assignee not in left:
            _progress_action(ctx, a, anchor_t)
    new = new_incidents(ctx, anchor_t, len(base_incidents))
    incidents.extend(new)
    have_pm = {p.gen for p in base_pms}
    for inc in moving + new:
        if inc.gen in have_pm:
            continue
        pm = _postmortem(ctx, inc, anchor_t)
        if pm is not None:
            pms.append(pm)
            pm_parents.append(inc)
    for pm in pms:
        r = rng_for(ctx.seed, "actions", pm.gen)
        k = r.choices(range(1, 9), ACTION_COUNT_WEIGHTS)[0]
        for j in range(k):
            if pm.gen * 16 + j in base_action_gens:
                continue
            a = _action(ctx, rng_for(ctx.seed, "action", f"{pm.gen}:{j}"), pm, j, anchor_t)
            if a is not None:
                actions.append(a)
                action_parents.append(pm)


# ------------------------------------------------------------------ incidents
def daily_rate(ctx: IssueContext) -> float:
    """Incidents a weekday after the reference day: the reference history's rate at its end."""
    n = max(20, round(400 * ctx.scale))
    before = (ctx.team_t - ctx.start_t) / DAY
    after = (ctx.anchor_t - ctx.team_t) / DAY
    mass = before + after * (0.5 + RATE_AT_REFERENCE) / 2  # the weight's integral over the history
    week = (5 + 2 * WEEKEND_FACTOR) / 7
    return n * RATE_AT_REFERENCE / mass / week


def _poisson(r, lam: float) -> int:
    limit, k, p = math.exp(-lam), 0, r.random()
    while p > limit:
        k += 1
        p *= r.random()
    return k


def new_incidents(ctx: IssueContext, anchor_t: float, first_gen: int) -> list[Issue]:
    """Incidents of the days from the reference day to the anchor, created before the anchor."""
    forever = replace(ctx, anchor_t=math.inf)
    released: dict[str, tuple[list[float], list[int]]] = {p.code: ([], []) for p in PRODUCTS}
    for rel in sorted(ctx.releases, key=lambda x: x.at):  # every release before each incident is known
        released[rel.product][0].append(rel.at)
        released[rel.product][1].append(rel.index)
    rate = daily_rate(ctx)
    weights = [p.weight for p in PRODUCTS]
    out: list[Issue] = []
    gen = first_gen
    day = to_jst(ctx.anchor_t).date()
    while at_midnight_jst(day) < anchor_t:
        day_t = at_midnight_jst(day)
        lam = rate * (WEEKEND_FACTOR if day.weekday() >= 5 else 1.0)
        for j in range(_poisson(rng_for(ctx.seed, "incidents-on", day.isoformat()), lam)):
            r = rng_for(ctx.seed, "incident-on", f"{day.isoformat()}:{j}")
            while True:
                t = day_t + r.random() * DAY
                hour = to_jst(t).hour
                if r.random() < (NIGHT_FACTOR if hour < 8 or hour >= 21 else 1.0):
                    break
            product = r.choices(PRODUCTS, weights)[0]
            release = None
            times, idxs = released[product.code]
            k = bisect_right(times, t) - 1
            # within 72 hours of its product's latest release, an incident is mostly caused by it (the
            # time stays: moving it back to the release would put a new record in the known past)
            if k >= 0 and t - times[k] < RELEASE_WINDOW and r.random() < RELEASE_SHARE:
                release = idxs[k]
            inc = _incident(forever, r, gen, product.code, t, release)
            gen += 1
            if r.random() < LONG_RUNNING_SHARE:  # some take days to recover (the reference day has them too)
                _delay_recovery(r, inc)
            if inc.created >= anchor_t:
                continue
            inc.full = (inc.acknowledged, inc.mitigated, inc.recovered, inc.resolved0, inc.assignee, inc.severity0)
            _show_incident(inc, anchor_t)
            out.append(inc)
        day += timedelta(days=1)
    return out


def _delay_recovery(r, inc: Issue) -> None:
    delay = lognormal(r, 8 * DAY, 0.7)
    assert inc.recovered is not None and inc.resolved0 is not None
    inc.recovered = round_minute(inc.recovered + delay)
    inc.resolved0 = round_ms(inc.resolved0 + delay)
    if inc.mitigated is not None and r.random() < 0.4:
        inc.mitigated = None


def _progress_incident(ctx: IssueContext, inc: Issue, anchor_t: float) -> None:
    """The rest of the lifecycle of an incident open on the reference day: every new stage after it."""
    ref = ctx.anchor_t
    r = rng_for(ctx.seed, "progress", inc.gen)
    after = ref + MIN
    ack = inc.acknowledged
    if ack is None:
        ack = max(round_minute(max(inc.detected or inc.created, ref) + lognormal(r, 40 * MIN, 1.0)), after)
    mit, rec = inc.mitigated, inc.recovered
    has_mit = r.random() < 0.8
    if rec is None:
        if mit is None and has_mit:
            mit = max(round_minute(max(ack, ref) + lognormal(r, 6 * HOUR, 1.0)), after)
        rec = max(round_minute(max(mit or ack, ref) + lognormal(r, 1.5 * DAY, 0.8)), after)
    resolved = round_ms(max(rec, ref) + lognormal(r, 20 * HOUR, 0.9))
    commander = inc.assignee
    if commander is None:
        code = inc.product
        pick_team = inc.occurred is not None and inc.occurred >= ctx.team_t and r.random() < 0.5
        commander = r.choice(ctx.reliability) if pick_team else r.choice(ctx.by_product[code])
    inc.full = (ack, mit, rec, resolved, commander, inc.severity0)
    _show_incident(inc, anchor_t)


def _show_incident(inc: Issue, anchor_t: float) -> None:
    """The incident as it stands at ``anchor_t``: the stages of ``inc.full`` reached by then."""
    assert inc.full is not None
    ack, mit, rec, resolved, commander, sev0 = inc.full
    stages: list[float | None] = [ack, mit, rec]
    for j, s in enumerate(stages):
        if s is not None and s >= anchor_t:
            stages[j:] = [None] * (len(stages) - j)
            break
    ack, mit, rec = stages
    if resolved is not None and (rec is None or resolved >= anchor_t):
        resolved = None
    inc.acknowledged, inc.mitigated, inc.recovered, inc.resolved0 = ack, mit, rec, resolved
    inc.assignee = commander if ack is not None else None
    inc.severity0 = sev0 if ack is not None else inc.severity
    if resolved is not None:
        inc.status0 = "Closed"
    elif mit is not None or rec is not None:
        inc.status0 = "Mitigated"
    elif ack is not None:
        inc.status0 = "Investigating"
    else:
        inc.status0 = "Open"


# ------------------------------------------------------------------ postmortems
def _postmortem(ctx: IssueContext, inc: Issue, anchor_t: float) -> Issue | None:
    """The postmortem of an incident recovered after the reference day, if it exists by ``anchor_t``."""
    full = inc.full
    rec = full[2] if full is not None else inc.recovered
    owner = full[4] if full is not None else inc.assignee
    if rec is None:
        return None
    r = rng_for(ctx.seed, "postmortem", inc.gen)
    p = {"SEV1": 0.97, "SEV2": 0.97, "SEV3": 0.97, "SEV4": 0.35}.get(inc.severity or "", 0.5)
    if r.random() >= p:
        return None
    created = round_ms(rec + lognormal(r, 20 * HOUR, 0.7))
    if created < ctx.anchor_t or created >= anchor_t:
        return None
    u = r.random()
    done: float | None
    if u < 0.70:
        done = max(created + 2 * HOUR, rec + r.uniform(1.5, 7.0) * DAY)
    elif u < 0.90:
        done = max(created + 2 * HOUR, rec + r.uniform(8, 45) * DAY)
    else:
        done = None
    if done is not None:
        started: float | None = created + (done - created) * r.uniform(0.3, 0.7)
    elif r.random() < 0.5:
        started = created + r.uniform(1, 3) * DAY
    else:
        started = None
    owner = owner if owner is not None else inc.reporter
    pm = Issue(kind="postmortem", gen=inc.gen, project=inc.project, product=inc.product, created=created,
               assignee=owner, reporter=owner, text_variant=inc.text_variant, text_style=inc.text_style)
    pm.full = (round_ms(started) if started is not None else None, round_ms(done) if done is not None else None)
    _show_postmortem(pm, anchor_t)
    return pm


def _progress_postmortem(ctx: IssueContext, pm: Issue, anchor_t: float) -> None:
    ref = ctx.anchor_t
    r = rng_for(ctx.seed, "pm-progress", pm.gen)
    done = round_ms(ref + lognormal(r, 6 * DAY, 0.8)) if r.random() < 0.85 else None
    started = pm.started
    if started is None and (done is not None or r.random() < 0.5):
        end = done if done is not None else ref + 10 * DAY
        started = round_ms(ref + (end - ref) * r.uniform(0.2, 0.6))
    pm.full = (started, done)
    _show_postmortem(pm, anchor_t)


def _show_postmortem(pm: Issue, anchor_t: float) -> None:
    assert pm.full is not None
    started, done = pm.full
    pm.started = started if started is not None and started < anchor_t else None
    pm.resolved0 = done if done is not None and done < anchor_t else None
    pm.status0 = "Published" if pm.resolved0 is not None else ("In Review" if pm.started is not None else "Draft")


# ------------------------------------------------------------------ prevention actions
def _action(ctx: IssueContext, r, pm: Issue, j: int, anchor_t: float) -> Issue | None:
    """Action ``j`` of a postmortem created after the reference day, if it exists by ``anchor_t``."""
    created = round_ms(pm.created + r.uniform(0.1, 10) * DAY)
    if created < ctx.anchor_t or created >= anchor_t:
        return None  # created before the reference day: it never happened (the reference day says so)
    due_d = to_jst(created).date() + timedelta(days=r.choice((14, 21, 30, 30, 45, 60, 90)))
    due_end = at_midnight_jst(due_d) + DAY
    owner = r.choice(ctx.reliability) if r.random() < 0.08 else r.choice(ctx.by_product[pm.product])
    u = r.random()
    resolved: float | None = None
    final = ""
    if u < 0.55:
        resolved, final = created + (due_end - created) * r.uniform(0.2, 0.98), "Done"
    elif u < 0.75:
        resolved, final = due_end + lognormal(r, 10 * DAY, 0.8), "Done"
    elif u < 0.80:
        resolved, final = created + (due_end - created) * r.uniform(0.1, 0.9), "Won't Do"
    else:
        final = "In Progress" if r.random() < 0.5 else "To Do"
    end = resolved if resolved is not None else due_end
    started = None
    if final == "In Progress" or (final == "Done" and r.random() < 0.8):
        started = round_ms(created + (end - created) * r.uniform(0.1, 0.5))
    due0 = due_changed = None
    if r.random() < 0.1 and due_d - timedelta(days=14) > to_jst(created).date():
        due0 = (due_d - timedelta(days=14)).isoformat()
        due_changed = round_ms(created + (end - created) * r.uniform(0.2, 0.6))
    a = Issue(
        kind="action", gen=pm.gen * 16 + j, project=PRODUCT_BY_CODE[pm.product].project_key,
        product=pm.product, created=created, assignee=owner,
        reporter=pm.assignee if pm.assignee is not None else owner, text_variant=r.randrange(len(ACTIONS)),
        text_style=r.choices((0, 1, 2), (50, 30, 20))[0],
    )
    a.full = (started, round_ms(resolved) if resolved is not None else None, final, due_d.isoformat(), due0,
              due_changed)
    _show_action(a, anchor_t)
    return a


def _progress_action(ctx: IssueContext, a: Issue, anchor_t: float) -> None:
    ref = ctx.anchor_t
    r = rng_for(ctx.seed, "action-progress", a.gen)
    u = r.random()
    resolved: float | None = None
    if u < 0.75:
        resolved, final = round_ms(ref + lognormal(r, 15 * DAY, 1.0)), "Done"
    elif u < 0.80:
        resolved, final = round_ms(ref + lognormal(r, 15 * DAY, 1.0)), "Won't Do"
    else:
        final = a.status0
    started = a.started
    if started is None and (final == "Done" and r.random() < 0.8 or final == "In Progress"):
        end = resolved if resolved is not None else ref + 20 * DAY
        started = round_ms(ref + (end - ref) * r.uniform(0.1, 0.5))
    a.full = (started, resolved, final, a.due, a.due0, a.due_changed)
    _show_action(a, anchor_t)


def _show_action(a: Issue, anchor_t: float) -> None:
    assert a.full is not None
    started, resolved, final, due, due0, due_changed = a.full
    a.started = started if started is not None and started < anchor_t else None
    a.resolved0 = resolved if resolved is not None and resolved < anchor_t else None
    if a.resolved0 is not None:
        a.status0 = final
    else:
        a.status0 = "In Progress" if a.started is not None else "To Do"
    if due_changed is not None and due_changed >= anchor_t:
        a.due, a.due0, a.due_changed = due0, None, None
    else:
        a.due, a.due0, a.due_changed = due, due0, due_changed
