"""The benchmark's goals ({figure, goal, met, note}), its summary table, and the README's Markdown."""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.table import Table

BUDGET_S = 30 * 60
NIGHT_SLACK_HOURS = 1.0  # a 100x night's Slack requests, at the Marketplace limits
TARGET_SCALE = 100.0
LANDING_VS_JSON = 1.0  # a landing file at most the size of the JSON its source served
LANDING_VS_DLT = 1.5  # our Jira incidents landing file at most this multiple of dlt's DuckDB file
CONTENDERS = (("ours", "shinrai extractor"), ("dlt_rest_api", "dlt rest_api -> duckdb"),
              ("http_json_floor", "requests + json -> JSON lines"))


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

    goals["slack_night_hours"] = _night_hours(scales)
    goals["landing_vs_json"] = _landing(scales)
    goals["jira_side_by_side"] = _side_by_side(results.get("side_by_side") or {})

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


def _limits(s: dict[str, Any], phase: str) -> dict[str, Any]:
    return (s.get(phase) or {}).get("requests", {}).get("under_limits") or {}


def _night_hours(scales: list[tuple[str, dict[str, Any]]]) -> dict[str, Any]:
    if not scales:
        return _goal(None, "", False, "no scale was run", "h")
    key, largest = scales[-1]
    night, full = _limits(largest, "nightly"), _limits(largest, "full")
    slack = night.get("slack") or {}
    hours = slack.get("serial_h")
    measured_at = float(key)
    met = hours is not None and measured_at >= TARGET_SCALE and hours <= NIGHT_SLACK_HOURS
    note = ""
    if night:
        nm = night["slack_non_marketplace"]
        note = (f"{key}x night: Slack {slack['requests']} requests, {slack['serial_h']} h "
                f"Marketplace/internal ({slack['parallel_h']} h with every method's bucket drained at once), "
                f"{nm['serial_h']} h non-Marketplace ({nm['requests']} requests, history and replies at 15 a page, "
                f"1 a minute); Jira {night['jira']['requests']} requests {night['jira']['serial_h']} h, Notion "
                f"{night['notion']['requests']} requests {night['notion']['serial_h']} h")
    if full:
        note += (f"; {key}x full load: Slack {full['slack']['serial_h']} h Marketplace, "
                 f"{full['slack_non_marketplace']['serial_h']} h non-Marketplace, Jira {full['jira']['serial_h']} h, "
                 f"Notion {full['notion']['serial_h']} h")
    if hours is not None and measured_at < TARGET_SCALE:
        note += (f"; measured at {key}x, not {TARGET_SCALE:g}x: linear to {TARGET_SCALE:g}x that is "
                 f"{round(hours * TARGET_SCALE / measured_at, 2)} h (not met until measured)")
    return _goal(hours, f"a {TARGET_SCALE:g}x night's Slack requests within {NIGHT_SLACK_HOURS:g} h at Slack's "
                        "Marketplace limits (Tier 3: 50 a minute per method), counted one after another",
                 met, note or "no nightly run", "h")


def _landing(scales: list[tuple[str, dict[str, Any]]]) -> dict[str, Any]:
    worst, where, notes = None, "", []
    for key, s in scales:
        per = (s.get("full") or {}).get("landing_vs_json") or {}
        notes.append(f"{key}x " + ", ".join(f"{src} {v['landing_mib']}/{v['json_mib']} MiB" for src, v in per.items()))
        if key == scales[-1][0]:
            for src, v in per.items():
                if worst is None or v["ratio"] > worst:
                    worst, where = v["ratio"], f"{src} at {key}x"
    return _goal(worst, f"each source's landing file at most {LANDING_VS_JSON:g}x the JSON it served (full load)",
                 worst is not None and worst <= LANDING_VS_JSON,
                 f"worst: {where}; landing/JSON per scale: " + "; ".join(notes), "x")


