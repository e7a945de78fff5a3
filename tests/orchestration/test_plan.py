"""Run plans: which date a run is for, what it re-extracts, whether it publishes or sends reminders."""

from __future__ import annotations

from datetime import UTC, date, datetime
from types import SimpleNamespace

import pytest

from shinrai.orchestration.chaser import ChaseDecision, GateFailure, MartsState, chase_decision
from shinrai.orchestration.plan import (
    PlanError,
    RunPlan,
    Window,
    backfill_args,
    plan_from_context,
    plan_run,
    reminder_decision,
    window_bounds,
    window_from_params,
)

TZ = "Asia/Tokyo"  # a fixed UTC+9 zone for these unit tests, passed explicitly (not the configured one)
NOW = datetime(2026, 11, 24, 1, 30, tzinfo=UTC)  # 10:30 on 2026-11-24 in Tokyo
TODAY = date(2026, 11, 24)


def plan(run_type="scheduled", logical_date=None, run_after=None, **params):
    return plan_run(run_type=run_type, logical_date=logical_date, run_after=run_after, params=params, tz=TZ,
                    now=NOW)


def test_scheduled_nightly_is_for_today_incremental_and_may_send():
    p = plan("scheduled", logical_date=datetime(2026, 11, 23, 17, 0, tzinfo=UTC))  # 02:00 JST on the 24th
    assert p.run_date == TODAY and p.as_of_date == "2026-11-24"
    assert p.window is None and p.full_refresh is False
    assert p.send_reminders and p.publish


def test_run_date_is_the_logical_date_in_the_reporting_zone():
    # 2026-03-31T20:00Z is already April 1st in Tokyo
    assert plan("manual", logical_date=datetime(2026, 3, 31, 20, tzinfo=UTC)).run_date == date(2026, 4, 1)


def test_manual_run_without_logical_date_uses_run_after():
    p = plan("manual", logical_date=None, run_after=datetime(2026, 11, 24, 0, 5, tzinfo=UTC))
    assert p.run_date == TODAY and p.send_reminders


def test_backfill_never_sends_or_publishes_and_rereads_its_own_day():
    p = plan("backfill", logical_date=datetime(2026, 11, 17, 17, tzinfo=UTC))  # 2026-11-18 02:00 JST
    assert p.run_date == date(2026, 11, 18)
    assert not p.send_reminders and "backfill" in p.reminder_reason
    assert not p.publish
    assert p.window == Window(date(2026, 11, 18), date(2026, 11, 18))
    start, end = p.window_bounds
    assert start == datetime(2026, 11, 17, 15, tzinfo=UTC) and end == datetime(2026, 11, 18, 15, tzinfo=UTC)


def test_a_backfill_for_today_still_never_sends():
    assert not plan("backfill", logical_date=NOW).send_reminders


def test_any_run_for_a_past_date_never_sends():
    p = plan("manual", logical_date=datetime(2026, 11, 20, 1, tzinfo=UTC))
    assert not p.send_reminders and "never sent for the past" in p.reminder_reason
    assert not p.publish


def test_dry_run_never_sends():
    assert not plan("manual", run_after=NOW, dry_run=True).send_reminders


@pytest.mark.parametrize("run_type", ["operator_triggered", "asset_materialization"])
def test_other_run_types_do_not_send(run_type):
    assert not reminder_decision(run_type, TODAY, TODAY)[0]


def test_explicit_window_is_validated_and_wins_over_the_backfill_default():
    p = plan("backfill", logical_date=NOW, window_start="2026-03-01", window_end="2026-03-31")
    assert p.window == Window(date(2026, 3, 1), date(2026, 3, 31))
    assert window_bounds(p.to_xcom()) == p.window_bounds


def test_full_refresh_makes_a_window_redundant():
    p = plan("manual", run_after=NOW, full_refresh=True, window_start="2026-03-01", window_end="2026-03-02")
    assert p.full_refresh and p.window is None and window_bounds(p.to_xcom()) is None


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"window_start": "2026-03-05", "window_end": "2026-03-01"}, "window_end 2026-03-01 is before window_start"),
        ({"window_start": "2026-03-05"}, "give both"),
        ({"window_end": "2026-03-05"}, "give both"),
        ({"window_start": "March 5", "window_end": "2026-03-06"}, "is not a date"),
    ],
)
def test_bad_windows_are_rejected(params, message):
    with pytest.raises(PlanError, match=message):
        window_from_params(params)


def test_one_day_window_is_fine():
    assert window_from_params({"window_start": "2026-03-05", "window_end": "2026-03-05"}) == Window(
        date(2026, 3, 5), date(2026, 3, 5))


def test_plan_survives_xcom():
    p = plan("backfill", logical_date=NOW)
    assert RunPlan.from_xcom(p.to_xcom()) == p


