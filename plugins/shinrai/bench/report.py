"""The benchmark's goals ({figure, goal, met, note}), its summary table, and the README's Markdown."""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.table import Table

BUDGET_S = 30 * 60


def _goal(figure: Any, goal: str, met: bool, note: str, unit: str = "") -> dict[str, Any]:
    return {"figure": figure, "unit": unit, "goal": goal, "met": bool(met), "note": note}


def _scales(results: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    return sorted(results.get("scales", {}).items(), key=lambda kv: float(kv[0]))


def _worst_stream(phases: list[tuple[str, dict[str, Any]]]) -> tuple[float | None, str]:
    worst, where = None, ""
    for label, requests in phases:
        for stream, s in (requests or {}).get("streams", {}).items():
            ratio = s["ratio"] if s["minimum"] else (None if not s["made"] else float("inf"))
            if ratio is not None and (worst is None or ratio > worst):
                worst, where = ratio, f"{stream} at {label}: {s['made']} made, {s['minimum']} minimum"
    return worst, where


def evaluate(results: dict[str, Any]) -> dict[str, dict[str, Any]]:
    goals: dict[str, dict[str, Any]] = {}
    scales = _scales(results)

    worst, where = _worst_stream([(f"{k}x", s.get("full", {}).get("requests")) for k, s in scales])
    totals = ", ".join(f"{k}x {s['full']['requests']['made']}/{s['full']['requests']['minimum']}"
                       for k, s in scales if s.get("full", {}).get("requests"))
    goals["requests_full_load"] = _goal(
        worst, "at most 1.02x the minimum page count, per stream", worst is not None and worst <= 1.02,
        f"worst: {where}. Requests made/minimum over all streams: {totals}", "x")

    worst, where = _worst_stream([(f"{k}x", s.get("unchanged_night", {}).get("requests")) for k, s in scales])
    totals = ", ".join(f"{k}x {s['unchanged_night']['requests']['made']}/"
                       f"{s['unchanged_night']['requests']['minimum']} "
                       f"({s['unchanged_night']['requests']['slack_channels_read']} Slack channels due)"
                       for k, s in scales if s.get("unchanged_night", {}).get("requests"))
    goals["requests_unchanged_night"] = _goal(
        worst, "only the minimal pages (at most 1.02x, per stream)", worst is not None and worst <= 1.02,
        f"worst: {where}. The next night's run (a day later, nothing changed): made/minimum {totals}; Slack "
        "re-reads the channels its staggered weekly re-read makes due", "x")

    limited = results.get("rate_limited", {})
    ratios, failed, notes = [], [], []
    for k, run in sorted(limited.items(), key=lambda kv: float(kv[0])):
        for source, s in run.get("sources", {}).items():
            if not s["ok"]:
                failed.append(f"{source} at {k}x")
            if s["ratio"] is not None:
                ratios.append(s["ratio"])
            notes.append(f"{source} {k}x: {s['wall_s']} s vs floor {s['floor_s']} s "
                         f"(x{run['speedup'].get(source, 1.0):g} compressed limits, {s['responses_429']} 429s)")
    worst_limited = max(ratios) if ratios else None
    goals["rate_limited_extraction"] = _goal(
        worst_limited, "at most 1.10x the floor the (compressed) published limits imply, no failed task",
        bool(ratios) and worst_limited <= 1.10 and not failed,
        "; ".join(notes) + (f"; failed: {', '.join(failed)}" if failed else "")
        + ". Floor per source: the largest, over its limiter families, of (minimum requests - burst) / rate", "x")

    largest = scales[-1][1] if scales else {}
    full, night = largest.get("full", {}), largest.get("nightly", {})
    share = (round(night["end_to_end_s"] / full["end_to_end_s"], 3)
             if night.get("end_to_end_s") and full.get("end_to_end_s") else None)
    goals["nightly_vs_full_load"] = _goal(
        share, "nightly (1% of records changed) at most 0.15 of the full load, end to end",
        share is not None and share <= 0.15,
        f"at {scales[-1][0] if scales else '?'}x: full load {full.get('end_to_end_s')} s, nightly "
        f"{night.get('end_to_end_s')} s; " + _breakdown(full, "full") + "; " + _breakdown(night, "nightly"), "x")

    for name, label in (("dbt", "dbt build"), ("quality", "quality checkpoint")):
        times = {k: s.get("full", {}).get(name, {}).get("wall_s") for k, s in scales}
        first, last = (times[scales[0][0]], times[scales[-1][0]]) if scales else (None, None)
        grow = round(last / first, 2) if first and last else None
        factor = float(scales[-1][0]) / float(scales[0][0]) if scales else None
        goals[f"{name}_time"] = _goal(
            times, f"reported per scale; no target in the issue, so: grows no faster than the data "
                   f"({scales[-1][0] if scales else '?'}x data: at most {factor:g}x the time)" if factor else "",
            grow is not None and factor is not None and grow <= factor,
            f"{label} seconds per scale (full load); {grow}x from the smallest to the largest scale", "s")

    peaks = {k: s.get("full", {}).get("peak_rss_mib", {}).get("max") for k, s in scales}
    first, last = (peaks[scales[0][0]], peaks[scales[-1][0]]) if scales else (None, None)
    growth = round(last / first, 3) if first and last else None
    steps = largest.get("full", {}).get("peak_rss_mib", {}).get("steps", {})
    heaviest = max(steps, key=lambda k: steps[k] or 0) if steps else None
    goals["peak_memory"] = _goal(
        growth, "largest scale at most 1.5x the smallest (peak RSS of the heaviest pipeline step)",
        growth is not None and growth <= 1.5,
        f"peak RSS MiB per scale: {peaks}; heaviest step at the largest scale: {heaviest} "
        f"({steps.get(heaviest) if heaviest else None} MiB); the sandbox runs in its own process", "x")

    q = largest.get("queries", {})
    p95 = q.get("p95_ms")
    goals["bi_query_p95"] = _goal(
        p95, "p95 under 50 ms", p95 is not None and p95 < 50,
        f"{len(q.get('queries', {}))} documented queries x {q.get('runs_per_query')} runs on the published "
        f"marts.duckdb at {scales[-1][0] if scales else '?'}x; p50 {q.get('p50_ms')} ms", "ms")
    raw = q.get("raw", {})
    speedups, raw_notes, mismatched = [], [], []
    for name, r in raw.items() if isinstance(raw, dict) else []:
        if not isinstance(r, dict):
            continue
        pub = q.get("queries", {}).get(name, {}).get("p50_ms")
        if r.get("ms") and pub:
            speedups.append(r["ms"] / pub)
            if not r.get("same_answer"):
                mismatched.append(f"{name} (columns {', '.join(r.get('differing_columns') or ['?'])})")
        elif r.get("at_least_ms") and pub:
            speedups.append(r["at_least_ms"] / pub)  # a lower bound: the raw query was stopped
            raw_notes.append(f"{name} stopped after {r['at_least_ms'] / 1000:.0f} s")
    least = round(min(speedups), 1) if speedups else None
    goals["bi_vs_raw"] = _goal(
        least, "at least 20x faster than computing the same answers from raw", least is not None and least >= 20,
        ("smallest speed-up over the queries measured from raw (every dbt model as a view over the landing "
         f"files); {len(speedups)} of {len(q.get('queries', {}))} measured"
         + (f"; {'; '.join(raw_notes)}" if raw_notes else "")
         + (f"; answers differed for {', '.join(mismatched)}" if mismatched else "; same answers")
         if speedups else f"not measured: {raw.get('error') if isinstance(raw, dict) else raw}"), "x")

    parse = results.get("dag_parse_s") or {}
    slowest = max(parse.values()) if parse else None
    goals["dag_parse"] = _goal(
        round(slowest, 3) if slowest is not None else None, "under 0.5 s per DAG file",
        slowest is not None and slowest < 0.5, f"median of several parses per file: {parse}", "s")

    wall = results.get("wall_s")
    goals["benchmark_wall_time"] = _goal(
        round(wall / 60, 1) if wall else None, "the whole benchmark within 30 minutes",
        wall is not None and wall <= BUDGET_S, f"{wall} s on {results.get('machine', {}).get('cpu')}", "min")
    return goals


def _breakdown(phase: dict[str, Any], label: str) -> str:
    if not phase:
        return f"{label}: not run"
    extract = phase.get("extract") or []
    parts = {r["step"].removeprefix("extract_"): r.get("wall_s") for r in extract}
    parts.update({k: phase.get(k, {}).get("wall_s") for k in ("dbt", "quality", "publish", "chase")})
    return f"{label}: " + ", ".join(f"{k} {v} s" for k, v in parts.items())


def _fmt(value: Any, unit: str = "") -> str:
    if value is None:
        return "-"
    if isinstance(value, dict):
        return ", ".join(f"{k}x {_fmt(v)}" for k, v in value.items()) + (f" {unit}" if unit else "")
    if isinstance(value, float) and unit == "x" and abs(value) < 10:
        return f"{value:.3f}x"  # a ratio: 1.000x reads as a ratio, not as a scale
    if isinstance(value, float):
        return f"{value:.3g}{unit}" if abs(value) < 100 else f"{value:.0f}{unit}"
    return f"{value}{unit}"


def print_summary(results: dict[str, Any], console: Console | None = None) -> None:
    console = console or Console()
    table = Table(title="shinrai benchmark: goals")
    for col in ("measurement", "figure", "goal", "met"):
        table.add_column(col)
    for name, g in results["goals"].items():
        table.add_row(name, _fmt(g["figure"], g.get("unit", "")), g["goal"],
                      "[green]yes[/]" if g["met"] else "[red]no[/]")
    console.print(table)
    per_scale = Table(title="per scale (full load)")
    for col in ("scale", "end to end s", "extract s", "dbt s", "quality s", "publish s", "peak MiB", "requests/min"):
        per_scale.add_column(col, justify="right")
    for key, s in _scales(results):
        f = s.get("full", {})
        per_scale.add_row(f"{key}x", _fmt(f.get("end_to_end_s")), _fmt(f.get("extract", [{}])[0].get("group_wall_s")),
                          _fmt(f.get("dbt", {}).get("wall_s")), _fmt(f.get("quality", {}).get("wall_s")),
                          _fmt(f.get("publish", {}).get("wall_s")), _fmt(f.get("peak_rss_mib", {}).get("max")),
                          _fmt(f.get("requests", {}).get("ratio")))
    console.print(per_scale)
    console.print(f"benchmark wall time: {results.get('wall_s')} s; results: see the JSON file")


def markdown(results: dict[str, Any]) -> str:
    """The README's table of the latest figures, with the machine they came from."""
    m = results.get("machine", {})
    lines = [f"Latest run: {results.get('started_at')}, `make bench` took {results.get('wall_s')} s on "
             f"{m.get('cpu')} ({m.get('cores')} cores), {m.get('ram_gib')} GiB RAM, Python {m.get('python')}, "
             f"{m.get('os')}, DuckDB {m.get('duckdb')}.", "",
             "| measurement | figure | goal | met |", "|---|---|---|---|"]
    for name, g in results.get("goals", {}).items():
        lines.append(f"| {name} | {_fmt(g['figure'], g.get('unit', ''))} | {g['goal']} | "
                     f"{'yes' if g['met'] else '**no**'} |")
    lines += ["", "| scale | full load end to end | extract | dbt build | quality | publish | peak RSS | "
                  "requests / minimum |", "|---|---|---|---|---|---|---|---|"]
    for key, s in _scales(results):
        f = s.get("full", {})
        cells = [f"{key}x", f"{_fmt(f.get('end_to_end_s'))} s",
                 f"{_fmt(f.get('extract', [{}])[0].get('group_wall_s'))} s",
                 f"{_fmt(f.get('dbt', {}).get('wall_s'))} s",
                 f"{_fmt(f.get('quality', {}).get('wall_s'))} s", f"{_fmt(f.get('publish', {}).get('wall_s'))} s",
                 f"{_fmt(f.get('peak_rss_mib', {}).get('max'))} MiB",
                 f"{f.get('requests', {}).get('made')} / {f.get('requests', {}).get('minimum')}"]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)
