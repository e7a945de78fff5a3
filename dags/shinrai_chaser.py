"""
### shinrai chaser

Weekdays at 10:00 in the reporting time zone (config `reporting.timezone`; business hours),
chase overdue prevention actions:
`shinrai.pipeline.chase(run_date=..., dry_run=...)` sends today's messages from
`rpt_reminder_messages` (one row per message, decided in SQL with `rpt_overdue_actions`) and records
them in the reminder ledger (a rerun never resends a stage). It never builds the marts: they must be
built as of today (the nightly does). The task skips with a log line when
there is nothing to chase from (no warehouse yet, or no `shinrai.pipeline.chase`).

**Never for the past.** Reminders are really sent only by a scheduled or manual run *for today*
whose `shinrai_marts` input (produced by `shinrai_nightly`'s quality gate) was built as of today.
A backfill (`airflow backfill create --dag-id shinrai_chaser ...`), a run for a past date, a run on
stale marts or `dry_run=true` calls the chase with `send=False`: it reports what is due and sends
nothing (`dry_run=true` also prints the messages). The decision is `shinrai.orchestration.chaser`.

**Holding back is a skip, never green.** A run that should send but whose marts do not allow it
ends *skipped*, with the true reason as the skip message: no marts built at all; marts built, but
as of other dates (named); or the quality gate blocked them (the quality run and its failed rules).

The chase reads and writes the warehouse, so it takes every slot of the `shinrai_warehouse` pool
(never alongside dbt or an extraction). Failures alert Slack (`shinrai_slack_alerts`).
"""

from __future__ import annotations

from airflow.sdk import dag, task

from shinrai.orchestration.defaults import default_args
from shinrai.orchestration.params import chaser_params
from shinrai.orchestration.resources import MARTS, warehouse_task_args
from shinrai.orchestration.schedule import cron_schedule, start_date


@dag(
    dag_id="shinrai_chaser",
    schedule=cron_schedule("0 10 * * 1-5"),  # in the reporting time zone (config reporting.timezone)
    start_date=start_date(),
    catchup=False,
    max_active_runs=1,
    tags=["shinrai", "chaser", "reliability"],
    default_args=default_args(),
    params=chaser_params(),
    doc_md=__doc__,
)
def shinrai_chaser():
    @task(**warehouse_task_args(), inlets=[MARTS])
    def chase(**context) -> dict:
        """Remind owners of overdue prevention actions (sends only for today, from today's marts)."""
        from airflow.sdk.exceptions import AirflowSkipException

        from shinrai import pipeline
        from shinrai.orchestration.chaser import chase_call, warehouse_missing

        if not hasattr(pipeline, "chase"):
            raise AirflowSkipException("shinrai.pipeline.chase does not exist yet: nothing to run")
        if reason := warehouse_missing():
            raise AirflowSkipException(reason)
        decision, call = chase_call(context, MARTS)
        if decision.hold_back:
            raise AirflowSkipException(decision.reason)
        return pipeline.chase(**call)

    chase()


shinrai_chaser()
