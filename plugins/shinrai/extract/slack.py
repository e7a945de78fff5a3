"""Slack streams: users, channels, and the messages of incident channels and the release channel.

History is read per channel from ``oldest = last seen ts - lookback`` (edits and deletions only
show on re-read; new thread replies do not move the parent's ``ts``), then the replies of every
thread with activity in that window. Messages are keyed ``<channel>:<ts>``. A message we hold
inside a fully re-read window that Slack no longer returns is marked deleted.

A quiet channel (last message older than the lookback) is not re-read every night: at one request
per channel per night that is what would make the nightly run expensive. Slack offers no cheap
signal for an edit or deletion in an old message, so every channel is instead re-read whole at
least once every ``slack.resweep_days`` (staggered by channel id, so quiet channels do not all come
due the same night): such late edits surface within that many days.

An archived channel can no longer change (Slack refuses posts, edits and replies in it), so once it
has been read whole *after* it was archived it is left alone: no lookback read, no resweep. Slack
gives no archival time, so each channel's cursor records the ``is_archived`` that
``conversations.list`` showed when its last full read started (the listing is read before any
history, so a full read that started while the channel was listed archived saw it after archival).
A channel whose archived state differs from that record (archived since, or unarchived) is read
whole on the next run, which records the new state: an archived channel is read once more, then
left; an unarchived one is back in the nightly read and the resweep. A cursor from before this
record (no ``archived`` key) keeps the old policy until its next full read records it.

``rate_mode: non_marketplace`` follows Slack's May 2025 limits for non-Marketplace commercial
apps: 15 messages a page and at most one history/replies request a minute; the extractor paces
itself so it never exceeds them.
"""

from __future__ import annotations

import hashlib
import json
import logging
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from shinrai.config import Config, ConfigError
from shinrai.hooks.pacing import UNPACED, Pacer
from shinrai.hooks.slack import SlackHook
from shinrai.load.landing import Cursor, LandingStore, Quarantined, Record, shared

log = logging.getLogger(__name__)
# Channels read at once: each waits on Slack most of the time, so a few overlap the waits (the
# landing file is written by one of them at a time; pacing, when on, still holds the limits).
CHANNEL_WORKERS = 4


@dataclass(frozen=True)
class RateMode:
    history_limit: int
    history_pacer: Pacer
    replies_pacer: Pacer

    @classmethod
    def for_config(cls, mode: str) -> RateMode:
        if mode == "non_marketplace":
            return cls(history_limit=15, history_pacer=Pacer(1, 60), replies_pacer=Pacer(1, 60))
        return cls(history_limit=999, history_pacer=UNPACED, replies_pacer=UNPACED)


def ts_to_datetime(ts: str) -> datetime:
    return datetime.fromtimestamp(float(ts), tz=UTC)


def validate_message(message: Any) -> str | None:
    """Why a message cannot be landed (every field the extractor reads from it is checked), or None."""
    if not isinstance(message, dict):
        return "message is not a JSON object"
    ts = message.get("ts")
    if not ts:
        return "missing 'ts'"
    edited = message.get("edited")
    if edited is not None and not isinstance(edited, dict):
        return f"'edited' {edited!r} is not an object"
    for name, value in (("ts", ts), ("edited.ts", (edited or {}).get("ts")),
                        ("latest_reply", message.get("latest_reply"))):
        if value in (None, "") and name != "ts":
            continue
        try:
            ts_to_datetime(value)
        except (TypeError, ValueError, OverflowError, OSError):
            return f"{name!r} {value!r} is not a Slack timestamp"
    return None


