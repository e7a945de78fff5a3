"""A BI reader in its own process: reads the publication in a loop and checks it is one publication.

    python _bi_reader.py <publish dir> <stop file> reconnect   # a new read-only connection per read
    python _bi_reader.py <publish dir> <stop file> persistent  # one connection held throughout

Checks, within one read: every table's count equals ``_publication_tables.row_count``; every mart
carries the generation named by ``_publication.source_run_id`` (``gen-<n>``); the report table sums
to the fact table; ``dim_generation.expected_rows`` is the fact table's count. The reconnect mode also
reads the Parquet set (pointer resolved once) with the same checks. Prints a JSON summary at the end.
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

import duckdb


def check(con: duckdb.DuckDBPyConnection, prefix: str, source: str) -> tuple[str, list[str]]:
    """Run the invariants; ``source`` maps a table name to what FROM reads (table or Parquet file)."""
    problems: list[str] = []
    pub_row = con.execute(f"select publication_id, source_run_id from {source.format('_publication')}").fetchall()
    if len(pub_row) != 1:
        return "?", [f"{prefix}: _publication has {len(pub_row)} rows"]
    publication_id, run_id = pub_row[0]
    generation = int(run_id.split("-")[1])
    tables = con.execute(f"select table_name, row_count, publication_id from "
                         f"{source.format('_publication_tables')}").fetchall()
    for name, expected, table_pub in tables:
        if table_pub != publication_id:
            problems.append(f"{prefix} {publication_id}: _publication_tables row of {name} is from {table_pub}")
        (actual,) = con.execute(f"select count(*) from {source.format(name)}").fetchone()
        if actual != expected:
            problems.append(f"{prefix} {publication_id}: {name} has {actual} rows, _publication_tables says {expected}")
    fct, rpt, dim = (source.format(n) for n in ("fct_events", "rpt_event_totals", "dim_generation"))
    gens = {r[0] for r in con.execute(
        f"select distinct generation from {fct} union select distinct generation from {rpt} "
        f"union select generation from {dim}").fetchall()}
    if gens != {generation}:
        problems.append(f"{prefix} {publication_id}: generations {sorted(gens)} in a publication of gen {generation}")
    n_fct, v_fct = con.execute(f"select count(*), coalesce(sum(value), 0) from {fct}").fetchone()
    n_rpt, v_rpt = con.execute(f"select coalesce(sum(event_count), 0), coalesce(sum(value_total), 0) "
                               f"from {rpt}").fetchone()
    (expected_rows,) = con.execute(f"select expected_rows from {dim}").fetchone()
    if (n_fct, v_fct) != (n_rpt, v_rpt) or n_fct != expected_rows:
        problems.append(f"{prefix} {publication_id}: fct ({n_fct}, {v_fct}) rpt ({n_rpt}, {v_rpt}) "
                        f"expected {expected_rows}")
    return publication_id, problems


def main() -> int:
    root, stop, mode = Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3]
    db = root / "marts.duckdb"
    summary: dict[str, object] = {"mode": mode}
    errors: list[str] = []
    inconsistent: list[str] = []
    seen: list[str] = []
    parquet_seen: list[str] = []
    reads = parquet_reads = 0
    held = duckdb.connect(str(db), read_only=True) if mode == "persistent" else None
    (root / f".reader-{mode}-ready").touch()
    deadline = time.monotonic() + 300
    while not stop.exists() and time.monotonic() < deadline:
        try:
            con = held or duckdb.connect(str(db), read_only=True)
            try:
                publication_id, problems = check(con, "duckdb", "{}")
            finally:
                if held is None:
                    con.close()
            reads += 1
            inconsistent += problems
            if not seen or seen[-1] != publication_id:
                seen.append(publication_id)
        except Exception as exc:  # noqa: BLE001 - every failure is a finding
            errors.append(f"duckdb: {type(exc).__name__}: {exc}")
        if mode == "reconnect":
            try:
                version = Path(os.path.realpath(root / "parquet"))  # resolve the pointer once per batch
                mem = duckdb.connect()
                try:
                    source = "read_parquet('" + str(version) + "/{}.parquet')"
                    publication_id, problems = check(mem, "parquet", source)
                    kv = mem.execute(
                        "select distinct decode(value) from parquet_kv_metadata('" + str(version) + "/*.parquet') "
                        "where decode(key) = 'publication_id'").fetchall()
                    if [r[0] for r in kv] != [publication_id]:
                        problems.append(f"parquet {publication_id}: files of publications {kv} in one set")
                finally:
                    mem.close()
                parquet_reads += 1
                inconsistent += problems
                if not parquet_seen or parquet_seen[-1] != publication_id:
                    parquet_seen.append(publication_id)
            except Exception as exc:  # noqa: BLE001
                errors.append(f"parquet: {type(exc).__name__}: {exc}")
        time.sleep(0.02 if held is None else 0.05)  # a dashboard polls; leave the publisher a core
    if held is not None:
        held.close()
    summary.update(reads=reads, parquet_reads=parquet_reads, errors=errors[:50], error_count=len(errors),
                   inconsistent=inconsistent[:50], inconsistent_count=len(inconsistent),
                   publications_seen=seen, parquet_publications_seen=parquet_seen)
    print(json.dumps(summary))
    return 0


if __name__ == "__main__":
    sys.exit(main())
