"""Deliver what ``marts.rpt_overdue_actions`` says is due today, exactly once.

Owner reminders go one per action to the owner's DM (or to the product channel when the owner
cannot be reached, saying why). Escalations go as one digest per product channel, plus one digest
to the reliability team's channel. Every message carries a ``ref``; the ledger records it before
sending, so after a crash the next run finds the message in the recipient's history instead of
sending it twice.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import duckdb

from shinrai.chase import messages
from shinrai.chase.ledger import Ledger
from shinrai.extract.retry import SourceUnavailable
from shinrai.hooks.jira import JiraHook
from shinrai.hooks.slack import SlackHook

log = logging.getLogger(__name__)


@dataclass
class Planned:
    """One Slack message and the ledger rows (reminders) it delivers."""

    recipient: str  # a Slack user id (DM) or a channel name/id
    kind: str  # owner | channel | digest
    rows: list[dict[str, Any]]
    product: str | None = None
    ref: str = ""

    def reminder_ids(self) -> list[str]:
        return [r["reminder_id"] for r in self.rows]


@dataclass
class ChaseReport:
    run_date: date
    planned: int = 0
    sent: int = 0
    skipped_already_sent: int = 0
    recovered_after_crash: int = 0
    failed: int = 0
    jira_comments: int = 0
    dry_run_messages: list[dict[str, Any]] = field(default_factory=list)


def reminder_id(row: dict[str, Any]) -> str:
    return f"{row['action_id']}:{row['reminder_stage']}:{row['send_on']}"


def plan(rows: list[dict[str, Any]], team_channel: str) -> list[Planned]:
    planned: list[Planned] = []
    escalations: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        if row["reminder_stage"] == "escalation":
            escalations[row["recipient_slack_id"] or team_channel].append(row)
        else:
            kind = "owner" if row["recipient_type"] == "owner" else "channel"
            planned.append(Planned(row["recipient_slack_id"] or team_channel, kind, [row]))
    for channel, group in sorted(escalations.items()):
        planned.append(Planned(channel, "digest", group, product=group[0].get("product_code")))
    if escalations:
        every = [r for group in escalations.values() for r in group]
        planned.append(Planned(team_channel, "digest", every, product="all products / 全プロダクト"))
    for p in planned:
        basis = "|".join(sorted(p.reminder_ids())) + "|" + p.recipient + "|" + p.kind
        p.ref = "r-" + hashlib.sha256(basis.encode()).hexdigest()[:12]
    return planned


class Chaser:
    def __init__(
        self,
        warehouse: str,
        slack: SlackHook,
        jira: JiraHook | None,
        jira_url: str,
        team_channel: str,
        jira_comments: bool = False,
    ):
        self.warehouse = warehouse
        self.slack = slack
        self.jira = jira
        self.jira_url = jira_url
        self.team_channel = team_channel
        self.jira_comments = jira_comments
        self._channel_ids: dict[str, str] | None = None
        # Set when Slack stays down (retries exhausted): the rest of the run's messages are then
        # marked failed without another round of retries each, and go out on the next run.
        self._slack_down: str | None = None

    # -- reading -------------------------------------------------------------------------------

    @staticmethod
    def due_rows(con: duckdb.DuckDBPyConnection, run_date: date) -> list[dict[str, Any]]:
        cur = con.execute(
            "select * from marts.rpt_overdue_actions where send_on = ? "
            "order by product_code, stage_order, action_key",
            [run_date],
        )
        names = [d[0] for d in cur.description]
        rows = [dict(zip(names, r, strict=True)) for r in cur.fetchall()]
        for row in rows:
            row["reminder_id"] = reminder_id(row)
        return rows

    # -- the run -------------------------------------------------------------------------------

    def run(self, run_date: date, *, dry_run: bool = False, send: bool = True) -> ChaseReport:
        report = ChaseReport(run_date)
        with duckdb.connect(self.warehouse, read_only=dry_run or not send) as con:
            rows = self.due_rows(con, run_date)
            planned = plan(rows, self.team_channel)
            report.planned = len(planned)
            if dry_run or not send:
                for p in planned:
                    body = self._render(p, run_date)
                    report.dry_run_messages.append({"recipient": p.recipient, "ref": p.ref, **body})
                    if dry_run:
                        print(f"--- to {p.recipient} ({p.kind}, ref {p.ref})\n{body['text']}")
                if not send:
                    log.info("chaser: %d message(s) due on %s; sending is off for this run", len(planned), run_date)
                return report
            ledger = Ledger(con)
            ledger.ensure()
            for p in planned:
                self._deliver(p, run_date, ledger, report)
        return report

    def _render(self, p: Planned, run_date: date) -> dict[str, Any]:
        if p.kind == "digest":
            return messages.digest_message(p.product or "", p.rows, self.jira_url, p.ref)
        return messages.owner_message(p.rows[0], self.jira_url, p.ref)

    def _deliver(self, p: Planned, run_date: date, ledger: Ledger, report: ChaseReport) -> None:
        entries = ledger.entries(p.reminder_ids())
        if p.reminder_ids() and all(entries.get(i) and entries[i].status == "sent" for i in p.reminder_ids()):
            report.skipped_already_sent += 1
            self._comment(p, run_date, ledger, report)
            return
        if self._slack_down:
            ledger.failed(p.reminder_ids(), f"not attempted: {self._slack_down}")
            report.failed += 1
            return
        try:
            channel_id = self._channel_id(p.recipient)
            # A previous run died between sending and recording (pending), or its send failed in a
            # way that may still have delivered it (a timeout after Slack accepted): did it go out?
            unsure = [e for e in entries.values() if e.status in ("pending", "failed") and e.message_ref == p.ref]
            if unsure:
                ts = self._find_in_history(channel_id, p.ref)
                if ts:
                    ledger.sent(p.reminder_ids(), ts)
                    report.recovered_after_crash += 1
                    self._comment(p, run_date, ledger, report)
                    return
            ledger.pending(p.rows, p.recipient, channel_id, p.ref, run_date)
            body = self._render(p, run_date)
            client = self.slack.client
            response = self.slack.call(lambda: client.chat_postMessage(
                channel=channel_id, text=body["text"], blocks=body["blocks"], unfurl_links=False,
                unfurl_media=False))
        except SourceUnavailable as exc:
            ledger.failed(p.reminder_ids(), str(exc))
            report.failed += 1
            log.warning("chaser: could not remind %s (ref %s): %s; will retry next run", p.recipient, p.ref, exc)
            if exc.exhausted:
                self._slack_down = str(exc)
                log.warning("chaser: Slack stays down; the remaining reminders of this run wait for the next run")
            return
        ledger.sent(p.reminder_ids(), response["ts"])
        report.sent += 1
        self._comment(p, run_date, ledger, report)

    # -- Slack helpers -------------------------------------------------------------------------

    def _channel_id(self, recipient: str) -> str:
        client = self.slack.client
        if recipient.startswith(("U", "W")) and recipient.isupper():
            opened = self.slack.call(lambda: client.conversations_open(users=recipient))
            return opened["channel"]["id"]
        if self._channel_ids is None:
            self._channel_ids = {}
            cursor = None
            while True:
                page = self.slack.call(lambda cursor=cursor: client.conversations_list(
                    types="public_channel,private_channel", exclude_archived=True, limit=1000, cursor=cursor))
                self._channel_ids.update({c["name"]: c["id"] for c in page.get("channels") or []})
                cursor = (page.get("response_metadata") or {}).get("next_cursor") or None
                if not cursor:
                    break
        name = recipient.lstrip("#")
        if name in self._channel_ids:
            return self._channel_ids[name]
        if name in self._channel_ids.values():
            return name
        raise SourceUnavailable("Slack", f"channel {recipient!r} not found (or the app is not in it)")

    def _find_in_history(self, channel_id: str, ref: str) -> str | None:
        client = self.slack.client
        page = self.slack.call(lambda: client.conversations_history(channel=channel_id, limit=200))
        for message in page.get("messages") or []:
            if ref in (message.get("text") or "") or ref in json.dumps(message.get("blocks") or []):
                return message["ts"]
        return None

    # -- Jira comments -------------------------------------------------------------------------

    def _comment(self, p: Planned, run_date: date, ledger: Ledger, report: ChaseReport) -> None:
        if not self.jira_comments or self.jira is None or p.kind == "digest":
            return
        row = p.rows[0]
        entry = ledger.entries([row["reminder_id"]]).get(row["reminder_id"])
        if entry and entry.jira_comment_status == "added":
            return
        client = self.jira.client
        ref = f"{p.ref}-jira"
        if entry and entry.jira_comment_status == "pending":
            existing = self.jira.call(lambda: client.comments(row["action_key"]))
            found = next((c for c in existing if ref in json.dumps(getattr(c, "raw", {}), ensure_ascii=False)), None)
            if found is not None:
                ledger.jira_comment(row["reminder_id"], "added", str(found.id))
                return
        ledger.jira_comment(row["reminder_id"], "pending")
        try:
            comment = self.jira.call(lambda: client.add_comment(row["action_key"],
                                                                messages.adf_comment(row, run_date, ref)))
        except SourceUnavailable as exc:
            ledger.jira_comment(row["reminder_id"], "failed")
            log.warning("chaser: Jira comment on %s failed: %s", row["action_key"], exc)
            return
        ledger.jira_comment(row["reminder_id"], "added", str(comment.id))
        report.jira_comments += 1
