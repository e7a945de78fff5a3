"""Onboarding fixtures: ONE sandbox served over HTTP as if it were a company's own sites, the
Airflow connections pointing at it in the environment (as a user writes them), and ``shinrai check``
run as the user runs it: a separate process."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import yaml

from shinrai.airflow_env import sandbox_connections
from shinrai.sandbox import Sandbox
from shinrai.settings import PROJECT_ROOT

SCALE = 0.1
SHINRAI = str(Path(sys.executable).parent / "shinrai")


@pytest.fixture(scope="session")
def site() -> Iterator[Sandbox]:
    sb = Sandbox(seed=7, scale=SCALE).start()
    try:
        yield sb
    finally:
        sb.stop()


@pytest.fixture(scope="session")
def site_env(site: Sandbox, tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """The environment of a user's shell: the connections, a data directory, the shipped config."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AIRFLOW_CONN_")}
    env.update(sandbox_connections(site.jira_url, site.notion_url, site.slack_url, site.credentials))
    env["SHINRAI_HOME"] = str(tmp_path_factory.mktemp("onboard-home"))
    env["SHINRAI_CONFIG"] = str(PROJECT_ROOT / "config" / "shinrai.yaml")
    return env


@pytest.fixture
def shipped_config() -> dict:
    return yaml.safe_load((PROJECT_ROOT / "config" / "shinrai.yaml").read_text(encoding="utf-8"))


@pytest.fixture
def write_config(tmp_path: Path) -> Callable[[dict], str]:
    """A modified copy of config/shinrai.yaml in tmp_path; returns its path (for SHINRAI_CONFIG)."""

    def write(tree: dict) -> str:
        path = tmp_path / "shinrai.yaml"
        path.write_text(yaml.safe_dump(tree, allow_unicode=True, sort_keys=False), encoding="utf-8")
        return str(path)

    return write


@pytest.fixture(scope="session")
def check(site_env: dict[str, str]) -> Callable[..., subprocess.CompletedProcess[str]]:
    """Run ``shinrai check <args>`` in a separate process; ``env`` overrides the user's variables,
    ``unset`` removes some."""

    def run(*args: str, env: dict[str, str] | None = None, unset: tuple[str, ...] = ()
            ) -> subprocess.CompletedProcess[str]:
        full = {k: v for k, v in {**site_env, **(env or {})}.items() if k not in unset}
        return subprocess.run([SHINRAI, "check", *args], env=full, capture_output=True, text=True, timeout=300,
                              cwd=PROJECT_ROOT)

    return run
