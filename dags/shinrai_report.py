"""
### shinrai report

Whenever `shinrai_nightly` publishes the marts for BI (the `shinrai_publication` asset), write
the monthly reliability report for the last closed month from that publication
(`shinrai.pipeline.build_report`, a self-contained HTML file under `<SHINRAI_HOME>/publish/reports/`).

Asset-scheduled: there is no time schedule; a run's triggering asset event names the nightly run
that published. The report reads only the publication (never the working warehouse), so it
needs no slot of the `shinrai_warehouse` pool and never waits for dbt or an extraction.
Backfill runs never publish, so they never produce a report. Failures alert Slack
(`shinrai_slack_alerts`).
"""

from __future__ import annotations

from airflow.sdk import dag, task

from shinrai.orchestration.defaults import default_args
from shinrai.orchestration.resources import PUBLICATION
from shinrai.orchestration.schedule import start_date


@dag(
    dag_id="shinrai_report",
    schedule=[PUBLICATION],
    start_date=start_date(),
    catchup=False,
    max_active_runs=1,
    tags=["shinrai", "report", "reliability"],
    default_args=default_args(),
    doc_md=__doc__,
)
def shinrai_report():
    @task
    def build_report() -> str:
        """The monthly reliability report (last closed month) from the current publication."""
        from shinrai import pipeline

        return pipeline.build_report()

    build_report()


shinrai_report()
