"""The chaser's decision: which date to chase for, and whether reminders may really be sent.

Sending needs both a run that may send (:func:`shinrai.orchestration.plan.reminder_decision`:
scheduled or manual, for today, not a backfill, not a dry run) and marts built *as of today*
(the latest ``shinrai_marts`` asset event, produced by the nightly quality gate, carries the
``as_of_date`` it was built for). Otherwise ``pipeline.chase`` runs with ``send=False``: it
computes what is due and sends nothing (``dry_run`` also prints the messages).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from shinrai.orchestration.plan import RunPlan

log = logging.getLogger(__name__)


def chase_decision(plan: RunPlan, marts_as_of: str | None) -> tuple[bool, str]:
    if not plan.send_reminders:
        return False, plan.reminder_reason
    if marts_as_of is None:
        return False, "no marts have been built yet: nothing to chase from"
    if marts_as_of != plan.today.isoformat():
        return False, f"the marts are as of {marts_as_of}, not today ({plan.today}): not chasing on stale data"
    return True, plan.reminder_reason


def latest_marts_as_of(context: Mapping[str, Any], asset: Any) -> str | None:
    """``as_of_date`` of the newest event of ``asset`` (an inlet of the task), or None."""
    try:
        events = context["inlet_events"][asset].ascending(False).limit(1)
        latest = events[0] if len(events) else None
    except Exception:  # no such asset yet, or no API to ask: treat as never built
        log.warning("could not read events of %s", asset, exc_info=True)
        return None
    if latest is None:
        return None
    extra = getattr(latest, "extra", None) or {}
    return extra.get("as_of_date")


def chase_call(context: Mapping[str, Any], marts: Any, tz: str | None = None) -> dict[str, Any]:
    """Keyword arguments for ``pipeline.chase``: ``run_date``, ``send`` (this module's decision) and
    ``dry_run`` (True when the run asks for one, else None: the configured default)."""
    from shinrai.orchestration.plan import plan_from_context

    if tz is None:
        from shinrai import config as config_mod

        tz = config_mod.load().timezone
    plan = plan_from_context(context, tz)
    send, reason = chase_decision(plan, latest_marts_as_of(context, marts))
    log.info("chase for %s: %s (%s)", plan.run_date, "sending allowed" if send else "sending nothing", reason)
    dry_run = bool((context.get("params") or {}).get("dry_run", False))
    return {"run_date": plan.run_date, "send": send, "dry_run": True if dry_run else None}


def warehouse_missing() -> str | None:
    """Why there is nothing to chase from yet (no warehouse built), or None."""
    from shinrai.settings import paths

    warehouse = paths().warehouse_file
    return None if warehouse.exists() else f"no warehouse at {warehouse} yet: nothing to chase from"
