"""One extraction run per source: its streams, each stream's outcome in the landing file's run
log (failures included), and the deletion guard's limits from the configuration.

``shinrai.pipeline`` calls these as the nightly job's extraction steps.
"""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

from shinrai import config as config_mod
from shinrai.config import JIRA_STREAMS
from shinrai.extract.jira import JiraIssueExtractor
from shinrai.extract.notion import NotionExtractor
from shinrai.extract.slack import SlackExtractor
from shinrai.extract.window import Window
from shinrai.hooks import JiraHook, NotionHook, SlackHook
from shinrai.load.landing import LandingStore, shared
from shinrai.settings import paths


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
                stats["deleted"] = stats.get("deleted", 0) + extractor.sweep_deleted(stream, run_id)
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
