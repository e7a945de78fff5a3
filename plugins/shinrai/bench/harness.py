"""``shinrai bench``: the sandbox at several scales, the pipeline's steps each in its own process,
and every figure the benchmark issue asks for, measured in the same run (see ``run``)."""

from __future__ import annotations

import json
import os
import platform
import shutil
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb
import yaml
from rich.console import Console
from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

from shinrai import config as config_mod
from shinrai.bench import limits as lm
from shinrai.bench import minimum as mn
from shinrai.bench import queries as bq
from shinrai.bench.sandbox import SandboxProcess
from shinrai.settings import PROJECT_ROOT, Paths, paths

MARK = "BENCH_RESULT "  # what shinrai.bench.child prints its result after
EXTRACT_STEPS = ("extract_jira", "extract_notion", "extract_slack")
SOURCE_OF = {"extract_jira": "jira", "extract_notion": "notion", "extract_slack": "slack"}
NOTION_STREAMS = ("risk_records", "release_calendar")
# The rate-limited runs: which sources at which scale, and how much their limits are compressed.
# Slack's 50 a minute becomes 50 a second (at 1x its history/replies calls alone take ~21 minutes at
# the real rate); Jira (10 a second per endpoint family) and Notion (3 a second) run at their real
# published rates, at 10x, where the limits rather than this machine's processing bind.
DEFAULT_SPEEDUP = {"jira": 1.0, "notion": 1.0, "slack": 60.0}
DEFAULT_RATE_LIMITED = {1.0: ("slack",), 10.0: ("jira", "notion")}


@dataclass
class Options:
    scales: tuple[float, ...] = (1.0, 10.0, 100.0)
    rate_limited: dict[float, tuple[str, ...]] = field(default_factory=lambda: dict(DEFAULT_RATE_LIMITED))
    speedup: dict[str, float] = field(default_factory=lambda: dict(DEFAULT_SPEEDUP))
    nightly_fraction: float = 0.01
    query_repeat: int = 20
    raw_budget_s: float = 240.0
    parse_repeat: int = 3
    seed: int = 7
    work_dir: Path | None = None
    out: Path = PROJECT_ROOT / "bench" / "results" / "latest.json"
    keep: bool = False
    docs: bool = True  # publish the dbt docs page as the nightly DAG does
    chase: bool = True  # and preview the reminders
    side_by_side: bool = True  # Jira incidents: our extractor vs dlt's rest_api vs a bare HTTP+JSON floor
    side_by_side_scale: float | None = None  # at this scale (default: the largest)


