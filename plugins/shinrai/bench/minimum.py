"""The fewest requests any extractor could make for what a run had to read, per stream and per
rate-limiter family, and which stream each request the sandbox recorded belongs to.

Computed from what landed (the landing files) and the servers' page sizes, never from the requests
made, so the ratio of the two measures paging efficiency. The integration tests and the benchmark
share it. A run "had to read" a stream's window (Jira and Notion: records updated since the
watermark minus the lookback; Slack: the channels the extractor's policy says are due, which leaves
out archived channels already read whole after their archival).

Families are those the sandbox's emulated limits bucket by: Jira endpoint families (``search``,
``issue``, ``project``, ...), one bucket for all of Notion (``*``), Slack methods.
"""

from __future__ import annotations

import json
import math
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import duckdb

from shinrai.config import JIRA_STREAMS, Config

# Page sizes the servers allow (and the extractors ask for)
JIRA_SEARCH_PAGE = 100  # search/jql with fields
JIRA_ID_PAGE = 5000  # search/jql, id only (the deletion sweep)
JIRA_CHANGELOG_PAGE = 100  # /issue/{key}/changelog
JIRA_EMBEDDED_HISTORIES = 40  # search embeds this many histories; more means a changelog fetch
JIRA_USERS_PAGE = 1000
NOTION_PAGE = 100
SLACK_HISTORY_PAGE = 999
SLACK_CHANNELS_PAGE = 1000
SLACK_USERS_PAGE = 200  # users.list: Slack recommends no more than 200 a page

Minimum = dict[str, Counter]  # "<source>.<stream>" -> {family: requests}


def _pages(n: int, size: int, at_least: int = 1) -> int:
    return max(at_least, math.ceil(n / size))


def _scalar(con: duckdb.DuckDBPyConnection, sql: str, params: list[Any] | None = None) -> int:
    row = con.execute(sql, params or []).fetchone()
    return int(row[0] or 0) if row else 0


def _tables(con: duckdb.DuckDBPyConnection) -> set[str]:
    return {r[0] for r in con.execute(
        "select table_name from information_schema.tables where table_schema = 'raw'").fetchall()}


# -- Jira --------------------------------------------------------------------------------------------


def _sweep_pages(con: duckdb.DuckDBPyConnection, stream: str, swept_before: datetime | None,
                 n_all: int, forced_all: int) -> int:
    """The deletion sweep's id pages for one stream in the run just made: none when its sweep cursor
    did not move (no id range was due); else one listing per run of adjacent ranges the run listed
    (the ranges stamped with the cursor's new time, :class:`shinrai.extract.jira.SweepPlan`), each
    at least one page. A first sweep, or a plan without ranges, lists the whole stream."""
    from shinrai.extract.jira import SweepPlan

    row = con.execute("select watermark, in_progress from state.cursors where stream = ?",
                      [f"sweep:{stream}"]).fetchone() if "cursors" in _state_tables(con) else None
    if row is None or swept_before is None:
        return _pages(n_all, JIRA_ID_PAGE) + forced_all
    watermark, state = row
    if watermark is not None and swept_before is not None and watermark <= swept_before:
        return 0
    state = json.loads(state) if isinstance(state, str) else (state or {})
    bounds = [int(b) for b in state.get("bounds") or []]
    swept = list(state.get("swept") or [])
    latest = max((s for s in swept if s), default=None)
    due = [i for i, s in enumerate(swept) if s == latest]
    if not bounds or len(due) == len(swept):
        return _pages(n_all, JIRA_ID_PAGE) + forced_all
    plan = SweepPlan(bounds, swept, "")
    pages = 0
    for low, high in plan.listings(due):
        n = _scalar(con, f"select count(*) from raw.{stream} where not is_deleted"
                         f"{'' if low is None else f' and source_id::bigint > {low}'}"
                         f"{'' if high is None else f' and source_id::bigint <= {high}'}")
        pages += _pages(n, JIRA_ID_PAGE)
    return pages


