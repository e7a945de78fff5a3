"""Helpers for the resilience tests: environments pointing the pipeline at a sandbox, config
copies with overrides, and what the landing files hold."""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import duckdb
import pytest
import yaml

from shinrai.airflow_env import sandbox_connections
from shinrai.sandbox import Sandbox
from shinrai.settings import PROJECT_ROOT, SOURCE_STREAMS, paths

SOURCE_CONNECTIONS = ("AIRFLOW_CONN_SHINRAI_JIRA", "AIRFLOW_CONN_SHINRAI_NOTION", "AIRFLOW_CONN_SHINRAI_SLACK")


def hook_env(sb: Sandbox, timeout: float | None = None) -> dict[str, str]:
    """The AIRFLOW_CONN_* variables for the sandbox; ``timeout`` goes into every source connection's
    ``extra.timeout`` (seconds), as an operator would set it."""
    env = sandbox_connections(sb.jira_url, sb.notion_url, sb.slack_url, sb.credentials)
    if timeout is not None:
        for key in SOURCE_CONNECTIONS:
            conn = json.loads(env[key])
            conn.setdefault("extra", {})["timeout"] = timeout
            env[key] = json.dumps(conn)
    return env


def write_config(path: Path, overrides: Mapping[str, Mapping[str, Any]]) -> Path:
    """The shipped config/shinrai.yaml with some keys of some sections replaced, written to ``path``."""
    tree = yaml.safe_load((PROJECT_ROOT / "config" / "shinrai.yaml").read_text(encoding="utf-8"))
    for section, values in overrides.items():
        tree.setdefault(section, {}).update(values)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(tree, allow_unicode=True), encoding="utf-8")
    return path


@contextmanager
def pointed_at(env: Mapping[str, str]) -> Iterator[pytest.MonkeyPatch]:
    """Set environment variables for a module-scoped fixture (function fixtures use monkeypatch)."""
    with pytest.MonkeyPatch.context() as mp:
        mp.delenv("AIRFLOW_CTX_DAG_RUN_ID", raising=False)
        mp.delenv("SHINRAI_PUBLISH_DIR", raising=False)
        for key, value in env.items():
            mp.setenv(key, value)
        yield mp


def landed() -> dict[str, list[tuple]]:
    """Per stream of every landing file: (source id, payload hash, deleted) of each raw row, and the
    (source id, payload hash) of each stored version: equal for two runs that lost and duplicated nothing."""
    out: dict[str, list[tuple]] = {}
    for source, streams in SOURCE_STREAMS.items():
        path = paths().landing_file(source)
        if not path.exists():
            continue
        with duckdb.connect(str(path), read_only=True) as con:
            present = {r[0] for r in con.execute(
                "select table_name from information_schema.tables where table_schema = 'raw'").fetchall()}
            for stream in (s for s in streams if s in present):
                out[f"{source}.{stream}"] = con.execute(
                    f"select source_id, payload_hash, is_deleted from raw.{stream} order by all").fetchall()
                out[f"{source}.{stream}__versions"] = con.execute(
                    f"select source_id, payload_hash from raw.{stream}__versions order by all").fetchall()
    return out


def query(path: Path, sql: str, params: list[Any] | None = None) -> list[tuple]:
    with duckdb.connect(str(path), read_only=True) as con:
        return con.execute(sql, params or []).fetchall()
