"""Resilience: sources answering slower than the hooks' client timeout (connection ``extra.timeout``).

One sandbox (scale 0.05) for the module. An extraction with no fault, into its own SHINRAI_HOME, is
the reference for "nothing lost or duplicated": every raw row and every stored version of every
stream must be the same after a run full of timeouts. The sandbox's slow knobs answer a request
``slow_ms`` late, beyond the client's timeout: ``slow_burst`` the next N requests of each server,
``slow_share`` a share spread through the run (so timeouts hit page 2 of a search, history pages
and thread replies, not only the first request).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import pytest

from shinrai import pipeline
from shinrai.hooks.retry import SourceUnavailable
from shinrai.sandbox import Sandbox
from shinrai.settings import paths

from ._support import hook_env, landed, pointed_at, query

# one worker runs the whole module under pytest-xdist (--dist loadgroup): the sandbox and reference are shared
pytestmark = pytest.mark.xdist_group("resilience-timeouts")

SCALE = 0.05
TIMEOUT_S = 0.5  # sub-second on purpose: every client must get it as configured
SLOW_MS = 2_000
SOURCES = ("Jira", "Notion", "Slack")


def extract_all(run_id: str) -> None:
    pipeline.extract_jira(run_id)
    pipeline.extract_notion(run_id)
    pipeline.extract_slack(run_id)


@pytest.fixture(scope="module")
def sb() -> Iterator[Sandbox]:
    sandbox = Sandbox(seed=23, scale=SCALE).start()
    try:
        yield sandbox
    finally:
        sandbox.stop()


@pytest.fixture(scope="module")
def reference(sb: Sandbox, tmp_path_factory: pytest.TempPathFactory) -> dict[str, list[tuple]]:
    home = tmp_path_factory.mktemp("timeouts-reference")
    with pointed_at({"SHINRAI_HOME": str(home), **hook_env(sb, TIMEOUT_S)}):
        extract_all("reference")
        return landed()


@pytest.fixture
def slow(sb: Sandbox, shinrai_home: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Sandbox]:
    for key, value in hook_env(sb, TIMEOUT_S).items():
        monkeypatch.setenv(key, value)
    monkeypatch.delenv("AIRFLOW_CTX_DAG_RUN_ID", raising=False)
    sb.set_faults(slow_ms=SLOW_MS, slow_burst=0, slow_share=0.0, servers=("jira", "notion", "slack"))
    try:
        yield sb
    finally:
        sb.set_faults(slow_ms=0, slow_burst=0, slow_share=0.0, servers=("jira", "notion", "slack"))


def timeouts(caplog: pytest.LogCaptureFixture, source: str) -> int:
    """Retries the shared policy logged for ``source`` because a request timed out."""
    return sum(1 for r in caplog.records
               if r.getMessage().startswith(f"{source}: attempt") and "(request timed out)" in r.getMessage())


def test_answers_slower_than_the_client_timeout_are_retried_and_nothing_is_lost(slow, reference, caplog):
    # every server's first two requests (the client's first call: serverInfo, a database,
    # users.list; retried twice), then one in twelve, mid-pagination included
    slow.set_faults(slow_burst=2, slow_share=0.08)
    with caplog.at_level(logging.WARNING, logger="shinrai.hooks.retry"):
        extract_all("run-slow")
    for source in SOURCES:
        assert timeouts(caplog, source) >= 2, f"{source} never timed out: the knob or the timeout is not applied"
    assert landed() == reference


def test_a_source_that_keeps_timing_out_fails_its_own_task_naming_it(slow, reference, caplog):
    extract_all("run-1")
    before = landed()
    slow.set_faults(slow_share=1.0, servers=("slack",))
    with caplog.at_level(logging.WARNING, logger="shinrai.hooks.retry"):
        with pytest.raises(SourceUnavailable, match=r"^Slack is unavailable: request timed out \(after 6 attempt"):
            pipeline.extract_slack("run-2")
        pipeline.extract_notion("run-2")  # the other sources are not slow: their task runs on
    assert timeouts(caplog, "Slack") == 5 and timeouts(caplog, "Notion") == 0
    assert landed() == before  # nothing the earlier run landed was touched
    runs = query(paths().landing_file("slack"), "select stream, status, error from state.extraction_runs "
                                               "where run_id = 'run-2'")
    assert [(stream, status) for stream, status, _ in runs] == [("users", "failed")]
    assert runs[0][2].startswith("Slack is unavailable: request timed out")
    slow.set_faults(slow_share=0.0, servers=("jira", "notion", "slack"))
    pipeline.extract_slack("run-3")  # the source is back: the rerun completes it
    assert landed() == reference
