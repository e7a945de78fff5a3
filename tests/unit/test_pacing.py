"""Client pacing to published limits, against the sandbox's emulated limits (both on one fake clock)."""

from __future__ import annotations

import pytest

from shinrai.hooks.pacing import JIRA_LIMIT, NOTION_LIMIT, Pacer, jira_family, limit_pacer, pacers_for, slack_limit
from shinrai.sandbox.faults import FaultInjector, Faults, published_limit


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


def test_burst_then_the_rate():
    clock = Clock()
    pacer = Pacer(2, 1.0, clock, clock.sleep, burst=4)  # 2 a second, 4 at once
    waits = [pacer.wait() for _ in range(8)]
    assert waits[:4] == [0, 0, 0, 0]
    assert waits[4:] == pytest.approx([0.5] * 4)
    assert clock.now == pytest.approx(1002.0)


def test_burst_one_spaces_calls_evenly_as_before():
    clock = Clock()
    pacer = Pacer(1, 60, clock, clock.sleep)
    assert [pacer.wait() for _ in range(3)] == [0, 60, 60]


@pytest.mark.parametrize(("server", "family", "limit", "speedup"), [
    ("jira", "search", JIRA_LIMIT, 1.0),
    ("notion", "*", NOTION_LIMIT, 1.0),
    ("slack", "conversations.replies", slack_limit("conversations.replies"), 60.0),
])
def test_paced_requests_never_meet_a_429_and_keep_up_with_the_limit(server, family, limit, speedup):
    clock = Clock()
    injector = FaultInjector(Faults(rate_limit="published", rate_limit_speedup={server: speedup}), clock=clock)
    burst, rate = limit
    assert published_limit(server, family) == (float(burst), rate)
    pacer = limit_pacer(burst, rate, speedup)
    pacer._clock, pacer._sleep = clock, clock.sleep
    n = 300
    for _ in range(n):
        pacer.wait()
        assert injector.decide(server, family) is None
        clock.now += 0.001  # the request takes a little while
    floor = (n - burst) / (rate * speedup)
    assert clock.now - 1000.0 <= floor * 1.02 + 0.5


def test_unpaced_requests_meet_429s_with_whole_second_retry_after():
    clock = Clock()
    injector = FaultInjector(Faults(rate_limit="published", rate_limit_speedup={"slack": 60}), clock=clock)
    answers = [injector.decide("slack", "conversations.history") for _ in range(60)]
    limited = [a for a in answers if a is not None]
    assert len(limited) == 10 and all(a.status == 429 and a.retry_after == 1 for a in limited)


def test_pacing_is_off_unless_configured_and_families_follow_the_endpoint():
    assert pacers_for("jira", False, {}) is None
    assert pacers_for("slack", True, {"slack": 60}) is not None
    assert jira_family("/rest/api/3/search/jql") == "search"
    assert jira_family("/rest/api/3/issue/INC-7/changelog") == "issue"
    with pytest.raises(ValueError):
        Faults(rate_limit_speedup={"slack": 0}).validate()


def test_paced_seconds_is_the_pacers_floor() -> None:
    """shinrai check's estimate: a burst goes at once (one kept in hand), then one per interval."""
    from shinrai.hooks.pacing import JIRA_LIMIT, paced_seconds

    assert paced_seconds(0, *JIRA_LIMIT) == 0
    assert paced_seconds(9, *JIRA_LIMIT) == 0  # the burst less the request kept in hand
    assert paced_seconds(109, *JIRA_LIMIT) == pytest.approx(10.0)
    assert paced_seconds(3, 20, 20 / 60) == 0 and paced_seconds(20, 20, 20 / 60) == pytest.approx(3.0)
