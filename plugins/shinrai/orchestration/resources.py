"""Pools and assets the DAGs share. Import-light: the DAG files import this at parse time.

**One writer at a time on DuckDB.** Each source has its landing file and dbt builds the warehouse
file reading all three landing files; DuckDB refuses any other process (even a reader) while one
writes a file. An Airflow task sits in exactly one pool, so "a pool per landing file" cannot also
keep dbt (which reads every landing file) off a file that another run is extracting into. One pool
does both, as a readers-writer lock:

* ``shinrai_warehouse`` has one slot per landing file (3);
* an extract task takes 1 slot, and ``max_active_tis_per_dag=1`` keeps two runs (the nightly and
  a backfill) from extracting the same source at once, so each landing file has one writer;
* dbt, the quality gate, publishing and the chaser take every slot: they run alone.
"""

from __future__ import annotations

from typing import Any

from airflow.sdk import Asset

from shinrai.settings import SOURCES

WAREHOUSE_POOL = "shinrai_warehouse"
WAREHOUSE_SLOTS = len(SOURCES)

POOLS: dict[str, dict[str, Any]] = {
    WAREHOUSE_POOL: {
        "slots": WAREHOUSE_SLOTS,
        "description": "shinrai DuckDB files: an extract task takes 1 slot (its landing file), "
        "dbt/quality/publish/chase take all of them",
        "include_deferred": False,
    },
}


def extract_task_args() -> dict[str, Any]:
    """``@task`` arguments for a task writing one source's landing file."""
    return {"pool": WAREHOUSE_POOL, "pool_slots": 1, "max_active_tis_per_dag": 1}


def warehouse_task_args() -> dict[str, Any]:
    """``@task`` arguments for a task reading or writing the warehouse (exclusive)."""
    return {"pool": WAREHOUSE_POOL, "pool_slots": WAREHOUSE_SLOTS}


# The marts after dbt built them and the quality gate passed (nightly `check_quality`).
MARTS = Asset(name="shinrai_marts", uri="shinrai://warehouse/marts", group="shinrai")
# The read-only publication for BI (nightly `publish`, once shinrai.pipeline.publish exists).
PUBLICATION = Asset(name="shinrai_publication", uri="shinrai://publication/marts", group="shinrai")