class Bench:
    def __init__(self, options: Options, console: Console | None = None):
        self.o = options
        self.console = console or Console()
        self.work = (options.work_dir or paths().home / "bench").resolve()
        self.results: dict[str, Any] = {}
        self.progress: Progress | None = None
        self.task: Any = None
        self.started = time.perf_counter()

    # -- plumbing ----------------------------------------------------------------------------------

    def say(self, text: str) -> None:
        elapsed = time.perf_counter() - self.started
        line = f"[dim]{elapsed:7.1f}s[/] {text}"
        (self.progress.console if self.progress else self.console).print(line)

    @contextmanager
    def phase(self, text: str) -> Iterator[None]:
        if self.progress is not None:
            self.progress.update(self.task, description=text)
        self.say(text)
        try:
            yield
        finally:
            if self.progress is not None:
                self.progress.advance(self.task)

    def child_env(self, home: Path, config_file: Path, connections: dict[str, str]) -> dict[str, str]:
        env = dict(os.environ)
        env.update(connections)
        env.update({"SHINRAI_HOME": str(home), "SHINRAI_CONFIG": str(config_file), "GX_ANALYTICS_ENABLED": "false",
                    "DBT_SEND_ANONYMOUS_USAGE_STATS": "false", "PYTHONPYCACHEPREFIX": str(self.work / "pycache")})
        # Task processes normally reuse compiled bytecode; without a cache every step would spend
        # seconds recompiling Airflow, dbt and GX (this environment sets PYTHONDONTWRITEBYTECODE).
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        return env

    def run_steps(self, steps: Sequence[tuple[str, dict]], env: dict[str, str], log: Path) -> list[dict]:
        """Run the steps in parallel, one child process each; wait for all of them."""
        procs = []
        started = time.perf_counter()
        with open(log, "a", encoding="utf-8") as out:
            for step, kwargs in steps:
                out.write(f"\n===== {step} {json.dumps(kwargs)}\n")
                out.flush()
                procs.append((step, subprocess.Popen(
                    [sys.executable, "-m", "shinrai.bench.child", step, json.dumps(kwargs)], env=env,
                    stdout=subprocess.PIPE, stderr=out, text=True, cwd=PROJECT_ROOT)))
            results = []
            try:
                outputs = [(step, proc, proc.communicate()[0]) for step, proc in procs]
            except BaseException:  # interrupted: leave no step running
                for _, proc in procs:
                    proc.kill()
                    proc.wait()
                raise
            for step, proc, stdout in outputs:
                out.write(stdout)
                marked = [line for line in stdout.splitlines() if line.startswith(MARK)]
                if marked:
                    results.append(json.loads(marked[-1][len(MARK):]))
                else:
                    results.append({"step": step, "ok": False, "error": f"exit code {proc.returncode}, no result "
                                    f"(see {log})", "wall_s": None, "peak_rss_mib": None})
        wall = time.perf_counter() - started
        for r in results:
            r["group_wall_s"] = round(wall, 3)
            if not r["ok"]:
                self.say(f"[red]{r['step']} failed[/]: {r['error']}")
        return results

    def fresh_home(self, name: str) -> tuple[Path, Path, Path, config_mod.Config, Paths]:
        """An empty home under the work directory with the benchmark's config: (home, its log, the
        config file, the config, the paths)."""
        home = self.work / name
        shutil.rmtree(home, ignore_errors=True)
        home.mkdir(parents=True)
        cfg_file = self.write_config(home)
        p = Paths(home=home, config_file=cfg_file, dbt_project_dir=paths().dbt_project_dir, gx_dir=paths().gx_dir)
        return home, home / "bench.log", cfg_file, config_mod.load(cfg_file), p

    def write_config(self, home: Path, pacing: bool = False) -> Path:
        tree = yaml.safe_load((PROJECT_ROOT / "config" / "shinrai.yaml").read_text(encoding="utf-8"))
        tree["pacing"] = {"enabled": pacing, "speedup": dict(self.o.speedup) if pacing else {}}
        # The night is built minutes after the full load, not a day later: with the shipped 60-minute
        # lookback the incremental models would re-parse everything the full load landed, which a
        # real night 24 hours later never does. One machine, one clock: no lookback is needed here.
        tree.setdefault("metrics", {})["incremental_lookback_minutes"] = 0
        home.mkdir(parents=True, exist_ok=True)
        path = home / "shinrai.yaml"
        path.write_text(yaml.safe_dump(tree, allow_unicode=True, sort_keys=False), encoding="utf-8")
        return path

    # -- the run -----------------------------------------------------------------------------------

    def run(self) -> dict[str, Any]:
        self.work.mkdir(parents=True, exist_ok=True)
        self.results = {"started_at": datetime.now(UTC).isoformat(timespec="seconds"), "machine": machine(),
                        "options": {"scales": list(self.o.scales),
                                    "rate_limited": {_key(k): list(v) for k, v in self.o.rate_limited.items()},
                                    "rate_limit_speedup": self.o.speedup,
                                    "nightly_fraction": self.o.nightly_fraction, "seed": self.o.seed,
                                    "side_by_side_scale": self._side_by_side_scale()},
                        "scales": {}, "rate_limited": {}}
        total = len(self.o.scales) * 9 + len(self.o.rate_limited) * 2 + 1 + bool(self._side_by_side_scale())
        columns = (SpinnerColumn(), TextColumn("[progress.description]{task.description}"), BarColumn(),
                   TextColumn("{task.completed}/{task.total}"), TimeElapsedColumn())
        with Progress(*columns, console=self.console, transient=True) as progress:
            self.progress, self.task = progress, progress.add_task("benchmark", total=total)
            try:
                for scale in self.o.scales:
                    self.results["scales"][_key(scale)] = self.scale_run(scale, e2e=scale == max(self.o.scales))
                for scale, sources in sorted(self.o.rate_limited.items()):
                    self.results["rate_limited"][_key(scale)] = self.rate_limited_run(scale, sources)
                with self.phase("DAG file parse times"):
                    from shinrai.orchestration import parse_times

                    home = self.work / "parse"
                    env = self.child_env(home, self.write_config(home), {})
                    self.results["dag_parse_s"] = parse_times(repeat=self.o.parse_repeat, env={
                        **env, **_airflow_env(home)})
            finally:
                self.progress = None
        self.results["wall_s"] = round(time.perf_counter() - self.started, 1)
        self.results["finished_at"] = datetime.now(UTC).isoformat(timespec="seconds")
        from shinrai.bench.report import evaluate

        self.results["goals"] = evaluate(self.results)
        self.o.out.parent.mkdir(parents=True, exist_ok=True)
        self.o.out.write_text(json.dumps(self.results, indent=2, default=str), encoding="utf-8")
        return self.results

    def scale_run(self, scale: float, e2e: bool) -> dict[str, Any]:
        out: dict[str, Any] = {"scale": scale}
        home, log, cfg_file, cfg, p = self.fresh_home(f"scale-{_key(scale)}")
        with self.phase(f"{_key(scale)}x: generating the sandbox organisation"):
            t = time.perf_counter()
            sb = SandboxProcess(scale, seed=self.o.seed, log=log).start()
            out["sandbox_start_s"] = round(time.perf_counter() - t, 1)
        try:
            env = self.child_env(home, cfg_file, sb.connections)
            manifest = sb.manifest()
            out["sandbox_counts"] = manifest["counts"]
            dups = mn.duplicate_keys(manifest)

            with self.phase(f"{_key(scale)}x: full load: extracting Jira, Notion and Slack in parallel"):
                out["full"] = {"extract": self.run_steps([(s, {"run_id": "bench-full"}) for s in EXTRACT_STEPS],
                                                         env, log)}
                out["full"]["requests"] = self.requests_vs_minimum(sb, p, cfg, dups, before=None, now=None)
                out["full"]["landing_vs_json"] = lm.landing_vs_json(
                    {s: p.landing_file(s).stat().st_size for s in lm.SOURCES if p.landing_file(s).exists()},
                    out["full"]["requests"]["response_bytes"])
            with self.phase(f"{_key(scale)}x: full load: dbt build"):
                out["full"]["dbt"] = self.run_steps([("build_marts", {})], env, log)[0]
                manifest_file = home / "dbt" / "target" / "manifest.json"
                if manifest_file.exists():  # compiled for the full load: every model from raw
                    shutil.copy(manifest_file, home / "full_load_manifest.json")
            with self.phase(f"{_key(scale)}x: full load: quality checkpoint, publish, chase preview"):
                out["full"]["quality"] = self.run_steps([("check_quality", {"checkpoint": "nightly"})], env, log)[0]
                out["full"]["publish"] = self.run_steps([("publish", {"run_id": "bench-full", "docs": self.o.docs})],
                                                        env, log)[0]
                if self.o.chase:
                    out["full"]["chase"] = self.run_steps([("chase", {"dry_run": True, "send": False})], env, log)[0]
            out["full"]["end_to_end_s"] = _e2e(out["full"])
            out["full"]["peak_rss_mib"] = _peak(out["full"])

            with self.phase(f"{_key(scale)}x: BI queries on the publication"):
                if e2e:
                    out["queries"] = self.query_run(home, p)
                else:
                    self.say("  (timed at the largest scale only)")

            with self.phase(f"{_key(scale)}x: the next night, nothing changed: extraction"):
                before, now = self.night(p, days=1)
                out["unchanged_night"] = {"extract": self.run_steps(self.extract_steps("bench-unchanged", now),
                                                                    env, log)}
                out["unchanged_night"]["requests"] = self.requests_vs_minimum(sb, p, cfg, dups, before, now)

            with self.phase(f"{_key(scale)}x: the night after, {self.o.nightly_fraction:.0%} of records "
                            "changed: extraction"):
                mutation = sb.mutate(fraction=self.o.nightly_fraction, seed=11)
                out["changed_records"] = {k: len(v) for k, v in mutation["changed"].items()}
                before, now = self.night(p, days=2)
                night: dict[str, Any] = {"extract": self.run_steps(self.extract_steps("bench-nightly", now),
                                                                   env, log)}
                night["requests"] = self.requests_vs_minimum(sb, p, cfg, dups, before, now)
                out["nightly"] = night
            if e2e:
                with self.phase(f"{_key(scale)}x: nightly: dbt build"):
                    night["dbt"] = self.run_steps([("build_marts", {})], env, log)[0]
                with self.phase(f"{_key(scale)}x: nightly: quality checkpoint, publish, chase preview"):
                    night["quality"] = self.run_steps([("check_quality", {"checkpoint": "nightly"})], env, log)[0]
                    night["publish"] = self.run_steps([("publish", {"run_id": "bench-nightly", "docs": self.o.docs})],
                                                      env, log)[0]
                    if self.o.chase:
                        night["chase"] = self.run_steps([("chase", {"dry_run": True, "send": False})], env, log)[0]
                night["end_to_end_s"] = _e2e(night)
                night["peak_rss_mib"] = _peak(night)
            else:  # the nightly dbt, quality and publish run at the largest scale only
                for _ in range(3):
                    self.progress and self.progress.advance(self.task)
            if self._side_by_side_scale() == scale:
                with self.phase(f"{_key(scale)}x: Jira incidents side by side: ours, dlt rest_api, HTTP+JSON floor"):
                    self.results["side_by_side"] = self.side_by_side_run(sb, scale)
            out["landing_mib"] = {s: round(p.landing_file(s).stat().st_size / 2**20, 1)
                                  for s in ("jira", "notion", "slack") if p.landing_file(s).exists()}
        finally:
            sb.stop()
            if not self.o.keep:
                shutil.rmtree(home / "landing", ignore_errors=True)
                for name in ("warehouse.duckdb", "publish", "dbt", "quality", "airflow"):
                    path = home / name
                    shutil.rmtree(path, ignore_errors=True) if path.is_dir() else path.unlink(missing_ok=True)
        self.say(f"{_key(scale)}x done: full load {out['full']['end_to_end_s']} s end to end"
                 + (f", nightly {out['nightly']['end_to_end_s']} s" if e2e else ""))
        return out

    def query_run(self, home: Path, p: Paths) -> dict[str, Any]:
        published = home / "publish" / "marts.duckdb"
        if not published.exists():
            return {"error": "nothing was published"}
        timed = bq.time_published(published, repeat=self.o.query_repeat)
        answers = timed.pop("answers")
        manifest_file = home / "full_load_manifest.json"
        raw: dict[str, Any] = {}
        if manifest_file.exists():
            self.say(f"  marts: p50 {timed['p50_ms']} ms, p95 {timed['p95_ms']} ms; now the same from raw")
            try:
                raw = bq.time_raw(p, manifest_file, answers, budget_s=self.o.raw_budget_s)
            except Exception as exc:  # record it; the rest of the benchmark goes on
                raw = {"error": f"{type(exc).__name__}: {exc}"[:1000]}
        timed["raw"] = raw
        return timed

    def night(self, p: Paths, days: int) -> tuple[dict[str, Any], datetime]:
        """The cursors the next run starts from, and its clock: ``days`` nights after the full load
        (Slack's lookback and staggered weekly re-read go by it; Jira and Notion by their watermarks)."""
        from datetime import timedelta

        return cursors_before(p), datetime.now(UTC) + timedelta(days=days)

    def extract_steps(self, run_id: str, now: datetime | None = None) -> list[tuple[str, dict]]:
        return [(s, {"run_id": run_id, **({"now": now.isoformat()} if now and s == "extract_slack" else {})})
                for s in EXTRACT_STEPS]

    def requests_vs_minimum(self, sb: SandboxProcess, p: Paths, cfg: config_mod.Config, dups: list[str],
                            before: dict[str, Any] | None, now: datetime | None) -> dict[str, Any]:
        records = sb.requests()
        sb.reset_requests()
        minimum: dict[str, Counter] = {}
        keys: dict[str, str] = {}
        sources: dict[str, str] = {}
        reads: list[mn.ChannelRead] = []
        if p.landing_file("jira").exists():
            with duckdb.connect(str(p.landing_file("jira")), read_only=True) as con:
                since = swept = None
                if before is not None:
                    lb = cfg.jira_lookback_minutes * 60
                    since = {s: _minus(before["jira"].get(s), lb) for s in cfg.jira_jql}
                    swept = {s: before["jira"].get(f"sweep:{s}") for s in cfg.jira_jql}
                minimum.update(mn.jira_minimum(con, dups, len(cfg.release_projects), since, swept))
                keys = mn.jira_keys(con)
        if p.landing_file("notion").exists():
            with duckdb.connect(str(p.landing_file("notion")), read_only=True) as con:
                since = None
                if before is not None:
                    lb = cfg.notion_lookback_minutes * 60
                    since = {k: _minus(v, lb) for k, v in before["notion"].items()}
                minimum.update(mn.notion_minimum(con, NOTION_STREAMS, since))
                sources = mn.notion_sources(con, cfg, NOTION_STREAMS)
        if p.landing_file("slack").exists():
            with duckdb.connect(str(p.landing_file("slack")), read_only=True) as con:
                reads = mn.slack_reads(cfg, con, before["slack"] if before is not None else None,
                                       now or datetime.now(UTC))
                minimum.update(mn.slack_minimum(con, reads))
        limit15 = None
        if reads and p.landing_file("slack").exists():
            with duckdb.connect(str(p.landing_file("slack")), read_only=True) as con:
                limit15 = lm.slack_limit15_pages(con, reads)
        made = mn.classify(records, cfg, keys, sources)
        statuses = Counter(f"{r['server']}:{r['status']}" for r in records if r["status"] != 200)
        streams = {}
        for stream in sorted(set(minimum) | set(made)):
            m, d = sum(minimum.get(stream, Counter()).values()), sum(made.get(stream, Counter()).values())
            streams[stream] = {"made": d, "minimum": m, "ratio": round(d / m, 4) if m else None,
                               "made_by_family": dict(made.get(stream, {})),
                               "minimum_by_family": dict(minimum.get(stream, {}))}
        total_made = sum(s["made"] for s in streams.values())
        total_min = sum(s["minimum"] for s in streams.values())
        out = {"streams": streams, "made": total_made, "minimum": total_min,
               "ratio": round(total_made / total_min, 4) if total_min else None,
               "slack_channels_read": len(reads), "non_200": dict(statuses),
               "response_bytes": lm.served_bytes(records), "slack_limit15_pages": limit15}
        out["under_limits"] = lm.under_limits(out)
        return out

    def _side_by_side_scale(self) -> float | None:
        if not self.o.side_by_side or not self.o.scales:
            return None
        return self.o.side_by_side_scale if self.o.side_by_side_scale in self.o.scales else max(self.o.scales)

    def side_by_side_run(self, sb: SandboxProcess, scale: float) -> dict[str, Any]:
        """Jira incidents, one contender at a time on the scale's sandbox (see shinrai.bench.sidebyside)."""
        from shinrai.bench import sidebyside

        home, log, cfg_file, cfg, p = self.fresh_home(f"side-by-side-{_key(scale)}")
        env = {**self.child_env(home, cfg_file, sb.connections), "DLT_DATA_DIR": str(home / "dlt-data")}
        out: dict[str, Any] = {"scale": scale, "stream": sidebyside.STREAM}
        try:
            sb.reset_requests()
            ours = self.run_steps([("extract_jira", {"run_id": "bench-side", "streams": [sidebyside.STREAM]})],
                                  env, log)[0]
            records = sb.requests()
            sb.reset_requests()
            rows = None
            if p.landing_file("jira").exists():
                with duckdb.connect(str(p.landing_file("jira")), read_only=True) as con:
                    rows = con.execute(f"select count(*) from raw.{sidebyside.STREAM} where not is_deleted"
                                       ).fetchone()[0]
            out["ours"] = _contender(ours, records, p.landing_file("jira"), rows)
            query = sidebyside.first_query(records, cfg.jira_jql[sidebyside.STREAM])
            out["query"] = {k: v for k, v in query.items() if k != "fields"} | {
                "fields": len(query.get("fields", "").split(","))}
            for name, step, target in (("dlt_rest_api", "dlt_rest_api", home / "dlt" / "dlt.duckdb"),
                                       ("http_json_floor", "floor", home / "floor" / "incidents.jsonl")):
                target.parent.mkdir(parents=True, exist_ok=True)
                result = self.run_steps([(f"shinrai.bench.sidebyside:{step}", {"query": query, "out": str(target)})],
                                        env, log)[0]
                records = sb.requests()
                sb.reset_requests()
                out[name] = _contender(result, records, target, (result.get("result") or {}).get("rows"))
        finally:
            if not self.o.keep:
                shutil.rmtree(home, ignore_errors=True)
        return out

    def rate_limited_run(self, scale: float, sources: Sequence[str]) -> dict[str, Any]:
        out: dict[str, Any] = {"scale": scale, "speedup": {s: self.o.speedup.get(s, 1.0) for s in sources}}
        home = self.work / f"rate-limited-{_key(scale)}"
        shutil.rmtree(home, ignore_errors=True)
        home.mkdir(parents=True)
        log = home / "bench.log"
        cfg_file = self.write_config(home, pacing=True)
        cfg = config_mod.load(cfg_file)
        p = Paths(home=home, config_file=cfg_file, dbt_project_dir=paths().dbt_project_dir, gx_dir=paths().gx_dir)
        with self.phase(f"{_key(scale)}x rate-limited {', '.join(sources)}: generating the sandbox (published "
                        f"limits, compressed {out['speedup']})"):
            sb = SandboxProcess(scale, seed=self.o.seed, rate_limit="published", speedup=self.o.speedup,
                                log=log).start()
        try:
            env = self.child_env(home, cfg_file, sb.connections)
            dups = mn.duplicate_keys(sb.manifest())
            with self.phase(f"{_key(scale)}x rate-limited: extracting {', '.join(sources)}, paced"):
                steps = [s for s in EXTRACT_STEPS if SOURCE_OF[s] in sources]
                out["extract"] = self.run_steps([(s, {"run_id": "bench-limited"}) for s in steps], env, log)
                out["requests"] = self.requests_vs_minimum(sb, p, cfg, dups, before=None, now=None)
            from shinrai.sandbox.faults import published_limit

            sources = {}
            for r in out["extract"]:
                source = SOURCE_OF[r["step"]]
                families: Counter = Counter()
                for stream, s in out["requests"]["streams"].items():
                    if stream.startswith(source + "."):
                        families.update(s["minimum_by_family"])
                floors = {}
                for family, n in families.items():
                    cap, rate = published_limit(source, family)
                    floors[family] = round(max(0.0, n - cap) / (rate * self.o.speedup.get(source, 1.0)), 3)
                floor = max(floors.values(), default=0.0)
                limited = sum(v for k, v in out["requests"]["non_200"].items() if k == f"{source}:429")
                sources[source] = {"wall_s": r["wall_s"], "ok": r["ok"], "floor_s": floor, "floor_by_family": floors,
                                   "ratio": round(r["wall_s"] / floor, 3) if floor and r["wall_s"] else None,
                                   "responses_429": limited}
            out["sources"] = sources
        finally:
            sb.stop()
            if not self.o.keep:
                shutil.rmtree(home, ignore_errors=True)
        return out


