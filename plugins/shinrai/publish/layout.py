"""Where a publication lives on disk, and how a reader finds the current one.

::

    <SHINRAI_HOME>/publish/                   (override: SHINRAI_PUBLISH_DIR)
        marts.duckdb                          the current publication (replaced atomically, mode 0444)
        parquet -> parquet-versions/<id>      symlink to the current Parquet set (switched atomically)
        parquet-versions/<id>/<table>.parquet one directory per publication, never changed once written
        parquet-versions/CURRENT              the same pointer as a text file, for systems without symlinks
        publications.jsonl                    one line per publication (the history)
        docs/index.html                       dbt docs, one self-contained page
        reports/reliability-<YYYY-MM>.html    monthly reliability reports
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
    def parquet_versions(self) -> Path:
        return self.root / "parquet-versions"

    @property
    def parquet_pointer(self) -> Path:
        return self.parquet_versions / "CURRENT"

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

    def current_parquet_dir(self) -> Path | None:
        """The current Parquet set, resolved once: read every table of one query batch from it.

        Reading ``parquet/<table>.parquet`` path by path re-resolves the symlink on every open, so a
        batch spanning a switch could mix two publications; the resolved directory never changes.
        """
        if self.parquet_link.is_symlink() or self.parquet_link.is_dir():
            resolved = self.parquet_link.resolve()
            if resolved.is_dir():
                return resolved
        try:
            name = self.parquet_pointer.read_text(encoding="utf-8").strip()
        except FileNotFoundError:
            return None
        candidate = self.parquet_versions / name
        return candidate if name and candidate.is_dir() else None


def layout() -> PublishLayout:
    """The publish directory: ``SHINRAI_PUBLISH_DIR``, else ``<SHINRAI_HOME>/publish``."""
    override = os.environ.get("SHINRAI_PUBLISH_DIR")
    root = Path(override).resolve() if override else paths().home / "publish"
    return PublishLayout(root)
