"""The nightly job's steps as plain functions: the DAG files call these and stay thin.

Every step is idempotent: rerunning it with the same inputs leaves the same warehouse.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from datetime import UTC, date, datetime
from typing import Any

import duckdb

from shinrai import config as config_mod
from shinrai.config import JIRA_STREAMS
from shinrai.extract.jira import JiraIssueExtractor
from shinrai.extract.notion import NotionExtractor
from shinrai.extract.slack import SlackExtractor
from shinrai.extract.window import Window
from shinrai.hooks import JiraHook, NotionHook, SlackHook
from shinrai.load.landing import LandingStore, shared
from shinrai.quality import gx, rules
from shinrai.settings import paths
from shinrai.transform import builds, dbt

log = logging.getLogger(__name__)


@contextmanager
def _run_log(store: LandingStore, run_id: str, stream: str) -> Iterator[dict[str, int]]:
    """Record each stream's outcome in the landing file's run log, failures included."""
    started = datetime.now(UTC)
    stats: dict[str, int] = {}
    try:
        yield stats
    except Exception as exc:
        store.log_run(run_id, stream, started, "failed", error=str(exc)[:1000])
        raise
    store.log_run(
        run_id, stream, started, "success",
        pages=stats.get("pages", 0), seen=stats.get("seen", 0), changed=stats.get("changed", 0),
        quarantined=stats.get("quarantined", 0), deleted=stats.get("deleted", 0),
    )


def _landing(source: str, cfg: config_mod.Config, confirm_mass_deletion: bool) -> LandingStore:
    """The source's landing store with the configured limits. Its deletion guard refuses a sweep
    that would mark more than ``landing.max_deleted_share`` of a stream deleted (the stream's run
    log records the failure) unless ``confirm_mass_deletion`` (the nightly DAG param) says a real
    mass deletion happened: for this run only."""
    return LandingStore(paths().landing_file(source), source, cfg.max_record_bytes,
                        memory_limit=cfg.duckdb_memory_limit, max_deleted_share=cfg.max_deleted_share,
                        confirm_mass_deletion=confirm_mass_deletion)


def _add_window(stats: dict[str, int], again: dict[str, int]) -> None:
    for key, value in again.items():
        if key in ("pages", "seen", "changed", "quarantined"):
            stats[key] = stats.get(key, 0) + value


def extract_jira(run_id: str, full_refresh: bool = False, streams: tuple[str, ...] = JIRA_STREAMS,
                 window: Window | None = None, confirm_mass_deletion: bool = False) -> dict:
    """Jira: incidents, postmortems and actions (with full changelogs), deletions, versions, users.

    ``window`` (start, end), for backfills: after the incremental read, also re-read the issues
    updated within the window (idempotent upserts; the stream watermarks are left alone).
    ``confirm_mass_deletion``: let a deletion sweep mark more than ``landing.max_deleted_share`` of a
    stream deleted in this run (else it fails with ``MassDeletionRefused``, marking nothing; so do
    the other extractors).
    """
    cfg = config_mod.load()
    hook = JiraHook(cfg.jira_conn_id)
    summary: dict[str, Any] = {}
    with _landing("jira", cfg, confirm_mass_deletion) as store:
        threaded = shared(store)
        extractor = JiraIssueExtractor(cfg, hook, threaded)

        def one(stream: str) -> dict[str, int]:
            with _run_log(threaded, run_id, stream) as stats:
                stats.update(vars(extractor.run(stream, run_id, full_refresh=full_refresh)))
                if window is not None and not full_refresh:
                    _add_window(stats, vars(extractor.run(stream, run_id, window=window)))
                stats["deleted"] = extractor.sweep_deleted(stream, run_id)
            return stats

        # The streams run at once: each waits on its own requests (the incidents mostly on their
        # truncated changelogs, a rate-limit family of their own) while the others search. A
        # failing stream does not stop the others; the first failure is raised once all are done.
        with ThreadPoolExecutor(max_workers=max(len(streams), 1), thread_name_prefix="jira-stream") as pool:
            running = {stream: pool.submit(one, stream) for stream in streams}
        for future in running.values():
            if future.exception() is not None:
                raise future.exception()  # type: ignore[misc]
        summary.update({stream: f.result() for stream, f in running.items()})
        with _run_log(store, run_id, "versions") as stats:
            stats["changed"] = sum(extractor.versions(run_id).values())
        with _run_log(store, run_id, "users") as stats:
            stats["changed"] = extractor.users(run_id)
    return summary


def extract_notion(run_id: str, full_refresh: bool = False, window: Window | None = None,
                   confirm_mass_deletion: bool = False) -> dict:
    """Notion: System Risk Records and the release calendar (data sources), and users.

    ``window`` (start, end): also re-read the pages edited within it (see :func:`extract_jira`).
    """
    cfg = config_mod.load()
    hook = NotionHook(cfg.notion_conn_id)
    summary: dict[str, Any] = {}
    with _landing("notion", cfg, confirm_mass_deletion) as store:
        extractor = NotionExtractor(cfg, hook, store)
        for stream in NotionExtractor.STREAMS:
            with _run_log(store, run_id, stream) as stats:
                stats.update(extractor.run(stream, run_id, full_refresh=full_refresh))
                if window is not None and not full_refresh:
                    _add_window(stats, extractor.run(stream, run_id, window=window))
            summary[stream] = stats
        with _run_log(store, run_id, "users") as stats:
            stats["changed"] = extractor.users(run_id)
    return summary


def extract_slack(run_id: str, full_refresh: bool = False, window: Window | None = None,
                  now: datetime | None = None, confirm_mass_deletion: bool = False) -> dict:
    """Slack: users, channels, and messages of incident channels and the release channel.

    ``window`` (start, end): also re-read the messages posted within it and their threads.
    ``now`` is the clock the lookback and the weekly re-read go by (for tests and the benchmark's
    simulated nights; default the current time).
    """
    cfg = config_mod.load()
    hook = SlackHook(cfg.slack_conn_id)
    summary: dict[str, Any] = {}
    with _landing("slack", cfg, confirm_mass_deletion) as store:
        extractor = SlackExtractor(cfg, hook, store, now=now)
        with _run_log(store, run_id, "users") as stats:
            stats["changed"] = extractor.users(run_id)
        with _run_log(store, run_id, "channels") as stats:
            channels = extractor.channels(run_id)
            stats["seen"] = len(channels)
        with _run_log(store, run_id, "messages") as stats:
            stats.update(extractor.messages(channels, run_id, full_refresh=full_refresh))
            if window is not None and not full_refresh:
                _add_window(stats, extractor.messages(channels, run_id, window=window))
        summary["messages"] = stats
    return summary


def chase(
    run_date: date | None = None,
    *,
    dry_run: bool | None = None,
    send: bool = True,
    today: date | None = None,
) -> dict:
    """Remind owners of prevention actions as ``marts.rpt_overdue_actions`` says, exactly once.

    ``run_date`` defaults to today in the reporting time zone. A run for a past date (a backfill,
    a late catch-up) sends nothing, and neither does ``send=False``. ``dry_run`` prints instead of
    sending (default: config ``chaser.dry_run``). ``today`` is the clock, for tests.
    """
    from zoneinfo import ZoneInfo

    from shinrai.chase.chaser import Chaser

    cfg = config_mod.load()
    today = today or datetime.now(ZoneInfo(cfg.timezone)).date()
    run_date = run_date or today
    if run_date < today:
        log.info("chaser: %s is in the past (today is %s); nothing will be sent", run_date, today)
        send = False
    dry = cfg.chaser_dry_run if dry_run is None else dry_run
    if send and not dry and not _reminders_evaluated_for(run_date):
        # the policy is SQL; make sure it was evaluated for this day before delivering it
        dbt.run_dbt(["run", "--select", "rpt_overdue_actions"], extra_vars={"as_of_date": run_date.isoformat()})
    jira = JiraHook(cfg.jira_conn_id)
    chaser = Chaser(
        str(paths().warehouse_file), SlackHook(cfg.slack_conn_id), jira if cfg.chaser_jira_comments else None,
        jira.site_url(), cfg.chaser_team_channel, jira_comments=cfg.chaser_jira_comments,
    )
    report = chaser.run(run_date, dry_run=dry, send=send)
    summary = {k: v for k, v in vars(report).items() if k != "dry_run_messages"}
    summary["run_date"] = run_date.isoformat()
    summary["would_send"] = len(report.dry_run_messages)
    log.info("chaser: %s", summary)
    return summary


def _reminders_evaluated_for(run_date: date) -> bool:
    """True when rpt_overdue_actions already holds that day's reminders (rows carry send_on)."""
    with duckdb.connect(str(paths().warehouse_file), read_only=True) as con:
        row = con.execute("select max(send_on) from marts.rpt_overdue_actions").fetchone()
    return bool(row and row[0] == run_date)