def _contender(step: dict[str, Any], records: list[dict[str, Any]], file: Path, rows: int | None) -> dict[str, Any]:
    from shinrai.hooks.pacing import jira_family

    by_family = Counter(jira_family(r["path"]) for r in records)
    return {"ok": step.get("ok"), "error": step.get("error"), "requests": len(records),
            "requests_by_family": dict(by_family), "json_mib": round(lm.served_bytes(records)["jira"] / 2**20, 2),
            "wall_s": step.get("wall_s"), "cpu_s": step.get("cpu_s"), "peak_rss_mib": step.get("peak_rss_mib"),
            "file_mib": round(file.stat().st_size / 2**20, 2) if file.exists() else None, "rows": rows}


def cursors_before(p: Paths) -> dict[str, Any]:
    """Every stream's cursor, per source (what the next run starts from)."""
    from shinrai.load.landing import Cursor

    out: dict[str, Any] = {}
    for source in ("jira", "notion", "slack"):
        if not p.landing_file(source).exists():
            out[source] = {}
            continue
        with duckdb.connect(str(p.landing_file(source)), read_only=True) as con:
            con.execute("set timezone = 'UTC'")
            rows = con.execute("select stream, watermark, in_progress from state.cursors").fetchall()
        out[source] = {s: (Cursor(w, json.loads(i) if i else {}) if source == "slack" else w) for s, w, i in rows}
    return out


