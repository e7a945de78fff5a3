"""Prepare an Airflow metadata database for shinrai: migrate it and create the pools.

Nothing is set up by hand: ``shinrai airflow-setup`` runs this (the ``airflow-init`` service of
``docker-compose.yaml``, ``make airflow`` and the orchestration tests all go through it).
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path

from shinrai.orchestration.resources import POOLS


def airflow_executable() -> str:
    candidate = Path(sys.executable).with_name("airflow")
    return str(candidate) if candidate.exists() else "airflow"


def run_airflow(args: list[str], env: Mapping[str, str], timeout: float = 600) -> str:
    proc = subprocess.run([airflow_executable(), *args], env=dict(env), capture_output=True, text=True,
                          timeout=timeout, check=False)
    if proc.returncode != 0:
        output = (proc.stdout + proc.stderr)[-3000:]
        raise RuntimeError(f"airflow {' '.join(args)} failed ({proc.returncode}):\n{output}")
    return proc.stdout


def pools_file(env: Mapping[str, str]) -> Path:
    """Write the pools as ``airflow pools import`` reads them (under AIRFLOW_HOME)."""
    home = Path(env.get("AIRFLOW_HOME") or Path.home() / "airflow")
    home.mkdir(parents=True, exist_ok=True)
    path = home / "shinrai_pools.json"
    path.write_text(json.dumps(POOLS, indent=2) + "\n")
    return path


def use_wal(sql_alchemy_conn: str) -> None:
    """SQLite only: write-ahead logging, so readers never block the writer (kept in the file)."""
    prefix = "sqlite:///"
    if sql_alchemy_conn.startswith(prefix):
        import sqlite3

        con = sqlite3.connect(sql_alchemy_conn[len(prefix):].split("?", 1)[0], timeout=60)
        try:
            con.execute("pragma journal_mode=wal")
        finally:
            con.close()


def setup_airflow(env: Mapping[str, str], migrate: bool = True) -> None:
    """``airflow db migrate`` (idempotent), then create or resize shinrai's pools."""
    if migrate:
        run_airflow(["db", "migrate"], env)
    use_wal(env.get("AIRFLOW__DATABASE__SQL_ALCHEMY_CONN", ""))
    run_airflow(["pools", "import", str(pools_file(env))], env)
