"""Integration fixtures: a real sandbox over HTTP and hooks pointed at it through Connections."""

from __future__ import annotations

from collections.abc import Callable, Iterator

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


@pytest.fixture
def serve(monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[..., Sandbox]]:
    """``serve(seed=, scale=)``: a sandbox of the test's own (one it changes: mutates, deletes,
    archives), with the connections pointing at it; stopped after the test."""
    started: list[Sandbox] = []

    def start(seed: int, scale: float) -> Sandbox:
        sb = Sandbox(seed=seed, scale=scale).start()
        started.append(sb)
        for key, value in sandbox_connections(sb.jira_url, sb.notion_url, sb.slack_url, sb.credentials).items():
            monkeypatch.setenv(key, value)
        return sb

    yield start
    for sb in started:
        sb.stop()
