"""The Jira deletion sweep's plan: which id ranges a night lists (the HTTP side:
tests/integration/test_jira_deletion_sweep.py)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from shinrai.extract.jira import SweepPlan

JQL = "project = INC"
START = datetime(2026, 3, 4, 1, 30, tzinfo=UTC)


def test_every_range_is_listed_once_every_sweep_days_even_as_the_site_grows():
    plan = SweepPlan.load({}, JQL)
    ids = list(range(10_000, 10_700))
    last: dict[int, datetime] = {}
    shares: list[float] = []
    for night in range(60):
        now = START + timedelta(days=night, minutes=7 * night)  # the nightly run drifts a little
        ids += list(range(ids[-1] + 1, ids[-1] + 40))  # new issues every night: the last range grows
        plan.rebalance(ids, 7)
        due = plan.due(now, 7)
        if night:  # a slice of the site, never all of it; about a seventh on average
            listed = sum(1 for i in ids for low, high in plan.listings(due)
                         if (low is None or i > low) and (high is None or i <= high))
            assert 0 < listed <= 0.35 * len(ids), (night, due, listed, len(ids))
            shares.append(listed / len(ids))
        for index in due:
            if index in last:
                assert now - last[index] <= timedelta(days=7, hours=12), (night, index)
            last[index] = now
        plan.mark_swept(due, now)
        plan = SweepPlan.load(plan.state(), JQL)  # what the cursor keeps
    assert 0.12 < sum(shares) / len(shares) < 0.17, sum(shares) / len(shares)
    assert len(plan.bounds) > 7  # the last range was split as it grew
    assert plan.bounds == sorted(set(plan.bounds))


def test_adjacent_due_ranges_are_one_listing_and_a_changed_jql_lists_everything():
    plan = SweepPlan.load({}, JQL)
    plan.rebalance(list(range(1, 71)), 7)
    assert plan.bounds == [10, 20, 30, 40, 50, 60]
    assert plan.listings(list(range(7))) == [(None, None)]  # never listed: the whole site at once
    assert plan.listings([1, 2, 5]) == [(10, 30), (50, 60)]
    plan.mark_swept(list(range(7)), START)
    assert plan.due(START + timedelta(hours=1), 7) == []  # a rerun the same night lists nothing
    assert SweepPlan.load(plan.state(), JQL).due(START + timedelta(hours=1), 7) == []
    narrowed = SweepPlan.load(plan.state(), "project = INC AND labels = x")
    assert narrowed.listings(narrowed.due(START + timedelta(hours=1), 7)) == [(None, None)]
    assert plan.due(START, 0) == list(range(7))  # sweep_days 0: every run, everything
