"""Slack workspace plan: channels with their message counts (messages themselves are generated lazily)."""

from __future__ import annotations

from .ids import rng_for, slack_style
from .model import PRODUCTS, Channel, Issue, Release

MIN = 60.0
DAY = 86400.0


def freeze_times(seed: int, inc: Issue, anchor_t: float) -> tuple[float | None, float | None]:
    """When the release-freeze and resume workflow posts of an incident happen (None = no post)."""
    if inc.kind != "incident" or inc.severity not in ("SEV1", "SEV2"):
        return None, None
    r = rng_for(seed, "freeze", inc.id)
    freeze = inc.created + r.uniform(2, 15) * MIN
    if freeze > anchor_t:
        return None, None
    resume = inc.recovered + r.uniform(10, 90) * MIN if inc.recovered is not None else None
    if resume is not None and (resume > anchor_t or resume <= freeze):
        resume = None
    return freeze, resume


def incident_end_time(inc: Issue, anchor_t: float) -> float | None:
    if inc.recovered is None or inc.recovered + 30 * MIN > anchor_t:
        return None
    return inc.recovered


def plan_channels(
    seed: int, scale: float, start_t: float, anchor_t: float, team_t: float,
    incidents: list[Issue], releases: list[Release], people_by_product: dict[str, list[int]],
) -> list[Channel]:
    out: list[Channel] = []
    used: set[str] = set()

    def new_id(kind: str, index: object) -> str:
        r = rng_for(seed, kind, index)
        cid = slack_style(r, "C")
        while cid in used:
            cid = slack_style(r, "C")
        used.add(cid)
        return cid

    old = start_t - 400 * DAY
    for p in PRODUCTS:
        n = max(3, round(30 * scale))
        out.append(Channel(
            len(out), new_id("channel", p.code), p.channel, "product", False, old,
            people_by_product[p.code][0], product=p.code, n_top=3 + n, n_reply=max(1, round(6 * scale)),
            topic=f"{p.name_ja} / {p.name}", purpose=f"{p.name} product channel / {p.name_ja}の連絡用",
        ))
    released = sum(1 for r in releases if r.at <= anchor_t)
    posts = 0
    for inc in incidents:
        f, res = freeze_times(seed, inc, anchor_t)
        posts += (f is not None) + (res is not None)
    out.append(Channel(
        len(out), new_id("channel", "release-announce"), "release-announce", "release", False, old, 0,
        n_top=3 + released + posts, n_reply=0, topic="リリース告知 / Release announcements",
        purpose="Release announcements and release freezes (Workflow Builder)",
    ))
    out.append(Channel(
        len(out), new_id("channel", "reliability"), "reliability", "team", False, team_t, 0,
        n_top=3 + max(3, round(20 * scale)), n_reply=0, topic="Reliability team / 信頼性チーム",
        purpose="Reliability team: data-quality alerts and escalations",
    ))
    for inc in sorted(incidents, key=lambda x: x.number):
        r = rng_for(seed, "slackplan", inc.id)
        total = r.randint(20, 40)
        n_reply = r.randint(total // 6, total // 3)
        out.append(Channel(
            len(out), new_id("channel", inc.id), f"inc-{inc.number}-{inc.product}", "incident", True,
            inc.created, inc.assignee if inc.assignee is not None else inc.reporter, product=inc.product,
            issue_id=inc.id, n_top=total - n_reply, n_reply=n_reply,
            archived=inc.resolved0 is not None and inc.resolved0 < anchor_t - 30 * DAY,
            topic=f"INC-{inc.number}", purpose=f"Incident response for INC-{inc.number} / インシデント対応",
        ))
    return out
