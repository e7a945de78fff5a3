"""The first-load time ``shinrai check`` shows is the hooks' own pacer's (GCRA) time for that many calls."""

from __future__ import annotations

import pytest

from shinrai.hooks.pacing import NOTION_LIMIT, Pacer, slack_limit
from shinrai.onboard.estimate import paced_seconds


def _pacer_seconds(requests: int, burst: int, per_second: float) -> float:
    now = [0.0]

    def sleep(seconds: float) -> None:
        now[0] += seconds

    # as shinrai.hooks.pacing.limit_pacer builds it, on a clock that only sleeping moves
    pacer = Pacer(per_second, 1.0, clock=lambda: now[0], sleep=sleep, burst=max(1, burst - 1))
    for _ in range(requests):
        pacer.wait()
    return now[0]


@pytest.mark.parametrize("limit", [NOTION_LIMIT, slack_limit("conversations.history"), slack_limit("users.list"),
                                   (10, 10.0), (1, 1 / 60)])
@pytest.mark.parametrize("requests", [0, 1, 5, 6, 49, 50, 51, 333])
def test_paced_seconds_is_the_pacers_time(limit: tuple[int, float], requests: int) -> None:
    assert paced_seconds(requests, *limit) == pytest.approx(_pacer_seconds(requests, *limit))
