"""The build record (state.marts_build_runs in a real DuckDB file) and the publication rule on it
(:func:`shinrai.quality.gate.blocker`)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from shinrai.quality.gate import blocker
from shinrai.transform import builds

DAY = date(2026, 12, 7)


def gate(validated_at: datetime, success: bool = True) -> dict:
    return {"run_id": "q", "checkpoint": "nightly", "validated_at": validated_at, "success": success,
            "critical_failures": 0 if success else 2}


def test_a_build_is_running_from_before_dbt_until_it_ends(tmp_path: Path):
    warehouse = tmp_path / "warehouse.duckdb"
    with builds.recorded(warehouse, "manual__1", DAY, False) as build_id:
        during = builds.latest(warehouse)
        assert during is not None and during.build_id == build_id and during.status == builds.RUNNING
    after = builds.latest(warehouse)
    assert after.status == builds.SUCCESS and after.finished_at >= after.started_at

    with pytest.raises(RuntimeError, match="dbt exploded"), builds.recorded(warehouse, "manual__2", DAY, True):
        raise RuntimeError("dbt exploded")
    failed = builds.latest(warehouse)
    assert failed.run_id == "manual__2" and failed.status == builds.FAILED and "dbt exploded" in failed.error


def test_publication_rule():
    t0 = datetime(2026, 12, 7, 2, 0, tzinfo=UTC)
    done = builds.Build("b1", "manual__1", DAY, False, t0, t0 + timedelta(minutes=5), builds.SUCCESS, None)
    after = gate(t0 + timedelta(minutes=6))
    assert blocker(done, after) is None
    assert blocker(done, after, "manual__1", DAY) is None
    assert blocker(None, None) is None  # nothing on record: a hand-made warehouse
    assert "failed 2 critical" in blocker(done, gate(t0 + timedelta(minutes=6), success=False))

    running = builds.Build("b2", "manual__1", DAY, False, t0, None, builds.RUNNING, None)
    assert "never finished" in blocker(running, after)
    failed = builds.Build("b3", None, DAY, False, t0, t0 + timedelta(minutes=1), builds.FAILED, "DbtFailed: x\ny")
    assert "failed (DbtFailed: x)" in blocker(failed, after)
    assert "after the last quality run" in blocker(done, gate(t0 + timedelta(minutes=4)))
    assert "after any quality run" in blocker(done, None)
    assert "a run publishes only its own build" in blocker(done, after, "manual__2", DAY)
    assert "not as of 2026-12-08" in blocker(done, after, "manual__1", DAY + timedelta(days=1))
    by_hand = builds.Build("b4", None, DAY, False, t0, t0 + timedelta(minutes=5), builds.SUCCESS, None)
    assert blocker(by_hand, after, "scheduled__1", DAY) is None
