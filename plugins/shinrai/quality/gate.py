"""The publication gate: whether the marts may be published, decided here and nowhere else.

Two inputs decide it: the quality runs over the marts (this package's checkpoints, their history in
``quality.validation_runs``) and the build bookkeeping of the marts
(:mod:`shinrai.transform.builds`, which only records builds and never judges them). The rule
(:func:`blocker`), checked by ``shinrai.pipeline.publish`` before anything is copied and again by
the publisher while it holds the warehouse open read-only:

* the latest quality run over the marts (``nightly`` or ``marts``) must not have failed a
  critical rule;
* the latest build must be finished (``success``), and a passing quality run must be newer than
  that build's end;
* a run that publishes (``run_id``) publishes only the build it made itself, for its own as-of
  date (a backfill's rebuild between a manual run's quality check and its publish is refused);
  a hand-run ``shinrai publish`` (no run id) publishes the latest complete, checked build.

A warehouse with no build on record (made before the bookkeeping existed, or by hand with dbt)
keeps the earlier rule: publishable unless the latest quality run failed.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import date, datetime
from pathlib import Path
from typing import Any

from shinrai.quality import gx, history, rules
from shinrai.transform import builds

log = logging.getLogger(__name__)

# The checkpoints that validate the marts: the latest run of either decides whether they may be published.
GATE_CHECKPOINTS = ("nightly", "marts")


class QualityGateFailed(RuntimeError):
    """A quality checkpoint had critical failures: what follows (publication) must not run."""

    def __init__(self, summary: dict, failures: list | None = None):
        self.summary = summary
        names = ", ".join(summary["critical_failures"])
        message = f"quality checkpoint {summary['checkpoint']!r} has critical failures: {names}"
        volume = [r for r in failures or [] if r.suite == rules.VOLUME_DATASET]
        for rule in volume:  # the figures, and how to let a real mass deletion through
            message += f"; {rule.rule}: " + ", ".join(sample_text(s) for s in rule.samples[:5])
        if volume:
            message += (" (if this loss is a real mass deletion, rerun with the nightly DAG param "
                        "confirm_mass_deletion=true; else fix the source: a lost permission, an unshared "
                        "database or a narrowed JQL)")
        super().__init__(message)


def sample_text(sample: dict) -> str:
    """A failing record with its note (the volume rule's note is its figures)."""
    note = sample.get("record_note")
    return f"{sample.get('record_key')} ({note})" if note else str(sample.get("record_key"))


def check(checkpoint: str, confirm_mass_deletion: bool = False) -> dict:
    """Run a checkpoint; log every failing rule; raise :class:`QualityGateFailed` on a critical
    failure (so downstream publish tasks never run), else return the run's summary."""
    report = gx.run_gate(checkpoint, confirm_mass_deletion=confirm_mass_deletion)
    for rule in report.rules:
        if not rule.success:
            log.warning(
                "quality %s [%s] %s.%s on %s: %s failing, e.g. %s",
                report.checkpoint, rule.severity, rule.suite, rule.rule, rule.column, rule.failing_count,
                ", ".join(sample_text(s) for s in rule.samples[:5]) if rule.suite == rules.VOLUME_DATASET
                else ", ".join(rule.sample_keys[:5]),
            )
    summary = report.summary()
    if not report.success:
        raise QualityGateFailed(summary, report.critical_failures)
    return summary


def latest_gate_run(warehouse: Path) -> dict | None:
    """The latest quality run over the marts (``nightly`` or ``marts``), or None."""
    runs = [run for run in (history.latest_run(warehouse, c) for c in GATE_CHECKPOINTS) if run]
    return max(runs, key=lambda run: run["validated_at"]) if runs else None


def failed_gate_run(warehouse: Path) -> dict | None:
    """The latest quality run over the marts when it failed a critical rule, else None (it
    passed, or no checkpoint ever ran)."""
    latest = latest_gate_run(warehouse)
    return None if latest is None or latest["success"] else latest


def status(warehouse: Path, checkpoint: str) -> dict | None:
    """The latest recorded run of a checkpoint with ``publishable``; None when it never ran."""
    run = history.latest_run(warehouse, checkpoint)
    if run is None:
        return None
    return {**run, "publishable": bool(run["success"]), "validated_at": run["validated_at"].isoformat()}


def _when(value: datetime) -> str:
    return f"{value:%Y-%m-%d %H:%M:%S %Z}"


def blocker(
    build: builds.Build | None,
    gate_run: Mapping[str, Any] | None,
    run_id: str | None = None,
    as_of_date: date | None = None,
) -> str | None:
    """Why the marts of ``build`` may not be published by ``run_id`` (None: they may).

    ``gate_run`` is the latest quality run over the marts (``validated_at``, ``success``,
    ``run_id``, ``checkpoint``, ``critical_failures``); ``as_of_date`` the date the publishing run
    built its marts for (None: whatever the build was for)."""
    stays = "the previous publication stays live"
    if gate_run is not None and not gate_run["success"]:
        return (f"quality run {gate_run['run_id']!r} (checkpoint {gate_run['checkpoint']}, "
                f"{_when(gate_run['validated_at'])}) failed {gate_run['critical_failures']} critical "
                f"rule(s): the marts are not published and {stays}")
    if build is None:
        return None
    if build.status == builds.RUNNING:
        return (f"{build.describe()} never finished (still running, or killed): the marts may be half rebuilt; "
                f"build them again and run the quality checkpoint; {stays}")
    if build.status != builds.SUCCESS:
        cause = (build.error or "no detail").splitlines()[0][:200]
        return (f"{build.describe()} failed ({cause}): the marts may be half rebuilt; build them again and run "
                f"the quality checkpoint; {stays}")
    if gate_run is None or build.finished_at is None or gate_run["validated_at"] < build.finished_at:
        checked = f"the last quality run ({_when(gate_run['validated_at'])})" if gate_run else "any quality run"
        return (f"the marts were rebuilt at {_when(build.finished_at or build.started_at)}, after {checked}: "
                f"run the quality checkpoint (nightly or marts) first; {stays}")
    if run_id is not None and build.run_id is not None and build.run_id != run_id:
        return (f"the warehouse holds {build.describe()}, not the marts run {run_id!r} built and checked: "
                f"a run publishes only its own build; {stays}")
    if as_of_date is not None and build.as_of_date != as_of_date:
        return (f"the warehouse holds marts as of {build.as_of_date} ({build.describe()}), not as of "
                f"{as_of_date}; {stays}")
    return None


def publish_blocker(warehouse: Path, run_id: str | None = None, as_of_date: date | None = None) -> str | None:
    """Why the warehouse's marts may not be published now by ``run_id`` (as of ``as_of_date``)."""
    return blocker(builds.latest(warehouse), latest_gate_run(warehouse), run_id, as_of_date)