def test_confirm_mass_deletion_is_off_unless_the_run_says_so_and_survives_xcom():
    assert not plan().confirm_mass_deletion
    confirmed = plan("manual", run_after=NOW, confirm_mass_deletion=True)
    assert confirmed.confirm_mass_deletion and RunPlan.from_xcom(confirmed.to_xcom()).confirm_mass_deletion


def test_plan_from_an_airflow_context():
    dag_run = SimpleNamespace(run_type="backfill", logical_date=datetime(2026, 11, 17, 17, tzinfo=UTC),
                              run_after=datetime(2026, 11, 17, 17, tzinfo=UTC), run_id="backfill__x")
    ctx = {"dag_run": dag_run, "logical_date": dag_run.logical_date, "params": {"full_refresh": False}}
    p = plan_from_context(ctx, TZ, now=NOW)
    assert p.run_type == "backfill" and p.run_date == date(2026, 11, 18) and not p.send_reminders


def test_chaser_sends_only_from_marts_built_as_of_today():
    today = plan("scheduled", logical_date=NOW)
    assert chase_decision(today, MartsState("2026-11-24", "2026-11-24")) == ChaseDecision(
        True, False, today.reminder_reason)
    assert chase_decision(today, MartsState("2026-11-23", "2026-11-23")).send is False
    past = plan("manual", logical_date=datetime(2026, 11, 20, tzinfo=UTC))
    assert chase_decision(past, MartsState("2026-11-24")) == ChaseDecision(False, False, past.reminder_reason)
    backfill = plan("backfill", logical_date=NOW)  # a preview, not a hold-back: the task succeeds
    assert chase_decision(backfill, MartsState()).hold_back is False


GATE = GateFailure("scheduled__2026-11-23T17:00:00+00:00", "nightly", "2026-11-24 02:31:07 UTC",
                   ("marts.volume_drop", "raw.freshness"))


@pytest.mark.parametrize(
    ("marts", "expected"),
    [
        # nothing built, ever
        (MartsState(), "no marts have been built yet: nothing to chase from: no reminders sent"),
        # built by hand (or by a nightly still running its gate), never passed by the nightly gate
        (MartsState(built_as_of="2026-11-24"),
         "the marts are not as of today (2026-11-24): no marts have passed the nightly quality gate yet; "
         "the warehouse was last built as of 2026-11-24, a build the nightly quality gate has not passed; "
         "not chasing on stale data: no reminders sent"),
        # the nightly did not run (or not to the end) today: the dates are named
        (MartsState("2026-11-20", "2026-11-20"),
         "the marts are not as of today (2026-11-24): the last marts the nightly quality gate passed are "
         "as of 2026-11-20; not chasing on stale data: no reminders sent"),
        (MartsState("2026-11-20", "2026-11-22"),
         "the marts are not as of today (2026-11-24): the last marts the nightly quality gate passed are "
         "as of 2026-11-20; the warehouse was last built as of 2026-11-22, a build the nightly quality gate "
         "has not passed; not chasing on stale data: no reminders sent"),
        # the gate blocked today's marts: the run and its rules, not "stale" or "never built"
        (MartsState("2026-11-23", "2026-11-24", GATE),
         "the quality gate blocked the marts: quality run 'scheduled__2026-11-23T17:00:00+00:00' (checkpoint "
         "nightly, 2026-11-24 02:31:07 UTC) failed marts.volume_drop, raw.freshness; the last marts it passed "
         "are as of 2026-11-23: no reminders sent"),
        # a failed run after today's gate passed (a checkpoint rerun by hand) still holds back
        (MartsState("2026-11-24", "2026-11-24", GATE), "the quality gate blocked the marts: quality run"),
        # the asset events could not be read: say so, never "no marts"
        (MartsState(built_as_of="2026-11-24", events_error="KeyError: shinrai_marts"),
         "could not read the shinrai_marts asset events (KeyError: shinrai_marts)"),
    ],
)
def test_chaser_holds_back_with_the_true_reason(marts, expected):
    decision = chase_decision(plan("scheduled", logical_date=NOW), marts)
    assert decision.send is False and decision.hold_back is True
    assert decision.reason.startswith(expected)


def test_backfill_args_select_whole_days_in_the_dag_zone():
    from zoneinfo import ZoneInfo

    from shinrai import config

    zone = ZoneInfo(config.load().timezone)  # the DAGs' zone, by default
    args = backfill_args("shinrai_nightly", date(2026, 11, 18), date(2026, 11, 20))
    assert args[:4] == ["backfill", "create", "--dag-id", "shinrai_nightly"]
    assert args[args.index("--from-date") + 1] == datetime(2026, 11, 18, tzinfo=zone).isoformat()
    assert args[args.index("--to-date") + 1] == datetime(2026, 11, 20, 23, 59, 59, tzinfo=zone).isoformat()
    assert args[args.index("--max-active-runs") + 1] == "1"
    paris = backfill_args("shinrai_nightly", date(2026, 11, 18), date(2026, 11, 20), tz="Europe/Paris")
    assert paris[paris.index("--from-date") + 1] == "2026-11-18T00:00:00+01:00"
