"""The chaser's decision: which date to chase for, and whether reminders may really be sent.

Sending needs both a run that may send (:func:`shinrai.orchestration.plan.reminder_decision`:
scheduled or manual, for today, not a backfill, not a dry run) and marts built *as of today* that
passed the quality gate (the latest ``shinrai_marts`` asset event, produced by the nightly quality
gate, carries the ``as_of_date`` it was built for), with no later quality run over the marts
failing a critical rule.

Three outcomes (:class:`ChaseDecision`):

* **send**: ``pipeline.chase`` runs with ``send=True``;
* **preview**: the run may not send (a backfill, a past date, a dry run): ``pipeline.chase`` runs
  with ``send=False`` and reports what is due; the task succeeds, having done what was asked;
* **hold back**: the run should have sent but the marts do not allow it: the task ends *skipped*
  with the true reason (no marts built at all; marts built, but as of other dates, named; the
  quality gate blocked them, naming the run and the rules), never green as if reminders went out.

:func:`chase_decision` is pure; :func:`marts_state` gathers its input (asset events, the warehouse's
build records and quality history).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from shinrai.orchestration.plan import RunPlan

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class GateFailure:
    """The latest quality run over the marts, which failed critical rules."""

    run_id: str
    checkpoint: str
    validated_at: str
    rules: tuple[str, ...]

    def describe(self) -> str:
        rules = ", ".join(self.rules) if self.rules else "critical rules"
        return f"quality run {self.run_id!r} (checkpoint {self.checkpoint}, {self.validated_at}) failed {rules}"


@dataclass(frozen=True)
class MartsState:
    """What is known about the marts when the chaser starts."""

    gated_as_of: str | None = None  # as_of_date of the newest shinrai_marts event (the nightly gate passed them)
    built_as_of: str | None = None  # as_of_date of the newest build recorded in the warehouse
    gate_failure: GateFailure | None = None  # the latest quality run over the marts, when it failed
    events_error: str | None = None  # why the asset events could not be read


@dataclass(frozen=True)
class ChaseDecision:
    send: bool
    hold_back: bool
    reason: str


def chase_decision(plan: RunPlan, marts: MartsState) -> ChaseDecision:
    """Send, preview or hold back (see the module docstring), with the reason to log or skip with."""
    if not plan.send_reminders:
        return ChaseDecision(False, False, plan.reminder_reason)
    today = plan.today.isoformat()

    def hold(reason: str) -> ChaseDecision:
        return ChaseDecision(False, True, f"{reason}: no reminders sent")

    if marts.gate_failure is not None:
        last = f"; the last marts it passed are as of {marts.gated_as_of}" if marts.gated_as_of else ""
        return hold(f"the quality gate blocked the marts: {marts.gate_failure.describe()}{last}")
    if marts.gated_as_of == today:
        return ChaseDecision(True, False, plan.reminder_reason)
    if marts.events_error is not None:
        return hold(f"could not read the shinrai_marts asset events ({marts.events_error}), so cannot tell "
                    f"whether the marts are as of today ({today})")
    if marts.gated_as_of is None and marts.built_as_of is None:
        return hold("no marts have been built yet: nothing to chase from")
    facts = [f"the last marts the nightly quality gate passed are as of {marts.gated_as_of}" if marts.gated_as_of
             else "no marts have passed the nightly quality gate yet"]
    if marts.built_as_of and marts.built_as_of != marts.gated_as_of:
        facts.append(f"the warehouse was last built as of {marts.built_as_of}, a build the nightly quality "
                     "gate has not passed")
    return hold(f"the marts are not as of today ({today}): {'; '.join(facts)}; not chasing on stale data")


def latest_marts_as_of(context: Mapping[str, Any], asset: Any) -> str | None:
    """``as_of_date`` of the newest event of ``asset`` (an inlet of the task), or None when it has
    none. Errors propagate (see :func:`marts_state`)."""
    events = context["inlet_events"][asset].ascending(False).limit(1)
    latest = events[0] if len(events) else None
    if latest is None:
        return None
    extra = getattr(latest, "extra", None) or {}
    return extra.get("as_of_date")


def marts_state(context: Mapping[str, Any], asset: Any) -> MartsState:
    """The input of :func:`chase_decision`: the asset's newest event, the warehouse's newest build
    complete build (:mod:`shinrai.transform.builds`, also recorded by builds outside Airflow) and the latest quality
    run over the marts when it failed (with its failed critical rules)."""
    try:
        gated, error = latest_marts_as_of(context, asset), None
    except Exception as exc:  # no API to ask: say so rather than claim no marts were built
        log.warning("could not read events of %s", asset, exc_info=True)
        gated, error = None, f"{type(exc).__name__}: {exc}"
    return MartsState(gated_as_of=gated, built_as_of=_built_as_of(), gate_failure=_gate_failure(),
                      events_error=error)


def _built_as_of() -> str | None:
    from shinrai.settings import paths
    from shinrai.transform import builds

    build = builds.latest(paths().warehouse_file, complete=True)
    return build.as_of_date.isoformat() if build else None


def _gate_failure() -> GateFailure | None:
    import duckdb

    from shinrai import pipeline
    from shinrai.settings import paths

    failed = pipeline.failed_quality_gate()
    if failed is None:
        return None
    with duckdb.connect(str(paths().warehouse_file), read_only=True) as con:
        rules = con.execute(
            "select suite || '.' || rule from quality.validation_results where run_id = ? and checkpoint = ? "
            "and severity = 'critical' and status <> 'passed' order by 1",
            [failed["run_id"], failed["checkpoint"]],
        ).fetchall()
    at = failed["validated_at"]
    return GateFailure(str(failed["run_id"]), str(failed["checkpoint"]),
                       at.strftime("%Y-%m-%d %H:%M:%S %Z") if hasattr(at, "strftime") else str(at),
                       tuple(r[0] for r in rules))


def chase_call(context: Mapping[str, Any], marts: Any, tz: str | None = None) -> tuple[ChaseDecision, dict[str, Any]]:
    """The decision, and the keyword arguments for ``pipeline.chase``: ``run_date``, ``send`` and
    ``dry_run`` (True when the run asks for one, else None: the configured default)."""
    from shinrai.orchestration.plan import plan_from_context

    if tz is None:
        from shinrai import config as config_mod

        tz = config_mod.load().timezone
    plan = plan_from_context(context, tz)
    decision = chase_decision(plan, marts_state(context, marts))
    outcome = "sending allowed" if decision.send else ("holding back" if decision.hold_back else "sending nothing")
    log.info("chase for %s: %s (%s)", plan.run_date, outcome, decision.reason)
    dry_run = bool((context.get("params") or {}).get("dry_run", False))
    return decision, {"run_date": plan.run_date, "send": decision.send, "dry_run": True if dry_run else None}


def warehouse_missing() -> str | None:
    """Why there is nothing to chase from yet (no warehouse built), or None."""
    from shinrai.settings import paths

    warehouse = paths().warehouse_file
    if warehouse.exists():
        return None
    return f"no warehouse at {warehouse} yet: no marts have been built, nothing to chase from"
