"""Helpers for the publishing tests (a unique module name: test directories share sys.path)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import pytest

from shinrai.publish import PublishLayout

ARTEFACTS_ENV = "SHINRAI_TEST_ARTEFACTS"


def write_generation(warehouse: Path, generation: int, rows: int) -> None:
    """(Re)write a synthetic warehouse whose every mart carries ``generation``.

    Invariants a reader can check inside one publication: every table holds only this generation;
    ``rpt_event_totals`` sums to ``fct_events``; ``dim_generation.expected_rows`` is its row count.
    Objects that must not be published sit beside them (staging, an intermediate, a non-mart name).
    """
    con = duckdb.connect(str(warehouse))
    try:
        for schema in ("marts", "staging", "seeds"):
            con.execute(f"create schema if not exists {schema}")
        con.execute(f"""
            create or replace table marts.fct_events as
            select i as event_id, {generation} as generation, (i * 7919 + {generation}) % 1000 as value,
                   'p' || (i % 5) as product_code, [i, i + 1] as tags
            from range({rows}) as r(i)""")
        con.execute("""
            create or replace table marts.rpt_event_totals as
            select product_code, generation, count(*) as event_count, sum(value) as value_total
            from marts.fct_events group by all""")
        con.execute(f"create or replace table marts.dim_generation as "
                    f"select {generation} as generation, {rows} as expected_rows")
        con.execute("create or replace view marts.rpt_events_per_product as "
                    "select product_code, count(*) as n from marts.fct_events group by all")
        con.execute("create or replace table marts.helper_not_a_mart as select 1 as x")
        con.execute("create or replace table staging.stg_events as select * from marts.fct_events limit 3")
        con.execute("create or replace table seeds.products as select 'p' || i as product_code, "
                    "'Product ' || i as product_name, '製品' || i as product_name_ja from range(5) as r(i)")
    finally:
        con.close()


def artefact_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Where tests keep files worth looking at (screenshots, reports): $SHINRAI_TEST_ARTEFACTS or tmp."""
    configured = os.environ.get(ARTEFACTS_ENV)
    if configured:
        path = Path(configured)
        path.mkdir(parents=True, exist_ok=True)
        return path
    return tmp_path_factory.mktemp("artefacts")


@dataclass(frozen=True)
class SandboxPublication:
    home: Path
    layout: PublishLayout
    publication: dict[str, Any]  # what pipeline.publish returned
    build_seconds: float
    build_error: str | None


# the charts every report draws, in page order
CHARTS = ("incidents_by_product", "incidents_by_severity", "mttx_detect", "mttx_acknowledge", "mttx_mitigate",
          "mttx_recover", "detection_routes", "development_categories", "timeliness", "overdue_month_end",
          "overdue_ageing", "risk_status", "risk_load")
REQUIRED_MARTS = ("dim_products", "fct_incidents", "fct_postmortems", "fct_prevention_actions", "fct_risk_records",
                  "fct_releases", "fct_release_freezes", "rpt_reliability_monthly", "rpt_slo_attainment",
                  "rpt_risk_assignee_load", "rpt_report_figures", "rpt_report_breakdowns",
                  "rpt_overdue_action_ageing")


def busiest_recent_month(target: PublishLayout) -> str:
    """The latest closed month of the publication with at least two incidents (a month worth a report)."""
    with duckdb.connect(str(target.duckdb_file), read_only=True) as con:
        row = con.execute(
            "select strftime(max(month_start), '%Y-%m') from ("
            "  select month_start from rpt_reliability_monthly where is_month_closed"
            "  group by month_start having sum(incident_count) >= 2)"
        ).fetchone()
    assert row and row[0], "the sandbox publication has no closed month with incidents"
    return str(row[0])
