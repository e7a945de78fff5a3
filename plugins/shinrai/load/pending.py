"""Writes the landing store has accepted but not yet committed, and how they are committed.

A DuckDB statement costs about a millisecond however few rows it touches, and every commit waits
for the disk, so landing each page with its own handful of statements and its own commit makes
the statements, not the data, the cost of an extraction (a 100x Slack full load lands ~40,000
pages). The store therefore stages each page here (records, their versions, quarantine rows,
soft deletes, the cursor) and commits what is staged together, in one transaction, a few times a
second. Whatever a commit holds, a page and its cursor are in the same one: after a crash the
store holds every committed page with its cursor and nothing of the rest, which the next run reads
again (idempotently).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import duckdb


@dataclass
class StagedRow:
    """The latest payload of one record in the batch."""

    source_key: str | None
    source_updated_at: datetime | None
    payload: str
    payload_hash: str
    first_extracted_at: datetime
    extracted_at: datetime
    run_id: str
    in_db: bool  # the row exists in the file already: commit updates it instead of inserting it


@dataclass
class PendingWrites:
    rows: dict[str, dict[str, StagedRow]] = field(default_factory=dict)  # stream -> id -> row
    versions: dict[str, dict[tuple[str, str], tuple[datetime | None, str, datetime, str]]] = field(
        default_factory=dict)  # stream -> (id, hash) -> (source_updated_at, payload, extracted_at, run_id)
    deletes: dict[str, dict[str, tuple[datetime, str]]] = field(default_factory=dict)  # stream -> id -> (at, run)
    quarantine: dict[tuple[str, str], list[Any]] = field(default_factory=dict)  # (stream, hash) -> row
    resolutions: dict[str, dict[str, datetime]] = field(default_factory=dict)  # stream -> id -> resolved at
    cursors: dict[str, tuple[datetime | None, str | None, datetime]] = field(default_factory=dict)
    size: int = 0  # payload characters staged (bounds the memory a batch may hold)

    def __bool__(self) -> bool:
        return bool(self.rows or self.deletes or self.quarantine or self.resolutions or self.cursors)

    # -- staging ---------------------------------------------------------------------------------

    def stage_row(self, stream: str, source_id: str, row: StagedRow) -> None:
        rows = self.rows.setdefault(stream, {})
        previous = rows.get(source_id)
        if previous is not None and not previous.in_db:
            row.first_extracted_at = previous.first_extracted_at
        rows[source_id] = row
        self.versions.setdefault(stream, {}).setdefault(
            (source_id, row.payload_hash), (row.source_updated_at, row.payload, row.extracted_at, row.run_id))
        self.deletes.get(stream, {}).pop(source_id, None)  # landed again after a delete: live
        self.size += len(row.payload)

    def stage_delete(self, stream: str, source_id: str, at: datetime, run_id: str) -> None:
        self.deletes.setdefault(stream, {}).setdefault(source_id, (at, run_id))

    def stage_quarantine(self, stream: str, source_id: str | None, digest: str, reason: str, text: str,
                         at: datetime, run_id: str) -> None:
        row = self.quarantine.get((stream, digest))
        if row is None:
            self.quarantine[(stream, digest)] = [stream, source_id, digest, reason, text, at, at, run_id]
            self.size += len(text)
        else:  # seen twice in one batch: one row, last seen now
            row[6], row[7] = at, run_id

    def stage_resolution(self, stream: str, source_id: str, at: datetime) -> None:
        self.resolutions.setdefault(stream, {}).setdefault(source_id, at)

    def resolves(self, stream: str, source_id: str) -> bool:
        return source_id in self.resolutions.get(stream, {})

    def stage_cursor(self, name: str, watermark: datetime | None, in_progress: str | None, at: datetime) -> None:
        self.cursors[name] = (watermark, in_progress, at)

    # -- committing --------------------------------------------------------------------------------

    def write(self, con: duckdb.DuckDBPyConnection, checked: set[str]) -> None:
        """Write everything staged, in the caller's transaction. ``checked`` names are valid streams."""
        for stream, rows in self.rows.items():
            assert stream in checked
            versions = self.versions.get(stream, {})
            changed = [(sid, r) for sid, r in rows.items() if r.in_db]
            if changed:
                # the payload being replaced moves to its version row (which held it as NULL while it
                # was the current one): every payload is stored once (:mod:`shinrai.load.landing`)
                con.execute(
                    f"""
                    update raw.{stream}__versions as v set payload = t.payload
                    from raw.{stream} as t,
                        (select unnest(?::varchar[]) as source_id, unnest(?::varchar[]) as payload_hash) as p
                    where t.source_id = p.source_id and t.payload_hash <> p.payload_hash
                      and v.source_id = t.source_id and v.payload_hash = t.payload_hash and v.payload is null
                    """,
                    [[sid for sid, _ in changed], [r.payload_hash for _, r in changed]],
                )
            # a record new to the file has no versions there yet: only the others need the check
            for fresh in (True, False):
                keys = [k for k in versions if (not rows[k[0]].in_db) == fresh]
                if not keys:
                    continue
                con.execute(
                    f"""
                    insert into raw.{stream}__versions
                        (source_id, payload_hash, source_updated_at, payload, extracted_at, run_id)
                    select unnest(?::varchar[]), unnest(?::varchar[]), unnest(?::timestamptz[]),
                        unnest(?::varchar[])::json, unnest(?::timestamptz[]), unnest(?::varchar[])
                    {"" if fresh else "on conflict do nothing"}
                    """,
                    [[k[0] for k in keys], [k[1] for k in keys],
                     *map(list, zip(*(_version_row(versions[k], rows[k[0]], k[1]) for k in keys), strict=True))],
                )
            new = [(sid, r) for sid, r in rows.items() if not r.in_db]
            if new:
                con.execute(
                    f"""
                    insert into raw.{stream} (source_id, source_key, source_updated_at, payload, payload_hash,
                        first_extracted_at, extracted_at, run_id, is_deleted, deleted_at)
                    select unnest(?::varchar[]), unnest(?::varchar[]), unnest(?::timestamptz[]),
                        unnest(?::varchar[])::json, unnest(?::varchar[]), unnest(?::timestamptz[]),
                        unnest(?::timestamptz[]), unnest(?::varchar[]), false, null
                    """,
                    _columns(new),
                )
            if changed:
                con.execute(
                    f"""
                    update raw.{stream} as t set
                        source_key = p.source_key, source_updated_at = p.source_updated_at,
                        payload = p.payload::json, payload_hash = p.payload_hash, extracted_at = p.extracted_at,
                        run_id = p.run_id, is_deleted = false, deleted_at = null
                    from (
                        select unnest(?::varchar[]) as source_id, unnest(?::varchar[]) as source_key,
                            unnest(?::timestamptz[]) as source_updated_at, unnest(?::varchar[]) as payload,
                            unnest(?::varchar[]) as payload_hash, unnest(?::timestamptz[]) as first_extracted_at,
                            unnest(?::timestamptz[]) as extracted_at, unnest(?::varchar[]) as run_id
                    ) as p
                    where t.source_id = p.source_id
                    """,
                    _columns(changed),
                )
        if self.quarantine:  # a record quarantined again is open again, whatever landed in between
            con.execute(
                """
                insert into raw.quarantine as q (stream, source_id, payload_hash, reason, payload_text,
                    first_seen_at, last_seen_at, run_id, resolved_at)
                select unnest(?::varchar[]), unnest(?::varchar[]), unnest(?::varchar[]), unnest(?::varchar[]),
                    unnest(?::varchar[]), unnest(?::timestamptz[]), unnest(?::timestamptz[]), unnest(?::varchar[]),
                    null
                on conflict (stream, payload_hash) do update set
                    last_seen_at = excluded.last_seen_at, run_id = excluded.run_id, resolved_at = null
                """,
                [list(c) for c in zip(*self.quarantine.values(), strict=True)],
            )
        for stream, resolved in self.resolutions.items():
            con.execute(
                """
                update raw.quarantine as q set resolved_at = r.at
                from (select unnest(?::varchar[]) as source_id, unnest(?::timestamptz[]) as at) as r
                where q.stream = ? and q.resolved_at is null and q.source_id = r.source_id
                """,
                [list(resolved), list(resolved.values()), stream],
            )
        for stream, deletes in self.deletes.items():
            if not deletes:
                continue
            assert stream in checked
            con.execute(
                f"""
                update raw.{stream} as t set is_deleted = true, deleted_at = d.at, run_id = d.run_id
                from (select unnest(?::varchar[]) as source_id, unnest(?::timestamptz[]) as at,
                      unnest(?::varchar[]) as run_id) as d
                where t.source_id = d.source_id and not t.is_deleted
                """,
                [list(deletes), [v[0] for v in deletes.values()], [v[1] for v in deletes.values()]],
            )
        if self.cursors:
            con.execute(
                """
                insert into state.cursors (stream, watermark, in_progress, updated_at)
                select unnest(?::varchar[]), unnest(?::timestamptz[]), unnest(?::varchar[])::json,
                    unnest(?::timestamptz[])
                on conflict (stream) do update set
                    watermark = excluded.watermark,
                    in_progress = excluded.in_progress,
                    updated_at = excluded.updated_at
                """,
                [list(self.cursors), *map(list, zip(*self.cursors.values(), strict=True))],
            )


def _version_row(version: tuple[datetime | None, str, datetime, str], current: StagedRow, digest: str
                 ) -> tuple[datetime | None, str | None, datetime, str]:
    """A version's row: its payload NULL when it is the record's current one (raw.<stream> holds it)."""
    updated, payload, extracted_at, run_id = version
    return updated, None if digest == current.payload_hash else payload, extracted_at, run_id


def _columns(rows: list[tuple[str, StagedRow]]) -> list[list[Any]]:
    return [
        [sid for sid, _ in rows],
        [r.source_key for _, r in rows],
        [r.source_updated_at for _, r in rows],
        [r.payload for _, r in rows],
        [r.payload_hash for _, r in rows],
        [r.first_extracted_at for _, r in rows],
        [r.extracted_at for _, r in rows],
        [r.run_id for _, r in rows],
    ]