def _side_by_side(sbs: dict[str, Any]) -> dict[str, Any]:
    ours, dlt = sbs.get("ours") or {}, sbs.get("dlt_rest_api") or {}
    ratio = round(ours["file_mib"] / dlt["file_mib"], 2) if ours.get("file_mib") and dlt.get("file_mib") else None
    parts = []
    for name, label in CONTENDERS:
        c = sbs.get(name) or {}
        if c:
            parts.append(f"{label}: {c.get('requests')} requests, {c.get('wall_s')} s, CPU {c.get('cpu_s')} s, "
                         f"{c.get('peak_rss_mib')} MiB peak, {c.get('file_mib')} MiB file, {c.get('rows')} rows"
                         + ("" if c.get("ok") else f" (failed: {c.get('error')})"))
    return _goal(ratio, f"our Jira incidents landing file at most {LANDING_VS_DLT:g}x dlt's DuckDB file for the same "
                        "query", ratio is not None and ratio <= LANDING_VS_DLT,
                 (f"at {sbs.get('scale'):g}x, same sandbox, one at a time: " + "; ".join(parts)) if sbs
                 else "not run", "x")


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


def limit_rows(results: dict[str, Any]) -> list[list[str]]:
    """Per scale and run (full load, the 1%-changed night): requests and hours at the real limits."""
    rows = []
    for key, s in _scales(results):
        for phase, label in (("full", "full load"), ("nightly", "night")):
            u = _limits(s, phase)
            if not u:
                continue
            nm = u["slack_non_marketplace"]
            rows.append([f"{key}x", label, str(u["slack"]["requests"]), _h(u["slack"]["serial_h"]),
                         str(nm["requests"]), _h(nm["serial_h"]), str(u["jira"]["requests"]),
                         _h(u["jira"]["serial_h"]), str(u["notion"]["requests"]), _h(u["notion"]["serial_h"])])
    return rows


LIMIT_COLUMNS = ("scale", "run", "Slack requests", "Slack h (Marketplace)", "Slack requests non-Marketplace",
                 "Slack h non-Marketplace",
                 "Jira requests", "Jira h", "Notion requests", "Notion h")
LANDING_COLUMNS = ("scale", "source", "JSON served MiB", "landing file MiB", "landing / JSON")
SIDE_COLUMNS = ("contender", "requests", "JSON MiB", "wall s", "CPU s", "peak RSS MiB", "file MiB", "rows")


def landing_rows(results: dict[str, Any]) -> list[list[str]]:
    return [[f"{key}x", src, str(v["json_mib"]), str(v["landing_mib"]), f"{v['ratio']:.2f}"]
            for key, s in _scales(results) for src, v in ((s.get("full") or {}).get("landing_vs_json") or {}).items()]


def side_rows(results: dict[str, Any]) -> list[list[str]]:
    sbs = results.get("side_by_side") or {}
    return [[label, str(c.get("requests")), str(c.get("json_mib")), _fmt(c.get("wall_s")), _fmt(c.get("cpu_s")),
             _fmt(c.get("peak_rss_mib")), str(c.get("file_mib")), str(c.get("rows"))]
            for name, label in CONTENDERS if (c := sbs.get(name))]


def _h(hours: float | None) -> str:
    if hours is None:
        return "-"
    if hours >= 100:
        return f"{hours:.0f} ({hours / 24:.1f} d)"
    return f"{hours:.2f}" if hours >= 0.1 else f"{hours:.2g}"


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
    for title, columns, rows in (
            ("requests and the hours they take at the real published limits", LIMIT_COLUMNS, limit_rows(results)),
            ("landing files against the JSON the sources served (full load)", LANDING_COLUMNS, landing_rows(results)),
            (f"Jira {(results.get('side_by_side') or {}).get('stream')} side by side at "
             f"{(results.get('side_by_side') or {}).get('scale', 0):g}x", SIDE_COLUMNS, side_rows(results))):
        if rows:
            extra = Table(title=title)
            for col in columns:
                extra.add_column(col, justify="right")
            for row in rows:
                extra.add_row(*row)
            console.print(extra)
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
    sbs = results.get("side_by_side") or {}
    for title, columns, rows in (
            ("Requests and the hours they take at the real published limits (Slack non-Marketplace: history "
             "and replies at 1 a minute, 15 a page):", LIMIT_COLUMNS, limit_rows(results)),
            ("Landing files against the JSON the sources served (full load):", LANDING_COLUMNS, landing_rows(results)),
            (f"Jira {sbs.get('stream')} side by side at {sbs.get('scale', 0):g}x (same sandbox, same query, one at a "
             "time):", SIDE_COLUMNS, side_rows(results))):
        if rows:
            lines += ["", title, "", "| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
            lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)
