"""One whole pipeline run per sandbox shape, shared by the session (tests/shapes/ is one xdist group).

``shape_run(name)`` starts the sandbox in that shape at scale 0.25, points SHINRAI_CONFIG at the shape's
config (``plugins/shinrai/sandbox/shapes/<name>.yaml``; the default shape uses config/shinrai.yaml),
extracts Jira, Notion and Slack over HTTP with the real extractors, builds the marts with "today" pinned
to the day after the anchor and runs the marts quality gate. A step that fails is recorded, not raised,
so every test names what broke on which shape. Each shape is run at most once per session.
"""

from __future__ import annotations

import traceback
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

import pytest

from shinrai import pipeline
from shinrai.airflow_env import sandbox_connections
from shinrai.sandbox import Sandbox
from shinrai.sandbox.shapes import get_shape
from shinrai.settings import PROJECT_ROOT

SCALE = 0.25


@dataclass
class ShapeRun:
    shape: str
    home: Path
    manifest: dict
    key_map: dict[str, str]  # default key -> this shape's key
    failed_step: str | None = None
    error: str | None = None
    gate: dict | None = None
    steps: list[str] = field(default_factory=list)

    @property
    def warehouse(self) -> Path:
        return self.home / "warehouse.duckdb"


def run_pipeline(shape: str, home: Path, config: Path | None = None) -> ShapeRun:
    """The whole pipeline on the sandbox in ``shape``, configured by ``config`` (default: the shape's)."""
    cfg = config or get_shape(shape).config_path or PROJECT_ROOT / "config" / "shinrai.yaml"
    sb = Sandbox(seed=7, scale=SCALE, shape=shape).start()
    run = ShapeRun(shape, home, sb.manifest(), dict(sb.key_map))
    as_of = (date.fromisoformat(run.manifest["anchor"]) + timedelta(days=1)).isoformat()
    steps: list[tuple[str, Callable[[], object]]] = [
        ("extract_jira", lambda: pipeline.extract_jira("run-1")),
        ("extract_notion", lambda: pipeline.extract_notion("run-1")),
        ("extract_slack", lambda: pipeline.extract_slack("run-1")),
        ("dbt build", lambda: pipeline.build_marts(as_of_date=as_of)),
        ("quality gate", lambda: pipeline.check_quality("marts")),
    ]
    try:
        with pytest.MonkeyPatch.context() as mp:
            mp.setenv("SHINRAI_HOME", str(home))
            mp.setenv("SHINRAI_CONFIG", str(cfg))
            mp.delenv("AIRFLOW_CTX_DAG_RUN_ID", raising=False)
            for key, value in sandbox_connections(sb.jira_url, sb.notion_url, sb.slack_url, sb.credentials).items():
                mp.setenv(key, value)
            for name, step in steps:
                try:
                    result = step()
                except Exception as e:  # noqa: BLE001 - recorded and reported by the tests
                    run.failed_step, run.error = name, f"{type(e).__name__}: {e}\n{traceback.format_exc(limit=4)}"
                    break
                run.steps.append(name)
                if name == "quality gate":
                    run.gate = result  # type: ignore[assignment]
    finally:
        sb.stop()
    return run


@pytest.fixture(scope="session")
def shape_run(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Callable[[str], ShapeRun]]:
    runs: dict[str, ShapeRun] = {}

    def get(shape: str) -> ShapeRun:
        if shape not in runs:
            runs[shape] = run_pipeline(shape, tmp_path_factory.mktemp(f"shape-{shape}") / "shinrai")
        return runs[shape]

    yield get
