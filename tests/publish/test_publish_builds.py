"""Issue 17 (a) and (c) with real dbt, GX and DuckDB files: a build killed half-way blocks publishing
until a complete build and its quality run; a run publishes only its own build for its own as-of
date, so a backfill overlapping a manual run never leaves the publication at an earlier as-of.

The runs are the pipeline functions the nightly DAG's tasks call, in the interleaved order the
scheduler allows (the ``shinrai_warehouse`` pool runs build, quality and publish one at a time,
so a backfill's build and check can fall between a manual run's check and its publish)."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from shinrai import config as config_mod
from shinrai import duckdb_lock, pipeline
from shinrai.publish import PublishError, layout, read_publication
from shinrai.transform import builds


@pytest.fixture(scope="module")
def home(sandbox_publication, tmp_path_factory) -> Iterator[Path]:
    """A copy of the directory's extracted and built sandbox warehouse (landing files and marts)."""
    home = tmp_path_factory.mktemp("builds") / "shinrai"
    home.mkdir()
    shutil.copytree(sandbox_publication.home / "landing", home / "landing")
    shutil.copy2(sandbox_publication.home / "warehouse.duckdb", home / "warehouse.duckdb")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("SHINRAI_HOME", str(home))
        mp.delenv("SHINRAI_PUBLISH_DIR", raising=False)
        mp.delenv("AIRFLOW_CTX_DAG_RUN_ID", raising=False)
        yield home


def live() -> dict:
    """The live publication as a BI reader sees it: DuckDB file and Parquet set agree."""
    row = read_publication(layout().duckdb_file)
    assert row is not None
    parquet_id = (layout().current_parquet_dir() / "_publication.json").read_text(encoding="utf-8")
    assert row["publication_id"] in parquet_id
    return row


def today() -> date:
    return datetime.now(ZoneInfo(config_mod.load().timezone)).date()


def kill_dbt_mid_build(home: Path) -> int:
    """``build_marts`` in a child process, SIGKILLed (with dbt) once dbt has run its first model."""
    run_dir = home / "dbt" / "target" / "run"
    proc = subprocess.Popen([sys.executable, "-c", "from shinrai import pipeline; pipeline.build_marts()"],
                            env=dict(os.environ), start_new_session=True,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 300
        while not any(run_dir.rglob("*.sql")) and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        rc = proc.wait()
    # the killed dbt (a grandchild) lets go of the warehouse once the kernel has finished it off
    deadline = time.monotonic() + 60
    while True:
        try:
            duckdb_lock.ensure_free(home / "warehouse.duckdb")
            return rc
        except duckdb_lock.FileInUse:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


def refusal(step) -> str:
    """The PublishError a publish attempt raised (the test fails if it published)."""
    with pytest.raises(PublishError) as refused:
        step()
    return str(refused.value)


@pytest.fixture(scope="module")
def story(home: Path) -> dict:
    """One warehouse through (a) then (c): two complete dbt builds in all, to keep it cheap."""
    seen: dict = {}
    day, past = today(), today() - timedelta(days=3)
    seen["first"] = pipeline.publish(docs=False)  # a warehouse built by hand: no build, no quality run on record

    # (a) dbt killed half-way, then a quality run, then `shinrai publish` by hand
    seen["killed_rc"] = kill_dbt_mid_build(home)
    seen["killed_build"] = builds.latest(home / "warehouse.duckdb")
    with contextlib.suppress(pipeline.QualityGateFailed):
        pipeline.check_quality("marts")  # a quality run over half-rebuilt marts proves nothing
    seen["after_kill"] = refusal(lambda: pipeline.publish(docs=False))
    seen["live_after_kill"] = live()
    # a complete build: unpublishable until its own quality run
    seen["manual_build"] = pipeline.build_marts(run_id="manual__1", as_of_date=day.isoformat())
    seen["unchecked"] = refusal(lambda: pipeline.publish(run_id="manual__1", docs=False, as_of_date=day.isoformat()))
    assert pipeline.check_quality("marts")["success"]
    seen["manual"] = pipeline.publish(run_id="manual__1", docs=False, as_of_date=day.isoformat())
    seen["live_manual"] = live()

    # (c) a backfill for an earlier day builds and checks between a manual run's check and its publish
    pipeline.build_marts(run_id="backfill__x", as_of_date=past.isoformat())
    assert pipeline.check_quality("marts")["success"]
    seen["manual_after_backfill"] = refusal(
        lambda: pipeline.publish(run_id="manual__1", docs=False, as_of_date=day.isoformat()))  # retried / cleared
    seen["by_hand_after_backfill"] = refusal(lambda: pipeline.publish(docs=False))
    seen["live_after_backfill"] = live()
    seen["day"], seen["past"] = day, past
    return seen


def test_a_build_killed_half_way_blocks_publishing_until_a_complete_build_and_its_quality_run(story):
    assert story["killed_rc"] == -signal.SIGKILL and story["killed_build"].status == builds.RUNNING
    assert "never finished" in story["after_kill"]
    assert story["live_after_kill"]["publication_id"] == story["first"]["publication_id"]
    assert "after the last quality run" in story["unchecked"]
    assert story["live_manual"]["publication_id"] == story["manual"]["publication_id"]
    assert story["live_manual"]["as_of_date"] == story["day"]


def test_a_backfill_overlapping_a_manual_run_never_publishes_an_earlier_as_of(story):
    assert "a run publishes only its own build" in story["manual_after_backfill"]
    assert "an earlier as-of date never replaces a later one" in story["by_hand_after_backfill"]
    live_now = story["live_after_backfill"]
    assert live_now["publication_id"] == story["manual"]["publication_id"]
    assert (live_now["as_of_date"], live_now["source_run_id"]) == (story["day"], "manual__1")
