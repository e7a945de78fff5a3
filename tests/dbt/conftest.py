"""Fixtures for the dbt layer's tests.

``sandbox_build`` is shared by the whole session (extraction and a dbt build cost ~40 s): the
sandbox organisation at scale 0.25, extracted over HTTP by the real extractors into its own
SHINRAI_HOME and built with real dbt, "today" pinned to the day after the sandbox's anchor.
``module_home`` gives a module its own SHINRAI_HOME (hand-made fixtures).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

import pytest
from dbt_helpers import SandboxBuild

from shinrai import pipeline
from shinrai.airflow_env import sandbox_connections
from shinrai.sandbox import Sandbox
from shinrai.settings import paths
from shinrai.transform import dbt


@pytest.fixture(scope="session")
def sandbox_build(tmp_path_factory: pytest.TempPathFactory) -> SandboxBuild:
    home = tmp_path_factory.mktemp("sandbox")
    sb = Sandbox(seed=7, scale=0.25)
    sb.start()
    try:
        with pytest.MonkeyPatch.context() as mp:
            mp.setenv("SHINRAI_HOME", str(home))
            for key, value in sandbox_connections(sb.jira_url, sb.notion_url, sb.slack_url, sb.credentials).items():
                mp.setenv(key, value)
            pipeline.extract_jira("run-1")
            pipeline.extract_notion("run-1")
            pipeline.extract_slack("run-1")
            p = paths()
        manifest = sb.manifest()
    finally:
        sb.stop()
    # the sandbox's history ends at its anchor (midnight); "today" is the next day
    as_of = (date.fromisoformat(manifest["anchor"]) + timedelta(days=1)).isoformat()
    dbt.build(p=p, as_of_date=as_of)
    return SandboxBuild(home, p, manifest, as_of)


@pytest.fixture(scope="module")
def module_home(tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest) -> Iterator[Path]:
    """SHINRAI_HOME for the whole module (one landing + warehouse shared by its tests)."""
    home = tmp_path_factory.mktemp(request.module.__name__.rsplit(".", 1)[-1])
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("SHINRAI_HOME", str(home))
        yield home