def _minus(ts: Any, seconds: float) -> datetime | None:
    from datetime import timedelta

    return ts - timedelta(seconds=seconds) if ts is not None else None


def _e2e(phase: dict[str, Any]) -> float | None:
    """Extraction (the three tasks in parallel) then dbt, quality, publish and chase one after another,
    each from process start (imports included) to exit, as a task would take."""
    groups = [phase["extract"][0].get("group_wall_s")] + [
        phase[k].get("group_wall_s") for k in ("dbt", "quality", "publish", "chase") if k in phase]
    return round(sum(groups), 1) if all(g is not None for g in groups) else None


def _peak(phase: dict[str, Any]) -> dict[str, Any]:
    steps = {r["step"]: r.get("peak_rss_mib") for r in phase["extract"]}
    steps.update({k: phase[k].get("peak_rss_mib") for k in ("dbt", "quality", "publish", "chase") if k in phase})
    return {"max": max((v for v in steps.values() if v is not None), default=None), "steps": steps}


def _airflow_env(home: Path) -> dict[str, str]:
    from shinrai.airflow_env import airflow_env

    return airflow_env(Paths(home=home, config_file=home / "shinrai.yaml", dbt_project_dir=paths().dbt_project_dir,
                             gx_dir=paths().gx_dir))


