"""Where things live on disk. Every path can be overridden from the environment.

``SHINRAI_HOME`` is the data directory (default ``<project>/.shinrai``); it holds one landing
DuckDB file per source, the warehouse DuckDB file dbt builds, and Airflow's home for local runs.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[2]
SOURCES = ("jira", "notion", "slack")
# The raw tables each source's landing file holds (created empty before the first extraction,
# so dbt can always build).
SOURCE_STREAMS: dict[str, tuple[str, ...]] = {
    "jira": ("incidents", "postmortems", "actions", "changelogs", "versions", "users"),
    "notion": ("risk_records", "release_calendar", "users"),
    "slack": ("users", "channels", "messages"),
}


@dataclass(frozen=True)
class Paths:
    home: Path
    config_file: Path
    dbt_project_dir: Path
    gx_dir: Path

    @property
    def landing_dir(self) -> Path:
        return self.home / "landing"

    def landing_file(self, source: str) -> Path:
        if source not in SOURCES:
            raise ValueError(f"unknown source {source!r}; expected one of {SOURCES}")
        return self.landing_dir / f"{source}.duckdb"

    @property
    def warehouse_file(self) -> Path:
        return self.home / "warehouse.duckdb"

    @property
    def airflow_home(self) -> Path:
        return self.home / "airflow"


def paths() -> Paths:
    """Resolve paths from the environment each time (tests point SHINRAI_HOME at a tmp dir)."""
    home = Path(os.environ.get("SHINRAI_HOME", PROJECT_ROOT / ".shinrai")).resolve()
    return Paths(
        home=home,
        config_file=Path(os.environ.get("SHINRAI_CONFIG", PROJECT_ROOT / "config" / "shinrai.yaml")),
        dbt_project_dir=Path(os.environ.get("SHINRAI_DBT_PROJECT_DIR", PROJECT_ROOT / "dbt_project")),
        gx_dir=Path(os.environ.get("SHINRAI_GX_DIR", PROJECT_ROOT / "gx")),
    )
