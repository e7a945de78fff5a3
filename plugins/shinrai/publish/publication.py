"""Publish the marts for BI: one read-only DuckDB file and one Parquet set, switched atomically.

How a publication is made (one publisher at a time, under an exclusive lock file):

1. The warehouse is attached **read-only** in a private in-memory DuckDB; the tables to publish
   are discovered there: every ``dim_``/``fct_``/``rpt_`` table (or view) of the ``marts`` schema,
   plus the reference tables of the ``seeds`` schema (taxonomies with their English and Japanese
   names and definitions), all in the publication's ``main`` schema.
2. They are copied into a temporary DuckDB file next to the target (same file system), with two
   metadata tables: ``_publication`` (id, time, source run id, previous id, as-of date, counts)
   and ``_publication_tables`` (one row per table with its row count). The same data is written
   from that file into a new Parquet directory ``parquet-versions/<id>/`` (every Parquet file
   carries the publication id in its key-value metadata). The dbt descriptions are written in
   between, as comments and Parquet metadata (:mod:`shinrai.publish.descriptions`).
3. Everything is flushed and fsynced, the DuckDB file made read-only (0444), then switched:
   ``parquet`` (a symlink) is replaced by one pointing at the new directory, and the temporary
   DuckDB file is ``os.replace``-d over ``marts.duckdb``. Both renames are atomic on POSIX.

A reader that opens ``marts.duckdb`` gets either the old inode (still whole: the rename unlinks
the name, not the data, and nobody writes to it) or the new one, never a mix. Nothing relies on
readers locking the file (DuckDB's read-only connections take no lock we need, and the publisher
never writes to a published inode), so publishing never waits for BI. On any failure before the
switch, the temporary files are removed and the previous publication stays live untouched; old
Parquet versions are kept for a grace period so a reader that resolved the old pointer can finish.
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


def _remove_leftovers(target: PublishLayout) -> None:
    """Temporary files of a publisher that was killed (we hold the lock: nobody else is writing)."""
    leftovers = [*target.root.glob(".marts.duckdb.*"), *target.root.glob(".parquet.*.tmp"),
                 *target.root.glob(".CURRENT.*.tmp")]
    if target.parquet_versions.is_dir():
        leftovers += [p for p in target.parquet_versions.glob(".*") if p.name.endswith(".tmp")]
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


def _last_publication_id(target: PublishLayout) -> str | None:
    try:
        lines = target.history_file.read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        return None
    for line in reversed(lines):
        with contextlib.suppress(ValueError, KeyError):
            return str(json.loads(line)["publication_id"])
    return None


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
    manifest: Path | None = None,
) -> tuple[dict[str, int], date | None]:
    """Write the whole publication into ``tmp_db`` and ``tmp_parquet``; touch nothing else."""
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
        described = apply_descriptions(con, "pub", tables, load_descriptions(manifest or default_manifest()))
        as_of = _as_of_date(con, tables)
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
             f"parquet-versions/{publication_id}", str(warehouse), duckdb.__version__],
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


def _current_version(target: PublishLayout) -> str | None:
    current = target.current_parquet_dir()
    return current.name if current is not None else None


def _switch_parquet(target: PublishLayout, version_name: str) -> None:
    """Point ``parquet-versions/CURRENT`` and the ``parquet`` symlink at ``version_name``, each by a rename.

    Where the platform refuses symlinks (Windows without the privilege), CURRENT is the pointer.
    """
    link = target.parquet_link
    if link.exists() and not link.is_symlink():
        # a real directory from an older layout: move it aside once (not atomic; happens once)
        os.replace(link, target.parquet_versions / f"legacy-{secrets.token_hex(3)}")
    tmp_pointer = target.root / f".CURRENT.{version_name}.tmp"
    tmp_pointer.write_text(version_name + "\n", encoding="utf-8")
    os.replace(tmp_pointer, target.parquet_pointer)
    tmp_link = target.root / f".parquet.{version_name}.tmp"
    try:
        os.symlink(Path(target.parquet_versions.name) / version_name, tmp_link, target_is_directory=True)
    except OSError as exc:  # pragma: no cover - e.g. Windows without the symlink privilege
        log.warning("cannot create symlinks here (%s); readers must use %s", exc, target.parquet_pointer)
        return
    os.replace(tmp_link, link)


def _prune_versions(target: PublishLayout, current: str, keep: int, grace: timedelta) -> None:
    if not target.parquet_versions.is_dir():
        return
    versions = [p for p in target.parquet_versions.iterdir()
                if p.is_dir() and not p.name.startswith(".") and p.name != current]
    versions.sort(key=lambda p: p.stat().st_mtime, reverse=True)
    cutoff = time.time() - grace.total_seconds()
    for index, version in enumerate(versions):
        if index < keep - 1 or version.stat().st_mtime > cutoff:
            continue
        log.info("removing old Parquet publication %s", version.name)
        shutil.rmtree(version, ignore_errors=True)


def publish_marts(
    warehouse: Path,
    target: PublishLayout,
    source_run_id: str | None = None,
    *,
    keep_versions: int = 3,
    version_grace: timedelta = timedelta(hours=1),
    lock_timeout: float = 600,
    reporting_timezone: str | None = None,
    manifest: Path | None = None,
) -> Publication:
    """Publish the warehouse's marts to ``target`` atomically; return what was published.

    ``keep_versions`` Parquet sets (the current one included) are kept, and any younger than
    ``version_grace`` (a reader may have resolved the old pointer and still be reading).
    ``reporting_timezone`` is recorded in ``_publication`` (the zone the marts' months are in).
    ``manifest`` (default: the dbt target's ``manifest.json``) gives the table and column
    descriptions written as comments and Parquet metadata (:mod:`shinrai.publish.descriptions`).
    """
    warehouse = Path(warehouse)
    if not warehouse.exists():
        raise PublishError(f"no warehouse at {warehouse}: build the marts first")
    target.root.mkdir(parents=True, exist_ok=True)
    target.parquet_versions.mkdir(parents=True, exist_ok=True)
    with publish_lock(target.lock_file, lock_timeout):
        _remove_leftovers(target)
        published_at = datetime.now(UTC)
        publication_id = new_publication_id(published_at)
        previous_id = _last_publication_id(target)
        tmp_db = target.root / f".marts.duckdb.{publication_id}.tmp"
        tmp_parquet = target.parquet_versions / f".{publication_id}.tmp"
        version_dir = target.parquet_versions / publication_id
        version_created = parquet_switched = False
        previous_version: str | None = None
        try:
            counts, as_of = _build(warehouse, tmp_db, tmp_parquet, publication_id, published_at, source_run_id,
                                   previous_id, reporting_timezone, manifest)
            for path in tmp_parquet.iterdir():
                _fsync_file(path)
            _fsync_dir(tmp_parquet)
            os.replace(tmp_parquet, version_dir)
            version_created = True
            _fsync_dir(target.parquet_versions)
            if Path(f"{tmp_db}.wal").exists():
                raise PublishError(f"{tmp_db}.wal was left behind: the publication file is not checkpointed")
            os.chmod(tmp_db, stat.S_IRUSR | stat.S_IRGRP | stat.S_IROTH)
            _fsync_file(tmp_db)
            # the switch: Parquet pointer first, then the DuckDB file (undone if the DuckDB rename fails)
            previous_version = _current_version(target)
            parquet_switched = True  # from here on, a failure points Parquet back
            _switch_parquet(target, publication_id)
            _remove_stray_wal(target)
            os.replace(tmp_db, target.duckdb_file)
            _remove_stray_wal(target)
            _fsync_dir(target.root)
        except BaseException:
            rolled_back = not parquet_switched
            if parquet_switched:
                try:
                    if previous_version is not None:
                        _switch_parquet(target, previous_version)
                    else:
                        _remove(target.parquet_link)
                        _remove(target.parquet_pointer)
                    rolled_back = True
                except Exception:  # pragma: no cover - keep the original error
                    log.exception("could not point Parquet back at %s", previous_version)
            for path in (tmp_db, Path(f"{tmp_db}.wal"), tmp_parquet):
                _remove(path)
            if version_created and rolled_back:
                _remove(version_dir)
            raise
        publication = Publication(
            publication_id=publication_id,
            published_at=published_at,
            source_run_id=source_run_id,
            previous_publication_id=previous_id,
            as_of_date=as_of,
            tables=counts,
            duckdb_file=target.duckdb_file,
            parquet_dir=version_dir,
        )
        with open(target.history_file, "a", encoding="utf-8") as history:
            history.write(json.dumps(publication.as_json(), ensure_ascii=False) + "\n")
            history.flush()
            os.fsync(history.fileno())
        _prune_versions(target, publication_id, keep_versions, version_grace)
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
