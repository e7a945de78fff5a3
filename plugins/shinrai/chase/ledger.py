"""The reminder ledger: one row per action, stage and day *and message delivering it*, in the
warehouse (schema ``chaser``). The key column ``reminder_id`` holds the ledger id: the reminder id
for owner and channel reminders, ``<reminder id>:product-digest`` / ``:team-digest`` for the two
digests an escalation goes out in (rows of older versions carry the bare id for digests too).

A row is written as ``pending`` *before* the Slack call and turned ``sent`` (with the message ts)
after it, so a crash in between leaves evidence: the next run looks for the message's ``ref`` in
the recipient's history before deciding to send again. ``failed`` rows (Slack said no) are retried.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

import duckdb

SCHEMA = "chaser"


@dataclass(frozen=True)
class Entry:
    reminder_id: str
    status: str
    message_ref: str | None
    channel_id: str | None
    slack_ts: str | None
    jira_comment_status: str | None


class Ledger:
    def __init__(self, con: duckdb.DuckDBPyConnection):
        self.con = con

    def ensure(self) -> None:
        self.con.execute(f"create schema if not exists {SCHEMA}")
        self.con.execute(
            f"""
            create table if not exists {SCHEMA}.reminder_ledger (
                reminder_id varchar primary key,
                action_id varchar not null,
                action_key varchar,
                reminder_stage varchar not null,
                reminder_sequence integer,
                send_on date not null,
                recipient varchar,
                channel_id varchar,
                message_ref varchar,
                status varchar not null,
                slack_ts varchar,
                attempts integer not null default 0,
                first_attempt_at timestamptz,
                last_attempt_at timestamptz,
                sent_at timestamptz,
                error varchar,
                jira_comment_status varchar,
                jira_comment_id varchar
            )
            """
        )

    def entries(self, reminder_ids: Iterable[str]) -> dict[str, Entry]:
        ids = list(reminder_ids)
        if not ids:
            return {}
        rows = self.con.execute(
            f"""
            select reminder_id, status, message_ref, channel_id, slack_ts, jira_comment_status
            from {SCHEMA}.reminder_ledger where reminder_id in (select unnest(?::varchar[]))
            """,
            [ids],
        ).fetchall()
        return {r[0]: Entry(*r) for r in rows}

    def pending(self, rows: list[dict], recipient: str, channel_id: str, message_ref: str, send_on: date,
                ids: list[str] | None = None) -> None:
        """Record ``rows`` as being sent in one message; ``ids`` are their ledger ids (default: the
        reminder ids; a digest passes its own: the ``ledger_ids`` of ``marts.rpt_reminder_messages``)."""
        keys = ids if ids is not None else [row["reminder_id"] for row in rows]
        for key, row in zip(keys, rows, strict=True):
            self.con.execute(
                f"""
                insert into {SCHEMA}.reminder_ledger as l (reminder_id, action_id, action_key, reminder_stage,
                    reminder_sequence, send_on, recipient, channel_id, message_ref, status, attempts,
                    first_attempt_at, last_attempt_at)
                values (?, ?, ?, ?, ?, ?, ?, ?, ?, 'pending', 1, now(), now())
                on conflict (reminder_id) do update set
                    recipient = excluded.recipient, channel_id = excluded.channel_id,
                    message_ref = excluded.message_ref, status = 'pending',
                    attempts = l.attempts + 1, last_attempt_at = now()
                """,
                [key, row["action_id"], row.get("action_key"), row["reminder_stage"],
                 row.get("reminder_sequence"), send_on, recipient, channel_id, message_ref],
            )

    def sent(self, reminder_ids: Iterable[str], slack_ts: str) -> None:
        self.con.execute(
            f"""
            update {SCHEMA}.reminder_ledger set status = 'sent', slack_ts = ?, sent_at = now(), error = null
            where reminder_id in (select unnest(?::varchar[]))
            """,
            [slack_ts, list(reminder_ids)],
        )

    def failed(self, reminder_ids: Iterable[str], error: str) -> None:
        self.con.execute(
            f"""
            update {SCHEMA}.reminder_ledger set status = 'failed', error = ?
            where reminder_id in (select unnest(?::varchar[]))
            """,
            [error[:500], list(reminder_ids)],
        )

    def jira_comment(self, reminder_id: str, status: str, comment_id: str | None = None) -> None:
        self.con.execute(
            f"""
            update {SCHEMA}.reminder_ledger set jira_comment_status = ?, jira_comment_id = coalesce(?, jira_comment_id)
            where reminder_id = ?
            """,
            [status, comment_id, reminder_id],
        )
