"""The first-load time ``shinrai check`` shows (``shinrai.hooks.pacing.paced_seconds``: the hooks' own
pacer run on a virtual clock) against the GCRA's closed form worked out by hand: with one request
kept in hand, a limit of burst ``b`` lets ``b - 1`` calls go at once and every later call waits
``1 / per_second``."""

from __future__ import annotations

import pytest

from shinrai.hooks.pacing import NOTION_LIMIT, paced_seconds, slack_limit


def _by_hand(requests: int, burst: int, per_second: float) -> float:
    return max(0, requests - max(1, burst - 1)) / per_second


@pytest.mark.parametrize("limit", [NOTION_LIMIT, slack_limit("conversations.history"), slack_limit("users.list"),
                                   (10, 10.0), (1, 1 / 60)])
@pytest.mark.parametrize("requests", [0, 1, 5, 6, 49, 50, 51, 333])
def test_paced_seconds_is_the_gcra_by_hand(limit: tuple[int, float], requests: int) -> None:
    assert paced_seconds(requests, *limit) == pytest.approx(_by_hand(requests, *limit))