def _state_tables(con: duckdb.DuckDBPyConnection) -> set[str]:
    return {r[0] for r in con.execute(
        "select table_name from information_schema.tables where table_schema = 'state'").fetchall()}


def jira_minimum(con: duckdb.DuckDBPyConnection, duplicate_keys: Iterable[str], projects: int,
                 since: Mapping[str, datetime | None] | None = None,
                 swept_before: Mapping[str, datetime | None] | None = None) -> Minimum:
    """``since``: per issue stream, the start of the window the run read (None or missing: all of it,
    a full load). ``duplicate_keys``: issues the server serves twice (last of one page and first of
    the next), which forces one extra page break in every search that contains them.
    ``swept_before``: per stream, its deletion-sweep cursor before the run (None or missing: the run
    swept the whole stream, as a first run does); the sweep lists only the id ranges due."""
    since = since or {}
    swept_before = swept_before or {}
    duplicates = list(duplicate_keys)
    out: Minimum = {}
    tables = _tables(con)
    for stream in JIRA_STREAMS:
        c: Counter = Counter()
        if stream not in tables:
            out[f"jira.{stream}"] = c
            continue
        start = since.get(stream)
        window = "not is_deleted" + (" and source_updated_at >= ?" if start else "")
        params = [start] if start else []
        n_window = _scalar(con, f"select count(*) from raw.{stream} where {window}", params)
        n_all = _scalar(con, f"select count(*) from raw.{stream} where not is_deleted")
        forced_window = forced_all = 0
        if duplicates:
            keys = duplicates
            forced_all = _scalar(con, f"select count(*) from raw.{stream} where not is_deleted and "
                                      "source_key in (select unnest(?::varchar[]))", [keys])
            forced_window = _scalar(con, f"select count(*) from raw.{stream} where {window} and "
                                         "source_key in (select unnest(?::varchar[]))", [*params, keys])
        c["search"] += _pages(n_window, JIRA_SEARCH_PAGE) + forced_window
        c["search"] += _sweep_pages(con, stream, swept_before.get(stream), n_all, forced_all)  # id-only
        if "changelogs" in tables:
            c["issue"] += _scalar(
                con,
                f"""select coalesce(sum(ceil(json_array_length(c.payload->'histories') / {JIRA_CHANGELOG_PAGE})), 0)
                    from raw.changelogs c join raw.{stream} i using (source_id)
                    where json_array_length(c.payload->'histories') > {JIRA_EMBEDDED_HISTORIES}
                      and not i.is_deleted {"and i.source_updated_at >= ?" if start else ""}""",
                params,
            )
        out[f"jira.{stream}"] = c
    out["jira.versions"] = Counter({"project": projects})  # one listing per release project
    users = _scalar(con, "select count(*) from raw.users where not is_deleted") if "users" in tables else 0
    out["jira.users"] = Counter({"users": _pages(users, JIRA_USERS_PAGE)})
    out["jira.setup"] = Counter({"serverInfo": 1, "field": 1})  # the client's serverInfo, /field
    return out


def minimum_jira_requests(con: duckdb.DuckDBPyConnection, duplicate_keys: Iterable[str], projects: int) -> int:
    """The fewest requests any extractor could make for a full Jira load (all streams together)."""
    return sum(sum(c.values()) for c in jira_minimum(con, duplicate_keys, projects).values())


def duplicate_keys(manifest: Mapping[str, Any]) -> list[str]:
    """The issues the sandbox serves twice across a page break (defect ``duplicate_across_pages``)."""
    return [d["key"] for d in manifest.get("defects", []) if d.get("kind") == "duplicate_across_pages"]


# -- Notion ------------------------------------------------------------------------------------------


