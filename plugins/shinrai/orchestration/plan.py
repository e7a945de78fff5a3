"""What one DAG run does, decided once from its run type, dates and params (pure, no I/O).

Every run of the nightly DAG catches up incrementally from the stored cursors. On top of that:

* ``full_refresh`` re-extracts everything and rebuilds incremental models from scratch;
* ``confirm_mass_deletion`` lets the extractors' deletion guard mark a large share of a stream
  deleted, for this run only (:class:`shinrai.load.landing.MassDeletionRefused` otherwise);
* a **window** (``window_start``..``window_end``, dates in the reporting time zone, both
  inclusive) re-reads what changed in those days, idempotently, without moving the cursors.
  A backfill run without explicit window params re-reads its own run date.

The marts are built "as of" the run date (the logical date in the reporting time zone), so a
backfill for 2026-03-31 rebuilds overdue flags and month closing as they stood that day. Only a
run for today publishes them for BI (a backfill must not replace today's publication with marts
as of the past; the next nightly publishes).

Reminders are sent only by a scheduled, manual or asset-triggered run *for today*: a backfill,
a dry run or any run whose date is not today never sends (``send_reminders``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

BACKFILL = "backfill"
SENDING_RUN_TYPES = frozenset({"scheduled", "manual", "asset_triggered"})


class PlanError(ValueError):
    """Params that cannot describe a run (the run fails before it touches anything)."""


@dataclass(frozen=True)
class Window:
    """Days to re-read, both inclusive, in the reporting time zone."""

    start: date
    end: date

    def bounds(self, tz: str) -> tuple[datetime, datetime]:
        """``[start 00:00, end + 1 day 00:00)`` in ``tz``, as UTC datetimes."""
        zone = ZoneInfo(tz)
        lo = datetime.combine(self.start, time(), zone)
        hi = datetime.combine(self.end + timedelta(days=1), time(), zone)
        return lo.astimezone(UTC), hi.astimezone(UTC)


def _as_date(name: str, value: Any) -> date | None:
    if value in (None, ""):
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        raise PlanError(f"{name} {value!r} is not a date (YYYY-MM-DD)") from None


def window_from_params(params: Mapping[str, Any]) -> Window | None:
    """The window the params ask for, or None. Both ends or neither; the end may not precede the start."""
    start = _as_date("window_start", params.get("window_start"))
    end = _as_date("window_end", params.get("window_end"))
    if start is None and end is None:
        return None
    if start is None or end is None:
        raise PlanError("give both window_start and window_end (dates, both inclusive), or neither")
    if end < start:
        raise PlanError(f"window_end {end} is before window_start {start}")
    return Window(start, end)


def run_date_of(logical_date: datetime | None, run_after: datetime | None, tz: str, now: datetime) -> date:
    """The date a run is *for*: its logical date in the reporting zone (manual runs may have none)."""
    moment = logical_date or run_after or now
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(ZoneInfo(tz)).date()


def reminder_decision(run_type: str, run_date: date, today: date, dry_run: bool = False) -> tuple[bool, str]:
    """Whether this run may send reminders, and why (the reason is logged and kept in the plan)."""
    if run_type == BACKFILL:
        return False, "backfill runs never send reminders"
    if dry_run:
        return False, "dry run requested"
    if run_date != today:
        return False, f"the run is for {run_date}, not today ({today}): reminders are never sent for the past"
    if run_type not in SENDING_RUN_TYPES:
        return False, f"{run_type} runs do not send reminders"
    return True, f"{run_type} run for today ({today})"


def publish_decision(run_type: str, run_date: date, today: date) -> tuple[bool, str]:
    """Whether the run replaces the BI publication: only with marts as of today."""
    if run_type == BACKFILL:
        return False, "backfill runs rebuild the warehouse but never replace the publication"
    if run_date != today:
        return False, f"the marts are as of {run_date}, not today ({today}): the publication stays"
    return True, f"marts as of today ({today})"


@dataclass(frozen=True)
class RunPlan:
    run_type: str
    run_date: date
    today: date
    full_refresh: bool
    window: Window | None
    window_bounds: tuple[datetime, datetime] | None
    send_reminders: bool
    reminder_reason: str
    publish: bool = True
    publish_reason: str = ""
    publish_docs: bool = True
    # for this run only: a deletion sweep beyond landing.max_deleted_share and a drop beyond
    # quality.max_volume_drop_share against the live publication are a real mass deletion
    confirm_mass_deletion: bool = False

    @property
    def as_of_date(self) -> str:
        """``dbt build --vars as_of_date``: the marts as they stood on the run date."""
        return self.run_date.isoformat()

    def to_xcom(self) -> dict[str, Any]:
        data = asdict(self)
        data["run_date"] = self.run_date.isoformat()
        data["today"] = self.today.isoformat()
        data["as_of_date"] = self.as_of_date
        data["window"] = (
            {"start": self.window.start.isoformat(), "end": self.window.end.isoformat()} if self.window else None
        )
        data["window_bounds"] = [t.isoformat() for t in self.window_bounds] if self.window_bounds else None
        return data

    @classmethod
    def from_xcom(cls, data: Mapping[str, Any]) -> RunPlan:
        window = data.get("window")
        bounds = data.get("window_bounds")
        return cls(
            run_type=data["run_type"],
            run_date=date.fromisoformat(data["run_date"]),
            today=date.fromisoformat(data["today"]),
            full_refresh=bool(data["full_refresh"]),
            window=Window(date.fromisoformat(window["start"]), date.fromisoformat(window["end"])) if window else None,
            window_bounds=(datetime.fromisoformat(bounds[0]), datetime.fromisoformat(bounds[1])) if bounds else None,
            send_reminders=bool(data["send_reminders"]),
            reminder_reason=data["reminder_reason"],
            publish=bool(data.get("publish", True)),
            publish_reason=data.get("publish_reason", ""),
            publish_docs=bool(data.get("publish_docs", True)),
            confirm_mass_deletion=bool(data.get("confirm_mass_deletion", False)),
        )


def plan_run(
    *,
    run_type: str,
    logical_date: datetime | None,
    run_after: datetime | None,
    params: Mapping[str, Any],
    tz: str,
    now: datetime,
) -> RunPlan:
    """Decide what a run does. ``now`` is only used to tell today from the past (never in the data)."""
    run_type = str(getattr(run_type, "value", run_type))
    full_refresh = bool(params.get("full_refresh", False))
    window = window_from_params(params)
    run_date = run_date_of(logical_date, run_after, tz, now)
    today = now.astimezone(ZoneInfo(tz)).date()
    if window is None and run_type == BACKFILL:
        window = Window(run_date, run_date)
    if full_refresh:
        window = None  # a full refresh re-reads everything anyway
    send, reason = reminder_decision(run_type, run_date, today, bool(params.get("dry_run", False)))
    publish, publish_reason = publish_decision(run_type, run_date, today)
    return RunPlan(
        run_type=run_type,
        run_date=run_date,
        today=today,
        full_refresh=full_refresh,
        window=window,
        window_bounds=window.bounds(tz) if window else None,
        send_reminders=send,
        reminder_reason=reason,
        publish=publish,
        publish_reason=publish_reason,
        publish_docs=bool(params.get("publish_docs", True)),
        confirm_mass_deletion=bool(params.get("confirm_mass_deletion", False)),
    )


def plan_from_context(context: Mapping[str, Any], tz: str, now: datetime | None = None) -> RunPlan:
    """:func:`plan_run` for the task's Airflow context (``dag_run``, ``logical_date``, ``params``)."""
    dag_run = context["dag_run"]
    return plan_run(
        run_type=dag_run.run_type,
        logical_date=context.get("logical_date") or dag_run.logical_date,
        run_after=dag_run.run_after,
        params=context.get("params") or {},
        tz=tz,
        now=now or datetime.now(UTC),
    )


