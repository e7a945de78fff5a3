"""Integration fixtures: a real sandbox over HTTP and hooks pointed at it through Connections."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from shinrai.airflow_env import sandbox_connections
from shinrai.sandbox import Sandbox


@pytest.fixture(scope="module")
def sandbox() -> Iterator[Sandbox]:
    sb = Sandbox(seed=7, scale=0.25)
    sb.start()
    try:
        yield sb
    finally:
        sb.stop()


@pytest.fixture
def connections(sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    conns = sandbox_connections(sandbox.jira_url, sandbox.notion_url, sandbox.slack_url, sandbox.credentials)
    for key, value in conns.items():
        monkeypatch.setenv(key, value)
    return conns