def notion_minimum(con: duckdb.DuckDBPyConnection, streams: Iterable[str],
                   since: Mapping[str, datetime | None] | None = None) -> Minimum:
    """Per stream: the database and each data source retrieved once, its window queried, its trash
    listed; ``users`` paged."""
    since = since or {}
    out: Minimum = {}
    tables = _tables(con)
    for stream in streams:
        c: Counter = Counter()
        c["*"] += 1  # databases.retrieve
        if stream in tables:
            sources = [r[0] for r in con.execute(f"select distinct source_key from raw.{stream}").fetchall()]
            for ds in sources or [None]:
                start = since.get(f"{stream}:{ds}") or since.get(stream)
                where = "source_key = ? and not is_deleted" + (" and source_updated_at >= ?" if start else "")
                n = _scalar(con, f"select count(*) from raw.{stream} where {where}", [ds, *([start] if start else [])])
                trashed = _scalar(con, f"select count(*) from raw.{stream} where source_key = ? and is_deleted", [ds])
                c["*"] += 1 + _pages(n, NOTION_PAGE) + _pages(trashed, NOTION_PAGE)  # retrieve, query, trash
        else:
            c["*"] += 3
        out[f"notion.{stream}"] = c
    users = _scalar(con, "select count(*) from raw.users where not is_deleted") if "users" in tables else 0
    out["notion.users"] = Counter({"*": _pages(users, NOTION_PAGE)})
    return out


# -- Slack -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ChannelRead:
    """A channel the run had to read: whole (``oldest`` None) or from ``oldest`` (epoch seconds)."""

    channel_id: str
    oldest: float | None = None


def slack_minimum(con: duckdb.DuckDBPyConnection, reads: Iterable[ChannelRead]) -> Minimum:
    """users.list and conversations.list paged, then for each channel read its history pages and
    the replies pages of every thread with activity in the window."""
    tables = _tables(con)
    users = _scalar(con, "select count(*) from raw.users where not is_deleted") if "users" in tables else 0
    channels = _scalar(con, "select count(*) from raw.channels where not is_deleted") if "channels" in tables else 0
    out: Minimum = {
        "slack.users": Counter({"users.list": _pages(users, SLACK_USERS_PAGE)}),
        "slack.channels": Counter({"conversations.list": _pages(channels, SLACK_CHANNELS_PAGE)}),
    }
    history, replies = history_pages(con, reads, SLACK_HISTORY_PAGE)
    c: Counter = Counter({"conversations.history": history, "conversations.replies": replies} if history else {})
    out["slack.messages"] = c
    return out


def history_pages(con: duckdb.DuckDBPyConnection, reads: Iterable[ChannelRead], page: int) -> tuple[int, int]:
    """The conversations.history and .replies pages the channels read (whole or from ``oldest``)
    take at ``page`` messages a page: history pages of the top-level messages in the window, at
    least one per channel; replies pages of every thread with activity in the window, the parent
    repeated on each page (so ``page - 1`` replies a page). Without a messages table: one history
    page a channel."""
    reads = list(reads)
    if not reads:
        return 0, 0
    if "messages" not in _tables(con):
        return len(reads), 0
    con.execute("create or replace temp table bench_reads (channel_id varchar, oldest double)")
    con.execute("insert into bench_reads select unnest(?::varchar[]), unnest(?::double[])",
                [[r.channel_id for r in reads], [r.oldest for r in reads]])
    history, replies = con.execute(
        """
        with top as (
            select m.source_key as channel_id, cast((m.payload->>'ts') as double) as ts,
                coalesce(cast((m.payload->>'reply_count') as integer), 0) as reply_count,
                cast(coalesce((m.payload->>'latest_reply'), (m.payload->>'ts')) as double) as latest_reply
            from raw.messages m
            where not m.is_deleted
              and ((m.payload->>'thread_ts') is null or (m.payload->>'thread_ts') = (m.payload->>'ts'))
        ), per_channel as (
            select r.channel_id,
                count(t.ts) filter (where r.oldest is null or t.ts >= r.oldest) as top_n,
                coalesce(sum(ceil(t.reply_count / (? - 1))) filter (
                    where t.reply_count > 0 and (r.oldest is null or t.latest_reply >= r.oldest)), 0) as replies
            from bench_reads r left join top t using (channel_id)
            group by r.channel_id
        )
        select sum(greatest(1, ceil(top_n / ?))), sum(replies) from per_channel
        """, [page, page]).fetchone()
    con.execute("drop table bench_reads")
    return int(history or 0), int(replies or 0)


