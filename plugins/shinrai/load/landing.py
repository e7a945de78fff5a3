"""The landing store: one DuckDB file per source, written by that source's extractor only.

Why a file per source: DuckDB lets one process write a file at a time. With a file each, the three
extractors run in parallel and a failing source cannot leave another's data half-written. dbt
attaches the three files read-only (``dbt_project/profiles.yml``).

Each stream gets ``raw.<stream>`` (the latest payload per source id, soft-deleted rows kept and
flagged) and ``raw.<stream>__versions`` (every distinct payload ever seen, append-only, so the
marts can be rebuilt from raw). ``raw.quarantine`` holds malformed records with their reason.
``state.cursors`` holds each stream's watermark and in-flight page token; it is written in the
same transaction as the page it describes, so a task killed between pages resumes exactly there.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cached_property
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd

from shinrai import duckdb_lock

_IDENT = re.compile(r"^[a-z][a-z0-9_]*$")


@dataclass(frozen=True)
class Record:
    """One source record as landed: its id, human key, update time and untouched payload."""

    source_id: str
    source_key: str | None
    source_updated_at: datetime | None
    payload: dict[str, Any]

    @cached_property  # computed once: the size limit and the merge both need it
    def payload_json(self) -> str:
        return json.dumps(self.payload, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


@dataclass(frozen=True)
class Quarantined:
    """A record we could not land, with the reason. ``payload_text`` is the raw text we received."""

    source_id: str | None
    reason: str
    payload_text: str


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


def payload_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _check_ident(name: str) -> str:
    if not _IDENT.match(name):
        raise ValueError(f"invalid stream name {name!r}")
    return name


class LandingStore:
    """Read/write access to one source's landing file. Use as a context manager."""

    def __init__(self, path: Path, source: str, max_record_bytes: int | None = None):
        """``max_record_bytes``: a record whose JSON payload is bigger is quarantined, not landed
        (config ``landing.max_record_bytes``); None means no limit."""
        self.path = Path(path)
        self.source = source
        self.max_record_bytes = max_record_bytes
        self._con: duckdb.DuckDBPyConnection | None = None
        self._streams: set[str] = set()

    def __enter__(self) -> LandingStore:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._con = duckdb_lock.connect(self.path)  # FileInUse when another process holds it
        self._con.execute("set timezone = 'UTC'")
        self._ensure_base()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._con is not None:
            self._con.close()
            self._con = None

    @property
    def con(self) -> duckdb.DuckDBPyConnection:
        if self._con is None:
            raise RuntimeError("LandingStore is not open; use it as a context manager")
        return self._con

    def _ensure_base(self) -> None:
        self.con.execute("create schema if not exists raw")
        self.con.execute("create schema if not exists state")
        self.con.execute(
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
        self.con.execute(
            """
            create table if not exists state.cursors (
                stream varchar primary key,
                watermark timestamptz,
                in_progress json,
                updated_at timestamptz not null
            )
            """
        )
        self.con.execute(
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
        self.con.execute(
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
        self.con.execute(
            f"""
            create table if not exists raw.{s}__versions (
                source_id varchar not null,
                payload_hash varchar not null,
                source_updated_at timestamptz,
                payload json not null,
                extracted_at timestamptz not null,
                run_id varchar not null,
                primary key (source_id, payload_hash)
            )
            """
        )

    # -- cursors -------------------------------------------------------------------------------

    def cursor(self, stream: str) -> Cursor:
        row = self.con.execute(
            "select watermark, in_progress from state.cursors where stream = ?", [stream]
        ).fetchone()
        if row is None:
            return Cursor()
        watermark, in_progress = row
        return Cursor(watermark=watermark, in_progress=json.loads(in_progress) if in_progress else {})

    def _write_cursor(self, stream: str, cursor: Cursor) -> None:
        self.con.execute(
            """
            insert into state.cursors (stream, watermark, in_progress, updated_at)
            values (?, ?, ?, now())
            on conflict (stream) do update set
                watermark = excluded.watermark,
                in_progress = excluded.in_progress,
                updated_at = excluded.updated_at
            """,
            [stream, cursor.watermark, json.dumps(cursor.in_progress) if cursor.in_progress else None],
        )

    def set_cursor(self, stream: str, cursor: Cursor) -> None:
        with self.transaction():
            self._write_cursor(stream, cursor)

    # -- writing -------------------------------------------------------------------------------

    @contextmanager
    def transaction(self) -> Iterator[None]:
        self.con.execute("begin transaction")
        try:
            yield
        except BaseException:
            self.con.execute("rollback")
            self._streams.clear()  # tables created inside the transaction are gone too
            raise
        self.con.execute("commit")

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
    ) -> PageResult:
        """Merge one page idempotently and move the stream's cursor, in one transaction.

        A record whose payload is byte-for-byte what we hold already changes nothing (not even
        ``extracted_at``), so an unchanged rerun leaves the landing file as it was. ``also`` merges
        records of other streams derived from the same page (e.g. the page's changelogs) in the
        same transaction; ``cursor_stream`` names the cursor when it is not the stream itself.
        """
        now = extracted_at or datetime.now(UTC)
        with self.transaction():
            records, oversized = self._split_oversized(stream, records)
            held = {q.source_id for _, q in oversized}  # their derived records (``also``) wait with them
            pending = [(stream, q) for q in quarantined] + oversized
            result = self._merge(stream, records, now, run_id)
            for other, other_records in (also or {}).items():
                other_records, other_oversized = self._split_oversized(other, other_records, held)
                pending += other_oversized
                extra = self._merge(other, other_records, now, run_id)
                result.inserted += extra.inserted
                result.updated += extra.updated
                result.unchanged += extra.unchanged
                result.related_changed += extra.inserted + extra.updated
            for stream_of, q in pending:
                result.quarantined += 1
                self.con.execute(
                    """
                    insert into raw.quarantine as q (stream, source_id, payload_hash, reason, payload_text,
                        first_seen_at, last_seen_at, run_id, resolved_at)
                    values (?, ?, ?, ?, ?, ?, ?, ?, null)
                    on conflict (stream, payload_hash) do update set
                        last_seen_at = excluded.last_seen_at, run_id = excluded.run_id
                    """,
                    [stream_of, q.source_id, payload_hash(q.payload_text), q.reason, q.payload_text, now, now,
                     run_id],
                )
            if cursor is not None:
                self._write_cursor(cursor_stream or stream, cursor)
        return result

    def _split_oversized(self, stream: str, records: Iterable[Record], held: Iterable[str | None] = ()
                         ) -> tuple[list[Record], list[tuple[str, Quarantined]]]:
        """Records within ``max_record_bytes``, and the others as quarantine rows with their size.
        Records whose id is in ``held`` (derived from an oversized record) are left out."""
        limit = self.max_record_bytes
        held = set(held)
        kept: list[Record] = []
        oversized: list[tuple[str, Quarantined]] = []
        for rec in records:
            if rec.source_id in held:
                continue
            if limit is not None:
                text = rec.payload_json
                # a character is at most 4 bytes of UTF-8: most records need no encoding to be judged
                size = len(text) if len(text) * 4 <= limit else len(text.encode("utf-8"))
                if size > limit:
                    reason = f"record is {size:,} bytes of JSON, more than landing.max_record_bytes ({limit:,})"
                    oversized.append((stream, Quarantined(rec.source_id, reason, text)))
                    continue
            kept.append(rec)
        return kept, oversized

    def _merge(self, stream: str, records: Iterable[Record], now: datetime, run_id: str) -> PageResult:
        s = _check_ident(stream)
        self.ensure_stream(stream)
        latest: dict[str, Record] = {}
        for rec in records:
            latest[rec.source_id] = rec  # a record delivered twice in one page: keep the last copy
        result = PageResult()
        if not latest:
            return result
        rows = [
            (r.source_id, r.source_key, r.source_updated_at, text, payload_hash(text))
            for r in latest.values()
            for text in [r.payload_json]
        ]
        frame = pd.DataFrame(
            rows, columns=["source_id", "source_key", "source_updated_at", "payload", "payload_hash"]
        ).astype({"source_id": object, "source_key": object, "payload": object, "payload_hash": object})
        frame["source_updated_at"] = pd.to_datetime(frame["source_updated_at"], utc=True)
        self.con.register("landing_page", frame)
        try:
            counts = self.con.execute(
                f"""
                select
                    count(*) filter (where t.source_id is null) as inserted,
                    count(*) filter (where t.source_id is not null
                        and (t.payload_hash <> p.payload_hash or t.is_deleted)) as updated
                from landing_page p left join raw.{s} t using (source_id)
                """
            ).fetchone()
            assert counts is not None
            result.inserted, result.updated = int(counts[0]), int(counts[1])
            result.unchanged = len(rows) - result.inserted - result.updated
            self.con.execute(
                f"""
                insert into raw.{s}__versions
                    (source_id, payload_hash, source_updated_at, payload, extracted_at, run_id)
                select source_id, payload_hash, source_updated_at, payload::json, ?, ?
                from landing_page
                on conflict do nothing
                """,
                [now, run_id],
            )
            self.con.execute(
                f"""
                insert into raw.{s} as t (source_id, source_key, source_updated_at, payload,
                    payload_hash, first_extracted_at, extracted_at, run_id, is_deleted, deleted_at)
                select source_id, source_key, source_updated_at, payload::json, payload_hash,
                    ?, ?, ?, false, null
                from landing_page
                on conflict (source_id) do update set
                    source_key = excluded.source_key,
                    source_updated_at = excluded.source_updated_at,
                    payload = excluded.payload,
                    payload_hash = excluded.payload_hash,
                    extracted_at = excluded.extracted_at,
                    run_id = excluded.run_id,
                    is_deleted = false,
                    deleted_at = null
                where t.payload_hash <> excluded.payload_hash or t.is_deleted
                """,
                [now, now, run_id],
            )
            if self._has_open_quarantine(stream):
                self.con.execute(
                    """
                    update raw.quarantine set resolved_at = ?
                    where stream = ? and resolved_at is null
                      and source_id in (select source_id from landing_page)
                    """,
                    [now, stream],
                )
        finally:
            self.con.unregister("landing_page")
        return result

    def _has_open_quarantine(self, stream: str) -> bool:
        row = self.con.execute(
            "select count(*) from raw.quarantine where stream = ? and resolved_at is null and source_id is not null",
            [stream],
        ).fetchone()
        return bool(row and row[0])

    def save_snapshot(
        self, stream: str, records: list[Record], run_id: str, scope_key: str | None = None
    ) -> tuple[PageResult, int]:
        """Land a complete listing (users, versions, channels) and soft-delete what it no longer has.

        With ``scope_key``, only rows whose ``source_key`` equals it are compared (e.g. one
        project's versions). Returns the merge result and how many rows were newly marked deleted.
        """
        result = self.save_page(stream, records, [], None, run_id)
        present = {r.source_id for r in records}
        held = self.live_ids(stream, scope_key)
        return result, self.mark_deleted(stream, held - present, run_id)

    def ensure_reference_tables(self) -> None:
        """The mapping tables dbt staging reads (empty until the first extraction resolves names)."""
        self.con.execute(
            """
            create table if not exists raw.field_map (
                logical_name varchar primary key, field_id varchar not null, field_name varchar
            )
            """
        )
        self.con.execute(
            """
            create table if not exists raw.property_map (
                stream varchar not null, logical_name varchar not null, property_name varchar not null,
                property_id varchar, property_type varchar, primary key (stream, logical_name)
            )
            """
        )

    def replace_field_map(self, rows: list[tuple[str, str, str | None]]) -> None:
        """Record which source field id each logical field resolved to (read by dbt staging)."""
        with self.transaction():
            self.ensure_reference_tables()
            current = sorted(self.con.execute("select * from raw.field_map").fetchall())
            if current != sorted(rows):
                self.con.execute("delete from raw.field_map")
                self.con.executemany("insert into raw.field_map values (?, ?, ?)", rows)

    def replace_property_map(self, stream: str, rows: list[tuple[str, str, str, str]]) -> None:
        """Record which Notion property each logical property resolved to (read by dbt staging)."""
        with self.transaction():
            self.ensure_reference_tables()
            current = sorted(self.con.execute(
                "select logical_name, property_name, property_id, property_type from raw.property_map "
                "where stream = ?", [stream]).fetchall())
            if current != sorted(rows):
                self.con.execute("delete from raw.property_map where stream = ?", [stream])
                self.con.executemany(
                    "insert into raw.property_map values (?, ?, ?, ?, ?)", [(stream, *r) for r in rows]
                )

    def mark_deleted(self, stream: str, source_ids: Iterable[str], run_id: str) -> int:
        """Soft-delete: the row stays, flagged, with the time we noticed it was gone."""
        s = _check_ident(stream)
        ids = list(source_ids)
        if not ids:
            return 0
        with self.transaction():
            before = self._count(f"select count(*) from raw.{s} where is_deleted")
            self.con.execute(
                f"""
                update raw.{s} set is_deleted = true, deleted_at = now(), run_id = ?
                where not is_deleted and source_id in (select unnest(?::varchar[]))
                """,
                [run_id, ids],
            )
            after = self._count(f"select count(*) from raw.{s} where is_deleted")
        return after - before

    def live_ids(self, stream: str, scope_key: str | None = None) -> set[str]:
        s = _check_ident(stream)
        self.ensure_stream(stream)
        sql = f"select source_id from raw.{s} where not is_deleted"
        params: list[Any] = []
        if scope_key is not None:
            sql += " and source_key = ?"
            params.append(scope_key)
        return {r[0] for r in self.con.execute(sql, params).fetchall()}

    def updated_since(self, stream: str, since: datetime) -> set[str]:
        """Ids landed with a source update time at or after ``since`` (too recent to judge deleted)."""
        s = _check_ident(stream)
        rows = self.con.execute(
            f"select source_id from raw.{s} where source_updated_at >= ?", [since]
        ).fetchall()
        return {r[0] for r in rows}

    def _count(self, sql: str) -> int:
        row = self.con.execute(sql).fetchone()
        return int(row[0]) if row else 0

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
