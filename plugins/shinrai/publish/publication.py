"""Publish the marts for BI: one read-only DuckDB file and one Parquet set, switched by one pointer.

How a publication is made (one publisher at a time, under an exclusive lock file):

0. **Repair first** (:func:`repair`): whatever a killed publisher left is cleaned up before
   anything else: temporary directories and links go, the stable ``marts.duckdb`` and ``parquet``
   links are made to point through ``current`` again, and ``publications.jsonl`` gets the live
   publication's line if a kill cut it short.
1. The warehouse is attached **read-only** in a private in-memory DuckDB (so no build can start
   while it is copied). The build it holds must be the one the caller checked (``expected_build_id``,
   from ``state.marts_build_runs``), else nothing is written. The tables to publish are discovered
   there: every ``dim_``/``fct_``/``rpt_`` table (or view) of the ``marts`` schema, plus the reference
   tables of the ``seeds`` schema, all in the publication's ``main`` schema.
2. They are copied into ``publications/.<id>.tmp/marts.duckdb`` with two metadata tables:
   ``_publication`` (id, time, source run id, previous id, as-of date, counts) and
   ``_publication_tables`` (one row per table with its row count). The same data is written from
   that file into ``parquet/`` beside it (every Parquet file carries the publication id in its
   key-value metadata; the dbt descriptions are written as comments and Parquet metadata too,
   :mod:`shinrai.publish.descriptions`), and the manifest ``_publication.json``. A publication as of an earlier date
   than the live one is refused here (a backfill never replaces a newer publication).
3. Everything is fsynced, the DuckDB file made read-only (0444), the directory renamed to
   ``publications/<id>``, then **the switch**: the ``current`` symlink is replaced by one pointing at
   it, by one ``os.replace`` (atomic on POSIX). That rename is the commit point: before it the
   previous publication is live, whole; after it this one is, whole. ``marts.duckdb`` and
   ``parquet`` are symlinks through ``current`` and never change.
4. The history line is appended (:func:`repair` restores it after a kill), and publications older
   than the grace period are pruned.

A reader that opens ``marts.duckdb`` resolves ``current`` once and gets that publication's file (nobody
writes to it); a Parquet reader resolves the directory once (:meth:`PublishLayout.current_parquet_dir`).
Nothing relies on readers locking anything, so publishing never waits for BI. Old publications are
kept for a grace period so a reader that resolved the old pointer can finish.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import secrets
import shutil
import stat
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb

from shinrai.duckdb_lock import in_use
from shinrai.publish.descriptions import apply_descriptions, default_manifest, load_descriptions, parquet_kv_metadata
from shinrai.publish.layout import PUBLICATION_TABLE, PUBLICATION_TABLES_TABLE, PublishLayout

log = logging.getLogger(__name__)

MART_SCHEMA = "marts"
MART_PREFIXES = ("dim_", "fct_", "rpt_")
REFERENCE_SCHEMAS = ("seeds",)
# The oldest DuckDB storage format that holds our types: BI tools bundle older DuckDB releases.
STORAGE_VERSION = "v1.0.0"


class PublishError(RuntimeError):
    """The publication could not be made; the previous one is still live."""


@dataclass(frozen=True)
class SourceTable:
    schema: str
    name: str
    kind: str  # mart | reference

    @property
    def published_name(self) -> str:
        return self.name


@dataclass(frozen=True)
class Publication:
    publication_id: str
    published_at: datetime
    source_run_id: str | None
    previous_publication_id: str | None
    as_of_date: date | None
    tables: dict[str, int] = field(default_factory=dict)
    duckdb_file: Path = Path()
    parquet_dir: Path = Path()

    def as_json(self) -> dict[str, Any]:
        return {
            "publication_id": self.publication_id,
            "published_at": self.published_at.isoformat(),
            "source_run_id": self.source_run_id,
            "previous_publication_id": self.previous_publication_id,
            "as_of_date": self.as_of_date.isoformat() if self.as_of_date else None,
            "tables": self.tables,
            "duckdb_file": str(self.duckdb_file),
            "parquet_dir": str(self.parquet_dir),
        }


def quote_ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def quote_literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def discover_tables(con: duckdb.DuckDBPyConnection, catalog: str) -> list[SourceTable]:
    """Marts (``dim_``/``fct_``/``rpt_`` in ``marts``) and reference tables (every table in ``seeds``)."""
    rows = con.execute(
        """
        select table_schema, table_name
        from information_schema.tables
        where table_catalog = ? and table_type in ('BASE TABLE', 'VIEW')
        order by table_schema, table_name
        """,
        [catalog],
    ).fetchall()
    tables: list[SourceTable] = []
    for schema, name in rows:
        if schema == MART_SCHEMA and name.startswith(MART_PREFIXES):
            tables.append(SourceTable(schema, name, "mart"))
        elif schema in REFERENCE_SCHEMAS and not name.startswith("_"):
            tables.append(SourceTable(schema, name, "reference"))
    names = [t.published_name for t in tables]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise PublishError(f"tables with the same name in two schemas: {', '.join(duplicates)}")
    return tables


def new_publication_id(now: datetime) -> str:
    return now.strftime("%Y%m%dT%H%M%SZ") + "-" + secrets.token_hex(3)


@contextlib.contextmanager
def publish_lock(lock_file: Path, timeout: float) -> Iterator[None]:
    """One publisher at a time (POSIX ``flock``; where it is missing the DAG's one-writer rule holds)."""
    try:
        import fcntl
    except ImportError:  # pragma: no cover - not POSIX
        yield
        return
    lock_file.parent.mkdir(parents=True, exist_ok=True)
    with open(lock_file, "a+") as handle:
        deadline = time.monotonic() + timeout
        while True:
            try:
                fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    raise PublishError(f"another publication holds {lock_file} for more than {timeout}s") from None
                time.sleep(0.2)
        try:
            yield
        finally:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


def _fsync_file(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _fsync_dir(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:  # pragma: no cover - directories cannot be opened on Windows
        return
    try:
        os.fsync(fd)
    except OSError:  # pragma: no cover
        pass
    finally:
        os.close(fd)


def _remove(path: Path) -> None:
    if path.is_symlink() or path.is_file():
        with contextlib.suppress(FileNotFoundError):
            path.unlink()
    elif path.is_dir():
        shutil.rmtree(path, ignore_errors=True)


# Test hook (harmless elsewhere): SIGKILL the publisher at a named step, as a kill -9 or a power cut
# there would stop it. The steps, in order: see :data:`KILL_STEPS`.
KILL_ENV = "SHINRAI_PUBLISH_KILL_AT"
KILL_STEPS = ("repaired", "copied", "synced", "renamed", "switched", "linked", "recorded", "pruned")


def _kill_at(step: str) -> None:
    if os.environ.get(KILL_ENV) == step:
        import signal

        os.kill(os.getpid(), signal.SIGKILL)


def _remove_leftovers(target: PublishLayout) -> None:
    """Temporary files of a publisher that was killed (we hold the lock: nobody else is writing)."""
    leftovers = [*target.root.glob(".marts.duckdb.*"), *target.root.glob(".parquet.*.tmp"),
                 *target.root.glob(".CURRENT.*.tmp"), *target.root.glob(".current.*.tmp"),
                 *target.root.glob(".link.*.tmp")]
    for directory in (target.publications_dir, target.parquet_versions):
        if directory.is_dir():
            leftovers += [p for p in directory.glob(".*") if p.name.endswith(".tmp")]
    for path in leftovers:
        log.warning("removing %s left by an interrupted publication", path)
        _remove(path)


def _remove_stray_wal(target: PublishLayout) -> None:
    """A ``marts.duckdb.wal`` means someone opened the publication read-write; a reader of the next
    file would replay it against the wrong database, so it goes."""
    wal = Path(f"{target.duckdb_file}.wal")
    if wal.exists():
        log.warning("removing %s: the publication was opened read-write (BI must connect read-only)", wal)
        _remove(wal)


def _replace_symlink(link: Path, points_to: Path, tmp_name: str) -> None:
    """Make ``link`` a symlink to ``points_to`` (relative) by one atomic rename."""
    tmp = link.parent / tmp_name
    _remove(tmp)
    os.symlink(points_to, tmp)
    os.replace(tmp, link)


def _ensure_stable_links(target: PublishLayout) -> bool:
    """``marts.duckdb`` -> ``current/marts.duckdb`` and ``parquet`` -> ``current/parquet``.

    They never change once made; they are (re)made only the first time after the layout before
    ``current`` (a real ``marts.duckdb`` file, ``parquet`` -> ``parquet-versions/<id>``), or when a
    kill interrupted that. Returns True when something was changed."""
    changed = False
    for link, points_to in ((target.duckdb_file, Path("current") / "marts.duckdb"),
                            (target.parquet_link, Path("current") / "parquet")):
        if link.is_symlink() and Path(os.readlink(link)) == points_to:
            continue
        if link.exists() and not link.is_symlink() and link.is_dir():
            # a real directory from an older layout: move it aside (its files stay until pruned)
            target.parquet_versions.mkdir(parents=True, exist_ok=True)
            os.replace(link, target.parquet_versions / f"legacy-{secrets.token_hex(3)}")
        log.info("pointing %s at %s", link, points_to)
        _replace_symlink(link, points_to, f".link.{link.name}.tmp")
        changed = True
    if changed:
        _fsync_dir(target.root)
    return changed


def read_manifest(directory: Path) -> dict[str, Any] | None:
    """A publication directory's ``_publication.json`` (None when absent or unreadable)."""
    try:
        return json.loads((directory / "_publication.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def _history_ids(target: PublishLayout) -> list[str]:
    try:
        lines = target.history_file.read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        return []
    ids = []
    for line in lines:
        with contextlib.suppress(ValueError, KeyError, TypeError):
            ids.append(str(json.loads(line)["publication_id"]))
    return ids


def _append_history(target: PublishLayout, entry: dict[str, Any]) -> None:
    # a line cut short by a kill is completed by a newline first, so it stays one unreadable line
    text = json.dumps(entry, ensure_ascii=False) + "\n"
    with contextlib.suppress(FileNotFoundError):
        if target.history_file.stat().st_size and not target.history_file.read_bytes().endswith(b"\n"):
            text = "\n" + text
    with open(target.history_file, "a", encoding="utf-8") as history:
        history.write(text)
        history.flush()
        os.fsync(history.fileno())


def repair(target: PublishLayout) -> None:
    """Undo what a killed publisher left, before anything else (call it holding the publish lock).

    Temporary files and directories go; the stable links point through ``current`` again; the live
    publication's line is appended to ``publications.jsonl`` when a kill cut it short (the history is
    derivable from ``current`` and the manifests); a stray WAL beside ``marts.duckdb`` goes."""
    _remove_leftovers(target)
    current = target.current_dir()
    if target.current_link.is_symlink() and current is None:
        log.warning("removing %s: it points at no publication", target.current_link)
        _remove(target.current_link)
    if current is not None:
        _ensure_stable_links(target)
        if current.name not in _history_ids(target)[-1:]:
            manifest = read_manifest(current)
            if manifest is not None and manifest.get("publication_id") not in _history_ids(target):
                log.warning("recording publication %s in %s (its publisher was interrupted)", current.name,
                            target.history_file)
                _append_history(target, {**manifest, "duckdb_file": str(target.duckdb_file),
                                         "parquet_dir": str(current / "parquet")})
    _remove_stray_wal(target)


def _live(target: PublishLayout) -> tuple[str | None, date | None]:
    """The live publication's id and as-of date (either layout), read from its own files."""
    current = target.current_dir()
    if current is not None:
        manifest = read_manifest(current) or {}
        as_of = manifest.get("as_of_date")
        return current.name, date.fromisoformat(as_of) if as_of else None
    if target.duckdb_file.is_file():  # the layout before ``current``
        with contextlib.suppress(duckdb.Error):
            row = read_publication(target.duckdb_file)
            if row:
                return str(row["publication_id"]), row.get("as_of_date")
    return None, None


def _as_of_date(con: duckdb.DuckDBPyConnection, tables: list[SourceTable]) -> date | None:
    """The marts' as-of date ("today" of the build), from the first mart that carries one."""
    for table in tables:
        if table.kind != "mart":
            continue
        has_column = con.execute(
            "select count(*) from information_schema.columns "
            "where table_catalog = 'pub' and table_schema = 'main' and table_name = ? and column_name = 'as_of_date'",
            [table.published_name],
        ).fetchone()
        if has_column and has_column[0]:
            row = con.execute(f"select max(as_of_date) from pub.main.{quote_ident(table.published_name)}").fetchone()
            if row and isinstance(row[0], date):
                return row[0]
    return None


def _build(
    warehouse: Path,
    tmp_db: Path,
    tmp_parquet: Path,
    publication_id: str,
    published_at: datetime,
    source_run_id: str | None,
    previous_id: str | None,
    reporting_timezone: str | None,
    expected_build_id: str | None = None,
    parquet_dir_name: str = "",
    dbt_manifest: Path | None = None,
) -> tuple[dict[str, int], date | None]:
    """Write the whole publication into ``tmp_db`` and ``tmp_parquet``; touch nothing else."""
    from shinrai.transform import builds

    tmp_parquet.mkdir(parents=True)
    con = duckdb.connect(":memory:")
    try:
        try:
            con.execute(f"attach {quote_literal(str(warehouse))} as src (read_only)")
        except duckdb.IOException as exc:
            busy = in_use(exc, warehouse)
            if busy is None:
                raise
            raise busy from exc
        build = builds.latest_from(con, "src")
        if expected_build_id is not None:
            if build is None or build.build_id != expected_build_id or build.status != builds.SUCCESS:
                found = build.describe() + f" ({build.status})" if build else "no build"
                raise PublishError(f"the warehouse now holds {found}, not the checked build {expected_build_id}: "
                                   "it was rebuilt meanwhile; nothing was published")
        con.execute(f"attach {quote_literal(str(tmp_db))} as pub (storage_version '{STORAGE_VERSION}')")
        tables = discover_tables(con, "src")
        if not any(t.kind == "mart" for t in tables):
            raise PublishError(f"no dim_/fct_/rpt_ tables in schema {MART_SCHEMA!r} of {warehouse}")
        counts: dict[str, int] = {}
        meta_rows: list[tuple[Any, ...]] = []
        for table in tables:
            name = quote_ident(table.published_name)
            con.execute(
                f"create table pub.main.{name} as "
                f"select * from src.{quote_ident(table.schema)}.{quote_ident(table.name)}"
            )
            row = con.execute(f"select count(*) from pub.main.{name}").fetchone()
            counts[table.published_name] = int(row[0]) if row else 0
            columns = con.execute(
                "select count(*) from information_schema.columns "
                "where table_catalog = 'pub' and table_schema = 'main' and table_name = ?",
                [table.published_name],
            ).fetchone()
            meta_rows.append((
                publication_id, table.published_name, table.kind, table.schema, table.name,
                counts[table.published_name], int(columns[0]) if columns else 0, f"{table.published_name}.parquet",
            ))
        described = apply_descriptions(con, "pub", tables, load_descriptions(dbt_manifest or default_manifest()))
        as_of = build.as_of_date if build is not None and build.status == builds.SUCCESS else None
        as_of = as_of or _as_of_date(con, tables)
        con.execute(f"""
            create table pub.main.{PUBLICATION_TABLE} (
                publication_id varchar not null,
                published_at timestamp with time zone not null,
                source_run_id varchar,
                previous_publication_id varchar,
                as_of_date date,
                reporting_timezone varchar,
                table_count integer not null,
                total_rows bigint not null,
                parquet_dir varchar not null,
                source_warehouse varchar not null,
                duckdb_version varchar not null
            )""")
        con.execute(
            f"insert into pub.main.{PUBLICATION_TABLE} values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [publication_id, published_at, source_run_id, previous_id, as_of, reporting_timezone, len(counts),
             sum(counts.values()),
             parquet_dir_name, str(warehouse), duckdb.__version__],
        )
        con.execute(f"""
            create table pub.main.{PUBLICATION_TABLES_TABLE} (
                publication_id varchar not null,
                table_name varchar not null,
                kind varchar not null,
                source_schema varchar not null,
                source_table varchar not null,
                row_count bigint not null,
                column_count integer not null,
                parquet_file varchar not null
            )""")
        con.executemany(f"insert into pub.main.{PUBLICATION_TABLES_TABLE} values (?, ?, ?, ?, ?, ?, ?, ?)", meta_rows)
        for name in [*counts, PUBLICATION_TABLE, PUBLICATION_TABLES_TABLE]:
            pairs = {"publication_id": publication_id, **parquet_kv_metadata(described.get(name))}
            kv = "kv_metadata {" + ", ".join(f"{quote_literal(k)}: {quote_literal(v)}" for k, v in pairs.items()) + "}"
            out = quote_literal(str(tmp_parquet / f"{name}.parquet"))
            con.execute(f"copy pub.main.{quote_ident(name)} to {out} (format parquet, compression zstd, {kv})")
        con.execute("detach pub")
        con.execute("detach src")
    finally:
        con.close()
    manifest = {
        "publication_id": publication_id,
        "published_at": published_at.isoformat(),
        "source_run_id": source_run_id,
        "previous_publication_id": previous_id,
        "as_of_date": as_of.isoformat() if as_of else None,
        "tables": counts,
    }
    (tmp_parquet / "_publication.json").write_text(json.dumps(manifest, indent=2), encoding="utf-8")
    return counts, as_of


def _prune(target: PublishLayout, current: str, keep: int, grace: timedelta) -> None:
    """Remove publications beyond the ``keep`` newest (the live one included) once older than
    ``grace``; and the directories of the layout before ``current`` once older than ``grace``."""
    cutoff = time.time() - grace.total_seconds()
    if target.publications_dir.is_dir():
        old = [p for p in target.publications_dir.iterdir()
               if p.is_dir() and not p.is_symlink() and not p.name.startswith(".") and p.name != current]
        old.sort(key=lambda p: p.stat().st_mtime, reverse=True)
        for index, directory in enumerate(old):
            if index < keep - 1 or directory.stat().st_mtime > cutoff:
                continue
            log.info("removing old publication %s", directory.name)
            shutil.rmtree(directory, ignore_errors=True)
    if target.parquet_versions.is_dir():
        with contextlib.suppress(FileNotFoundError):
            (target.parquet_versions / "CURRENT").unlink()
        for directory in target.parquet_versions.iterdir():
            if directory.is_dir() and directory.stat().st_mtime <= cutoff:
                log.info("removing Parquet set %s of the layout before publications/", directory.name)
                shutil.rmtree(directory, ignore_errors=True)
        with contextlib.suppress(OSError):
            target.parquet_versions.rmdir()  # only once empty


def publish_marts(
    warehouse: Path,
    target: PublishLayout,
    source_run_id: str | None = None,
    *,
    keep_versions: int = 3,
    version_grace: timedelta = timedelta(hours=1),
    lock_timeout: float = 600,
    reporting_timezone: str | None = None,
    expected_build_id: str | None = None,
    manifest: Path | None = None,
) -> Publication:
    """Publish the warehouse's marts to ``target`` by one pointer switch; return what was published.

    ``keep_versions`` publications (the live one included) are kept, and any younger than
    ``version_grace`` (a reader may have resolved the old pointer and still be reading).
    ``reporting_timezone`` is recorded in ``_publication`` (the zone the marts' months are in).
    ``expected_build_id``: the build (``state.marts_build_runs``) the caller checked; if the
    warehouse holds another one when it is opened, nothing is published.
    Refuses marts as of an earlier date than the live publication's.
    ``manifest`` (default: the dbt target's ``manifest.json``) gives the table and column
    descriptions written as comments and Parquet metadata (:mod:`shinrai.publish.descriptions`).
    """
    warehouse = Path(warehouse)
    if not warehouse.exists():
        raise PublishError(f"no warehouse at {warehouse}: build the marts first")
    target.root.mkdir(parents=True, exist_ok=True)
    target.publications_dir.mkdir(parents=True, exist_ok=True)
    with publish_lock(target.lock_file, lock_timeout):
        repair(target)
        _kill_at("repaired")
        published_at = datetime.now(UTC)
        publication_id = new_publication_id(published_at)
        previous_id, live_as_of = _live(target)
        tmp_dir = target.publications_dir / f".{publication_id}.tmp"
        final_dir = target.publication_dir(publication_id)
        switched = False
        try:
            tmp_dir.mkdir()
            tmp_db = tmp_dir / "marts.duckdb"
            tmp_parquet = tmp_dir / "parquet"
            counts, as_of = _build(warehouse, tmp_db, tmp_parquet, publication_id, published_at, source_run_id,
                                   previous_id, reporting_timezone, expected_build_id,
                                   f"publications/{publication_id}/parquet", manifest)
            if live_as_of is not None and as_of is not None and as_of < live_as_of:
                raise PublishError(f"the marts are as of {as_of}, the live publication {previous_id} as of "
                                   f"{live_as_of}: an earlier as-of date never replaces a later one "
                                   "(rebuild the marts for today)")
            _kill_at("copied")
            if Path(f"{tmp_db}.wal").exists():
                raise PublishError(f"{tmp_db}.wal was left behind: the publication file is not checkpointed")
            (tmp_dir / "_publication.json").write_text(
                json.dumps(json.loads((tmp_parquet / "_publication.json").read_text(encoding="utf-8")), indent=2),
                encoding="utf-8")
            os.chmod(tmp_db, stat.S_IRUSR | stat.S_IRGRP | stat.S_IROTH)
            for path in [*tmp_parquet.iterdir(), tmp_db, tmp_dir / "_publication.json"]:
                _fsync_file(path)
            _fsync_dir(tmp_parquet)
            _fsync_dir(tmp_dir)
            _kill_at("synced")
            os.replace(tmp_dir, final_dir)
            _fsync_dir(target.publications_dir)
            _kill_at("renamed")
            # the commit point: one rename of one symlink
            _replace_symlink(target.current_link, Path(target.publications_dir.name) / publication_id,
                             f".current.{publication_id}.tmp")
            switched = True
            _fsync_dir(target.root)
        except BaseException:
            if not switched:
                for path in (tmp_dir, final_dir, target.root / f".current.{publication_id}.tmp"):
                    _remove(path)
            raise
        _kill_at("switched")
        _ensure_stable_links(target)  # a no-op except the first time after the older layout
        _remove_stray_wal(target)
        _kill_at("linked")
        publication = Publication(
            publication_id=publication_id,
            published_at=published_at,
            source_run_id=source_run_id,
            previous_publication_id=previous_id,
            as_of_date=as_of,
            tables=counts,
            duckdb_file=target.duckdb_file,
            parquet_dir=final_dir / "parquet",
        )
        _append_history(target, publication.as_json())
        _kill_at("recorded")
        _prune(target, publication_id, keep_versions, version_grace)
        _kill_at("pruned")
    log.info("published %s: %d tables, %d rows, source run %s", publication_id, len(counts), sum(counts.values()),
             source_run_id)
    return publication


def read_publication(path: Path) -> dict[str, Any] | None:
    """The ``_publication`` row of a published DuckDB file (opened read-only), or None if absent."""
    if not Path(path).exists():
        return None
    with duckdb.connect(str(path), read_only=True) as con:
        cursor = con.execute(f"select * from {PUBLICATION_TABLE}")
        names = [d[0] for d in cursor.description]
        row = cursor.fetchone()
    return dict(zip(names, row, strict=True)) if row else None