def slack_reads(config: Config, con: duckdb.DuckDBPyConnection, cursors: Mapping[str, Any] | None,
                now: datetime) -> list[ChannelRead]:
    """The channels a run must read, by the extractor's own policy (``cursors``: the channel cursors
    as they were before the run, None for a full load), and from where. An archived channel read
    whole after its archival is not among them (it can no longer change); one archived or
    unarchived since its last full read is, whole."""
    import json as _json

    from shinrai.extract.slack import SlackExtractor
    from shinrai.load.landing import Cursor

    extractor = SlackExtractor(config, hook=None, store=None, now=now)  # type: ignore[arg-type]
    channels = [_json.loads(p) for (p,) in con.execute(
        "select payload from raw.channels where not is_deleted").fetchall()]
    reads = []
    lookback = config.slack_lookback_days * 86400
    for channel in extractor.wanted_channels(channels):
        cursor = (cursors or {}).get(f"messages:{channel['id']}") or Cursor()
        if cursors is not None and not extractor._needs_read(channel, cursor):
            continue
        whole = cursors is None or extractor.full_read_due(channel, cursor)
        oldest = None if whole else max(0.0, cursor.watermark.timestamp() - lookback)
        reads.append(ChannelRead(channel["id"], oldest))
    return reads


# -- what was made -----------------------------------------------------------------------------------


def classify(records: Iterable[Mapping[str, Any]], config: Config,
             jira_keys: Mapping[str, str], notion_sources: Mapping[str, str]) -> dict[str, Counter]:
    """Requests per ``<source>.<stream>`` and family. ``jira_keys``: issue key -> stream (for
    changelog fetches); ``notion_sources``: database or data source id -> stream."""
    from shinrai.hooks.pacing import jira_family

    made: dict[str, Counter] = {}

    def add(stream: str, family: str) -> None:
        made.setdefault(stream, Counter())[family] += 1

    jql = {stream: f"({q})" for stream, q in config.jira_jql.items()}
    for r in records:
        server, path, query = r["server"], r["path"], r.get("query") or {}
        if server == "jira":
            family = jira_family(path)
            if path.endswith("/search/jql"):
                text = str(query.get("jql") or "")
                stream = next((s for s, q in jql.items() if q in text), "other")
                add(f"jira.{stream}", family)
            elif path.endswith("/changelog"):
                key = path.rstrip("/").split("/")[-2]
                add(f"jira.{jira_keys.get(key, 'other')}", family)
            elif "/versions" in path:
                add("jira.versions", family)
            elif family == "users" or path.endswith("/users/search"):
                add("jira.users", family)
            else:
                add("jira.setup", family)
        elif server == "notion":
            parts = [p for p in path.split("/") if p]
            if len(parts) >= 3 and parts[1] in ("databases", "data_sources"):
                add(f"notion.{notion_sources.get(parts[2], 'other')}", "*")
            elif len(parts) >= 2 and parts[1] == "users":
                add("notion.users", "*")
            else:
                add("notion.other", "*")
        elif server == "slack":
            method = path.rsplit("/", 1)[-1]
            stream = {"users.list": "users", "conversations.list": "channels", "conversations.history": "messages",
                      "conversations.replies": "messages"}.get(method, "other")
            add(f"slack.{stream}", method)
    return made


def jira_keys(con: duckdb.DuckDBPyConnection) -> dict[str, str]:
    if "changelogs" not in _tables(con):
        return {}
    return dict(con.execute("select (payload->>'issue_key'), (payload->>'stream') from raw.changelogs").fetchall())


def notion_sources(con: duckdb.DuckDBPyConnection, config: Config, streams: Iterable[str]) -> dict[str, str]:
    out = {config.risk_records.database_id: "risk_records", config.release_calendar.database_id: "release_calendar"}
    tables = _tables(con)
    for stream in streams:
        if stream in tables:
            rows = con.execute(f"select distinct source_key from raw.{stream}").fetchall()
            out.update({ds: stream for (ds,) in rows})
    return out
