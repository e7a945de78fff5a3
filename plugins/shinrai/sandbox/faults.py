"""Fault knobs (``Faults``) and the injector: latency, slow bursts, 429 storms, published rate limits,
5xx bursts, HTML answers, planted large and oversized text records, a lone surrogate and a
duplicated Jira id."""

from __future__ import annotations

import math
import threading
import time
from dataclasses import dataclass, field, fields

RATE_LIMIT_MODES = ("off", "published", "slack_non_marketplace")
SERVERS = ("jira", "notion", "slack")


@dataclass
class Faults:
    """All knobs default to off. ``servers`` scopes every knob to some of the three servers."""

    latency_ms: int = 0
    rate_429: float = 0.0  # share of data requests answered 429 (spread evenly, never in long runs)
    retry_after_s: int = 1  # Retry-After of injected 429s (integer seconds)
    rate_limit: str = "off"  # "off" | "published" | "slack_non_marketplace"
    # time compression of the emulated limits, per server (benchmarks): {"slack": 60} refills Slack's
    # buckets 60 times faster (50 a minute becomes 50 a second); Retry-After stays whole seconds
    rate_limit_speedup: dict[str, float] = field(default_factory=dict)
    burst_5xx: int = 0  # the next N data requests (per server) fail with 503
    retry_after_5xx: int = 0  # when > 0, injected 503s carry this Retry-After
    search_lag_s: float = 0.0  # Jira search/jql serves the previous version of mutated issues this long
    malformed: bool = False  # planted malformed records appear in every source
    slow_ms: int = 0  # how late a slow request is answered (on top of latency_ms): beyond a client's timeout
    slow_burst: int = 0  # the next N data requests (per server) are slow
    slow_share: float = 0.0  # this share of data requests is slow (spread evenly, like rate_429)
    large_text_bytes: int = 0  # when > 0, one planted record per source carries a text of this many UTF-8 bytes
    oversized_bytes: int = 0  # when > 0, another planted record per source is padded past this many bytes
    lone_surrogate: bool = False  # one record per source carries "\ud800" (legal JSON) in its text
    duplicate_id: bool = False  # Jira serves one incident under the id of another (a different payload)
    html_answer: bool = False  # data requests answer 200 with an HTML page (an SSO login, maintenance)
    servers: tuple[str, ...] = SERVERS

    def validate(self) -> None:
        if self.rate_limit not in RATE_LIMIT_MODES:
            raise ValueError(f"rate_limit must be one of {RATE_LIMIT_MODES}, not {self.rate_limit!r}")
        if not 0.0 <= self.rate_429 <= 1.0:
            raise ValueError("rate_429 must be within [0, 1]")
        if not 0.0 <= self.slow_share <= 1.0:
            raise ValueError("slow_share must be within [0, 1]")
        for name in ("latency_ms", "slow_burst", "slow_ms", "large_text_bytes", "oversized_bytes"):
            if int(getattr(self, name)) < 0:
                raise ValueError(f"{name} must be >= 0")
        unknown = set(self.servers) - set(SERVERS)
        if unknown:
            raise ValueError(f"unknown servers {sorted(unknown)}")
        if set(self.rate_limit_speedup) - set(SERVERS) or any(
                not float(v) > 0 for v in self.rate_limit_speedup.values()):
            raise ValueError(f"rate_limit_speedup must map servers {SERVERS} to factors > 0")

    def to_dict(self) -> dict:
        d = {f.name: getattr(self, f.name) for f in fields(self)}
        d["servers"] = list(self.servers)
        d["rate_limit_speedup"] = dict(self.rate_limit_speedup)
        return d


@dataclass
class TokenBucket:
    capacity: float
    rate: float  # tokens per second
    tokens: float = -1.0
    stamp: float = 0.0

    def take(self, now: float) -> float:
        """Take one token; returns 0 when allowed, else the seconds until one is available."""
        if self.tokens < 0:
            self.tokens, self.stamp = self.capacity, now
        self.tokens = min(self.capacity, self.tokens + (now - self.stamp) * self.rate)
        self.stamp = now
        if self.tokens >= 1.0:
            self.tokens -= 1.0
            return 0.0
        return (1.0 - self.tokens) / self.rate


# Published limits: (capacity, tokens per second) per limiter family.
JIRA_BURST = (10.0, 10.0)  # ~10 requests/s per endpoint family (API-token traffic: burst limits only)
NOTION_AVERAGE = (6.0, 3.0)  # 3 requests/s on average, small bursts
SLACK_TIERS: dict[str, float] = {  # requests per minute, per method
    "conversations.history": 50, "conversations.replies": 50, "conversations.list": 20, "users.list": 20,
    "chat.postMessage": 60, "chat.update": 50, "auth.test": 100, "conversations.info": 50,
}
SLACK_NON_MARKETPLACE = ("conversations.history", "conversations.replies")
NON_MARKETPLACE_WINDOW_S = 60.0
NON_MARKETPLACE_LIMIT = 15


