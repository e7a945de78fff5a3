"""kill -9 of a publisher at every step: readers always see one whole publication (the DuckDB file
and the Parquet set of the same id), and the next publication repairs what the kill left.

The publisher runs in a subprocess on the synthetic warehouse and is killed with SIGKILL either at
a named step (``SHINRAI_PUBLISH_KILL_AT``) or just before its N-th ``os.replace`` (whatever the
layout, the renames are where a split can happen)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import duckdb
import pytest
from publish_helpers import write_generation

from shinrai.publish import PublishLayout, publish_marts, read_publication
from shinrai.publish.publication import KILL_ENV, KILL_STEPS

PUBLISH = textwrap.dedent("""
    import os, signal, sys
    from pathlib import Path
    from shinrai.publish import PublishLayout, publish_marts

    kill_at_replace = int(os.environ.get("KILL_AT_REPLACE", "0"))
    if kill_at_replace:
        real_replace, calls = os.replace, []

        def replace(src, dst, **kw):
            calls.append(dst)
            if len(calls) == kill_at_replace:
                os.kill(os.getpid(), signal.SIGKILL)
            return real_replace(src, dst, **kw)

        os.replace = replace
    publish_marts(Path(sys.argv[1]), PublishLayout(Path(sys.argv[2])), source_run_id=sys.argv[3])
""")


def publish_in_child(warehouse: Path, target: PublishLayout, run_id: str, **env: str) -> int:
    proc = subprocess.run([sys.executable, "-c", PUBLISH, str(warehouse), str(target.root), run_id],
                          env={**os.environ, **env}, capture_output=True, text=True, timeout=120, check=False)
    if proc.returncode not in (0, -signal.SIGKILL):
        pytest.fail(f"publisher failed (rc {proc.returncode}):\n{proc.stderr[-3000:]}")
    return proc.returncode


def live(target: PublishLayout) -> dict[str, object]:
    """What a BI reader sees: the DuckDB file's and the Parquet set's publication (id, run, rows)."""
    row = read_publication(target.duckdb_file)
    assert row is not None, "marts.duckdb is not readable"
    with duckdb.connect(str(target.duckdb_file), read_only=True) as con:
        generations = {r[0] for r in con.execute("select distinct generation from fct_events").fetchall()}
    directory = target.current_parquet_dir()
    assert directory is not None, "no Parquet set"
    with duckdb.connect(":memory:") as con:
        pq_id, pq_run = con.execute(f"select publication_id, source_run_id from "
                                    f"read_parquet('{directory}/_publication.parquet')").fetchone()
        pq_generations = {r[0] for r in con.execute(
            f"select distinct generation from read_parquet('{directory}/fct_events.parquet')").fetchall()}
    return {"duckdb": (row["publication_id"], row["source_run_id"], generations),
            "parquet": (pq_id, pq_run, pq_generations)}


def whole(target: PublishLayout) -> tuple[str, str]:
    seen = live(target)
    assert seen["duckdb"] == seen["parquet"], f"a mixed publication: {seen}"
    publication_id, run_id, generations = seen["duckdb"]  # type: ignore[misc]
    assert generations == {int(str(run_id).split("-")[1])}
    return str(publication_id), str(run_id)


def history_ids(target: PublishLayout) -> list[str]:
    ids = []
    for line in target.history_file.read_text(encoding="utf-8").splitlines():
        try:
            ids.append(json.loads(line)["publication_id"])
        except ValueError:
            continue  # a line a kill cut short
    return ids


def test_kill_at_each_publish_step_leaves_one_whole_publication(synthetic):
    """One publisher after another, each killed at the next step; each starts by repairing what the
    one before left (one chain keeps it to a few seconds)."""
    warehouse, target = synthetic
    first = publish_marts(warehouse, target, source_run_id="gen-0")
    expected_live, expected_history = ("gen-0", first.publication_id), [first.publication_id]
    for generation, step in enumerate(KILL_STEPS, start=1):
        write_generation(warehouse, generation, 60 + generation)
        assert publish_in_child(warehouse, target, f"gen-{generation}", **{KILL_ENV: step}) == -signal.SIGKILL
        publication_id, run_id = whole(target)
        if KILL_STEPS.index(step) >= KILL_STEPS.index("switched"):  # killed after the commit point
            assert run_id == f"gen-{generation}" and publication_id != expected_live[1], step
            expected_history.append(publication_id)
        else:
            assert (run_id, publication_id) == expected_live, step
        expected_live = (run_id, publication_id)

    # the next publication repairs first: no leftovers, the history names every publication that was live
    write_generation(warehouse, 99, 70)
    last = publish_marts(warehouse, target, source_run_id="gen-99")
    assert whole(target) == (last.publication_id, "gen-99")
    assert last.previous_publication_id == expected_live[1]
    assert history_ids(target) == [*expected_history, last.publication_id]
    assert not [p for p in target.root.rglob("*") if p.name.endswith(".tmp")]


def test_kill_before_any_rename_never_splits_duckdb_and_parquet(synthetic):
    """Issue 17 (b): a kill between the Parquet switch and the DuckDB rename left Parquet on the new
    publication and marts.duckdb on the old one, through later killed publishes too."""
    warehouse, target = synthetic
    publish_marts(warehouse, target, source_run_id="gen-0")
    for n in (4, 2, 1):  # killed before the n-th os.replace of one publish (the old layout split at 4)
        write_generation(warehouse, n, 60 + n)
        publish_in_child(warehouse, target, f"gen-{n}", KILL_AT_REPLACE=str(n))
        whole(target)
    write_generation(warehouse, 9, 90)
    publish_marts(warehouse, target, source_run_id="gen-9")
    assert whole(target)[1] == "gen-9"
