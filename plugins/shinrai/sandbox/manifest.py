"""The sandbox manifest: what the organisation contains and which defects are planted."""

from __future__ import annotations

from .gen_slack import freeze_times
from .jira_schema import shaped_custom_fields
from .planted_text import defects as text_defects
from .state import SandboxState

RISK_DATABASE_ID = "5b1e0c7a-3f2d-4a8e-9c61-2d7f4b8a9e01"
RISK_DATA_SOURCE_ID = "5b1e0c7a-3f2d-4a8e-9c61-2d7f4b8a9e02"
CALENDAR_DATABASE_ID = "7c2f1d8b-4e3a-4b9f-8d72-3e8a5c9b0f11"
CALENDAR_DATA_SOURCE_ID = "7c2f1d8b-4e3a-4b9f-8d72-3e8a5c9b0f12"
# the Jira issue pages a relation shape's "Related Jira Issues" points at (shapes.Shape.related_as)
ISSUES_DATABASE_ID = "9d3e2f1a-5b4c-4d6e-8f70-4a9b6c0d1e21"
ISSUES_DATA_SOURCE_ID = "9d3e2f1a-5b4c-4d6e-8f70-4a9b6c0d1e22"


def slack_counts(state: SandboxState) -> dict[str, int]:
    org = state.org
    top = sum(c.n_top - c.unposted_top for c in org.channels)
    replies = sum(c.n_reply - c.unposted_replies for c in org.channels)
    top -= len(state.slack_deleted)
    top += sum(len(v) for v in state.slack_posted.values())
    replies += sum(len(v) for v in state.slack_posted_replies.values())
    if state.release_posts is None:
        posts = 0
        for inc in org.issues:
            if inc.kind == "incident":
                f, res = freeze_times(org.seed, inc, org.anchor_t)
                posts += (f is not None) + (res is not None)
        state.release_posts = posts
    return {
        "slack.incident_channels": sum(1 for c in org.channels if c.kind == "incident"),
        "slack.messages": top,
        "slack.replies": replies,
        "slack.release_posts": state.release_posts,
        "slack.users": len(org.people) + 3,  # people (incl. deleted) + Incident Bot + Release Bot + Slackbot
    }


def build_manifest(state: SandboxState) -> dict:
    org = state.org
    with state.lock:
        live = {"incident": 0, "postmortem": 0, "action": 0}
        for i in org.issues:
            if not i.deleted:
                live[i.kind] += 1
        counts = {
            "jira.incidents": live["incident"],
            "jira.postmortems": live["postmortem"],
            "jira.actions": live["action"],
            "jira.versions": sum(1 for r in org.releases if not r.version_deleted),
            "jira.users": len(org.people) + 1,  # people (incl. inactive) + the "Automation for Jira" app
            "notion.risk_records": sum(1 for r in org.risks if not r.trashed),
            "notion.release_calendar": sum(1 for r in org.releases if not r.trashed),
            "notion.users": sum(1 for p in org.people if not p.left) + 1,  # people + the integration bot
            **slack_counts(state),
        }
        defects = [dict(d) for d in org.defects]
        if state.faults.malformed:
            defects += [dict(d) for d in org.malformed if state.injector.active(d["source"])]
        defects += text_defects(state)
    return {
        "seed": org.seed,
        "scale": org.scale,
        "anchor": org.anchor.isoformat(),
        "history_start": org.history_start.isoformat(),
        "reliability_team_formed": org.team_formed.isoformat(),
        "counts": counts,
        "defects": defects,
        "notion": {
            "risk_records_database_id": RISK_DATABASE_ID,
            "risk_records_data_source_id": RISK_DATA_SOURCE_ID,
            "release_calendar_database_id": CALENDAR_DATABASE_ID,
            "release_calendar_data_source_id": CALENDAR_DATA_SOURCE_ID,
        },
        "shape": org.shape.name,
        "jira_fields": {name: fid for fid, (name, *_r) in shaped_custom_fields(org.shape).items()},
        "slack": {
            "release_channel": "release-announce",
            "team_channel": "reliability",
            "product_channels": [p.channel for p in org.products],
        },
    }
