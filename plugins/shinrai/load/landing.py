"""The landing store: one DuckDB file per source, written by that source's extractor only.

Why a file per source: DuckDB lets one process write a file at a time. With a file each, the three
extractors run in parallel and a failing source cannot leave another's data half-written. dbt
attaches the three files read-only (``dbt_project/profiles.yml``).

Each stream gets ``raw.<stream>`` (the latest payload per source id, soft-deleted rows kept and
flagged) and ``raw.<stream>__versions`` (every distinct payload ever seen, append-only, so the
marts can be rebuilt from raw). ``raw.quarantine`` holds malformed records with their reason: the
extractors' (a missing field, a bad timestamp) and the store's own, which every source gets (a
payload that cannot be UTF-8 JSON, one too big, a second copy of an id in a run that is not a newer
version; :mod:`shinrai.load.checks`). One bad record never stops its page or its stream.
Nothing is soft-deleted in bulk by accident: every path that marks landed records deleted goes
through :meth:`LandingStore._guard_deletions`, which refuses (:class:`MassDeletionRefused`, nothing
marked) a sweep that would take more than ``landing.max_deleted_share`` of a stream, or all of it,
unless the run confirms it.

``state.cursors`` holds each stream's watermark and in-flight page token; it is written in the same
transaction as the page it describes, so a task killed between pages resumes exactly there.
Pages are committed in small batches (the first at once, then at least every ``commit_interval_s``,
and when the store closes; :mod:`shinrai.load.pending`): a kill loses the pages of the last fraction
of a second, which the next run reads again, and never a page without its cursor or the reverse.
"""

from __future__ import annotations

import functools
import hashlib
import json
import logging
import os
import re
import threading
import time
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cached_property
from pathlib import Path
from typing import Any, NamedTuple, cast

import duckdb

from shinrai import duckdb_lock
from shinrai.duckdb_lock import FileInUse
from shinrai.load.checks import RunPositions, describe, payload_problem, quarantine_text, storable, surrogate_in
from shinrai.load.pending import PendingWrites, StagedRow

log = logging.getLogger(__name__)
# raw.field_map columns saying how each logical Jira field is read (shinrai.extract.jira.MappedField)
FIELD_MAP_READING_COLUMNS = ("field_type", "reader", "part", "pick")
COMMIT_INTERVAL_S = 0.25  # staged pages wait at most this long for their commit (while pages keep coming)
MAX_STAGED_CHARS = 32_000_000  # or until this much payload text is staged
CHECKPOINT_THRESHOLD = "64MB"
# A checkpoint rewrites every row group it touches whole, payload column included (a row group is up
# to 122,880 rows: every row of a stream below 100x), so a load's checkpoints leave the blocks of
# earlier copies free. Free blocks are reused but the file never shrinks: when closing, a file that
# is more than this share free (and at least COMPACT_MIN_FREE_BYTES) is rewritten compactly.
COMPACT_FREE_SHARE = 0.25
COMPACT_MIN_FREE_BYTES = 32 * 2**20
_IDENT = re.compile(r"^[a-z][a-z0-9_]*$")
# landing.max_deleted_share's default (config.DEFAULT_MAX_DELETED_SHARE says the same; the store
# does not import the config, so a bare store is guarded too)
MAX_DELETED_SHARE = 0.05
# Up to this many deletions in one sweep are allowed whatever their share (one of a project's three
# versions, a few of a channel's forty messages), unless they are all the stream (or scope) holds.
MIN_GUARDED_DELETIONS = 10
CONFIRM_HINT = ("""airflow dags trigger shinrai_nightly --conf '{"confirm_mass_deletion": true}'"""
                " (or shinrai demo --confirm-mass-deletion)")
LIKELY_CAUSES = {
    "jira": "a narrowed JQL (jira.jql), or the Jira account lost permission to browse those issues or projects",
    "notion": "the database was unshared from the integration, or the integration lost access",
    "slack": "the bot was removed from the channel, or the token lost a scope",
}


@dataclass(frozen=True)
class Record:
    """One source record as landed: its id, human key, update time and untouched payload."""

    source_id: str
    source_key: str | None
    source_updated_at: datetime | None
    payload: dict[str, Any]

    @cached_property  # computed once: the size limit and the merge both need it
    def payload_json(self) -> str:
        """Raises ValueError for NaN or Infinity (DuckDB's JSON has neither)."""
        return json.dumps(self.payload, sort_keys=True, ensure_ascii=False, separators=(",", ":"),
                          allow_nan=False)

    @cached_property
    def payload_digest(self) -> str:
        """Raises UnicodeEncodeError for a lone surrogate (see :mod:`shinrai.load.checks`)."""
        return payload_hash(self.payload_json)


@dataclass(frozen=True)
class Quarantined:
    """A record we could not land, with the reason. ``payload_text`` is the raw text we received."""

    source_id: str | None
    reason: str
    payload_text: str