class SlackExtractor:
    def __init__(self, config: Config, hook: SlackHook, store: LandingStore, rate: RateMode | None = None,
                 now: datetime | None = None):
        self.config = config
        self.hook = hook
        self.store = shared(store)  # four channels are read at once
        self.rate = rate or RateMode.for_config(config.slack_rate_mode)
        self.now = now or datetime.now(UTC)
        self._held_channels: set[str] | None = None  # channels with landed messages (None: unknown)

    # -- listings -------------------------------------------------------------------------------

    def users(self, run_id: str) -> int:
        records = []
        for user in self._paged("users_list", "members", limit=200):
            if isinstance(user, dict) and user.get("id"):
                email = (user.get("profile") or {}).get("email")
                records.append(Record(user["id"], email, None, user))
        result, deleted = self.store.save_snapshot("users", records, run_id)
        return result.inserted + result.updated + deleted

    def channels(self, run_id: str) -> list[dict[str, Any]]:
        channels = [
            c for c in self._paged("conversations_list", "channels", limit=1000,
                                   types="public_channel,private_channel")
            if isinstance(c, dict) and c.get("id")
        ]
        records = [Record(c["id"], c.get("name"), None, c) for c in channels]
        self.store.save_snapshot("channels", records, run_id)
        return channels

    def _paged(self, method: str, key: str, **kwargs: Any) -> list[Any]:
        client = self.hook.client
        items: list[Any] = []
        cursor = None
        while True:
            args = dict(kwargs, cursor=cursor) if cursor else kwargs
            page = self.hook.call(lambda args=args: getattr(client, method)(**args))
            items += page.get(key) or []
            cursor = (page.get("response_metadata") or {}).get("next_cursor") or None
            if not cursor:
                return items

    # -- messages -------------------------------------------------------------------------------

    def wanted_channels(self, channels: list[dict[str, Any]]) -> list[dict[str, Any]]:
        wanted = [c for c in channels
                  if self.config.incident_channel_pattern.search(c.get("name", ""))
                  or c.get("name") == self.config.release_channel]
        if not any(c.get("name") == self.config.release_channel for c in channels):
            raise ConfigError("slack.release_channel", f"no channel named {self.config.release_channel!r}")
        return wanted

    def messages(self, channels: list[dict[str, Any]], run_id: str, *, full_refresh: bool = False,
                 window: tuple[datetime, datetime] | None = None) -> dict[str, int]:
        """Read the channels with recent activity from their watermarks (all of them with ``full_refresh``).

        ``window`` (start, end) instead re-reads every wanted channel's messages posted in
        ``[start - lookback, end)`` and their threads (a backfill): upserts only, no channel watermark
        moves and nothing is marked deleted (the nightly lookback re-read reconciles deletions).
        """
        stats = {"channels_read": 0, "channels_skipped": 0, "channels_archived": 0, "pages": 0, "seen": 0,
                 "changed": 0, "quarantined": 0, "deleted": 0}
        # read once for all channels: one query each per channel would cost more than the channel
        cursors = {} if full_refresh or window is not None else self.store.cursors("messages:")
        self._held_channels = self.store.scope_keys("messages")
        due: list[tuple[dict[str, Any], Cursor]] = []
        for channel in self.wanted_channels(channels):
            if window is not None:
                if float(channel.get("created") or 0) >= window[1].timestamp():
                    stats["channels_skipped"] += 1  # created after the window: nothing to re-read
                else:
                    self._reread_window(channel, window, run_id, stats)
                    stats["channels_read"] += 1
                continue
            cursor = Cursor() if full_refresh else cursors.get(f"messages:{channel['id']}", Cursor())
            if not full_refresh and not self._needs_read(channel, cursor):
                stats["channels_skipped"] += 1
                stats["channels_archived"] += self._settled(channel, cursor)  # of them, left alone for good
                continue
            due.append((channel, cursor))
        # the 1-a-minute mode gains nothing from overlapping channels: read them one at a time
        paced = self.rate.history_pacer is not UNPACED or self.rate.replies_pacer is not UNPACED
        workers = 1 if paced else CHANNEL_WORKERS
        self.hook.client  # noqa: B018 - made once, before the workers share it
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="slack-channel") as pool:
            results = (pool.map(lambda job: self._read_channel_alone(*job, run_id), due) if workers > 1
                       else (self._read_channel_alone(*job, run_id) for job in due))
            for channel_stats in results:
                for key, value in channel_stats.items():
                    stats[key] += value
                stats["channels_read"] += 1
        log.info("slack messages: %s", stats)
        return stats

    def _read_channel_alone(self, channel: dict[str, Any], cursor: Cursor, run_id: str) -> dict[str, int]:
        stats = {"pages": 0, "seen": 0, "changed": 0, "quarantined": 0, "deleted": 0}
        self._read_channel(channel, cursor, run_id, stats)
        return stats

    def _reread_window(self, channel: dict[str, Any], window: tuple[datetime, datetime], run_id: str,
                       stats: dict[str, int]) -> None:
        channel_id = channel["id"]
        oldest = max(0.0, window[0].timestamp() - self.config.slack_lookback_days * 86400)
        base: dict[str, Any] = {"channel": channel_id, "limit": self.rate.history_limit, "oldest": f"{oldest:.6f}",
                                "latest": f"{window[1].timestamp():.6f}", "inclusive": True}
        client = self.hook.client
        threads: list[str] = []
        page_cursor = None
        while True:
            args = dict(base, cursor=page_cursor) if page_cursor else base
            self.rate.history_pacer.wait()
            page = self.hook.call(lambda args=args: client.conversations_history(**args))
            messages = page.get("messages") or []
            records, bad = self._records(channel_id, messages)
            threads += [r.payload["ts"] for r in records if r.payload.get("reply_count")]
            self._count(stats, self.store.save_page("messages", records, bad, None, run_id), len(messages))
            page_cursor = (page.get("response_metadata") or {}).get("next_cursor") or None
            if not page_cursor:
                break
        for thread_ts in dict.fromkeys(threads):
            got, bad, pages = self._read_replies(channel_id, thread_ts)
            result = self.store.save_page("messages", got, bad, None, run_id)
            stats["pages"] += pages
            stats["seen"] += len(got) + len(bad)
            stats["changed"] += result.inserted + result.updated
            stats["quarantined"] += result.quarantined

    @staticmethod
    def _archived(channel: dict[str, Any]) -> bool:
        return channel.get("is_archived") is True  # missing or odd: treated as live (read, never skipped)

    def _archival_changed(self, channel: dict[str, Any], cursor: Cursor) -> bool:
        """Archived or unarchived since the channel's last full read (False when that read recorded
        nothing: a cursor from before the record, whose next full read records it)."""
        seen = cursor.in_progress.get("archived")
        return seen is not None and seen != self._archived(channel)

    def _settled(self, channel: dict[str, Any], cursor: Cursor) -> bool:
        """Archived, and read whole after it was archived (no read of it in flight): nothing in it
        can change any more, so it is not read again unless it is unarchived."""
        return (self._archived(channel) and cursor.in_progress.get("archived") is True
                and not cursor.in_progress.get("reading"))

    def full_read_due(self, channel: dict[str, Any], cursor: Cursor) -> bool:
        """Whether a read of this channel that starts now reads it whole (else from the lookback)."""
        return (cursor.watermark is None or self._archival_changed(channel, cursor)
                or self._resweep_due(channel, cursor))

    def _needs_read(self, channel: dict[str, Any], cursor: Cursor) -> bool:
        if cursor.watermark is None or cursor.in_progress.get("reading"):
            return True  # never read, or a read was interrupted
        if self._archival_changed(channel, cursor):
            return True  # archived or unarchived since its last full read: read it whole once now
        if self._settled(channel, cursor):
            return False  # archived before its last full read
        lookback = self.config.slack_lookback_days * 86400
        if (self.now - cursor.watermark).total_seconds() <= lookback:
            return True  # recent activity: edits, deletions and replies may still come
        return self._resweep_due(channel, cursor)

    def _resweep_due(self, channel: dict[str, Any], cursor: Cursor) -> bool:
        last = cursor.in_progress.get("last_full_read")
        days = self.config.slack_resweep_days
        if not last or days == 0:  # 0: re-read every channel whole on every run
            return True
        # Each channel has a slot every ``days`` days, its day within the cycle set by its id: a
        # channel is due once its latest slot has passed since its last whole read. So about
        # 1/``days`` of the quiet channels come due each night, and each one every ``days`` days.
        stagger = int(hashlib.sha256(channel["id"].encode()).hexdigest(), 16) % days
        period, offset = days * 86400, stagger * 86400
        latest_slot = (self.now.timestamp() - offset) // period * period + offset
        return datetime.fromisoformat(last).timestamp() < latest_slot

    def _read_channel(self, channel: dict[str, Any], cursor: Cursor, run_id: str, stats: dict[str, int]) -> None:
        channel_id = channel["id"]
        key = f"messages:{channel_id}"
        lookback = self.config.slack_lookback_days * 86400
        resume = cursor.in_progress
        reading = bool(resume.get("reading"))
        full = resume.get("full", self.full_read_due(channel, cursor))
        last_full_read = resume.get("last_full_read")
        # what the cursor records once this read completes: a full read, the archived state the
        # listing showed when it started (kept across a resume); any other read, the one recorded
        archived = self._archived(channel) if full and not reading else resume.get("archived")
        oldest = resume.get("oldest")
        if oldest is None and not full and cursor.watermark is not None:
            oldest = f"{max(0.0, cursor.watermark.timestamp() - lookback):.6f}"
        page_cursor = resume.get("next_cursor")
        latest_seen = cursor.watermark
        if resume.get("latest_seen"):
            latest_seen = datetime.fromisoformat(resume["latest_seen"])
        seen_ids: set[str] = set(resume.get("seen_ids") or [])
        threads: list[str] = list(resume.get("threads") or [])
        client = self.hook.client
        base: dict[str, Any] = {"channel": channel_id, "limit": self.rate.history_limit}
        if oldest is not None:
            base.update(oldest=oldest, inclusive=True)
        last_page: tuple[list[Record], list[Quarantined], int] = ([], [], 0)
        saved = reading  # earlier pages of this channel were landed already
        while True:
            args = dict(base, cursor=page_cursor) if page_cursor else base
            self.rate.history_pacer.wait()
            page = self.hook.call(lambda args=args: client.conversations_history(**args))
            messages = page.get("messages") or []
            records, bad = self._records(channel_id, messages)
            for rec in records:
                seen_ids.add(rec.source_id)
                ts = ts_to_datetime(rec.payload["ts"])
                latest_seen = max(latest_seen, ts) if latest_seen else ts
                if rec.payload.get("reply_count"):
                    latest_reply = float(rec.payload.get("latest_reply") or rec.payload["ts"])
                    if oldest is None or latest_reply >= float(oldest):
                        threads.append(rec.payload["ts"])
            page_cursor = (page.get("response_metadata") or {}).get("next_cursor") or None
            if not page_cursor:
                # the last (usually the only) page lands with the replies and the watermark below: a
                # task killed before then reads it again, as it would have to for the threads anyway
                last_page = (records, bad, len(messages))
                break
            state = {"reading": True, "full": full, "last_full_read": last_full_read, "archived": archived,
                     "next_cursor": page_cursor,
                     "oldest": oldest, "threads": threads,
                     "latest_seen": latest_seen.isoformat() if latest_seen else None,
                     "seen_ids": sorted(seen_ids)}
            # the watermark moves only when the whole channel (history and replies) is read
            result = self.store.save_page("messages", records, bad, Cursor(cursor.watermark, state), run_id,
                                          cursor_stream=key)
            saved = True
            self._count(stats, result, len(messages))
        replies: list[Record] = list(last_page[0])
        bad_replies: list[Quarantined] = list(last_page[1])
        for thread_ts in dict.fromkeys(threads):
            got, bad, pages = self._read_replies(channel_id, thread_ts)
            replies += got
            bad_replies += bad
            stats["pages"] += pages
            stats["seen"] += len(got) + len(bad)
        seen_ids.update(r.source_id for r in replies)
        # deletions: anything we hold in the fully re-read window that Slack did not return
        window_start = float(oldest) if oldest is not None else 0.0
        held: set[str] = set()
        if self._held_channels is None or channel_id in self._held_channels:  # else nothing to delete
            live = self.store.live_ids("messages", scope_key=channel_id)
            held = {sid for sid in live if float(sid.split(":", 1)[1]) >= window_start}
        # one transaction: the last history page, the replies, the deletions and the watermark
        done = {"last_full_read": self.now.isoformat() if full else last_full_read, "archived": archived}
        # a channel never landed before, read in one history page: nothing of it is in the file
        known_new = self._held_channels is not None and channel_id not in self._held_channels and not saved
        result = self.store.save_page("messages", replies, bad_replies, Cursor(latest_seen, done), run_id,
                                      cursor_stream=key, deleted=held - seen_ids, known_new=known_new,
                                      deleted_scope=channel_id)  # guarded per channel
        stats["pages"] += 1
        stats["seen"] += last_page[2]
        stats["changed"] += result.inserted + result.updated
        stats["quarantined"] += result.quarantined
        stats["deleted"] += result.deleted

    def _read_replies(self, channel_id: str, thread_ts: str) -> tuple[list[Record], list[Quarantined], int]:
        """Every reply of one thread (the parent, already read from history, is left out)."""
        client = self.hook.client
        records: list[Record] = []
        bad: list[Quarantined] = []
        page_cursor = None
        pages = 0
        while True:
            args: dict[str, Any] = {"channel": channel_id, "ts": thread_ts, "limit": self.rate.history_limit}
            if page_cursor:
                args["cursor"] = page_cursor
            self.rate.replies_pacer.wait()
            page = self.hook.call(lambda args=args: client.conversations_replies(**args))
            pages += 1
            messages = [m for m in page.get("messages") or [] if not (isinstance(m, dict) and m.get("ts") == thread_ts)]
            got, rejected = self._records(channel_id, messages)
            records += got
            bad += rejected
            page_cursor = (page.get("response_metadata") or {}).get("next_cursor") or None
            if not page_cursor:
                return records, bad, pages

    def _records(self, channel_id: str, messages: list[Any]) -> tuple[list[Record], list[Quarantined]]:
        records, bad = [], []
        for message in messages:
            reason = validate_message(message)
            if reason:
                bad.append(Quarantined(None, f"channel {channel_id}: {reason}",
                                       json.dumps(message, ensure_ascii=False)))
                continue
            edited = (message.get("edited") or {}).get("ts")
            updated = ts_to_datetime(edited or message["ts"])
            records.append(Record(f"{channel_id}:{message['ts']}", channel_id, updated, message))
        return records, bad

    @staticmethod
    def _count(stats: dict[str, int], result: Any, seen: int) -> None:
        stats["pages"] += 1
        stats["seen"] += seen
        stats["changed"] += result.inserted + result.updated
        stats["quarantined"] += result.quarantined
