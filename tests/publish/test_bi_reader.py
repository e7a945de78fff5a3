"""BI readers in other processes keep working through repeated publications and always see one
consistent publication: new connections see the newest, a held connection keeps its own."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

from publish_helpers import write_generation

from shinrai.publish import publish_marts

READER = Path(__file__).with_name("_bi_reader.py")
PUBLICATIONS = 20  # while the readers read (plus the one before they start)


def _start_reader(root: Path, stop: Path, mode: str) -> subprocess.Popen[str]:
    proc = subprocess.Popen([sys.executable, str(READER), str(root), str(stop), mode],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    ready = root / f".reader-{mode}-ready"
    deadline = time.monotonic() + 60
    while not ready.exists():
        if proc.poll() is not None or time.monotonic() > deadline:
            raise AssertionError(f"reader {mode} did not start: {proc.communicate()[1][-2000:]}")
        time.sleep(0.05)
    return proc


def test_readers_see_one_consistent_publication_across_many_publications(synthetic, tmp_path):
    warehouse, target = synthetic
    started = time.monotonic()
    first = publish_marts(warehouse, target, source_run_id="gen-0")
    stop = tmp_path / "stop"
    reconnecting = _start_reader(target.root, stop, "reconnect")
    holding = _start_reader(target.root, stop, "persistent")
    published = [first.publication_id]
    readers_up = time.monotonic()
    try:
        for generation in range(1, PUBLICATIONS + 1):
            write_generation(warehouse, generation, rows=300 + (generation * 977) % 4000)
            published.append(publish_marts(warehouse, target, source_run_id=f"gen-{generation}").publication_id)
            time.sleep(0.15)  # let the readers go round between publications
        time.sleep(0.5)
        publishing = time.monotonic() - readers_up
    finally:
        stop.touch()
        outputs = {mode: proc.communicate(timeout=120) for mode, proc in
                   (("reconnect", reconnecting), ("persistent", holding))}
    results = {}
    for mode, (out, err) in outputs.items():
        assert out.strip(), f"reader {mode} printed nothing:\n{err[-3000:]}"
        results[mode] = json.loads(out.strip().splitlines()[-1])

    new_conn = results["reconnect"]
    assert new_conn["errors"] == [] and new_conn["error_count"] == 0
    assert new_conn["inconsistent"] == [] and new_conn["inconsistent_count"] == 0
    assert new_conn["reads"] >= PUBLICATIONS and new_conn["parquet_reads"] >= PUBLICATIONS
    # the reader lived through the publications: it saw many of them, in publication order
    assert len(new_conn["publications_seen"]) >= PUBLICATIONS // 3, new_conn["publications_seen"]
    order = {pid: i for i, pid in enumerate(published)}
    assert [order[p] for p in new_conn["publications_seen"]] == sorted(order[p] for p in new_conn["publications_seen"])
    assert new_conn["publications_seen"][-1] == published[-1]
    assert len(new_conn["parquet_publications_seen"]) >= PUBLICATIONS // 3

    held = results["persistent"]
    assert held["errors"] == [] and held["inconsistent"] == []
    assert held["reads"] >= PUBLICATIONS
    # a connection opened before the publications keeps reading the file it opened
    assert held["publications_seen"] == [first.publication_id]
    print(f"\nreader: {new_conn['reads']} DuckDB + {new_conn['parquet_reads']} Parquet reads, "
          f"{len(new_conn['publications_seen'])} of {len(published)} publications seen, 0 errors; "
          f"held connection: {held['reads']} reads of {first.publication_id}; "
          f"setup {readers_up - started:.1f}s, {PUBLICATIONS} publications in {publishing:.1f}s")