class Held(NamedTuple):
    """What the store holds for one id (staged or in the file)."""

    payload_hash: str
    is_deleted: bool
    in_db: bool
    source_updated_at: datetime | None
    source_key: str | None


@dataclass
class Cursor:
    watermark: datetime | None = None
    in_progress: dict[str, Any] = field(default_factory=dict)


@dataclass
class PageResult:
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    quarantined: int = 0
    related_changed: int = 0  # of inserted + updated, how many belong to the ``also`` streams
    deleted: int = 0  # rows newly soft-deleted by ``save_page(deleted=...)``


def _percent(share: float) -> str:
    return f"{share * 100:.3g}%"  # 99.8%, 5%, 5.25%: never 399 of 400 rounded up to 100%


class MassDeletionRefused(RuntimeError):
    """A deletion sweep would mark too much of a stream deleted: nothing was marked.

    What a narrowed JQL, a lost permission or an unshared database or channel looks like from here:
    the records are missing from the listing, not gone from the source. The message is one line
    naming the stream, the counts, the likely causes and how to confirm a real mass deletion."""

    def __init__(self, source: str, stream: str, scope_key: str | None, count: int, live: int, limit: float):
        self.source, self.stream, self.scope_key = source, stream, scope_key
        self.count, self.live, self.limit = count, live, limit
        where = f"{source} {stream}" + (f" ({scope_key})" if scope_key is not None else "")
        rule = ("that is all of them, never deleted without confirmation" if count >= live else
                f"{_percent(count / live)}, above landing.max_deleted_share {_percent(limit)}")
        causes = LIKELY_CAUSES.get(source, "a narrowed query or a lost permission")
        super().__init__(
            f"{where}: refusing to mark {count} of {live} live records deleted ({rule}); nothing was marked "
            f"deleted. Likely causes: {causes}. If they really are gone, confirm for one run: {CONFIRM_HINT}"
        )


def payload_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _compare(rec: Record, updated: datetime | None, key: str | None) -> str:
    """How ``rec`` relates to another copy of its id (updated then, with that key) whose payload
    differs: ``newer`` (an edit: it replaces the other), ``stale`` (an older version, as an
    eventually consistent search may serve: dropped) or ``conflict`` (another key, or the same
    update time: two records claiming one id)."""
    if rec.source_key != key or rec.source_updated_at is None or rec.source_updated_at == updated:
        return "conflict"
    return "newer" if updated is None or rec.source_updated_at > updated else "stale"


def _check_ident(name: str) -> str:
    if not _IDENT.match(name):
        raise ValueError(f"invalid stream name {name!r}")
    return name


class SharedStore:
    """One open :class:`LandingStore` used by several threads: every call holds one lock (a
    DuckDB connection serves one statement at a time, and a staged page and its cursor must not
    interleave with another thread's). Attributes and properties are passed through unlocked, and
    ``transaction()`` would hold the lock only while its context manager is made: not for it."""

    def __init__(self, store: LandingStore):
        self._store = store
        self._lock = threading.RLock()

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self._store, name)
        if not callable(attr):
            return attr

        @functools.wraps(attr)
        def locked(*args: Any, **kwargs: Any) -> Any:
            with self._lock:
                return attr(*args, **kwargs)

        return locked


def shared(store: LandingStore) -> LandingStore:
    """``store`` made safe to call from several threads (:class:`SharedStore`), typed as a store."""
    return cast(LandingStore, SharedStore(store))


