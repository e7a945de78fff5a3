"""Notion streams: System Risk Records and the release calendar (data sources), and users.

API 2025-09-03: a database is a container of data sources, so each configured database is
resolved to its data sources, and each data source is queried with a ``last_edited_time``
``on_or_after`` filter (the watermark minus a lookback: the time is rounded to the minute),
sorted ascending, 100 pages a request. Trashed pages are invisible to normal queries; a separate
``in_trash`` query finds them and they are marked deleted.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from shinrai.config import Config, ConfigError, NotionDatabase, did_you_mean
from shinrai.extract.notion_types import NEEDS, assemble, check_property, check_value, is_truncated
from shinrai.extract.window import window_cursor_key
from shinrai.hooks.notion import NotionHook
from shinrai.hooks.retry import SourceUnavailable
from shinrai.load.landing import Cursor, LandingStore, Quarantined, Record

log = logging.getLogger(__name__)
PAGE_SIZE = 100  # Notion's maximum
DATE_TYPES = ("date",)
# a related page's cached title (raw.page_titles) is read again once it is this old
TITLE_MAX_AGE = timedelta(hours=20)


def parse_notion_time(value: str) -> datetime:
    parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def page_title(page: dict[str, Any]) -> str | None:
    """A page's title: the plain text of its title-typed property."""
    for value in (page.get("properties") or {}).values():
        if isinstance(value, dict) and value.get("type") == "title":
            return "".join(str(t.get("plain_text") or "") for t in value.get("title") or []) or None
    return None


@dataclass(frozen=True)
class DataSource:
    stream: str
    config_key: str
    data_source_id: str
    properties: dict[str, dict[str, Any]]  # logical -> {"name", "id", "type", "reader", "part", "pick"}


def validate_page(page: Any, source: DataSource) -> str | None:
    if not isinstance(page, dict):
        return "page is not a JSON object"
    for key in ("id", "last_edited_time", "properties"):
        if not page.get(key):
            return f"missing {key!r}"
    try:
        parse_notion_time(page["last_edited_time"])
    except (TypeError, ValueError):
        return f"last_edited_time {page['last_edited_time']!r} is not a timestamp"
    props = page["properties"]
    if not isinstance(props, dict):
        return "'properties' is not an object"
    for logical, prop in source.properties.items():
        value = props.get(prop["name"])
        if value is None:
            return f"property {prop['name']!r} ({logical}) is missing"
        if not isinstance(value, dict):
            return f"property {prop['name']!r} ({logical}) is not an object"
        if prop["type"] in DATE_TYPES and value.get("date"):
            if not isinstance(value["date"], dict):
                return f"property {prop['name']!r} ({logical}) date {value['date']!r} is not an object"
            for part in ("start", "end"):
                given = value["date"].get(part)
                if given is None and part == "end":
                    continue
                try:
                    datetime.fromisoformat(str(given).replace("Z", "+00:00"))
                except ValueError:
                    return f"property {prop['name']!r} ({logical}) date {part} {given!r} is not a date"
    return None


