"""Where a publication lives on disk, and how a reader finds the current one.

::

    <SHINRAI_HOME>/publish/                        (override: SHINRAI_PUBLISH_DIR)
        current -> publications/<id>               THE pointer: one symlink, replaced by one rename
        marts.duckdb -> current/marts.duckdb       stable path for BI (a symlink through ``current``)
        parquet -> current/parquet                 stable path for BI (a symlink through ``current``)
        publications/<id>/marts.duckdb             one directory per publication (mode 0444 file),
        publications/<id>/parquet/<table>.parquet    never changed once written
        publications/<id>/_publication.json        its manifest (id, run, as-of date, row counts)
        publications.jsonl                         one line per publication (the history; repaired
                                                   from ``current`` when a kill cut it short)
        docs/index.html                            dbt docs, one self-contained page
        reports/reliability-<YYYY-MM>.html         monthly reliability reports

The DuckDB file and the Parquet set of a publication sit in one directory, and ``current`` is the
only thing a switch changes: they cannot point at two publications.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from shinrai.settings import paths

PUBLICATION_TABLE = "_publication"
PUBLICATION_TABLES_TABLE = "_publication_tables"


@dataclass(frozen=True)
class PublishLayout:
    root: Path

    @property
    def duckdb_file(self) -> Path:
        return self.root / "marts.duckdb"

    @property
    def parquet_link(self) -> Path:
        return self.root / "parquet"

    @property
    def current_link(self) -> Path:
        return self.root / "current"

    @property
    def publications_dir(self) -> Path:
        return self.root / "publications"

    def publication_dir(self, publication_id: str) -> Path:
        return self.publications_dir / publication_id

    @property
    def parquet_versions(self) -> Path:
        """The Parquet directories of the layout before ``current`` (removed after the grace period)."""
        return self.root / "parquet-versions"

    @property
    def history_file(self) -> Path:
        return self.root / "publications.jsonl"

    @property
    def lock_file(self) -> Path:
        return self.root / ".publish.lock"

    @property
    def docs_dir(self) -> Path:
        return self.root / "docs"

    @property
    def reports_dir(self) -> Path:
        return self.root / "reports"

    def report_file(self, month: str) -> Path:
        return self.reports_dir / f"reliability-{month}.html"

    def current_dir(self) -> Path | None:
        """The live publication's directory, resolved once (None: nothing published in this layout)."""
        if not self.current_link.is_symlink():
            return None
        resolved = self.current_link.resolve()
        return resolved if resolved.is_dir() else None

    def live_duckdb_file(self) -> Path | None:
        """The live publication's DuckDB file, resolved (what a comparison with "the live
        publication" should open), or None when nothing is published."""
        current = self.current_dir()
        if current is not None:
            return current / "marts.duckdb"
        if self.duckdb_file.is_file():  # a publication made before ``current`` existed
            return self.duckdb_file.resolve()
        return None

    def current_parquet_dir(self) -> Path | None:
        """The current Parquet set, resolved once: read every table of one query batch from it.

        Reading ``parquet/<table>.parquet`` path by path re-resolves the symlink on every open, so a
        batch spanning a switch could mix two publications; the resolved directory never changes.
        """
        current = self.current_dir()
        if current is not None:
            return current / "parquet"
        if self.parquet_link.is_symlink() or self.parquet_link.is_dir():  # the layout before ``current``
            resolved = self.parquet_link.resolve()
            if resolved.is_dir():
                return resolved
        return None


def layout() -> PublishLayout:
    """The publish directory: ``SHINRAI_PUBLISH_DIR``, else ``<SHINRAI_HOME>/publish``."""
    override = os.environ.get("SHINRAI_PUBLISH_DIR")
    root = Path(override).resolve() if override else paths().home / "publish"
    return PublishLayout(root)


def live_duckdb_file(target: PublishLayout | None = None) -> Path | None:
    """The DuckDB file of the live publication (``current`` resolved), or None when nothing is published."""
    return (target or layout()).live_duckdb_file()
