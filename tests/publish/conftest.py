"""Fixtures for publishing: a small synthetic warehouse (fast, for the publication mechanics) and
one sandbox organisation extracted, built and published once for the whole directory (for the
example queries, the report and the docs)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest
from publish_helpers import REQUIRED_MARTS, SandboxPublication, artefact_dir, write_generation

from shinrai.publish import PublishLayout


@pytest.fixture
def synthetic(tmp_path: Path) -> tuple[Path, PublishLayout]:
    warehouse = tmp_path / "warehouse.duckdb"
    write_generation(warehouse, 0, 500)
    return warehouse, PublishLayout(tmp_path / "publish")


@pytest.fixture(scope="session")
def sandbox_publication(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SandboxPublication]:
    """The sandbox org (seed 7, scale 0.25) extracted over HTTP, built with dbt, published (no docs)."""
    from shinrai import pipeline
    from shinrai.airflow_env import sandbox_connections
    from shinrai.publish import layout
    from shinrai.sandbox import Sandbox
    from shinrai.transform import dbt
    from shinrai.transform.dbt import DbtFailed

    home = tmp_path_factory.mktemp("publish-sandbox")
    started = time.monotonic()
    sandbox = Sandbox(seed=7, scale=0.25)
    sandbox.start()
    build_error = None
    try:
        with pytest.MonkeyPatch.context() as mp:
            mp.setenv("SHINRAI_HOME", str(home))
            mp.delenv("SHINRAI_PUBLISH_DIR", raising=False)
            for key, value in sandbox_connections(sandbox.jira_url, sandbox.notion_url, sandbox.slack_url,
                                                  sandbox.credentials).items():
                mp.setenv(key, value)
            pipeline.extract_jira("publish-test")
            pipeline.extract_notion("publish-test")
            pipeline.extract_slack("publish-test")
            try:
                # seeds and models only: the dbt tests are the marts' own suite, and skipping them
                # here keeps this directory's tests within a few minutes
                dbt.run_dbt(["build", "--exclude-resource-type", "test", "unit_test"])
            except DbtFailed as exc:
                # the marts are being written concurrently: a failing data test or work-in-progress
                # model elsewhere must not hide whether publishing works, as long as the marts exist
                build_error = str(exc)
            with duckdb.connect(str(home / "warehouse.duckdb"), read_only=True) as con:
                present = {r[0] for r in con.execute(
                    "select table_name from information_schema.tables where table_schema = 'marts'").fetchall()}
            missing = [t for t in REQUIRED_MARTS if t not in present]
            if missing:
                pytest.fail(f"dbt build left no {', '.join(missing)}:\n{build_error}")
            result = pipeline.publish(run_id="publish-test", docs=False)
            target = layout()
    finally:
        sandbox.stop()
    yield SandboxPublication(home, target, result, time.monotonic() - started, build_error)


@pytest.fixture(scope="session")
def artefacts(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return artefact_dir(tmp_path_factory)
