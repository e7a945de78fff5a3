"""Client-side pacing so an extractor stays inside a source's published rate limit.

A 429 is handled by the retry policy, but waiting for one costs a whole ``Retry-After`` (whole
seconds). Pacing requests to the published rate avoids them: the extraction floor is the limit
itself. The pacer is the virtual-scheduling form of a token bucket (GCRA): ``burst`` calls may go
at once, then one every ``per_seconds / requests``. With ``burst=1`` it spaces calls evenly, exact
for Slack's 1-request-a-minute mode and trivially deterministic under test.

Published limits (``API_NOTES.md`` 1.10, 2.5, 3.4), paced when config ``pacing.enabled``:

* Jira Cloud, API-token traffic: per-second burst limits per endpoint family (about 10 a second);
* Notion: 3 requests a second on average per integration, short bursts allowed (we allow 6);
* Slack: per method, per workspace: ``conversations.history``/``replies`` Tier 3 (50 a minute),
  ``conversations.list``/``users.list`` Tier 2 (20 a minute), ``chat.postMessage`` about 1 a second.

``pacing.speedup`` (per source) compresses time for benchmarks against the sandbox, which can
emulate the same limits compressed the same way (``rate_limit_speedup``).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping

# (burst, requests per second)
JIRA_LIMIT = (10, 10.0)
NOTION_LIMIT = (6, 3.0)
SLACK_TIERS_PER_MINUTE: dict[str, int] = {
    "conversations.history": 50, "conversations.replies": 50, "conversations.info": 50,
    "conversations.list": 20, "users.list": 20, "users.info": 100, "auth.test": 100,
    "chat.postMessage": 60, "chat.update": 50,
}
SLACK_DEFAULT_PER_MINUTE = 20  # an unlisted method: assume Tier 2


class Pacer:
    """Allow at most ``requests`` calls per ``per_seconds``, ``burst`` of them back to back."""

    def __init__(
        self,
        requests: float,
        per_seconds: float,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        burst: int = 1,
    ):
        if requests <= 0 or per_seconds < 0 or burst < 1:
            raise ValueError("requests must be > 0, per_seconds >= 0 and burst >= 1")
        self.interval = per_seconds / requests
        self.tolerance = (burst - 1) * self.interval
        self._clock = clock
        self._sleep = sleep
        self._next = float("-inf")  # theoretical arrival time of the next call
        self._lock = threading.Lock()
        self.waited = 0.0  # seconds slept in total

    def wait(self) -> float:
        """Block until the next call is allowed; return how long we slept."""
        with self._lock:
            now = self._clock()
            delay = max(0.0, self._next - self.tolerance - now)
            if delay:
                self._sleep(delay)
                self.waited += delay
            self._next = max(now + delay, self._next) + self.interval
            return delay


UNPACED = Pacer(1, 0)


def limit_pacer(burst: int, per_second: float, speedup: float = 1.0,
                clock: Callable[[], float] = time.monotonic, sleep: Callable[[float], None] = time.sleep) -> Pacer:
    """A pacer for a published limit; one request is kept in hand (``burst - 1``) so that a request
    arriving a little late or early at the server never finds its bucket empty."""
    return Pacer(per_second * speedup, 1.0, clock=clock, sleep=sleep, burst=max(1, burst - 1))


def paced_seconds(requests: int, burst: int, per_second: float) -> float:
    """How long ``requests`` calls take at least when paced to a published limit (``burst``,
    ``per_second``), the answers taking no time: the pacer itself run on a virtual clock, so the
    estimate ``shinrai check`` shows is what the hooks' pacing does, not a formula beside it."""
    now = [0.0]

    def sleep(seconds: float) -> None:
        now[0] += seconds

    pacer = limit_pacer(burst, per_second, clock=lambda: now[0], sleep=sleep)
    for _ in range(requests):
        pacer.wait()
    return now[0]


class FamilyPacers:
    """One pacer per limiter family (a Jira endpoint family, a Slack method), made on first use."""

    def __init__(self, limit: Callable[[str], tuple[int, float]], speedup: float = 1.0):
        self._limit = limit
        self._speedup = speedup
        self._pacers: dict[str, Pacer] = {}
        self._lock = threading.Lock()

    def wait(self, family: str) -> float:
        with self._lock:
            pacer = self._pacers.get(family)
            if pacer is None:
                pacer = self._pacers[family] = limit_pacer(*self._limit(family), self._speedup)
        return pacer.wait()

    @property
    def waited(self) -> float:
        return sum(p.waited for p in self._pacers.values())


def jira_family(path: str) -> str:
    """``/rest/api/3/search/jql`` -> ``search``: Jira's burst limits apply per endpoint family."""
    marker = "/rest/api/"
    rest = path.split(marker, 1)[1].split("/", 1)[1] if marker in path and path.count("/") > 3 else path
    return rest.split("/", 1)[0].split("?", 1)[0] or "other"


def slack_limit(method: str) -> tuple[int, float]:
    per_minute = SLACK_TIERS_PER_MINUTE.get(method, SLACK_DEFAULT_PER_MINUTE)
    return per_minute, per_minute / 60.0


def pacers_for(source: str, enabled: bool, speedup: Mapping[str, float]) -> FamilyPacers | None:
    """The pacers a source's hook uses, or None when pacing is off."""
    if not enabled:
        return None
    factor = float(speedup.get(source, 1.0))
    if source == "jira":
        return FamilyPacers(lambda family: JIRA_LIMIT, factor)
    if source == "notion":
        return FamilyPacers(lambda family: NOTION_LIMIT, factor)
    if source == "slack":
        return FamilyPacers(slack_limit, factor)
    raise ValueError(f"unknown source {source!r}")


def configured_pacers(source: str) -> FamilyPacers | None:
    """The pacers config ``pacing`` asks for (None when off, or when the configuration does not load:
    a hook also serves alerts and the chaser, which must not fail on a pacing setting)."""
    import logging

    from shinrai import config as config_mod

    try:
        cfg = config_mod.load()
    except config_mod.ConfigError as exc:
        logging.getLogger(__name__).warning("%s: not pacing requests (%s)", source, exc)
        return None
    return pacers_for(source, cfg.pacing, cfg.pacing_speedup)