def plan_for_task(context: Mapping[str, Any]) -> dict[str, Any]:
    """The plan of the running task's DAG run, as XCom (the reporting time zone comes from config)."""
    import logging

    from shinrai import config as config_mod

    try:  # the configuration is validated here, before any task reads a source or writes a file
        plan = plan_from_context(context, config_mod.load().timezone)
    except (PlanError, config_mod.ConfigError) as exc:  # bad params or configuration: retrying cannot help
        from airflow.sdk.exceptions import AirflowFailException

        raise AirflowFailException(str(exc)) from None
    logging.getLogger(__name__).info(
        "run %s (%s) for %s: full_refresh=%s window=%s reminders=%s (%s)",
        context["dag_run"].run_id, plan.run_type, plan.run_date, plan.full_refresh,
        f"{plan.window.start}..{plan.window.end}" if plan.window else None, plan.send_reminders,
        plan.reminder_reason,
    )
    return plan.to_xcom()


def window_bounds(run: Mapping[str, Any]) -> tuple[datetime, datetime] | None:
    """The extractors' ``window`` argument from a plan's XCom (None: no re-read)."""
    bounds = run.get("window_bounds")
    return (datetime.fromisoformat(bounds[0]), datetime.fromisoformat(bounds[1])) if bounds else None


def extract_args(run: Mapping[str, Any]) -> dict[str, Any]:
    """The extractors' keyword arguments from a plan's XCom: full refresh, re-read window, and
    whether this run confirms a mass deletion (the deletion guard otherwise refuses one)."""
    return {"full_refresh": bool(run["full_refresh"]), "window": window_bounds(run),
            "confirm_mass_deletion": bool(run.get("confirm_mass_deletion", False))}


def backfill_args(dag_id: str, first: date, last: date, tz: str | None = None, max_active_runs: int = 1,
                  conf: Mapping[str, Any] | None = None) -> list[str]:
    """``airflow backfill create`` arguments for the run dates ``first``..``last`` (inclusive) in ``tz``.

    The CLI reads naive dates in Airflow's default time zone (UTC), which would shift a schedule
    at 02:00 in a zone ahead of UTC by a day; whole days with an explicit offset select exactly those
    dates. One run at a time (oldest first), so the marts end up as of ``last``. ``tz`` defaults to
    the DAGs' zone, the configuration's ``reporting.timezone``.
    """
    import json

    from shinrai import config as config_mod

    zone = ZoneInfo(tz or config_mod.load().timezone)
    lo = datetime.combine(first, time(), zone)
    hi = datetime.combine(last, time(23, 59, 59), zone)
    args = ["backfill", "create", "--dag-id", dag_id, "--from-date", lo.isoformat(), "--to-date", hi.isoformat(),
            "--max-active-runs", str(max_active_runs)]
    if conf:
        args += ["--dag-run-conf", json.dumps(dict(conf))]
    return args
