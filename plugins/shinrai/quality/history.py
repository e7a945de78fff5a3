"""The validation history in the warehouse: one row per rule per checkpoint run, and one row per
run, in schema ``quality`` (next to the marts, so BI can chart quality over time).

Recording is idempotent per (run_id, checkpoint): a retried Airflow task replaces its rows.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import duckdb

from shinrai import duckdb_lock

if TYPE_CHECKING:
    from shinrai.quality.gx import QualityReport

DDL = (
    "create schema if not exists quality",
    """
    create table if not exists quality.validation_results (
        run_id varchar not null,
        checkpoint varchar not null,
        suite varchar not null,
        rule varchar not null,
        expectation_type varchar not null,
        column_name varchar,
        severity varchar not null,
        status varchar not null,
        observed_value varchar,
        failing_count bigint,
        element_count bigint,
        sample_record_keys varchar[],
        validated_at timestamptz not null,
        primary key (run_id, checkpoint, suite, rule)
    )
    """,
    """
    create table if not exists quality.validation_runs (
        run_id varchar not null,
        checkpoint varchar not null,
        success boolean not null,
        rules integer not null,
        critical_failures integer not null,
        warning_failures integer not null,
        data_docs varchar,
        validated_at timestamptz not null,
        primary key (run_id, checkpoint)
    )
    """,
)


def ensure_tables(con: duckdb.DuckDBPyConnection) -> None:
    for statement in DDL:
        con.execute(statement)


def record(warehouse: Path, report: QualityReport) -> None:
    warehouse.parent.mkdir(parents=True, exist_ok=True)
    rows = [
        (report.run_id, report.checkpoint, r.suite, r.rule, r.expectation_type, r.column, r.severity,
         r.status, r.observed_value, r.failing_count, r.element_count, r.sample_keys, report.validated_at)
        for r in report.rules
    ]
    with duckdb.connect(str(warehouse)) as con:
        ensure_tables(con)
        con.execute("begin transaction")
        try:
            key = [report.run_id, report.checkpoint]
            con.execute("delete from quality.validation_results where run_id = ? and checkpoint = ?", key)
            con.execute("delete from quality.validation_runs where run_id = ? and checkpoint = ?", key)
            if rows:
                con.executemany(
                    "insert into quality.validation_results values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", rows
                )
            con.execute(
                "insert into quality.validation_runs values (?, ?, ?, ?, ?, ?, ?, ?)",
                [report.run_id, report.checkpoint, report.success, len(report.rules),
                 len(report.critical_failures), len(report.warnings), report.data_docs, report.validated_at],
            )
        except BaseException:
            con.execute("rollback")
            raise
        con.execute("commit")


def latest_run(warehouse: Path, checkpoint: str) -> dict[str, Any] | None:
    """The newest recorded run of a checkpoint (what publication checks), or None."""
    if not warehouse.exists():
        return None
    with duckdb_lock.connect(warehouse, read_only=True) as con:  # FileInUse names a process holding it
        try:
            cur = con.execute(
                "select * from quality.validation_runs where checkpoint = ? order by validated_at desc limit 1",
                [checkpoint],
            )
        except duckdb.CatalogException:
            return None
        row = cur.fetchone()
        if row is None:
            return None
        columns = [d[0] for d in cur.description]
    return dict(zip(columns, row, strict=True))
