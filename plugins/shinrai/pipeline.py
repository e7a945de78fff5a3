"""The nightly job's steps, in order: the DAG files and the CLI call these and stay thin.

Each step validates the configuration before it touches a file, then hands over to the package
that owns the work (extraction: :mod:`shinrai.extract.runs`; dbt and its build records:
:mod:`shinrai.transform`; the quality gate and the publication rule: :mod:`shinrai.quality.gate`;
the publication: :mod:`shinrai.publish`; the reminders: :mod:`shinrai.chase`). Every step is
idempotent: rerunning it with the same inputs leaves the same warehouse.
"""

from __future__ import annotations

import logging
from datetime import date, datetime
from typing import Any

from shinrai import config as config_mod
from shinrai.config import JIRA_STREAMS
from shinrai.extract import runs
from shinrai.extract.window import Window
from shinrai.quality import gate
from shinrai.quality.gate import GATE_CHECKPOINTS, QualityGateFailed
from shinrai.settings import paths
from shinrai.transform import builds, dbt

__all__ = ["GATE_CHECKPOINTS", "QualityGateFailed"]

log = logging.getLogger(__name__)


def _today(cfg: config_mod.Config) -> date:
    from zoneinfo import ZoneInfo

    return datetime.now(ZoneInfo(cfg.timezone)).date()


def _as_of(value: str | None) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise ValueError(f"as_of_date {value!r} is not a date (YYYY-MM-DD)") from None


# -- 1. extract ------------------------------------------------------------------------------------

def extract_jira(run_id: str, full_refresh: bool = False, streams: tuple[str, ...] = JIRA_STREAMS,
                 window: Window | None = None, confirm_mass_deletion: bool = False) -> dict:
    """Jira: incidents, postmortems and actions (with changelogs), deletions, versions, users.

    ``window``: also re-read the issues updated within it (a backfill); ``confirm_mass_deletion``:
    let a deletion sweep mark more than ``landing.max_deleted_share`` of a stream deleted in this
    run (see :mod:`shinrai.extract.runs`)."""
    return runs.extract_jira(run_id, full_refresh, streams, window, confirm_mass_deletion)


def extract_notion(run_id: str, full_refresh: bool = False, window: Window | None = None,
                   confirm_mass_deletion: bool = False) -> dict:
    """Notion: System Risk Records and the release calendar (data sources), and users."""
    return runs.extract_notion(run_id, full_refresh, window, confirm_mass_deletion)


def extract_slack(run_id: str, full_refresh: bool = False, window: Window | None = None,
                  now: datetime | None = None, confirm_mass_deletion: bool = False) -> dict:
    """Slack: users, channels, and messages of incident channels and the release channel."""
    return runs.extract_slack(run_id, full_refresh, window, now, confirm_mass_deletion)


# -- 2. build --------------------------------------------------------------------------------------

def build_marts(full_refresh: bool = False, as_of_date: str | None = None, run_id: str | None = None) -> str:
    """``dbt build``; ``as_of_date`` (YYYY-MM-DD) pins "today" for the marts (default today in the
    reporting time zone). Returns the build id. The build is recorded before dbt starts and marked
    finished or failed after (:mod:`shinrai.transform.builds`): a build killed half-way blocks
    publication and the chaser until a complete build. ``run_id``: the Airflow run that builds."""
    cfg = config_mod.load()  # validated before a landing file or the warehouse is touched
    day = _as_of(as_of_date) or _today(cfg)
    digest = dbt.code_digest()
    last = builds.latest(paths().warehouse_file)
    # the tests that only guard code run when the code or the configuration changed since the last
    # build, or that build did not finish (it may have rebuilt the seeds and configuration tables
    # of other code); a full refresh runs everything
    unchanged = last is not None and last.status == builds.SUCCESS and last.code_digest == digest
    with builds.recorded(paths().warehouse_file, run_id, day, full_refresh, digest) as build_id:
        dbt.build(full_refresh=full_refresh, as_of_date=as_of_date, skip_code_only=unchanged)
    return build_id


# -- 3. check --------------------------------------------------------------------------------------

def check_quality(checkpoint: str = "marts", confirm_mass_deletion: bool = False) -> dict:
    """Run a quality checkpoint (``raw``, ``staging``, ``marts`` or ``nightly`` = all three).

    Results go to the warehouse and Data Docs; one Slack alert per run when any rule fails. Raises
    :class:`QualityGateFailed` on a critical failure, so publication never runs. With
    ``confirm_mass_deletion`` a volume drop beyond ``quality.max_volume_drop_share`` is a warning
    for this run only (see :mod:`shinrai.quality.gate`)."""
    config_mod.load()  # validated before a landing file or the warehouse is touched
    return gate.check(checkpoint, confirm_mass_deletion=confirm_mass_deletion)


