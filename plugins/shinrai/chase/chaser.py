"""Deliver the messages ``marts.rpt_reminder_messages`` says are due today, exactly once.

Who is told about what is decided in SQL: ``rpt_overdue_actions`` (one row per action and
reminder stage due today, with its recipient) and ``rpt_reminder_messages`` (one row per message:
owner DMs, product-channel reminders, one escalation digest per channel, one team digest to the
reliability team's channel). This module only renders those rows, delivers them and records the
ledger. It never builds the marts: :func:`ready_to_send` refuses to send from marts that were not
built, completely, as of the day being chased (the build bookkeeping of
:mod:`shinrai.transform.builds`).

Every message carries a ``ref``; the ledger records it before sending, so after a crash the next
run finds the message in the recipient's history instead of sending it twice.

**Ledger ids.** The model's ``ledger_ids``: one per reminder *per message that delivers it*: an
owner or channel reminder is keyed by its reminder id (``action:stage:send_on``); an escalation
appears in two digests, keyed ``<reminder id>:product-digest`` and ``<reminder id>:team-digest``.
Before issue 17 both digests wrote the bare reminder id, so the team's copy was never delivered.
Rows written that way by older versions are still honoured: a digest counts as sent when every
bare row it covers was sent *with this digest's old ref* (:attr:`Message.legacy_ref`), and is then
recorded under its own ids without a Slack call.
"""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import duckdb

from shinrai.chase import messages
from shinrai.chase.ledger import Entry, Ledger
from shinrai.hooks.jira import JiraHook
from shinrai.hooks.retry import SourceUnavailable
from shinrai.hooks.slack import SlackHook
from shinrai.transform import builds

log = logging.getLogger(__name__)

DIGESTS = ("product_digest", "team_digest")
TEAM_TITLE = "all products / 全プロダクト"


class RemindersNotBuilt(RuntimeError):
    """The marts hold no reminders evaluated for the day to chase: nothing may be sent."""


def ready_to_send(build: builds.Build | None, run_date: date) -> None:
    """Raise :class:`RemindersNotBuilt` unless the latest build of the marts finished and is as of
    ``run_date`` (the reminder models evaluate one day: the build's as-of date). A warehouse with
    no build on record (built by hand with dbt) is taken as it is: only rows for ``run_date`` are
    ever sent."""
    if build is None:
        return
    todo = (f"build the marts as of {run_date} first (the nightly DAG does, before it chases); "
            "no reminders sent")
    if build.status != builds.SUCCESS:
        raise RemindersNotBuilt(f"{build.describe()} did not finish ({build.status}): {todo}")
    if build.as_of_date != run_date:
        raise RemindersNotBuilt(f"the marts are as of {build.as_of_date} ({build.describe()}), "
                                f"not {run_date}: {todo}")


@dataclass
class Message:
    """One row of ``rpt_reminder_messages``, with the ``rpt_overdue_actions`` rows it lists."""

    message_id: str
    kind: str  # owner | channel | product_digest | team_digest
    recipient: str  # a Slack user id (DM) or a channel name/id
    product_codes: list[str]
    rows: list[dict[str, Any]]  # each with its reminder_id
    ledger_ids: list[str]
    ref: str = ""
    legacy_ref: str = ""  # the ref older versions gave this message (to honour their ledger rows)

    @property
    def is_digest(self) -> bool:
        return self.kind in DIGESTS

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


def _ref(ids: list[str], recipient: str, kind: str) -> str:
    basis = "|".join(sorted(ids)) + "|" + recipient + "|" + kind
    return "r-" + hashlib.sha256(basis.encode()).hexdigest()[:12]


def _records(cur: duckdb.DuckDBPyConnection) -> list[dict[str, Any]]:
    names = [d[0] for d in cur.description]
    return [dict(zip(names, r, strict=True)) for r in cur.fetchall()]


def due_messages(con: duckdb.DuckDBPyConnection, run_date: date) -> list[Message]:
    """The day's messages in sending order (single reminders, product digests, the team digest)."""
    try:
        actions = {(r["action_id"], r["reminder_stage"]): r for r in _records(con.execute(
            "select * from marts.rpt_overdue_actions where send_on = ?", [run_date]))}
        rows = _records(con.execute(
            "select * from marts.rpt_reminder_messages where send_on = ? "
            "order by message_kind in ('product_digest', 'team_digest'), message_kind = 'team_digest', "
            "product_codes[1], stage_order, recipient_slack_id, message_id", [run_date]))
    except duckdb.CatalogException as exc:  # marts built by a version without the model, or none
        raise RemindersNotBuilt(f"the warehouse has no reminder models ({exc}); build the marts first") from exc
    due = []
    for row in rows:
        listed = []
        for action_id, reminder_id in zip(row["action_ids"], row["reminder_ids"], strict=True):
            detail = actions.get((action_id, row["reminder_stage"]))
            if detail is None:
                raise RemindersNotBuilt(f"message {row['message_id']} lists {reminder_id}, which "
                                        "rpt_overdue_actions does not hold: the marts are half built")
            listed.append({**detail, "reminder_id": reminder_id})
        message = Message(row["message_id"], row["message_kind"], row["recipient_slack_id"],
                          list(row["product_codes"]), listed, list(row["ledger_ids"]))
        # The ref derives from the ledger ids (the two digests differ even when both go to the team
        # channel); for owner and channel reminders it is the ref older versions computed.
        ref_kind = "digest" if message.is_digest else message.kind
        message.ref = _ref(message.ledger_ids, message.recipient, ref_kind)
        message.legacy_ref = _ref(message.reminder_ids(), message.recipient, ref_kind)
        due.append(message)
    return due