def _as_of(value: str | None) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise ValueError(f"as_of_date {value!r} is not a date (YYYY-MM-DD)") from None


def build_marts(full_refresh: bool = False, as_of_date: str | None = None, run_id: str | None = None) -> str:
    """``dbt build``; ``as_of_date`` (YYYY-MM-DD) pins "today" for the marts (a backfill's run date;
    default today in the reporting time zone). Returns the build id.

    The build is recorded in the warehouse before dbt starts and marked finished or failed after
    (:mod:`shinrai.transform.builds`): a build killed or failed half-way blocks publication until a
    complete build and a quality run over it. ``run_id`` is the Airflow run that builds (a run may
    publish only its own build)."""
    from zoneinfo import ZoneInfo

    cfg = config_mod.load()  # validated before a landing file or the warehouse is touched
    day = _as_of(as_of_date) or datetime.now(ZoneInfo(cfg.timezone)).date()
    with builds.recorded(paths().warehouse_file, run_id, day, full_refresh) as build_id:
        dbt.build(full_refresh=full_refresh, as_of_date=as_of_date)
    return build_id


def last_marts_build() -> builds.Build | None:
    """The latest recorded build of the marts, finished or not (None: no build on record)."""
    return builds.latest(paths().warehouse_file)


class QualityGateFailed(RuntimeError):
    """A quality checkpoint had critical failures: what follows (publication) must not run."""

    def __init__(self, summary: dict, failures: list | None = None):
        self.summary = summary
        names = ", ".join(summary["critical_failures"])
        message = f"quality checkpoint {summary['checkpoint']!r} has critical failures: {names}"
        volume = [r for r in failures or [] if r.suite == rules.VOLUME_DATASET]
        for rule in volume:  # the figures, and how to let a real mass deletion through
            message += f"; {rule.rule}: " + ", ".join(_sample_text(s) for s in rule.samples[:5])
        if volume:
            message += (" (if this loss is a real mass deletion, rerun with the nightly DAG param "
                        "confirm_mass_deletion=true; else fix the source: a lost permission, an unshared "
                        "database or a narrowed JQL)")
        super().__init__(message)


