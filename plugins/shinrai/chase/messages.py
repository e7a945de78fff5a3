"""Reminder texts: Slack mrkdwn (user text escaped by :func:`shinrai.hooks.mrkdwn.escape_mrkdwn`)
and Jira comments in ADF."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any

from shinrai.hooks.mrkdwn import escape_mrkdwn

STAGE_TITLES = {
    "heads_up": ("Heads-up: prevention action due soon", "再発防止策の期限が近づいています"),
    "due_today": ("Prevention action due today", "再発防止策の期限は本日です"),
    "overdue": ("Prevention action overdue", "再発防止策の期限を過ぎています"),
    "weekly_overdue": ("Prevention action still overdue", "再発防止策が期限超過のままです"),
    "escalation": ("Escalation: overdue prevention actions", "エスカレーション: 期限超過の再発防止策"),
}


def jira_link(base_url: str, key: str | None) -> str:
    if not key:
        return "—"
    return f"<{base_url.rstrip('/')}/browse/{escape_mrkdwn(key)}|{escape_mrkdwn(key)}>"


def _title(stage: str) -> str:
    en, ja = STAGE_TITLES.get(stage, (stage, stage))
    return f"{en} / {ja}"


def _line(row: Mapping[str, Any], jira_url: str) -> str:
    overdue = row.get("days_overdue")
    when = f"due {row['due_date']}" + (f", *{overdue} days overdue*" if overdue else "")
    owner = escape_mrkdwn(row.get("owner_display_name") or "unassigned")
    return (
        f"• {jira_link(jira_url, row['action_key'])} {escape_mrkdwn(row.get('summary'))} — {when}; "
        f"owner {owner}; postmortem {jira_link(jira_url, row.get('postmortem_key'))}, "
        f"incident {jira_link(jira_url, row.get('incident_key'))}"
    )


def owner_message(row: Mapping[str, Any], jira_url: str, ref: str) -> dict[str, Any]:
    """One reminder about one action, to its owner (or to the product channel, saying why)."""
    lines = [f"*{_title(row['reminder_stage'])}*", _line(row, jira_url)]
    if row.get("routing_reason"):
        lines.append(f"_Sent to this channel because: {escape_mrkdwn(row['routing_reason'])}_")
    text = "\n".join(lines)
    return {
        "text": f"{text}\n(ref {ref})",
        "blocks": [
            {"type": "section", "text": {"type": "mrkdwn", "text": text}},
            {"type": "context", "elements": [{"type": "mrkdwn", "text": f"shinrai reminder · ref {ref}"}]},
        ],
    }


def digest_message(product: str, rows: Sequence[Mapping[str, Any]], jira_url: str, ref: str) -> dict[str, Any]:
    """The escalation form: one message listing a product's overdue actions (not one per action)."""
    header = f"*{_title('escalation')}* — {escape_mrkdwn(product)} ({len(rows)})"
    body = "\n".join(_line(r, jira_url) for r in rows)
    return {
        "text": f"{header}\n{body}\n(ref {ref})",
        "blocks": [
            {"type": "section", "text": {"type": "mrkdwn", "text": header}},
            {"type": "section", "text": {"type": "mrkdwn", "text": body[:2900]}},
            {"type": "context", "elements": [{"type": "mrkdwn", "text": f"shinrai reminder · ref {ref}"}]},
        ],
    }


def adf_comment(row: Mapping[str, Any], run_date: date, ref: str) -> dict[str, Any]:
    """A Jira comment body in Atlassian Document Format (REST v3). Plain text nodes: no markup."""
    overdue = row.get("days_overdue")
    sentence = (
        f"{_title(row['reminder_stage'])}: due {row['due_date']}"
        + (f", {overdue} days overdue" if overdue else "")
        + f" (reminded on {run_date.isoformat()}; postmortem {row.get('postmortem_key') or '-'},"
        f" incident {row.get('incident_key') or '-'})."
    )
    return {
        "type": "doc",
        "version": 1,
        "content": [
            {"type": "paragraph", "content": [{"type": "text", "text": sentence}]},
            {"type": "paragraph", "content": [{"type": "text", "text": f"shinrai reminder · ref {ref}",
                                               "marks": [{"type": "em"}]}]},
        ],
    }