class Chaser:
    def __init__(
        self,
        warehouse: str,
        slack: SlackHook,
        jira: JiraHook | None,
        jira_url: str,
        jira_comments: bool = False,
    ):
        self.warehouse = warehouse
        self.slack = slack
        self.jira = jira
        self.jira_url = jira_url
        self.jira_comments = jira_comments
        self._channel_ids: dict[str, str] | None = None
        # Set when Slack stays down (retries exhausted): the rest of the run's messages are then
        # marked failed without another round of retries each, and go out on the next run.
        self._slack_down: str | None = None

    # -- the run -------------------------------------------------------------------------------

    def run(self, run_date: date, *, dry_run: bool = False, send: bool = True) -> ChaseReport:
        report = ChaseReport(run_date)
        with duckdb.connect(self.warehouse, read_only=dry_run or not send) as con:
            planned = due_messages(con, run_date)
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

    def _render(self, p: Message, run_date: date) -> dict[str, Any]:
        if p.is_digest:
            title = TEAM_TITLE if p.kind == "team_digest" else ", ".join(p.product_codes)
            return messages.digest_message(title, p.rows, self.jira_url, p.ref)
        return messages.owner_message(p.rows[0], self.jira_url, p.ref)

    def _deliver(self, p: Message, run_date: date, ledger: Ledger, report: ChaseReport) -> None:
        ids = p.ledger_ids
        entries = ledger.entries(ids)
        if ids and all(entries.get(i) and entries[i].status == "sent" for i in ids):
            report.skipped_already_sent += 1
            self._comment(p, run_date, ledger, report)
            return
        legacy = self._legacy_entries(p, ledger)
        if legacy and all(e.status == "sent" for e in legacy.values()):
            # an older version sent this very digest under the bare reminder ids: record it, never resend
            first = next(iter(legacy.values()))
            ledger.pending(p.rows, p.recipient, first.channel_id or "", p.legacy_ref, run_date, ids=ids)
            ledger.sent(ids, first.slack_ts or "")
            report.skipped_already_sent += 1
            return
        if self._slack_down:
            ledger.failed(ids, f"not attempted: {self._slack_down}")
            report.failed += 1
            return
        try:
            channel_id = self._channel_id(p.recipient)
            # A previous run died between sending and recording (pending), or its send failed in a
            # way that may still have delivered it (a timeout after Slack accepted): did it go out?
            unsure = [e for e in entries.values() if e.status in ("pending", "failed") and e.message_ref == p.ref]
            refs = [p.ref] if unsure else []
            if legacy and p.legacy_ref != p.ref:  # an older version's unfinished attempt at this digest
                refs.append(p.legacy_ref)
            for ref in refs:
                ts = self._find_in_history(channel_id, ref)
                if ts:
                    ledger.pending(p.rows, p.recipient, channel_id, ref, run_date, ids=ids)
                    ledger.sent(ids, ts)
                    report.recovered_after_crash += 1
                    self._comment(p, run_date, ledger, report)
                    return
            ledger.pending(p.rows, p.recipient, channel_id, p.ref, run_date, ids=ids)
            body = self._render(p, run_date)
            client = self.slack.client
            response = self.slack.call(lambda: client.chat_postMessage(
                channel=channel_id, text=body["text"], blocks=body["blocks"], unfurl_links=False,
                unfurl_media=False))
        except SourceUnavailable as exc:
            ledger.failed(ids, str(exc))
            report.failed += 1
            log.warning("chaser: could not remind %s (ref %s): %s; will retry next run", p.recipient, p.ref, exc)
            if exc.exhausted:
                self._slack_down = str(exc)
                log.warning("chaser: Slack stays down; the remaining reminders of this run wait for the next run")
            return
        ledger.sent(ids, response["ts"])
        report.sent += 1
        self._comment(p, run_date, ledger, report)

    @staticmethod
    def _legacy_entries(p: Message, ledger: Ledger) -> dict[str, Entry]:
        """Rows an older version wrote for this digest under the bare reminder ids (recognised by
        the ref it gave the digest), or {} when there are none or they belong to another message."""
        if not p.is_digest:
            return {}
        entries = ledger.entries(p.reminder_ids())
        if len(entries) != len(p.rows) or any(e.message_ref != p.legacy_ref for e in entries.values()):
            return {}
        return entries

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

    def _comment(self, p: Message, run_date: date, ledger: Ledger, report: ChaseReport) -> None:
        if not self.jira_comments or self.jira is None or p.is_digest:
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