def check_quality(checkpoint: str = "marts", confirm_mass_deletion: bool = False) -> dict:
    """Run a quality checkpoint (``raw``, ``staging``, ``marts`` or ``nightly`` = all three).

    Results go to the warehouse (``quality.validation_results``, ``quality.validation_runs``) and
    Data Docs; one Slack alert per run when any rule fails. Raises :class:`QualityGateFailed` on
    a critical failure, so downstream publish tasks never run; warnings are logged and returned.

    ``confirm_mass_deletion`` (the nightly DAG param): a drop against the live publication beyond
    ``quality.max_volume_drop_share`` is a real mass deletion, for this run only: the volume rule
    then reports it as a warning and the marts may be published.
    """
    config_mod.load()  # validated before a landing file or the warehouse is touched
    report = gx.run_gate(checkpoint, confirm_mass_deletion=confirm_mass_deletion)
    for rule in report.rules:
        if not rule.success:
            log.warning(
                "quality %s [%s] %s.%s on %s: %s failing, e.g. %s",
                report.checkpoint, rule.severity, rule.suite, rule.rule, rule.column, rule.failing_count,
                ", ".join(_sample_text(s) for s in rule.samples[:5]) if rule.suite == rules.VOLUME_DATASET
                else ", ".join(rule.sample_keys[:5]),
            )
    summary = report.summary()
    if not report.success:
        raise QualityGateFailed(summary, report.critical_failures)
    return summary


def _sample_text(sample: dict) -> str:
    """A failing record with its note (the volume rule's note is its figures)."""
    note = sample.get("record_note")
    return f"{sample.get('record_key')} ({note})" if note else str(sample.get("record_key"))


def check_raw() -> dict:
    """The raw-landing checkpoint (needs only the landing files: can run before dbt)."""
    return check_quality("raw")


def check_staging() -> dict:
    """The staging checkpoint (business rules on the dbt staging models)."""
    return check_quality("staging")