class NotionExtractor:
    STREAMS = ("risk_records", "release_calendar")

    def __init__(self, config: Config, hook: NotionHook, store: LandingStore):
        self.config = config
        self.hook = hook
        self.store = store

    def _database(self, stream: str) -> NotionDatabase:
        return {"risk_records": self.config.risk_records, "release_calendar": self.config.release_calendar}[stream]

    def resolve(self, stream: str) -> list[DataSource]:
        """Find the database's data sources and check every configured property exists."""
        db = self._database(stream)
        key = f"notion.{stream}"
        client = self.hook.client
        database = self.hook.call(lambda: client.databases.retrieve(database_id=db.database_id))
        refs = database.get("data_sources") or []
        if not refs:
            raise ConfigError(f"{key}.database_id", f"database {db.database_id} has no data sources")
        sources = []
        for ref in refs:
            schema = self.hook.call(lambda ref=ref: client.data_sources.retrieve(data_source_id=ref["id"]))
            available = schema.get("properties") or {}
            props = {}
            for logical, mapped in db.properties.items():
                name = mapped.name
                if name not in available:
                    raise ConfigError(
                        f"{key}.properties.{logical}",
                        f"data source {ref.get('name') or ref['id']!r} has no property named {name!r}"
                        f"{did_you_mean(name, list(available))}",
                    )
                ptype = check_property(f"{key}.properties.{logical}", logical, name, available[name], mapped.part)
                props[logical] = {"name": name, "id": available[name].get("id", ""), "type": ptype,
                                  "reader": NEEDS[logical], "part": mapped.part or "start", "pick": mapped.pick}
            sources.append(DataSource(stream, key, ref["id"], props))
        self.store.replace_property_map(
            stream, [(logical, p["name"], p["id"], p["type"], p["reader"], p["part"], p["pick"])
                     for logical, p in sources[0].properties.items()]
        )
        return sources

    def run(self, stream: str, run_id: str, *, full_refresh: bool = False,
            window: tuple[datetime, datetime] | None = None) -> dict[str, int]:
        """Land each data source's pages edited since its watermark (all of them with ``full_refresh``).

        ``window`` (start, end) instead re-reads the pages edited in ``[start - lookback, end)`` (a
        backfill), under its own cursor (``<stream>:<data source>@<start>/<end>``); the data source's
        watermark is left alone.
        """
        stats = {"pages": 0, "seen": 0, "changed": 0, "quarantined": 0, "deleted": 0, "related_titles": 0}
        for source in self.resolve(stream):
            related: set[str] = set()
            self._query(source, run_id, full_refresh, stats, window, related)
            stats["deleted"] += self._sweep_trash(source, run_id)
            stats["related_titles"] += self._related_titles(related)
        log.info("notion %s: %s", stream, stats)
        return stats

    def _query(self, source: DataSource, run_id: str, full_refresh: bool, stats: dict[str, int],
               window: tuple[datetime, datetime] | None = None, related: set[str] | None = None) -> None:
        cursor_key = f"{source.stream}:{source.data_source_id}"
        lookback = timedelta(minutes=self.config.notion_lookback_minutes)
        since = until = None
        if window is not None:
            cursor_key = window_cursor_key(cursor_key, window)
            since, until = window[0] - lookback, window[1]
        cursor = Cursor() if full_refresh and window is None else self.store.cursor(cursor_key)
        if cursor.watermark and window is None:
            since = cursor.watermark - lookback
        start_cursor = None
        max_edited = cursor.watermark
        if cursor.in_progress.get("start_cursor"):
            start_cursor = cursor.in_progress["start_cursor"]
            since = datetime.fromisoformat(cursor.in_progress["since"]) if cursor.in_progress.get("since") else None
            if cursor.in_progress.get("max_edited"):
                max_edited = datetime.fromisoformat(cursor.in_progress["max_edited"])
        body: dict[str, Any] = {
            "sorts": [{"timestamp": "last_edited_time", "direction": "ascending"}],
            "page_size": PAGE_SIZE,
        }
        if since:
            body["filter"] = {
                "timestamp": "last_edited_time",
                "last_edited_time": {"on_or_after": since.astimezone(UTC).isoformat().replace("+00:00", "Z")},
            }
        if since and until:
            body["filter"] = {"and": [body["filter"], {
                "timestamp": "last_edited_time",
                "last_edited_time": {"before": until.astimezone(UTC).isoformat().replace("+00:00", "Z")},
            }]}
        client = self.hook.client
        while True:
            kwargs = dict(body, start_cursor=start_cursor) if start_cursor else body
            page = self.hook.call(
                lambda kwargs=kwargs: client.data_sources.query(data_source_id=source.data_source_id, **kwargs)
            )
            results = page.get("results") or []
            records, bad = [], []
            for item in results:
                reason = validate_page(item, source)
                if reason:
                    item_id = item.get("id") if isinstance(item, dict) else None
                    bad.append(Quarantined(item_id, reason, json.dumps(item, ensure_ascii=False)))
                    continue
                item = self._complete(item, source, related if related is not None else set())
                edited = parse_notion_time(item["last_edited_time"])
                max_edited = max(max_edited, edited) if max_edited else edited
                records.append(Record(item["id"], source.data_source_id, edited, item))
            next_cursor = page.get("next_cursor") if page.get("has_more") else None
            in_progress = (
                {"start_cursor": next_cursor, "since": since.isoformat() if since else None,
                 "max_edited": max_edited.isoformat() if max_edited else None}
                if next_cursor else {}
            )
            done = Cursor(watermark=cursor.watermark if next_cursor else max_edited, in_progress=in_progress)
            result = self.store.save_page(source.stream, records, bad, done, run_id, cursor_stream=cursor_key)
            stats["pages"] += 1
            stats["seen"] += len(results)
            stats["changed"] += result.inserted + result.updated
            stats["quarantined"] += result.quarantined
            if not next_cursor:
                break
            start_cursor = next_cursor

    def _complete(self, page: dict[str, Any], source: DataSource, related: set[str]) -> dict[str, Any]:
        """The page with every mapped property whole: a value the page object cut at 25 entries is read
        through the page-property endpoint; formula and rollup results are checked against the need;
        the ids of related pages (relations) are collected for their titles."""
        props = dict(page["properties"])
        for logical, prop in source.properties.items():
            value = props[prop["name"]]
            if is_truncated(value):
                value = assemble(value, self._property_pages(page["id"], prop["id"] or value.get("id")))
                props[prop["name"]] = value
            check_value(f"{source.config_key}.properties.{logical}", logical, prop["name"], value)
            if value.get("type") == "relation":
                related.update(r["id"] for r in value.get("relation") or [] if isinstance(r, dict) and r.get("id"))
        return {**page, "properties": props}

    def _property_pages(self, page_id: str, property_id: str) -> list[dict[str, Any]]:
        """Every page of ``GET /v1/pages/{page_id}/properties/{property_id}`` (paginated with start_cursor)."""
        client = self.hook.client
        pages, start_cursor = [], None
        while True:
            kwargs: dict[str, Any] = {"page_size": PAGE_SIZE}
            if start_cursor:
                kwargs["start_cursor"] = start_cursor
            page = self.hook.call(lambda kwargs=kwargs: client.pages.properties.retrieve(
                page_id=page_id, property_id=property_id, **kwargs))
            pages.append(page)
            start_cursor = page.get("next_cursor") if page.get("has_more") else None
            if not start_cursor:
                return pages

    def _related_titles(self, related: set[str]) -> int:
        """Cache the titles of related pages (raw.page_titles): those not held yet or older than
        :data:`TITLE_MAX_AGE`. Staging reads a relation's keys and categories from these titles.
        A related page the integration cannot read keeps no title (logged)."""
        fetched = self.store.page_titles_fetched()
        now = datetime.now(UTC)
        stale = {pid for pid, at in fetched.items() if at is None or now - at > TITLE_MAX_AGE}
        wanted = sorted((related - set(fetched)) | stale)
        client = self.hook.client
        rows, unreadable = [], []
        for page_id in wanted:
            try:
                page = self.hook.call(lambda page_id=page_id: client.pages.retrieve(page_id=page_id))
            except SourceUnavailable as exc:  # 404: a related page not shared with the integration
                if not exc.cause.startswith("HTTP 404"):
                    raise
                unreadable.append(page_id)
                continue
            rows.append((page_id, page_title(page), now))
        if unreadable:
            log.warning("notion: %d related pages cannot be read (not shared with the integration?); their "
                        "titles stay empty: %s", len(unreadable), ", ".join(unreadable[:10]))
        self.store.save_page_titles(rows)
        return len(rows)

    def _sweep_trash(self, source: DataSource, run_id: str) -> int:
        """Pages moved to the trash: soft-delete them (queries do not return them otherwise)."""
        client = self.hook.client
        trashed: list[str] = []
        start_cursor = None
        while True:
            kwargs: dict[str, Any] = {"in_trash": True, "page_size": PAGE_SIZE}
            if start_cursor:
                kwargs["start_cursor"] = start_cursor
            page = self.hook.call(
                lambda kwargs=kwargs: client.data_sources.query(data_source_id=source.data_source_id, **kwargs)
            )
            trashed += [r["id"] for r in page.get("results") or [] if isinstance(r, dict) and r.get("in_trash")]
            start_cursor = page.get("next_cursor") if page.get("has_more") else None
            if not start_cursor:
                break
        # guarded per data source: a database trashed wholesale needs the run's confirmation
        return self.store.mark_deleted(source.stream, trashed, run_id, scope_key=source.data_source_id)

    def users(self, run_id: str) -> int:
        client = self.hook.client
        records, start_cursor = [], None
        while True:
            kwargs: dict[str, Any] = {"page_size": PAGE_SIZE}
            if start_cursor:
                kwargs["start_cursor"] = start_cursor
            page = self.hook.call(lambda kwargs=kwargs: client.users.list(**kwargs))
            for user in page.get("results") or []:
                email = (user.get("person") or {}).get("email") if isinstance(user, dict) else None
                if isinstance(user, dict) and user.get("id"):
                    records.append(Record(user["id"], email, None, user))
            start_cursor = page.get("next_cursor") if page.get("has_more") else None
            if not start_cursor:
                break
        result, deleted = self.store.save_snapshot("users", records, run_id)
        return result.inserted + result.updated + deleted
