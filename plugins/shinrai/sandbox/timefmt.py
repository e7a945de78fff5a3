"""Time helpers: the sandbox keeps instants as epoch seconds (float) and formats them per API."""

from __future__ import annotations

import math
from datetime import UTC, date, datetime, timedelta, timezone

JST = timezone(timedelta(hours=9), "JST")


def epoch(dt: datetime) -> float:
    return dt.timestamp()


def at_midnight_jst(d: date) -> float:
    return datetime(d.year, d.month, d.day, tzinfo=JST).timestamp()


def to_jst(t: float) -> datetime:
    return datetime.fromtimestamp(t, JST)


def jira_ts(t: float) -> str:
    """Jira Cloud style: ``2024-05-01T10:02:34.255+0900``."""
    dt = to_jst(t)
    return dt.strftime("%Y-%m-%dT%H:%M:%S.") + f"{dt.microsecond // 1000:03d}+0900"


def jst_date(t: float) -> str:
    return to_jst(t).date().isoformat()


def notion_ts(t: float) -> str:
    """Notion page timestamp: UTC, rounded down to the minute, ``...:00.000Z``."""
    dt = datetime.fromtimestamp(math.floor(t / 60) * 60, UTC)
    return dt.strftime("%Y-%m-%dT%H:%M:00.000Z")


def floor_minute(t: float) -> float:
    return math.floor(t / 60) * 60.0


def notion_datetime_jst(t: float) -> str:
    """A Notion date property start with an explicit +09:00 offset."""
    dt = to_jst(t)
    return dt.strftime("%Y-%m-%dT%H:%M:%S.") + f"{dt.microsecond // 1000:03d}+09:00"


def slack_ts(t: float) -> str:
    """Slack ``epoch.micro`` string."""
    micros = round(t * 1_000_000)
    return f"{micros // 1_000_000}.{micros % 1_000_000:06d}"


def slack_ts_float(ts: str) -> float:
    return float(ts)


def years_before(d: date, years: int) -> date:
    try:
        return d.replace(year=d.year - years)
    except ValueError:  # 29 February
        return d.replace(year=d.year - years, day=28)


def months_before(d: date, months: int) -> date:
    """First day of the month ``months`` before ``d``'s month."""
    idx = d.year * 12 + (d.month - 1) - months
    return date(idx // 12, idx % 12 + 1, 1)


def parse_iso(value: str) -> float:
    """Parse an ISO 8601 instant (``Z`` or offset; date-only is midnight UTC)."""
    v = value.strip()
    if v.endswith("Z"):
        v = v[:-1] + "+00:00"
    dt = datetime.fromisoformat(v)
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    return dt.timestamp()