def _key(scale: float) -> str:
    return f"{scale:g}"


def machine() -> dict[str, Any]:
    cpu = platform.processor() or ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    try:
        mem_kib = next(int(line.split()[1]) for line in Path("/proc/meminfo").read_text().splitlines()
                       if line.startswith("MemTotal"))
        ram = round(mem_kib / 2**20, 1)
    except (OSError, StopIteration):
        ram = None
    load = os.getloadavg() if hasattr(os, "getloadavg") else None
    return {"cpu": cpu, "cores": os.cpu_count(), "ram_gib": ram, "python": platform.python_version(),
            "os": f"{platform.system()} {platform.release()}", "platform": platform.platform(),
            "duckdb": duckdb.__version__, "load_average_at_start": [round(x, 2) for x in load] if load else None}


def run(options: Options | None = None, console: Console | None = None,
        on_done: Callable[[dict[str, Any]], None] | None = None) -> dict[str, Any]:
    import signal
    import threading

    def interrupt(*_: object) -> None:
        raise KeyboardInterrupt  # so every sandbox and step process is stopped on the way out

    previous = signal.signal(signal.SIGTERM, interrupt) if threading.current_thread() is threading.main_thread() \
        else None
    try:
        results = Bench(options or Options(), console).run()
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)
    if on_done:
        on_done(results)
    return results
