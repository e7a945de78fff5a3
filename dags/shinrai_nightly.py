"""
### shinrai nightly

Every night at 02:00 in the reporting time zone (config `reporting.timezone`; the UI shows it
next to the schedule): pull what changed from Jira, Notion and Slack (one task per source, so a
source that is down fails only its own task and leaves the others' extraction and data intact),
rebuild the reliability marts with dbt, run the Great Expectations `nightly`
checkpoint (raw, staging and marts), publish the marts for BI, and preview today's reminders.

```
plan -> [extract_jira, extract_notion, extract_slack] -> build_marts -> check_quality -> publish -> chase
```

- **check_quality**: a critical failure fails the run, so nothing is published (the last good
  publication stays live); on success it updates the `shinrai_marts` asset with the
  `as_of_date` the marts were built for. A mart's rows, or a product's incidents, falling by
  more than `quality.max_volume_drop_share` against the live publication is critical, unless
  the run confirmed it (`confirm_mass_deletion`).
- **publish**: `shinrai.pipeline.publish` (read-only DuckDB file and Parquet, one pointer switch;
  dbt docs unless `publish_docs=false`). Skipped, with the chase preview, unless the marts are as
  of today (backfill runs, runs for a past date). Refused when the warehouse no longer holds this
  run's own build (a backfill rebuilt it meanwhile) or a build is unfinished or failed.
- **chase**: a *preview* (`shinrai.pipeline.chase(..., dry_run=True, send=False)`) of what the
  `shinrai_chaser` DAG will send in business hours; the nightly never sends reminders at 02:00.

**Params** (validated, also on backfills):
- `full_refresh` (bool): re-extract everything and rebuild incremental models from scratch.
- `window_start`, `window_end` (YYYY-MM-DD, both inclusive, reporting time zone): also re-read
  what changed in those days, idempotently, without moving the incremental cursors. An end
  before the start fails the `plan` task (no retry) before anything is read.
- `publish_docs` (bool, default true).
- `confirm_mass_deletion` (bool, default false): a deletion sweep that would mark more than
  `landing.max_deleted_share` of a stream deleted (or all of it) fails its extract task at once,
  marking nothing (a narrowed JQL, a lost permission, an unshared database or channel look like
  that). `airflow dags trigger shinrai_nightly --conf '{"confirm_mass_deletion": true}'` lets a
  real one through for that run, and the quality gate then reports a sharp drop against the
  live publication as a warning and publishes.

**Backfills**: `airflow backfill create --dag-id shinrai_nightly --from-date 2026-03-01T00:00+09:00
--to-date 2026-03-31T23:59+09:00 --max-active-runs 1` (dates with the offset: the CLI reads naive
dates as UTC). Each backfill run re-reads its own day (unless the params give a window), builds
the marts *as of* its date, never publishes and never sends reminders.

**One writer per DuckDB file**: extract tasks take one slot of the `shinrai_warehouse` pool and
never run twice at once (`max_active_tis_per_dag=1`); dbt, quality, publish and chase take every
slot. A backfill and the nightly run can overlap without colliding.

Removing a step, or adding one, is one line in `steps` below. All logic lives in
`shinrai.pipeline` and `shinrai.orchestration`; this file only wires tasks (no I/O at parse
time). Task failures alert Slack through the `shinrai_slack_alerts` connection.
"""

from __future__ import annotations

from airflow.sdk import chain, dag, task

from shinrai.orchestration.defaults import default_args
from shinrai.orchestration.params import nightly_params
from shinrai.orchestration.resources import MARTS, PUBLICATION, extract_task_args, warehouse_task_args
from shinrai.orchestration.schedule import cron_schedule, start_date


@dag(
    dag_id="shinrai_nightly",
    schedule=cron_schedule("0 2 * * *"),  # in the reporting time zone (config reporting.timezone)
    start_date=start_date(),
    catchup=False,
    max_active_runs=1,
    tags=["shinrai", "nightly", "reliability"],
    default_args=default_args(),
    params=nightly_params(),
    doc_md=__doc__,
)
def shinrai_nightly():
    @task
    def plan(**context) -> dict:
        """Decide the run: its date (marts as of), refresh, re-extraction window, publish, reminders."""
        from shinrai.orchestration.plan import plan_for_task

        return plan_for_task(context)

    @task(**extract_task_args())
    def extract_jira(run: dict, **context) -> dict:
        """Incidents, postmortems, prevention actions (with changelogs), versions and users."""
        from shinrai.orchestration.extract import extract

        return extract("jira", context["run_id"], run)

    @task(**extract_task_args())
    def extract_notion(run: dict, **context) -> dict:
        """System Risk Records, the release calendar and users."""
        from shinrai.orchestration.extract import extract

        return extract("notion", context["run_id"], run)

    @task(**extract_task_args())
    def extract_slack(run: dict, **context) -> dict:
        """Incident channels, release-freeze posts and users."""
        from shinrai.orchestration.extract import extract

        return extract("slack", context["run_id"], run)

    @task(**warehouse_task_args())
    def build_marts(run: dict, **context) -> str:
        """Run `dbt build` (models and their tests) into the warehouse, as of the run date (recorded)."""
        from shinrai import pipeline

        return pipeline.build_marts(full_refresh=run["full_refresh"], as_of_date=run["as_of_date"],
                                    run_id=context["run_id"])

    @task(**warehouse_task_args(), outlets=[MARTS])
    def check_quality(run: dict, **context) -> dict:
        """GX `nightly` checkpoint; a critical failure fails the task, else the marts asset is updated."""
        from shinrai import pipeline

        result = pipeline.check_quality("nightly", confirm_mass_deletion=run.get("confirm_mass_deletion", False))
        context["outlet_events"][MARTS].extra = {"as_of_date": run["as_of_date"], "run_type": run["run_type"]}
        return result

    @task(**warehouse_task_args(), outlets=[PUBLICATION])
    def publish(run: dict, **context) -> dict:
        """Publish the marts atomically for BI, only when they are as of today."""
        from airflow.sdk.exceptions import AirflowSkipException

        from shinrai import pipeline

        if not run["publish"]:
            raise AirflowSkipException(run["publish_reason"])
        return pipeline.publish(run_id=context["run_id"], docs=run["publish_docs"], as_of_date=run["as_of_date"])

    @task(**warehouse_task_args())
    def chase(run: dict) -> dict:
        """Preview today's reminders (sent in business hours by shinrai_chaser, never from here)."""
        from datetime import date

        from shinrai import pipeline

        return pipeline.chase(run_date=date.fromisoformat(run["run_date"]), dry_run=True, send=False)

    run = plan()
    extracted = [extract_jira(run), extract_notion(run), extract_slack(run)]
    steps = [build_marts(run), check_quality(run), publish(run), chase(run)]
    chain(extracted, *steps)


shinrai_nightly()
