"""What a run's requests cost under the vendors' real published rate limits, in hours, and how big
its landing files are against the JSON the sources served.

The limits are the sandbox's emulation of the published ones (``shinrai.sandbox.faults``, from
design/API_NOTES.md §1.10, §2.5, §3.4), here uncompressed: Jira ~10 requests a second per endpoint
family (API-token traffic: burst limits only), Notion 3 a second on average for every request,
Slack per method and minute (Tier 3: 50 for conversations.history and .replies, Tier 2: 20 for
conversations.list and users.list). A non-Marketplace commercial Slack app (created after May 2025)
gets 1 request a minute for history and replies, with at most 15 messages a page, so those pages
multiply: they are counted again from what the run read (:func:`slack_limit15_pages`).

Hours per source are given two ways: ``serial_h`` (every family's requests one after another: the
sum of count / rate, what a one-call-at-a-time extractor needs whatever the order of its calls) and
``parallel_h`` (the slowest family alone: the floor when the families' buckets are drained at once).
The goals use ``serial_h``; burst allowances (at most a few dozen requests) are left out.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from typing import Any

import duckdb

from shinrai.bench.minimum import history_pages
from shinrai.sandbox.faults import (
    NON_MARKETPLACE_LIMIT,
    NON_MARKETPLACE_WINDOW_S,
    SLACK_NON_MARKETPLACE,
    published_limit,
)

SOURCES = ("jira", "notion", "slack")


def per_second(source: str, family: str, marketplace: bool = True) -> float:
    """The real sustained rate of one limiter family, in requests a second."""
    if source == "slack" and not marketplace and family in SLACK_NON_MARKETPLACE:
        return 1.0 / NON_MARKETPLACE_WINDOW_S
    return published_limit(source, family)[1]


def by_source(streams: Mapping[str, Mapping[str, Any]], key: str = "made_by_family") -> dict[str, Counter]:
    """Requests per source and limiter family, summed over the source's streams (``<source>.<stream>``)."""
    out: dict[str, Counter] = {s: Counter() for s in SOURCES}
    for stream, s in streams.items():
        out.setdefault(stream.split(".", 1)[0], Counter()).update(s.get(key) or {})
    return out


def hours(source: str, families: Mapping[str, int], marketplace: bool = True) -> dict[str, Any]:
    """Hours the requests of one source take at the real limits: requests and hours per family,
    ``serial_h`` and ``parallel_h``."""
    per_family = {f: n / per_second(source, f, marketplace) / 3600 for f, n in families.items() if n}
    return {"requests": int(sum(families.values())),
            "requests_by_family": {f: int(n) for f, n in families.items() if n},
            "by_family": {f: round(h, 4) for f, h in per_family.items()},
            "serial_h": round(sum(per_family.values()), 4),
            "parallel_h": round(max(per_family.values(), default=0.0), 4)}


def under_limits(requests: Mapping[str, Any]) -> dict[str, Any]:
    """One run's requests (``Bench.requests_vs_minimum``'s result) at the real limits, per source;
    Slack both as a Marketplace (or internal) app and as a non-Marketplace commercial app."""
    made = by_source(requests.get("streams", {}))
    out: dict[str, Any] = {s: hours(s, made.get(s, Counter())) for s in ("jira", "notion")}
    slack = made.get("slack", Counter())
    out["slack"] = hours("slack", slack)
    limit15 = Counter(slack)
    pages = requests.get("slack_limit15_pages")
    if pages is not None:  # history and replies re-paged at 15 messages a page
        for family in SLACK_NON_MARKETPLACE:
            limit15[family] = int(pages.get(family, 0))
    out["slack_non_marketplace"] = hours("slack", +limit15, marketplace=False)
    return out


def slack_limit15_pages(con: duckdb.DuckDBPyConnection, reads: Iterable[Any],
                        page: int = NON_MARKETPLACE_LIMIT) -> dict[str, int]:
    """The conversations.history and .replies pages the channels a run read (``ChannelRead``s: whole
    or from ``oldest``) take at ``page`` messages a page: history pages of the top-level messages in
    the window, at least one per channel; replies pages of every thread with activity in the window,
    the parent repeated on each page (so ``page - 1`` replies a page). The same counting as
    ``minimum.slack_minimum`` (one function) at Slack's non-Marketplace page size."""
    history, replies = history_pages(con, reads, page)
    return {"conversations.history": history, "conversations.replies": replies}


def served_bytes(records: Iterable[Mapping[str, Any]]) -> dict[str, int]:
    """Response bytes per source (the JSON the sandbox's servers sent, every status)."""
    out: Counter = Counter({s: 0 for s in SOURCES})
    for r in records:
        out[r["server"]] += int(r.get("bytes") or 0)
    return dict(out)


def landing_vs_json(landing_bytes: Mapping[str, int], json_bytes: Mapping[str, int]) -> dict[str, Any]:
    """Per source: the landing file's MiB against the MiB of JSON served, and their ratio."""
    out = {}
    for source in SOURCES:
        landed, served = landing_bytes.get(source), json_bytes.get(source)
        if landed is None or not served:
            continue
        out[source] = {"landing_bytes": landed, "json_bytes": served, "landing_mib": round(landed / 2**20, 2),
                       "json_mib": round(served / 2**20, 2), "ratio": round(landed / served, 3)}
    return out