# The checkpoints that validate the marts: the latest run of either decides whether they may be published.
GATE_CHECKPOINTS = ("nightly", "marts")


def latest_gate_run() -> dict | None:
    """The latest quality run over the marts (``nightly`` or ``marts``), or None."""
    from shinrai.quality import history

    runs = [run for run in (history.latest_run(paths().warehouse_file, c) for c in GATE_CHECKPOINTS) if run]
    return max(runs, key=lambda run: run["validated_at"]) if runs else None


def failed_quality_gate() -> dict | None:
    """The latest quality run over the marts (``nightly`` or ``marts``) when it failed a critical
    rule, else None (it passed, or no checkpoint ever ran)."""
    latest = latest_gate_run()
    return None if latest is None or latest["success"] else latest


def publish_blocker(run_id: str | None = None, as_of_date: str | None = None) -> str | None:
    """Why the marts may not be published now by ``run_id`` (as of ``as_of_date``), or None.

    The rule is :func:`shinrai.transform.builds.blocker`: the latest build finished, a passing
    quality run after it, and a run publishes only its own build for its own as-of date."""
    return builds.blocker(last_marts_build(), latest_gate_run(), run_id, _as_of(as_of_date))


def quality_status(checkpoint: str = "marts") -> dict | None:
    """The latest recorded run of a checkpoint: publication checks ``publishable`` before it
    replaces the live publication. None when the checkpoint never ran."""
    from shinrai.quality import history

    run = history.latest_run(paths().warehouse_file, checkpoint)
    if run is None:
        return None
    return {**run, "publishable": bool(run["success"]), "validated_at": run["validated_at"].isoformat()}


def warehouse_counts() -> dict[str, int]:
    """Row counts of every table in the warehouse's ``marts`` schema (``marts.<name>`` -> rows)."""
    counts: dict[str, int] = {}
    with duckdb.connect(str(paths().warehouse_file), read_only=True) as con:
        tables = [r[0] for r in con.execute(
            "select table_name from information_schema.tables where table_schema = 'marts' "
            "and table_type = 'BASE TABLE' order by table_name").fetchall()]
        for table in tables:
            row = con.execute(f'select count(*) from marts."{table}"').fetchone()
            counts[f"marts.{table}"] = int(row[0]) if row else 0
    return counts


def publish(run_id: str | None = None, docs: bool = True, as_of_date: str | None = None) -> dict[str, Any]:
    """Publish the marts for BI; run it only after the quality gate passed (the DAG wires that).

    Copies every ``dim_``/``fct_``/``rpt_`` table of the warehouse's ``marts`` schema (and the
    taxonomy seeds) into a new publication directory (a read-only DuckDB file and a Parquet set)
    and switches one pointer to it: BI readers see the previous publication or this one, never a
    mix, and any failure or kill leaves the previous publication live. Then publishes the dbt docs
    page (``docs=False`` skips it); a docs failure raises after the data is already published.

    Refuses (``PublishError``, nothing touched) per :func:`publish_blocker`: the latest build
    unfinished or failed, no passing quality run after it, or (with ``run_id``) a build another run
    made or (with ``as_of_date``) marts as of another date. The publisher checks the same build is
    still the latest once it holds the warehouse open, and never replaces a publication as of a
    later date by one as of an earlier date.
    """
    from shinrai.publish import layout, publish_marts
    from shinrai.publish.docs import generate_docs
    from shinrai.publish.publication import PublishError

    cfg = config_mod.load()  # validated before the warehouse is read
    blocked = publish_blocker(run_id, as_of_date)
    if blocked is not None:
        raise PublishError(blocked)
    build = last_marts_build()
    publication = publish_marts(paths().warehouse_file, layout(), source_run_id=run_id,
                                reporting_timezone=cfg.timezone,
                                expected_build_id=build.build_id if build else None)
    result = publication.as_json()
    if docs:
        result["docs"] = str(generate_docs())
    return result


def build_report(month: str | None = None, out: str | None = None) -> str:
    """Write the monthly reliability report (self-contained HTML) from the current publication.

    ``month`` is ``YYYY-MM``; None means the publication's last closed month (the month before its
    as-of date). Returns the file's path (default ``<publish>/reports/reliability-<month>.html``).
    """
    from pathlib import Path

    from shinrai.publish.report import build_report as write_report

    return str(write_report(month=month, out=Path(out) if out else None))
