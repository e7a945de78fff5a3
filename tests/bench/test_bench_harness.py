"""The benchmark harness end to end at a tiny scale: every measurement of the issue is in the JSON
with a figure and a goal, and the figures that do not depend on the machine are the ones a tiny known
run gives: the records extracted are the sandbox's own, an unchanged night changes nothing, and each
headline figure is the one its per-stream rows give. No timing is asserted here: speed goals live in
the benchmark itself."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from shinrai.bench import Options, run
from shinrai.bench.report import markdown
from shinrai.sandbox import Sandbox

SCALE = 0.02

MEASUREMENTS = {
    "requests_full_load", "requests_unchanged_night", "rate_limited_extraction", "nightly_vs_full_load",
    "dbt_time", "quality_time", "peak_memory", "bi_query_p95", "bi_vs_raw", "dag_parse", "benchmark_wall_time",
}

pytestmark = pytest.mark.slow


def test_tiny_benchmark_reports_every_measurement_with_a_figure_and_a_goal(tmp_path: Path):
    out = tmp_path / "results" / "latest.json"
    options = Options(scales=(SCALE,), rate_limited={SCALE: ("jira", "notion", "slack")}, work_dir=tmp_path / "work",
                      out=out, query_repeat=2, raw_budget_s=20, parse_repeat=1, docs=False, chase=False)
    results = run(options)
    saved = json.loads(out.read_text(encoding="utf-8"))
    assert saved["goals"].keys() == results["goals"].keys() >= MEASUREMENTS
    for name, goal in saved["goals"].items():
        assert set(goal) >= {"figure", "goal", "met", "note"}, name
        assert goal["figure"] is not None, f"{name} has no figure: {goal['note']}"
        assert isinstance(goal["goal"], str) and goal["goal"], name
        assert isinstance(goal["met"], bool), name
    machine = saved["machine"]
    assert machine["cores"] and machine["python"] and machine["cpu"] and machine["ram_gib"]
    full = saved["scales"]["0.02"]["full"]
    assert all(step["ok"] for step in full["extract"]) and full["dbt"]["ok"] and full["publish"]["ok"]
    streams = full["requests"]["streams"]
    assert {"jira.incidents", "notion.risk_records", "slack.messages"} <= set(streams)
    assert all(s["minimum"] > 0 for s in streams.values())
    limited = saved["rate_limited"]["0.02"]["sources"]
    assert set(limited) == {"jira", "notion", "slack"} and all(s["ok"] for s in limited.values())
    assert "| measurement | figure | goal | met |" in markdown(saved)

    # values a tiny known run gives (same seed and scale as the harness's sandbox)
    known = Sandbox(seed=options.seed, scale=SCALE).manifest()
    counts = known["counts"]
    jira = next(step["result"] for step in full["extract"] if step["step"] == "extract_jira")
    for stream in ("incidents", "postmortems", "actions"):
        served_twice = sum(1 for d in known["defects"]
                           if d["kind"] == "duplicate_across_pages" and d["stream"] == f"jira.{stream}")
        assert jira[stream]["seen"] == counts[f"jira.{stream}"] + served_twice, stream
    unchanged = saved["scales"]["0.02"]["unchanged_night"]
    for step in unchanged["extract"]:
        for stream, stats in step["result"].items():
            assert stats.get("changed", 0) == 0, (step["step"], stream)  # nothing changed: nothing rewritten
    requests = full["requests"]
    assert requests["made"] == sum(s["made"] for s in streams.values())
    assert requests["minimum"] == sum(s["minimum"] for s in streams.values())
    worst = max(s["made"] / s["minimum"] for s in streams.values())
    assert saved["goals"]["requests_full_load"]["figure"] == pytest.approx(worst, abs=1e-3)
    assert saved["goals"]["requests_full_load"]["met"] is (worst <= 1.02)
