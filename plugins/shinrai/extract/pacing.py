"""Client-side pacing so an extractor stays inside a source's published rate limit.

A 429 is handled by the retry policy, but waiting for one costs a whole ``Retry-After``. Pacing
requests to the published rate avoids them: the extraction floor is the limit itself. This is a
minimal interval pacer (a token bucket of one) rather than a library because it must be exact
for Slack's 1-request-a-minute mode and trivially deterministic under test.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable


class Pacer:
    """Allow at most ``requests`` calls per ``per_seconds``, spaced evenly."""

    def __init__(
        self,
        requests: float,
        per_seconds: float,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ):
        if requests <= 0 or per_seconds < 0:
            raise ValueError("requests must be > 0 and per_seconds >= 0")
        self.interval = per_seconds / requests
        self._clock = clock
        self._sleep = sleep
        self._next = float("-inf")
        self._lock = threading.Lock()

    def wait(self) -> float:
        """Block until the next call is allowed; return how long we slept."""
        with self._lock:
            now = self._clock()
            delay = max(0.0, self._next - now)
            if delay:
                self._sleep(delay)
            self._next = max(now, self._next) + self.interval
            return delay


UNPACED = Pacer(1, 0)