def published_limit(server: str, family: str) -> tuple[float, float]:
    """The bucket ``rate_limit="published"`` puts in front of one limiter family: (capacity, tokens
    per second), before any ``rate_limit_speedup``. Notion has one bucket for every request."""
    if server == "jira":
        return JIRA_BURST
    if server == "notion":
        return NOTION_AVERAGE
    per_min = SLACK_TIERS.get(family, 50)
    return float(per_min), per_min / 60.0


@dataclass(frozen=True)
class Injected:
    status: int  # 429 or 503
    retry_after: int | None


class FaultInjector:
    """Decides, per data request, whether to inject a fault. Thread-safe."""

    def __init__(self, faults: Faults | None = None, clock=time.monotonic) -> None:
        self.faults = faults or Faults()
        self.faults.validate()
        self._clock = clock
        self._lock = threading.Lock()
        self._acc: dict[str, float] = {}
        self._burst: dict[str, int] = {s: self.faults.burst_5xx for s in SERVERS}
        self._slow: dict[str, int] = {s: self.faults.slow_burst for s in SERVERS}
        self._slow_acc: dict[str, float] = {}
        self._buckets: dict[tuple[str, str], TokenBucket] = {}
        self._last_call: dict[str, float] = {}

    def set(self, **knobs: object) -> Faults:
        names = {f.name for f in fields(Faults)}
        unknown = set(knobs) - names
        if unknown:
            raise ValueError(f"unknown fault knobs {sorted(unknown)}")
        with self._lock:
            candidate = Faults(**{**self.faults.to_dict(), **knobs})  # type: ignore[arg-type]
            candidate.servers = tuple(candidate.servers)
            candidate.validate()
            for name in names:
                setattr(self.faults, name, getattr(candidate, name))
            if "burst_5xx" in knobs:
                self._burst = {s: self.faults.burst_5xx for s in SERVERS}
            if "slow_burst" in knobs:
                self._slow = {s: self.faults.slow_burst for s in SERVERS}
            if "slow_share" in knobs:
                self._slow_acc.clear()
            if "rate_limit" in knobs or "rate_limit_speedup" in knobs:
                self._buckets.clear()
                self._last_call.clear()
            if "rate_429" in knobs:
                self._acc.clear()
        return self.faults

    def active(self, server: str) -> bool:
        return server in self.faults.servers

    def html_answer(self, server: str) -> bool:
        """Whether this server answers data requests with an HTML page (status 200) instead of the API."""
        return self.faults.html_answer and self.active(server)

    def latency_s(self, server: str) -> float:
        return self.faults.latency_ms / 1000.0 if self.active(server) else 0.0

    def delay_s(self, server: str) -> float:
        """How long to sleep before answering this data request: ``latency_ms``, plus ``slow_ms``
        when the request is slow (while the server's ``slow_burst`` lasts, then ``slow_share``)."""
        if not self.active(server):
            return 0.0
        f = self.faults
        slow = False
        with self._lock:
            if self._slow.get(server, 0) > 0:
                self._slow[server] -= 1
                slow = True
            elif f.slow_share > 0:
                acc = self._slow_acc.get(server, 0.0) + f.slow_share
                slow = acc >= 1.0 - 1e-9
                self._slow_acc[server] = acc - 1.0 if slow else acc
        return f.latency_ms / 1000.0 + (f.slow_ms / 1000.0 if slow else 0.0)

    def decide(self, server: str, family: str) -> Injected | None:
        """``family`` is the limiter family: Jira endpoint family, Slack method name."""
        if not self.active(server):
            return None
        f = self.faults
        with self._lock:
            if self._burst.get(server, 0) > 0:
                self._burst[server] -= 1
                return Injected(503, f.retry_after_5xx or None)
            if f.rate_429 > 0:
                acc = self._acc.get(server, 0.0) + f.rate_429
                if acc >= 1.0 - 1e-9:
                    self._acc[server] = acc - 1.0
                    return Injected(429, max(1, int(f.retry_after_s)))
                self._acc[server] = acc
            if f.rate_limit == "off":
                return None
            now = self._clock()
            if f.rate_limit == "slack_non_marketplace" and server == "slack" and family in SLACK_NON_MARKETPLACE:
                last = self._last_call.get(family)
                window = NON_MARKETPLACE_WINDOW_S / float(f.rate_limit_speedup.get("slack", 1.0))
                if last is not None and now - last < window:
                    return Injected(429, max(1, math.ceil(window - (now - last))))
                self._last_call[family] = now
                return None
            wait = self._bucket(server, family).take(now)
            if wait > 0:
                return Injected(429, max(1, math.ceil(wait)))
        return None

    def _bucket(self, server: str, family: str) -> TokenBucket:
        key = (server, family if server != "notion" else "*")
        b = self._buckets.get(key)
        if b is None:
            cap, rate = published_limit(server, family)
            b = self._buckets[key] = TokenBucket(cap, rate * float(self.faults.rate_limit_speedup.get(server, 1.0)))
        return b

    def history_limit_cap(self) -> int | None:
        """Slack non-marketplace mode caps conversations.history/replies ``limit`` to 15."""
        if self.faults.rate_limit == "slack_non_marketplace" and self.active("slack"):
            return NON_MARKETPLACE_LIMIT
        return None
