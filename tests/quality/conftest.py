"""One sandbox org (with malformed records), extracted and built once for every quality test.

The session fixture starts the sandbox, points the hooks and the quality Slack webhook at it,
extracts every source and runs dbt into a temporary SHINRAI_HOME; tests then run checkpoints
against that warehouse (each test that changes thresholds writes its own config file).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from shinrai import pipeline
from shinrai.airflow_env import sandbox_connections
from shinrai.sandbox import Faults, Sandbox
from shinrai.settings import PROJECT_ROOT


@dataclass
class Org:
    sandbox: Sandbox
    home: Path
    manifest: dict
    webhook: str

    def webhook_posts(self) -> list[dict]:
        return [m for m in self.sandbox.posted_messages if m.get("via") == "webhook"]


def write_config(home: Path, name: str, **quality: object) -> Path:
    tree = yaml.safe_load((PROJECT_ROOT / "config" / "shinrai.yaml").read_text(encoding="utf-8"))
    tree.setdefault("quality", {}).update(quality)
    path = home / f"{name}.yaml"
    path.write_text(yaml.safe_dump(tree, allow_unicode=True), encoding="utf-8")
    return path


@pytest.fixture(scope="session")
def org(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Org]:
    home = tmp_path_factory.mktemp("quality") / "shinrai"
    sandbox = Sandbox(seed=7, scale=0.25, faults=Faults(malformed=True)).start()
    webhook = sandbox.slack_url.removesuffix("/").removesuffix("/api") + "/services/T0SHINRAI/B0QUALITY/secret"
    env = {
        **sandbox_connections(sandbox.jira_url, sandbox.notion_url, sandbox.slack_url, sandbox.credentials),
        "SHINRAI_HOME": str(home),
        "SHINRAI_QUALITY_SLACK_WEBHOOK": webhook,
    }
    with pytest.MonkeyPatch.context() as mp:
        for key, value in env.items():
            mp.setenv(key, value)
        mp.delenv("AIRFLOW_CTX_DAG_RUN_ID", raising=False)
        try:
            pipeline.extract_jira("run-1")
            pipeline.extract_notion("run-1")
            pipeline.extract_slack("run-1")
            pipeline.build_marts()
            yield Org(sandbox, home, sandbox.manifest(), webhook)
        finally:
            sandbox.stop()


@pytest.fixture
def quality_config(org: Org, monkeypatch: pytest.MonkeyPatch):
    """Point SHINRAI_CONFIG at a copy of the shipped config with some quality settings changed."""

    def use(name: str, **quality: object) -> Path:
        path = write_config(org.home, name, **quality)
        monkeypatch.setenv("SHINRAI_CONFIG", str(path))
        return path

    return use


@pytest.fixture(scope="session")
def nightly(org: Org):
    """One run of the nightly checkpoint (every layer) on the sandbox org, with its alerts."""
    from shinrai.quality import gx

    before = len(org.webhook_posts())
    report = gx.run_gate("nightly", run_id="nightly-1")
    return report, org.webhook_posts()[before:]


