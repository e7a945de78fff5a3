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
from shinrai.transform import dbt

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


def build_marts(full_refresh: bool = False, as_of_date: str | None = None) -> None:
    """``dbt build``; ``as_of_date`` (YYYY-MM-DD) pins "today" for the marts (a backfill's run date).

    Each successful build is recorded in ``state.marts_builds`` of the warehouse, so publication can
    tell a quality run that checked these marts from one that checked an earlier build."""
    config_mod.load()  # validated before a landing file or the warehouse is touched
    dbt.build(full_refresh=full_refresh, as_of_date=as_of_date)
    with duckdb.connect(str(paths().warehouse_file)) as con:
        con.execute("create schema if not exists state")
        con.execute("create table if not exists state.marts_builds (built_at timestamptz not null, "
                    "as_of_date date, full_refresh boolean not null)")
        con.execute("insert into state.marts_builds values (?, ?, ?)",
                    [datetime.now(UTC), as_of_date, full_refresh])


def last_marts_build() -> datetime | None:
    """When ``build_marts`` last succeeded (None when the warehouse has no record of it)."""
    if not paths().warehouse_file.exists():
        return None
    with duckdb.connect(str(paths().warehouse_file), read_only=True) as con:
        try:
            row = con.execute("select max(built_at) from state.marts_builds").fetchone()
        except duckdb.CatalogException:
            return None
    return row[0] if row else None


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


def failed_quality_gate() -> dict | None:
    """The latest quality run over the marts (``nightly`` or ``marts``) when it failed a critical
    rule, else None (it passed, or no checkpoint ever ran)."""
    from shinrai.quality import history

    runs = [run for run in (history.latest_run(paths().warehouse_file, c) for c in GATE_CHECKPOINTS) if run]
    if not runs:
        return None
    latest = max(runs, key=lambda run: run["validated_at"])
    return None if latest["success"] else latest


def publish_blocker() -> str | None:
    """Why the marts may not be published now, or None. Blocked when the latest quality run over
    the marts failed a critical rule, or when the marts were rebuilt after it (that run checked
    other data). Without any quality run on record (a first setup, a hand-made warehouse) publishing
    is allowed."""
    from shinrai.quality import history

    failed = failed_quality_gate()
    if failed is not None:
        return (f"quality run {failed['run_id']!r} (checkpoint {failed['checkpoint']}, "
                f"{failed['validated_at']:%Y-%m-%d %H:%M:%S %Z}) failed {failed['critical_failures']} critical "
                "rule(s): the marts are not published and the previous publication stays live")
    runs = [run for run in (history.latest_run(paths().warehouse_file, c) for c in GATE_CHECKPOINTS) if run]
    built = last_marts_build()
    if runs and built is not None:
        checked = max(run["validated_at"] for run in runs)
        if built > checked:
            return (f"the marts were rebuilt at {built:%Y-%m-%d %H:%M:%S %Z}, after the last quality run "
                    f"({checked:%Y-%m-%d %H:%M:%S %Z}): run the quality checkpoint (nightly or marts) first; "
                    "the previous publication stays live")
    return None


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


def publish(run_id: str | None = None, docs: bool = True) -> dict[str, Any]:
    """Publish the marts for BI; run it only after the quality gate passed (the DAG wires that).

    Copies every ``dim_``/``fct_``/``rpt_`` table of the warehouse's ``marts`` schema (and the
    taxonomy seeds) into ``<publish>/marts.duckdb`` and a Parquet set, switched atomically: BI
    readers see the previous publication or this one, never a mix, and any failure leaves the
    previous publication live. Then publishes the dbt docs page (``docs=False`` skips it); a docs
    failure raises after the data is already published.

    Refuses (``PublishError``, nothing touched) when the latest quality run over the marts failed a
    critical rule, or the marts were rebuilt after it (:func:`publish_blocker`): a hand-run
    ``shinrai publish`` or a cleared Airflow task cannot publish what the gate blocked or never saw.
    Rerun the checkpoint once the data is fixed.
    """
    from shinrai.publish import layout, publish_marts
    from shinrai.publish.docs import generate_docs
    from shinrai.publish.publication import PublishError

    cfg = config_mod.load()  # validated before the warehouse is read
    blocked = publish_blocker()
    if blocked is not None:
        raise PublishError(blocked)
    publication = publish_marts(paths().warehouse_file, layout(), source_run_id=run_id,
                                reporting_timezone=cfg.timezone)
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
