"""``generate_org``: the deterministic synthetic organisation behind the sandbox servers."""

from __future__ import annotations

import math
from datetime import date

from .changelog import base_updated
from .defects import plant_issue_defects, plant_risk_defects
from .gen_issues import IssueContext, generate_actions, generate_incidents, generate_postmortems, number_and_link
from .gen_later import grow
from .gen_notion import generate_risks
from .gen_releases import generate_releases, later_releases
from .gen_slack import plan_channels
from .ids import hex24, rng_for, slack_style, uuid4
from .model import PRODUCTS, Bot, Channel, Org, Person
from .text import FAMILY_NAMES, GIVEN_NAMES, WESTERN_NAMES
from .timefmt import at_midnight_jst, months_before, years_before

RELIABILITY_TEAM_SIZE = 4


def generate_people(seed: int, scale: float) -> list[Person]:
    n = max(40, round(40 * math.sqrt(scale)))
    left = set(rng_for(seed, "people").sample(range(RELIABILITY_TEAM_SIZE + 6, n), 2))
    used_emails: set[str] = set()
    used_slack: set[str] = set()
    people: list[Person] = []
    for i in range(n):
        r = rng_for(seed, "person", i)
        if r.random() < 0.8:
            family, family_ja = r.choice(FAMILY_NAMES)
            given, given_ja = r.choice(GIVEN_NAMES)
            gja: str | None = given_ja
            fja: str | None = family_ja
        else:
            given, family = r.choice(WESTERN_NAMES)
            gja = fja = None
        base = f"{given}.{family}".lower()
        email, k = f"{base}@example.com", 2
        while email in used_emails:
            email, k = f"{base}{k}@example.com", k + 1
        used_emails.add(email)
        display = f"{fja} {gja}" if fja and r.random() < 0.35 else f"{given} {family}"
        slack_id = slack_style(r, "U")
        while slack_id in used_slack:
            slack_id = slack_style(r, "U")
        used_slack.add(slack_id)
        product = "reliability" if i < RELIABILITY_TEAM_SIZE else PRODUCTS[i % len(PRODUCTS)].code
        people.append(Person(
            index=i, given=given, family=family, given_ja=gja, family_ja=fja, email=email,
            display_name=display, jira_account_id=hex24(r), notion_id=uuid4(r), slack_id=slack_id,
            product=product, left=i in left,
        ))
    return people


def _bot(seed: int, name: str) -> Bot:
    r = rng_for(seed, "bot", name)
    return Bot(slack_style(r, "U"), slack_style(r, "B"), slack_style(r, "A"), name)


REFERENCE_ANCHOR = date(2026, 11, 1)


def generate_org(seed: int = 7, scale: float = 1.0, anchor: date = REFERENCE_ANCHOR) -> Org:
    """Deterministic for (seed, scale, anchor). Slack messages are generated lazily elsewhere.

    History starts three years before the reference day (``REFERENCE_ANCHOR``), whatever the anchor: the
    organisation as of the reference day is generated first, then ``gen_later.grow`` adds the days up to
    a later anchor (new records, open ones moving on). So a later anchor keeps every record of an earlier
    one under the same key and id; an anchor before the reference day is refused (its past would differ).
    """
    if scale <= 0:
        raise ValueError("scale must be positive")
    if anchor < REFERENCE_ANCHOR:
        raise ValueError(f"sandbox anchor {anchor.isoformat()} is before {REFERENCE_ANCHOR.isoformat()}, the day "
                         "its history is generated to; use that day or a later one")
    start = years_before(REFERENCE_ANCHOR, 3)
    team = months_before(REFERENCE_ANCHOR, 14)
    start_t, ref_t, team_t = at_midnight_jst(start), at_midnight_jst(REFERENCE_ANCHOR), at_midnight_jst(team)
    anchor_t = at_midnight_jst(anchor)
    people = generate_people(seed, scale)
    reliability = [p.index for p in people if p.product == "reliability"]
    by_product = {pr.code: [p.index for p in people if p.product == pr.code] for pr in PRODUCTS}
    releases = generate_releases(seed, scale, start_t, ref_t)
    ctx = IssueContext(seed, scale, start_t, ref_t, team_t, reliability, by_product, releases)
    incidents = generate_incidents(ctx)
    pms, pm_parents = generate_postmortems(ctx, incidents)
    actions, action_parents = generate_actions(ctx, pms)
    issues = number_and_link(incidents, pms, pm_parents, actions, action_parents)
    closed = [i for i in sorted(incidents, key=lambda x: x.number) if i.status0 == "Closed"]
    r = rng_for(seed, "chatty-pick")
    for inc in r.sample(closed, min(len(closed), max(2, round(len(incidents) * 0.01)))):
        inc.chatty = r.randint(110, 160)
    defects, malformed, dup_id = plant_issue_defects(seed, incidents, actions, people)
    assignable = [p.index for p in people if not p.left]
    risks = generate_risks(seed, scale, start_t, ref_t, team_t, assignable, incidents, actions)
    risk_defects, risk_malformed = plant_risk_defects(risks, REFERENCE_ANCHOR, seed, as_of=anchor)
    defects += risk_defects
    malformed += risk_malformed
    reference_ids = {i.id for i in incidents}
    releases.extend(later_releases(seed, scale, start_t, ref_t, releases, anchor_t))
    grow(ctx, anchor_t, incidents, pms, pm_parents, actions, action_parents, {p.index for p in people if p.left})
    issues = number_and_link(incidents, pms, pm_parents, actions, action_parents)
    del pm_parents, action_parents
    for issue in issues:
        issue.updated = base_updated(issue)
    channels = plan_channels(seed, scale, start_t, anchor_t, team_t, incidents, releases, by_product)
    bad_channel = _malformed_channel([c for c in channels if c.issue_id in reference_ids], dup_id)
    malformed.append({
        "kind": "malformed_record", "source": "slack", "stream": "slack.messages", "key": bad_channel.id,
        "detail": f"the 6th message of #{bad_channel.name} has no ts",
    })
    org_r = rng_for(seed, "org")
    org = Org(
        seed=seed, scale=scale, anchor=anchor, anchor_t=anchor_t, history_start=start, team_formed=team,
        products=PRODUCTS, people=people, releases=releases, issues=issues, risks=risks, channels=channels,
        incident_bot=_bot(seed, "Incident Bot"), release_bot=_bot(seed, "Release Bot"),
        workflow_bot=_bot(seed, "Release Freeze Workflow"), team_id=slack_style(org_r, "T"),
        notion_bot_id=uuid4(org_r), defects=defects, malformed=malformed, duplicate_issue_id=dup_id,
        reference_t=ref_t,
    )
    org.index()
    _count_unposted(org)
    return org


def _count_unposted(org: Org) -> None:
    """Incident channels drawn from a whole lifecycle show only what was posted by the anchor."""
    from .slack_messages import SlackContent

    content = None
    for ch in org.channels:
        if ch.kind == "incident" and org.by_id[ch.issue_id].full is not None:  # type: ignore[index]
            content = content or SlackContent(org)
            shown = content.messages(ch)
            ch.unposted_top = ch.n_top - len(shown.top)
            ch.unposted_replies = ch.n_reply - sum(len(v) for v in shown.replies.values())


def _malformed_channel(channels: list[Channel], dup_id: int) -> Channel:
    incident_channels = [c for c in channels if c.kind == "incident" and c.issue_id != dup_id]
    return incident_channels[len(incident_channels) // 2]