def quality_status(checkpoint: str = "marts") -> dict | None:
    """The latest recorded run of a checkpoint, with ``publishable``; None when it never ran."""
    return gate.status(paths().warehouse_file, checkpoint)


def failed_quality_gate() -> dict | None:
    """The latest quality run over the marts when it failed a critical rule, else None."""
    return gate.failed_gate_run(paths().warehouse_file)


def publish_blocker(run_id: str | None = None, as_of_date: str | None = None) -> str | None:
    """Why the marts may not be published now by ``run_id`` (as of ``as_of_date``), or None
    (the rule: :func:`shinrai.quality.gate.blocker`)."""
    return gate.publish_blocker(paths().warehouse_file, run_id, _as_of(as_of_date))


# -- 4. publish ------------------------------------------------------------------------------------

def publish(run_id: str | None = None, docs: bool = True, as_of_date: str | None = None) -> dict[str, Any]:
    """Publish the marts for BI (a read-only DuckDB file and a Parquet set behind one pointer: the
    previous publication or this one, never a mix), then the dbt docs page (``docs=False`` skips it).

    Refuses (``PublishError``, nothing touched) per :func:`publish_blocker`; the publisher checks
    the same build is still the latest once it holds the warehouse open."""
    from shinrai.publish import layout, publish_marts
    from shinrai.publish.docs import generate_docs
    from shinrai.publish.publication import PublishError

    cfg = config_mod.load()  # validated before the warehouse is read
    blocked = publish_blocker(run_id, as_of_date)
    if blocked is not None:
        raise PublishError(blocked)
    build = builds.latest(paths().warehouse_file)
    publication = publish_marts(paths().warehouse_file, layout(), source_run_id=run_id,
                                reporting_timezone=cfg.timezone,
                                expected_build_id=build.build_id if build else None)
    result = publication.as_json()
    if docs:
        result["docs"] = str(generate_docs())
    return result


def warehouse_counts() -> dict[str, int]:
    """Row counts of every table in the warehouse's ``marts`` schema (``marts.<name>`` -> rows)."""
    return builds.mart_counts(paths().warehouse_file)


def build_report(month: str | None = None, out: str | None = None) -> str:
    """Write the monthly reliability report (self-contained HTML) from the current publication.
    ``month`` is ``YYYY-MM`` (default: the publication's last closed month). Returns its path."""
    from pathlib import Path

    from shinrai.publish.report import build_report as write_report

    return str(write_report(month=month, out=Path(out) if out else None))


# -- 5. chase --------------------------------------------------------------------------------------

def chase(run_date: date | None = None, *, dry_run: bool | None = None, send: bool = True,
          today: date | None = None) -> dict:
    """Deliver the reminder messages of ``marts.rpt_reminder_messages`` for ``run_date``, exactly once.

    ``run_date`` defaults to today in the reporting time zone; a past date (a backfill, a late
    catch-up) sends nothing, and neither does ``send=False``. ``dry_run`` prints instead of sending
    (default: config ``chaser.dry_run``). ``today`` is the clock, for tests. The marts are never
    built here: a run that would send refuses (:class:`shinrai.chase.chaser.RemindersNotBuilt`)
    unless the latest build of the marts is complete and as of ``run_date``."""
    from shinrai.chase.chaser import Chaser, ready_to_send
    from shinrai.hooks import JiraHook, SlackHook

    cfg = config_mod.load()
    today = today or _today(cfg)
    run_date = run_date or today
    if run_date < today:
        log.info("chaser: %s is in the past (today is %s); nothing will be sent", run_date, today)
        send = False
    dry = cfg.chaser_dry_run if dry_run is None else dry_run
    if send and not dry:
        ready_to_send(builds.latest(paths().warehouse_file), run_date)
    jira = JiraHook(cfg.jira_conn_id)
    chaser = Chaser(str(paths().warehouse_file), SlackHook(cfg.slack_conn_id),
                    jira if cfg.chaser_jira_comments else None, jira.site_url(),
                    jira_comments=cfg.chaser_jira_comments)
    report = chaser.run(run_date, dry_run=dry, send=send)
    summary = {k: v for k, v in vars(report).items() if k != "dry_run_messages"}
    summary.update(run_date=run_date.isoformat(), would_send=len(report.dry_run_messages))
    log.info("chaser: %s", summary)
    return summary

