"""BI queries: the documented ones (``docs/queries/*.sql``) on the published file, and the same
answers computed from raw.

"From raw" means what a reader would have to run without the marts: every dbt model (staging,
intermediate, marts) defined as a view over the landing files, from the SQL dbt compiled for the
full load (``target/manifest.json``), so each query recomputes its lineage from the raw payloads.
Seeds (reference data) are copied as tables. The answers are compared with the published ones.
"""

from __future__ import annotations

import json
import statistics
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import duckdb

from shinrai.settings import PROJECT_ROOT, SOURCES, Paths


def documented_queries() -> list[Path]:
    return sorted((PROJECT_ROOT / "docs" / "queries").glob("*.sql"))


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100) of a non-empty list."""
    ordered = sorted(values)
    rank = max(1, min(len(ordered), round(q / 100 * len(ordered) + 0.5)))
    return ordered[rank - 1]


def time_published(published: Path, repeat: int = 20) -> dict[str, Any]:
    """Each query ``repeat`` times on one read-only connection (as a dashboard would hold it)."""
    per_query: dict[str, Any] = {}
    samples: list[float] = []
    answers: dict[str, list[tuple]] = {}
    with duckdb.connect(str(published), read_only=True) as con:
        for path in documented_queries():
            sql = path.read_text(encoding="utf-8")
            times = []
            for i in range(repeat + 1):
                t = time.perf_counter()
                rows = con.execute(sql).fetchall()
                if i:  # the first run warms the file's pages into the cache
                    times.append((time.perf_counter() - t) * 1000)
                else:
                    answers[path.stem] = rows
            samples += times
            per_query[path.stem] = {"p50_ms": round(statistics.median(times), 2),
                                    "p95_ms": round(percentile(times, 95), 2), "rows": len(answers[path.stem])}
    return {"p50_ms": round(statistics.median(samples), 2), "p95_ms": round(percentile(samples, 95), 2),
            "runs_per_query": repeat, "queries": per_query, "answers": answers}


def _topological(nodes: dict[str, dict]) -> list[str]:
    order: list[str] = []
    seen: set[str] = set()

    def visit(uid: str) -> None:
        if uid in seen:
            return
        seen.add(uid)
        for dep in nodes[uid]["depends_on"]["nodes"]:
            if dep in nodes:
                visit(dep)
        order.append(uid)

    for uid in sorted(nodes):
        visit(uid)
    return order


def raw_connection(p: Paths, manifest_file: Path) -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB where every dbt model is a view over the (read-only) landing files."""
    manifest = json.loads(manifest_file.read_text(encoding="utf-8"))
    models = {uid: n for uid, n in manifest["nodes"].items() if n["resource_type"] == "model"}
    con = duckdb.connect(":memory:")
    con.execute("set timezone = 'UTC'")
    for source in SOURCES:
        con.execute(f"attach '{p.landing_file(source)}' as {source} (read_only)")
    database = next(iter(models.values()))["database"]
    con.execute(f"attach ':memory:' as {database}")
    con.execute(f"attach '{p.warehouse_file}' as bench_warehouse (read_only)")
    for node in manifest["nodes"].values():
        if node["resource_type"] == "seed":
            con.execute(f"create schema if not exists {database}.{node['schema']}")
            con.execute(f"create table {database}.{node['schema']}.{node['alias']} as "
                        f"select * from bench_warehouse.{node['schema']}.{node['alias']}")
    con.execute("detach bench_warehouse")
    for uid in _topological(models):
        node = models[uid]
        sql = node.get("compiled_code")
        if not sql:
            raise RuntimeError(f"{uid} has no compiled SQL in {manifest_file}")
        con.execute(f"create schema if not exists {database}.{node['schema']}")
        con.execute(f"create view {database}.{node['schema']}.{node['alias']} as {sql}")
    marts = {n["schema"] for n in models.values() if n["fqn"][1:2] == ["marts"]} or {"marts"}
    seeds = {n["schema"] for n in manifest["nodes"].values() if n["resource_type"] == "seed"}
    con.execute(f"use {database}.{sorted(marts)[0]}")
    con.execute("set search_path = '" + ",".join(f"{database}.{s}" for s in sorted(marts | seeds)) + "'")
    return con


def _with_timeout(con: duckdb.DuckDBPyConnection, fn: Callable[[], Any], seconds: float) -> tuple[Any, bool]:
    timer = threading.Timer(seconds, con.interrupt)
    timer.start()
    try:
        return fn(), True
    except duckdb.InterruptException:
        return None, False
    finally:
        timer.cancel()


def time_raw(p: Paths, manifest_file: Path, published_answers: dict[str, list[tuple]],
             budget_s: float = 240.0, per_query_cap_s: float = 90.0) -> dict[str, Any]:
    """Each query once from raw (the lineage recomputed), within a total budget; answers compared."""
    con = raw_connection(p, manifest_file)
    out: dict[str, Any] = {}
    deadline = time.perf_counter() + budget_s
    try:
        for path in documented_queries():
            left = deadline - time.perf_counter()
            if left <= 1:
                out[path.stem] = {"ms": None, "note": "not run: the raw-query time budget was spent"}
                continue
            cap = min(per_query_cap_s, left)
            sql = path.read_text(encoding="utf-8")
            t = time.perf_counter()
            rows, finished = _with_timeout(con, lambda sql=sql: con.execute(sql).fetchall(), cap)
            ms = (time.perf_counter() - t) * 1000
            if not finished:
                out[path.stem] = {"ms": None, "at_least_ms": round(ms), "note": f"stopped after {cap:.0f} s"}
                continue
            same, columns = _compare(rows, published_answers.get(path.stem), con.description)
            out[path.stem] = {"ms": round(ms, 1), "same_answer": same,
                              **({"differing_columns": columns} if not same else {})}
    finally:
        con.close()
    return out


def _norm(row: tuple) -> tuple:
    return tuple(round(v, 6) if isinstance(v, float) else v for v in row)


def _compare(a: list[tuple] | None, b: list[tuple] | None, description: Any) -> tuple[bool, list[str]]:
    """Same rows (floats to 6 places, in any order)? If not, the columns where the rows (in the
    query's order) differ."""
    if a is None or b is None:
        return False, []
    if len(a) == len(b) and sorted(map(_norm, a), key=repr) == sorted(map(_norm, b), key=repr):
        return True, []
    names = [d[0] for d in description or []]
    differing = {names[i] if i < len(names) else str(i)
                 for x, y in zip(a, b, strict=False) for i, (u, v) in enumerate(zip(_norm(x), _norm(y), strict=False))
                 if u != v}
    if len(a) != len(b):
        differing.add("(row count)")
    return False, sorted(differing)
