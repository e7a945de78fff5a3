"""Shared fixtures. Every test gets its own SHINRAI_HOME so runs never touch the demo's data."""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
logging.getLogger("great_expectations").setLevel(logging.WARNING)


@pytest.fixture
def shinrai_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    home = tmp_path / "shinrai"
    monkeypatch.setenv("SHINRAI_HOME", str(home))
    yield home


# -- running under pytest-xdist (`make test` uses `-n 2 --dist loadgroup`) ------------------------
# Session fixtures are per worker, so every test that shares an expensive one must run on the same
# worker: tests are grouped by the directory whose conftest holds the fixture, or else by module
# (module fixtures). The groups that take longest go first so the two workers finish together.
SHARED_BY_DIRECTORY = ("tests/dbt/", "tests/onboard/", "tests/publish/", "tests/quality/", "tests/sandbox/",
                       "tests/shapes/")
# the modules that compare against the reference runs of the `scheduler_runs` session fixture, and
# test_interleaved_runs.py, which shares its sandbox and migrated metadata DB (and balances the workers)
SCHEDULER_RUNS = ("test_scheduler.py", "test_backfill.py", "test_celery_postgres.py", "test_crash_rerun.py",
                  "test_interleaved_runs.py")
# tests/shapes/ runs the whole pipeline once per sandbox shape (three in one worker, ~3 min)
LONGEST_FIRST = ("tests/orchestration/test_scheduler.py", "tests/shapes/")


def _group(nodeid: str) -> str:
    module = nodeid.split("::", 1)[0]
    if module.startswith("tests/orchestration/") and module.rsplit("/", 1)[-1] in SCHEDULER_RUNS:
        return "tests/orchestration/test_scheduler.py"
    return next((d for d in SHARED_BY_DIRECTORY if module.startswith(d)), module)


@pytest.hookimpl(tryfirst=True)  # before xdist's own hook reads the groups (else they are ignored)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        item.add_marker(pytest.mark.xdist_group(_group(item.nodeid)))

    def rank(item: pytest.Item) -> int:
        group = _group(item.nodeid)
        return LONGEST_FIRST.index(group) if group in LONGEST_FIRST else len(LONGEST_FIRST)

    items.sort(key=rank)  # stable: within a group the collection order is kept