class LandingStore:
    """Read/write access to one source's landing file. Use as a context manager."""

    def __init__(self, path: Path, source: str, max_record_bytes: int | None = None, *,
                 commit_interval_s: float = COMMIT_INTERVAL_S, memory_limit: str | None = None,
                 max_deleted_share: float = MAX_DELETED_SHARE, confirm_mass_deletion: bool = False):
        """``max_record_bytes``: a record whose JSON payload is bigger is quarantined, not landed
        (config ``landing.max_record_bytes``); None means no limit. ``commit_interval_s``: how long
        staged pages may wait for their commit (0 commits every page on its own). ``memory_limit``: DuckDB's
        (config ``duckdb.memory_limit``; None leaves DuckDB's default, 80% of RAM).
        ``max_deleted_share`` (config ``landing.max_deleted_share``) and ``confirm_mass_deletion``
        (the run's ``confirm_mass_deletion`` param): see :meth:`_guard_deletions`."""
        self.path = Path(path)
        self.source = source
        self.max_record_bytes = max_record_bytes
        self.commit_interval_s = commit_interval_s
        self.memory_limit = memory_limit
        self.max_deleted_share = max_deleted_share
        self.confirm_mass_deletion = confirm_mass_deletion
        self._con: duckdb.DuckDBPyConnection | None = None
        self._streams: set[str] = set()
        self._open_quarantine: set[str] | None = None  # streams with unresolved quarantined ids
        self._pending = PendingWrites()
        self._last_commit = float("-inf")
        self._positions = RunPositions()

    def __enter__(self) -> LandingStore:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._con = duckdb_lock.connect(self.path)  # FileInUse when another process holds it
        self._con.execute("set timezone = 'UTC'")
        if self.memory_limit:
            self._con.execute("set memory_limit = ?", [self.memory_limit])
        # checkpoint less often than DuckDB's 16 MB default: payloads are large and each
        # checkpoint rewrites the row groups it touches (the WAL is replayed after a crash)
        self._con.execute(f"set checkpoint_threshold = '{CHECKPOINT_THRESHOLD}'")
        self._pending = PendingWrites()
        self._last_commit = float("-inf")
        self._ensure_base()
        return self

    def __exit__(self, exc_type: object = None, exc: object = None, tb: object = None) -> None:
        if self._con is None:
            return
        try:
            self.flush()  # the pages staged before a failure are complete: keep them
        except Exception:
            if exc is None:
                raise
            log.warning("landing %s: the last staged pages could not be committed", self.source, exc_info=True)
        finally:
            compact = exc is None and self._worth_compacting()
            self._con.close()
            self._con = None
            self._open_quarantine = None
        if compact:
            self._compact()

    def _worth_compacting(self) -> bool:
        try:
            (_, _, block_size, total, _, free, *_), = self._db.execute("pragma database_size").fetchall()
        except duckdb.Error:
            return False
        return free * block_size >= COMPACT_MIN_FREE_BYTES and free >= COMPACT_FREE_SHARE * total

    def _compact(self) -> None:
        """Rewrite the (closed) file without its free blocks: a copy of every table, constraints
        included, made beside it and renamed over it once complete (a crash leaves the original)."""
        tmp = self.path.with_name(f".{self.path.name}.compact")
        for stale in (tmp, tmp.with_name(tmp.name + ".wal")):
            stale.unlink(missing_ok=True)
        before = self.path.stat().st_size
        try:
            with duckdb_lock.connect(self.path) as con:  # held until the copy is renamed over it
                if self.memory_limit:  # a new connection: without it DuckDB may take 80% of RAM for the copy
                    con.execute("set memory_limit = ?", [self.memory_limit])
                con.execute("attach '{}' as compacted".format(str(tmp).replace("'", "''")))  # takes no parameters
                con.execute(f'copy from database "{self.path.stem}" to compacted')
                con.execute("detach compacted")
                os.replace(tmp, self.path)
        except (duckdb.Error, FileInUse, OSError) as exc:  # only space is at stake: the data is committed
            log.warning("landing %s: %s not compacted (%s); it will be on a later close", self.source,
                        self.path.name, exc)
            for stale in (tmp, tmp.with_name(tmp.name + ".wal")):
                stale.unlink(missing_ok=True)
            return
        log.info("landing %s: compacted %s from %.1f to %.1f MiB", self.source, self.path.name,
                 before / 2**20, self.path.stat().st_size / 2**20)

    @property
    def con(self) -> duckdb.DuckDBPyConnection:
        """The connection, with every staged write committed first (so what you read is current)."""
        self.flush()
        return self._db

    @property
    def _db(self) -> duckdb.DuckDBPyConnection:
        if self._con is None:
            raise RuntimeError("LandingStore is not open; use it as a context manager")
        return self._con

    def flush(self) -> None:
        """Commit every staged page (with its cursor) in one transaction."""
        if not self._pending:
            return
        pending, self._pending = self._pending, PendingWrites()
        con = self._db
        con.execute("begin transaction")
        try:
            pending.write(con, self._streams)
        except BaseException:
            con.execute("rollback")
            self._open_quarantine = None
            raise
        con.execute("commit")
        self._last_commit = time.monotonic()

    def _maybe_flush(self) -> None:
        if (time.monotonic() - self._last_commit >= self.commit_interval_s
                or self._pending.size >= MAX_STAGED_CHARS):
            self.flush()

    def _ensure_base(self) -> None:
        self._db.execute("create schema if not exists raw")
        self._db.execute("create schema if not exists state")
        self._db.execute(
            """
            create table if not exists raw.quarantine (
                stream varchar not null,
                source_id varchar,
                payload_hash varchar not null,
                reason varchar not null,
                payload_text varchar not null,
                first_seen_at timestamptz not null,
                last_seen_at timestamptz not null,
                run_id varchar not null,
                resolved_at timestamptz,
                primary key (stream, payload_hash)
            )
            """
        )
        self._db.execute(
            """
            create table if not exists state.cursors (
                stream varchar primary key,
                watermark timestamptz,
                in_progress json,
                updated_at timestamptz not null
            )
            """
        )
        self._db.execute(
            """
            create table if not exists state.extraction_runs (
                run_id varchar not null,
                stream varchar not null,
                started_at timestamptz not null,
                finished_at timestamptz,
                status varchar not null,
                pages integer,
                records_seen integer,
                records_changed integer,
                records_quarantined integer,
                records_deleted integer,
                error varchar,
                primary key (run_id, stream, started_at)
            )
            """
        )

    def ensure_stream(self, stream: str) -> None:
        s = _check_ident(stream)
        if s in self._streams:
            return
        self._streams.add(s)
        self._db.execute(
            f"""
            create table if not exists raw.{s} (
                source_id varchar primary key,
                source_key varchar,
                source_updated_at timestamptz,
                payload json not null,
                payload_hash varchar not null,
                first_extracted_at timestamptz not null,
                extracted_at timestamptz not null,
                run_id varchar not null,
                is_deleted boolean not null default false,
                deleted_at timestamptz
            )
            """
        )
        self._db.execute(
            f"""
            create table if not exists raw.{s}__versions (
                source_id varchar not null,
                payload_hash varchar not null,
                source_updated_at timestamptz,
                payload json,
                extracted_at timestamptz not null,
                run_id varchar not null,
                primary key (source_id, payload_hash)
            )
            """
        )
        # files from before "every payload once" declared it not null (their versions keep a copy
        # of the current payloads; new versions are written the new way)
        if self._db.execute(
            "select is_nullable = 'NO' from information_schema.columns where table_schema = 'raw' "
            "and table_name = ? and column_name = 'payload'", [f"{s}__versions"]
        ).fetchone()[0]:
            self._db.execute(f"alter table raw.{s}__versions alter column payload drop not null")

    # -- cursors -------------------------------------------------------------------------------

    def cursor(self, stream: str) -> Cursor:
        staged = self._pending.cursors.get(stream)
        if staged is not None:
            return Cursor(watermark=staged[0], in_progress=json.loads(staged[1]) if staged[1] else {})
        row = self._db.execute(
            "select watermark, in_progress from state.cursors where stream = ?", [stream]
        ).fetchone()
        if row is None:
            return Cursor()
        watermark, in_progress = row
        return Cursor(watermark=watermark, in_progress=json.loads(in_progress) if in_progress else {})

    def cursors(self, prefix: str) -> dict[str, Cursor]:
        """Every cursor whose stream name starts with ``prefix`` (one query instead of one each)."""
        rows = self._db.execute(
            "select stream, watermark, in_progress from state.cursors where starts_with(stream, ?)", [prefix]
        ).fetchall()
        rows += [(name, w, p) for name, (w, p, _) in self._pending.cursors.items() if name.startswith(prefix)]
        return {stream: Cursor(watermark=w, in_progress=json.loads(p) if p else {}) for stream, w, p in rows}

    def scope_keys(self, stream: str) -> set[str]:
        """The distinct ``source_key`` values held for a stream (e.g. the Slack channels with messages)."""
        s = _check_ident(stream)
        self.ensure_stream(stream)
        keys = {r[0] for r in self._db.execute(f"select distinct source_key from raw.{s}").fetchall()}
        return keys | {r.source_key for r in self._pending.rows.get(s, {}).values()}

    def _write_cursor(self, stream: str, cursor: Cursor, at: datetime | None = None) -> None:
        self._pending.stage_cursor(stream, cursor.watermark,
                                   json.dumps(cursor.in_progress) if cursor.in_progress else None,
                                   at or datetime.now(UTC))

    def set_cursor(self, stream: str, cursor: Cursor) -> None:
        self._write_cursor(stream, cursor)
        self._maybe_flush()

    # -- writing -------------------------------------------------------------------------------

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """Run statements on :attr:`con` atomically (what is staged is committed first, on its own)."""
        self.flush()
        self._db.execute("begin transaction")
        try:
            yield
        except BaseException:
            self._db.execute("rollback")
            self._streams.clear()  # tables created inside the transaction are gone too
            self._open_quarantine = None  # and so are its quarantine rows
            raise
        self._db.execute("commit")

    def save_page(
        self,
        stream: str,
        records: Iterable[Record],
        quarantined: Iterable[Quarantined],
        cursor: Cursor | None,
        run_id: str,
        extracted_at: datetime | None = None,
        also: Mapping[str, Iterable[Record]] | None = None,
        cursor_stream: str | None = None,
        deleted: Iterable[str] = (),
        known_new: bool = False,
        deleted_scope: str | None = None,
    ) -> PageResult:
        """Merge one page idempotently and move the stream's cursor, in one transaction.

        A record whose payload is byte-for-byte what we hold already changes nothing (not even
        ``extracted_at``), so an unchanged rerun leaves the landing file as it was. ``also`` merges
        records of other streams derived from the same page (e.g. the page's changelogs) in the
        same transaction; ``cursor_stream`` names the cursor when it is not the stream itself;
        ``deleted`` soft-deletes those source ids of ``stream`` in the same transaction, if the
        deletion guard allows it (:meth:`_guard_deletions`, judged within ``deleted_scope``, a
        ``source_key`` such as a Slack channel; else :class:`MassDeletionRefused` and nothing of
        the page is staged).
        ``known_new``: the caller knows the file holds none of ``records`` (e.g. the only page of a
        Slack channel never read before), so they are not looked up; were one held after all, the
        commit would fail on its primary key rather than lose anything.

        One bad record is quarantined and the rest of the page lands (:meth:`_screen`): a payload
        that cannot be stored as UTF-8 JSON, one over ``max_record_bytes``, or a second copy of an
        id already seen in this run with a different payload that is not a newer version (the
        first copy stays; the second is quarantined naming both positions). The page is staged and
        committed with the pages around it (:meth:`flush`); the counts returned are final. A page
        that fails to stage (e.g. a payload that is not a JSON value at all) leaves nothing staged.
        """
        now = extracted_at or datetime.now(UTC)
        page_no = self._positions.next_page(stream, run_id)
        records, rejected = self._screen(stream, records, page_no)
        # the derived records (``also``) of a rejected record go with it: none when no copy of its
        # id lands from this page, else only the one of the copy that lands (by its key)
        landing = {r.source_id: r.source_key for r in records}
        held = {q.source_id for _, q in rejected} - set(landing)
        follow = {q.source_id: landing[q.source_id] for _, q in rejected if q.source_id in landing}
        pending = [(stream, Quarantined(storable(q.source_id) if q.source_id is not None else None,
                                        storable(q.reason), storable(q.payload_text))) for q in quarantined]
        pending += rejected
        pages = [(stream, records)]
        for other, other_records in (also or {}).items():
            other_records, other_rejected = self._screen(other, other_records, page_no, held, follow)
            pending += other_rejected
            pages.append((other, other_records))
        if any(q.source_id is not None and self._pending.resolves(stream_of, q.source_id)
               for stream_of, q in pending):
            self.flush()  # an earlier page's good copy resolves older quarantine rows, not this one
        # an id quarantined by this page stays open even if another copy of it lands with the page
        open_now = {(stream_of, q.source_id) for stream_of, q in pending}
        # everything that can fail (serialising, looking up what we hold) happens before staging
        plans = [(s, self._plan(s, recs, known_new and s == stream)) for s, recs in pages]
        deletions = self._live_among(stream, deleted)
        self._guard_deletions(stream, deletions, deleted_scope)
        result = PageResult()
        for index, (s, plan) in enumerate(plans):
            resolve = s in self._quarantine_streams()
            counts = {"inserted": 0, "updated": 0, "unchanged": 0}
            for source_id, status, row in plan:
                counts[status] += 1
                if status != "unchanged":
                    row.first_extracted_at = row.extracted_at = now
                    row.run_id = run_id
                    self._pending.stage_row(s, source_id, row)
                if resolve and (s, source_id) not in open_now:
                    self._pending.stage_resolution(s, source_id, now)
            result.inserted += counts["inserted"]
            result.updated += counts["updated"]
            result.unchanged += counts["unchanged"]
            if index:
                result.related_changed += counts["inserted"] + counts["updated"]
        for stream_of, q in pending:
            result.quarantined += 1
            self._pending.stage_quarantine(stream_of, q.source_id, payload_hash(q.payload_text), q.reason,
                                           q.payload_text, now, run_id)
            if q.source_id is not None:
                self._quarantine_streams().add(stream_of)
        for source_id in deletions:
            self._pending.stage_delete(stream, source_id, now, run_id)
        result.deleted = len(deletions)
        if cursor is not None:
            self._write_cursor(cursor_stream or stream, cursor, now)
        self._maybe_flush()
        return result

    def _screen(self, stream: str, records: Iterable[Record], page_no: int, held: Iterable[str | None] = (),
                follow: Mapping[str | None, str | None] | None = None
                ) -> tuple[list[Record], list[tuple[str, Quarantined]]]:
        """The records of one page that can land, and the others as quarantine rows with their reason.

        Rejected: a payload that cannot be UTF-8 JSON (a lone surrogate, NaN), one bigger than
        ``max_record_bytes``, and a later copy of an id already seen in this run (in this page or
        an earlier one) whose payload differs under another key or at the same update time: two
        records claiming one id (the first copy stays). An identical copy, or an older version
        (same key, earlier ``source_updated_at``), is simply dropped; a newer version replaces the
        earlier one (an edit while the run was reading).
        Records whose id is in ``held`` (derived from a rejected record) are left out, and of those
        whose id is in ``follow``, all but the first with the key given (derived from the copy that lands).
        """
        s = _check_ident(stream)
        held = set(held)
        follow = follow or {}
        kept: dict[str, tuple[int, Record]] = {}  # id -> (its number in this page, the copy kept)
        rejected: list[tuple[str, Quarantined]] = []
        seen_before: dict[str, tuple[int, int]] = {}  # ids first seen on an earlier page of this run
        for index, rec in enumerate(records, 1):
            if rec.source_id in held or (rec.source_id in follow and (
                    rec.source_key != follow[rec.source_id] or rec.source_id in kept)):
                continue
            problem = self._problem(rec)
            if problem is not None:
                rejected.append((s, Quarantined(storable(rec.source_id), *problem)))
                continue
            earlier = kept.get(rec.source_id)
            if earlier is not None:
                first_index, first = earlier
                if first.payload_digest == rec.payload_digest:
                    continue
                relation = _compare(rec, first.source_updated_at, first.source_key)
                if relation == "newer":
                    kept[rec.source_id] = (first_index, rec)
                if relation != "conflict":
                    continue
                rejected.append((s, self._conflict(rec, (page_no, index), (page_no, first_index), first.source_key)))
                continue
            first_seen = self._positions.first(s, rec.source_id)
            if first_seen is not None:
                seen_before[rec.source_id] = first_seen
            else:
                self._positions.remember(s, rec.source_id, page_no, index)
            kept[rec.source_id] = (index, rec)
        if seen_before:  # compare with the copy held (the first one of this run, or a newer one)
            self.ensure_stream(s)
            held_now = self._held(s, list(seen_before))
            for source_id, first_seen in seen_before.items():
                index, rec = kept[source_id]
                state = held_now.get(source_id)
                if state is None or state.payload_hash == rec.payload_digest:
                    continue
                relation = _compare(rec, state.source_updated_at, state.source_key)
                if relation == "newer":
                    continue
                del kept[source_id]
                if relation == "conflict":
                    rejected.append((s, self._conflict(rec, (page_no, index), first_seen, state.source_key)))
        return [rec for _, rec in kept.values()], rejected

    def _problem(self, rec: Record) -> tuple[str, str] | None:
        """(reason, text to keep) when the record cannot be landed on its own account, else None."""
        for name, value in (("id", rec.source_id), ("key", rec.source_key)):
            code = surrogate_in(value) if isinstance(value, str) else None
            if code:
                return f"invalid Unicode: lone surrogate {code} in the record's {name}", quarantine_text(rec.payload)
        try:
            rec.payload_digest  # noqa: B018 - encodes the payload: what cannot be stored fails here
        except (UnicodeEncodeError, ValueError):
            reason = payload_problem(rec.payload)
            if reason is None:  # not the source's data (e.g. a circular structure): our bug
                raise
            return reason, quarantine_text(rec.payload)
        limit = self.max_record_bytes
        if limit is not None:
            text = rec.payload_json
            # a character is at most 4 bytes of UTF-8: most records need no encoding to be judged
            size = len(text) if len(text) * 4 <= limit else len(text.encode("utf-8"))
            if size > limit:
                return f"record is {size:,} bytes of JSON, more than landing.max_record_bytes ({limit:,})", text
        return None

    @staticmethod
    def _conflict(rec: Record, here: tuple[int, int], first: tuple[int, int], first_key: str | None) -> Quarantined:
        keys = (f" (key {rec.source_key})" if rec.source_key else "",
                f" (key {first_key})" if first_key else "")
        reason = (f"duplicate id {rec.source_id}: {describe(*here)} of this run{keys[0]} has a different "
                  f"payload from {describe(*first)}{keys[1]}, and is not a newer version; the first copy is kept")
        return Quarantined(rec.source_id, storable(reason), rec.payload_json)

    def _plan(self, stream: str, records: Iterable[Record], known_new: bool = False
              ) -> list[tuple[str, str, StagedRow]]:
        """What landing these records would do: (source id, inserted|updated|unchanged, row)."""
        s = _check_ident(stream)
        self.ensure_stream(s)
        latest: dict[str, Record] = {}
        for rec in records:
            latest[rec.source_id] = rec  # a record delivered twice in one page: keep the last copy
        if not latest:
            return []
        held = self._held(s, list(latest), look_in_file=not known_new)
        plan = []
        epoch = datetime.min.replace(tzinfo=UTC)  # placeholders: save_page stamps the staged rows
        for source_id, rec in latest.items():
            text, digest = rec.payload_json, rec.payload_digest
            state = held.get(source_id)
            if state is None:
                status, in_db = "inserted", False
            else:
                in_db = state.in_db
                status = "updated" if state.payload_hash != digest or state.is_deleted else "unchanged"
            plan.append((source_id, status, StagedRow(rec.source_key, rec.source_updated_at, text, digest,
                                                      epoch, epoch, "", in_db)))
        return plan

    def _held(self, stream: str, ids: list[str], look_in_file: bool = True) -> dict[str, Held]:
        """What we hold (staged or in the file) for those of ``ids`` we hold."""
        staged = self._pending.rows.get(stream, {})
        deletes = self._pending.deletes.get(stream, {})
        out: dict[str, Held] = {}
        missing = []
        for source_id in ids:
            row = staged.get(source_id)
            if row is not None:
                out[source_id] = Held(row.payload_hash, source_id in deletes, row.in_db, row.source_updated_at,
                                      row.source_key)
            else:
                missing.append(source_id)
        if missing and look_in_file:
            for source_id, digest, deleted, updated, key in self._db.execute(
                f"select source_id, payload_hash, is_deleted, source_updated_at, source_key from raw.{stream} "
                "where source_id in (select unnest(?::varchar[]))", [missing]
            ).fetchall():
                out[source_id] = Held(digest, deleted or source_id in deletes, True, updated, key)
        return out

    def _live_among(self, stream: str, source_ids: Iterable[str]) -> list[str]:
        ids = list(dict.fromkeys(source_ids))
        if not ids:
            return []
        s = _check_ident(stream)
        self.ensure_stream(s)
        held = self._held(s, ids)
        return [i for i in ids if i in held and not held[i].is_deleted]

    def _quarantine_streams(self) -> set[str]:
        """Streams with unresolved quarantined records that have an id (read once per open store)."""
        if self._open_quarantine is None:
            rows = self._db.execute(
                "select distinct stream from raw.quarantine where resolved_at is null and source_id is not null"
            ).fetchall()
            self._open_quarantine = {r[0] for r in rows}
        return self._open_quarantine

    def save_snapshot(
        self, stream: str, records: list[Record], run_id: str, scope_key: str | None = None
    ) -> tuple[PageResult, int]:
        """Land a complete listing (users, versions, channels) and soft-delete what it no longer has.

        With ``scope_key``, only rows whose ``source_key`` equals it are compared (e.g. one
        project's versions). Returns the merge result and how many rows were newly marked deleted.
        A listing that lacks too much of what we hold (an empty answer after a lost permission) is
        refused before anything is staged (:meth:`_guard_deletions`): the listing does not land either.
        """
        present = {r.source_id for r in records}
        gone = self.live_ids(stream, scope_key) - present
        doomed = self._live_among(stream, gone)
        self._guard_deletions(stream, doomed, scope_key)  # against what we held before this listing
        result = self.save_page(stream, records, [], None, run_id)
        self._stage_deletes([(stream, doomed)], run_id)
        return result, len(doomed)

    def ensure_reference_tables(self) -> None:
        """The mapping tables dbt staging reads (empty until the first extraction resolves names)."""
        self.con.execute(
            """
            create table if not exists raw.field_map (
                logical_name varchar primary key, field_id varchar not null, field_name varchar,
                field_type varchar, reader varchar, part varchar, pick varchar
            )
            """
        )
        # a landing file from before type-aware reading: the next resolution fills the new columns
        for column in FIELD_MAP_READING_COLUMNS:
            self.con.execute(f"alter table raw.field_map add column if not exists {column} varchar")
        self.con.execute(
            """
            create table if not exists raw.property_map (
                stream varchar not null, logical_name varchar not null, property_name varchar not null,
                property_id varchar, property_type varchar, primary key (stream, logical_name)
            )
            """
        )
        # how staging reads each Notion property (shinrai.extract.notion_types): its need, the end of a
        # date range that counts, which of several values counts (added to files landed before them)
        for column in ("reader", "part", "pick"):
            self.con.execute(f"alter table raw.property_map add column if not exists {column} varchar")
        # the titles of pages a Notion relation points at (staging reads a relation's values from them)
        self.con.execute(
            """
            create table if not exists raw.page_titles (
                page_id varchar primary key, title varchar, fetched_at timestamptz not null
            )
            """
        )

    def replace_field_map(self, rows: list[tuple[str, str, str | None, str | None, str, str, str]]) -> None:
        """Record which source field each logical field resolved to and how it is read (logical
        name, field id, field name, field type, reader, part, pick; read by dbt staging)."""
        columns = "logical_name, field_id, field_name, " + ", ".join(FIELD_MAP_READING_COLUMNS)
        with self.transaction():
            self.ensure_reference_tables()
            current = sorted(self.con.execute(f"select {columns} from raw.field_map").fetchall())
            if current != sorted(tuple(r) for r in rows):
                self.con.execute("delete from raw.field_map")
                self.con.executemany(f"insert into raw.field_map ({columns}) values (?, ?, ?, ?, ?, ?, ?)", rows)

    def replace_property_map(self, stream: str, rows: list[tuple[str, ...]]) -> None:
        """Record which Notion property each logical property resolved to, and how staging reads it:
        ``(logical_name, property_name, property_id, property_type, reader, part, pick)``."""
        columns = "logical_name, property_name, property_id, property_type, reader, part, pick"
        with self.transaction():
            self.ensure_reference_tables()
            current = sorted(self.con.execute(
                f"select {columns} from raw.property_map where stream = ?", [stream]).fetchall())
            if current != sorted(rows):
                self.con.execute("delete from raw.property_map where stream = ?", [stream])
                self.con.executemany(
                    f"insert into raw.property_map (stream, {columns}) values (?, ?, ?, ?, ?, ?, ?, ?)",
                    [(stream, *r) for r in rows]
                )

    def page_titles_fetched(self) -> dict[str, datetime | None]:
        """The related pages whose titles are cached (raw.page_titles), with when each was read."""
        self.ensure_reference_tables()
        return dict(self.con.execute("select page_id, fetched_at from raw.page_titles").fetchall())

    def save_page_titles(self, rows: list[tuple[str, str | None, datetime]]) -> None:
        """Cache related pages' titles ``(page_id, title, fetched_at)`` (insert or replace)."""
        if not rows:
            return
        with self.transaction():
            self.ensure_reference_tables()
            self.con.executemany("insert or replace into raw.page_titles values (?, ?, ?)", rows)

    def mark_deleted(self, stream: str, source_ids: Iterable[str], run_id: str, *, scope_key: str | None = None,
                     also: Iterable[str] = (), within: Iterable[str] | None = None) -> int:
        """Soft-delete: the row stays, flagged, with the time we noticed it was gone.

        Guarded (:meth:`_guard_deletions`, within ``scope_key`` when given, or against only the ids
        ``within`` when given: the slice a partial sweep listed, ``scope_key`` then naming it in
        the message): a refused sweep raises
        :class:`MassDeletionRefused` and marks nothing. ``also`` names streams whose rows of the same
        ids follow them (e.g. the issues' changelogs): judged with ``stream``, marked with it.
        Returns how many live rows of ``stream`` were marked."""
        ids = list(dict.fromkeys(source_ids))
        live = self._live_among(stream, ids)
        self._guard_deletions(stream, live, scope_key, within)
        self._stage_deletes([(stream, live), *((other, self._live_among(other, ids)) for other in also)], run_id)
        return len(live)

    def _stage_deletes(self, deletions: list[tuple[str, list[str]]], run_id: str) -> None:
        now = datetime.now(UTC)
        for stream, source_ids in deletions:
            for source_id in source_ids:
                self._pending.stage_delete(stream, source_id, now, run_id)
        self._maybe_flush()

    def _guard_deletions(self, stream: str, doomed: list[str], scope_key: str | None = None,
                         within: Iterable[str] | None = None) -> None:
        """Refuse to soft-delete ``doomed`` (live ids of ``stream``) when it looks like a mass deletion.

        Judged against the live rows of the stream, or of ``scope_key`` within it (one project's
        versions, one Slack channel's messages): refused when the sweep would take every one of
        them (never without confirmation, however few), or more than ``max_deleted_share`` of
        them once it is more than :data:`MIN_GUARDED_DELETIONS` records (so a small stream losing a
        record or two is not stopped). ``confirm_mass_deletion`` lets it through, logged.
        ``within``: judge against only these ids' live rows (a partial sweep's slice: what it did
        not list can tell nothing; ``scope_key`` is then only the slice's name in the message)."""
        if not doomed:
            return
        if within is None:
            live = len(self.live_ids(stream, scope_key))
        else:
            live = len(self.live_ids(stream) & set(within))
        count = len(doomed)
        whole = count >= live
        if not whole and (count <= MIN_GUARDED_DELETIONS or count <= self.max_deleted_share * live):
            return
        if self.confirm_mass_deletion:
            log.warning("landing %s %s%s: mass deletion confirmed for this run: marking %d of %d live records "
                        "deleted", self.source, stream, f" ({scope_key})" if scope_key else "", count, live)
            return
        raise MassDeletionRefused(self.source, stream, scope_key, count, live, self.max_deleted_share)

    def live_ids(self, stream: str, scope_key: str | None = None) -> set[str]:
        s = _check_ident(stream)
        self.ensure_stream(stream)
        sql = f"select source_id from raw.{s} where not is_deleted"
        params: list[Any] = []
        if scope_key is not None:
            sql += " and source_key = ?"
            params.append(scope_key)
        ids = {r[0] for r in self._db.execute(sql, params).fetchall()}
        for source_id, row in self._pending.rows.get(s, {}).items():  # staged rows are live
            if scope_key is None or row.source_key == scope_key:
                ids.add(source_id)
            else:
                ids.discard(source_id)
        return ids - set(self._pending.deletes.get(s, {}))

    def updated_since(self, stream: str, since: datetime) -> set[str]:
        """Ids landed with a source update time at or after ``since`` (too recent to judge deleted)."""
        s = _check_ident(stream)
        rows = self.con.execute(
            f"select source_id from raw.{s} where source_updated_at >= ?", [since]
        ).fetchall()
        return {r[0] for r in rows}

    # -- run log -------------------------------------------------------------------------------

    def log_run(
        self,
        run_id: str,
        stream: str,
        started_at: datetime,
        status: str,
        *,
        pages: int = 0,
        seen: int = 0,
        changed: int = 0,
        quarantined: int = 0,
        deleted: int = 0,
        error: str | None = None,
    ) -> None:
        with self.transaction():
            self.con.execute(
                """
                insert into state.extraction_runs values (?, ?, ?, now(), ?, ?, ?, ?, ?, ?, ?)
                on conflict do update set finished_at = excluded.finished_at, status = excluded.status,
                    pages = excluded.pages, records_seen = excluded.records_seen,
                    records_changed = excluded.records_changed,
                    records_quarantined = excluded.records_quarantined,
                    records_deleted = excluded.records_deleted, error = excluded.error
                """,
                [run_id, stream, started_at, status, pages, seen, changed, quarantined, deleted, error],
            )
