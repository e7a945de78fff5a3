"""Helpers shared by the dbt tests (imported by module name: tests/dbt is on sys.path)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb

from shinrai.settings import Paths


@dataclass(frozen=True)
class SandboxBuild:
    """The session's sandbox warehouse: where it lives, the sandbox manifest, and its "today"."""

    home: Path
    paths: Paths
    manifest: dict[str, Any]
    as_of_date: str


def query(home: Path, sql: str, params: list[Any] | None = None) -> list[tuple]:
    """Run one query against the warehouse of ``home``, read-only, in UTC."""
    with duckdb.connect(str(home / "warehouse.duckdb"), read_only=True) as con:
        con.execute("set timezone = 'UTC'")
        return con.execute(sql, params or []).fetchall()


def scalar(home: Path, sql: str, params: list[Any] | None = None) -> Any:
    rows = query(home, sql, params)
    return rows[0][0] if rows else None
