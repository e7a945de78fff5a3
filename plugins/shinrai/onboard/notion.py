"""The Notion probe of ``shinrai check``: the integration token, each configured database (shared with
the integration?), every mapped property (present? of a type that can carry its meaning, by the
extractor's own rules in :mod:`shinrai.extract.notion_types`), a sample value of each, the pages a
first full load reads, and the product, release-type and status values the configuration does not
map. Read-only: ``GET`` database and data source, ``POST .../query`` (a read), ``GET /v1/users``.

Notion has no count endpoint, so every data source is paged through whole, asking only for the
mapped properties (``filter_properties``): the counts and the unmapped values are exact, at one
request per 100 pages (DECISIONLOG "shinrai check counts Notion pages by reading them").
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from shinrai.config import Config, ConfigError, NotionDatabase, did_you_mean
from shinrai.extract.notion import PAGE_SIZE
from shinrai.extract.notion_types import NEEDS, check_property, check_value, is_truncated
from shinrai.hooks.pacing import NOTION_LIMIT, paced_seconds
from shinrai.hooks.retry import SourceUnavailable
from shinrai.onboard.estimate import (
    listed,
    norm,
    product_spellings,
    release_type_values,
    unmapped,
)
from shinrai.onboard.findings import Finding, SourceReport, StreamCount

SOURCE = "notion"
SHARE_FIX = "share the database with the integration: open it in Notion, ••• > Connections > add the integration"
STREAMS = ("risk_records", "release_calendar")


@dataclass
class _Tally:
    """What paging through one data source saw."""

    pages: int = 0
    requests: int = 0  # query pages read
    truncated: int = 0  # values a first load re-reads through the page-property endpoint
    related: set[str] = field(default_factory=set)  # related page ids (a first load reads each title)
    values: dict[str, Counter[str]] = field(default_factory=dict)  # logical -> value -> pages
    samples: dict[str, str] = field(default_factory=dict)  # logical -> first non-empty value
    bad_results: dict[str, str] = field(default_factory=dict)  # logical -> a formula/rollup result it cannot read


def probe(config: Config, hook: Any) -> SourceReport:
    """Probe the Notion workspace behind ``hook`` (a :class:`~shinrai.hooks.notion.NotionHook`)."""
    report = SourceReport(SOURCE)
    conn = f"connection {hook.notion_conn_id}"
    try:
        client = hook.client
        hook.call(client.users.me)
    except SourceUnavailable as exc:
        report.findings.append(_unavailable(conn, exc))
        return report
    except Exception as exc:  # noqa: BLE001 - the connection is undefined or lacks its token
        report.findings.append(Finding(SOURCE, conn, f"cannot be used: {exc}",
                                       f"define the connection (AIRFLOW_CONN_{hook.notion_conn_id.upper()}) "
                                       "with the integration's token as its password"))
        return report
    for stream in STREAMS:
        db = config.risk_records if stream == "risk_records" else config.release_calendar
        _probe_database(config, hook, stream, db, report)
    _count_users(hook, report)
    return report


def _unavailable(conn: str, exc: SourceUnavailable) -> Finding:
    if exc.cause.startswith("HTTP 401"):
        return Finding(SOURCE, conn, "Notion rejected the integration token (HTTP 401 unauthorized)",
                       "put the integration's Internal Integration Secret (notion.so/profile/integrations) in "
                       "the connection's password")
    if exc.cause.startswith("HTTP 403"):
        return Finding(SOURCE, conn, f"Notion refused the integration ({exc.cause})",
                       "give the integration the 'Read content' capability (notion.so/profile/integrations)")
    return Finding(SOURCE, conn, str(exc),
                   "check the connection's host (leave it empty for https://api.notion.com) and the network")


def _probe_database(config: Config, hook: Any, stream: str, db: NotionDatabase, report: SourceReport) -> None:
    key = f"notion.{stream}"
    client = hook.client
    requests = 1
    try:
        database = hook.call(lambda: client.databases.retrieve(database_id=db.database_id))
    except SourceUnavailable as exc:
        report.findings.append(_database_problem(f"{key}.database_id", db.database_id, exc))
        return
    refs = database.get("data_sources") or []
    if not refs:
        report.findings.append(Finding(SOURCE, f"{key}.database_id", f"database {db.database_id} has no data sources",
                                       "point it at the database that holds the pages (its id is in its URL)"))
        return
    pages = truncated = query_pages = 0
    related: set[str] = set()
    for ref in refs:
        requests += 1
        try:
            schema = hook.call(lambda ref=ref: client.data_sources.retrieve(data_source_id=ref["id"]))
        except SourceUnavailable as exc:
            report.findings.append(_database_problem(f"{key}.database_id", db.database_id, exc))
            return
        name = ref.get("name") or ref["id"]
        available = schema.get("properties") or {}
        mapped: dict[str, tuple[str, str]] = {}  # logical -> (property name, property id)
        wrong: dict[str, str] = {}  # logical -> the type problem
        for logical, prop in db.properties.items():
            pkey = f"{key}.properties.{logical}"
            if prop.name not in available:
                report.findings.append(Finding(
                    SOURCE, pkey, f"data source {name!r} has no property named {prop.name!r}"
                                  f"{did_you_mean(prop.name, list(available))}",
                    f"set {pkey} to the property's name exactly as Notion shows it"))
                continue
            mapped[logical] = (prop.name, str(available[prop.name].get("id") or prop.name))
            try:
                check_property(pkey, logical, prop.name, available[prop.name], prop.part)
            except ConfigError as exc:
                wrong[logical] = exc.problem
        tally = _read_pages(hook, ref["id"], mapped, {lg for lg in mapped if lg not in wrong}, key)
        for logical, problem in {**wrong, **tally.bad_results}.items():
            sample = tally.samples.get(logical)
            report.findings.append(Finding(
                SOURCE, f"{key}.properties.{logical}",
                problem + (f" (sample value {sample!r})" if sample else ""),
                "map a property of a type that can carry it (README 'Notion properties'), or leave the key "
                "out if it is optional"))
        for logical, sample in tally.samples.items():
            report.samples.setdefault(f"{key}.properties.{logical}", sample)
        _unmapped_values(config, stream, tally, report)
        pages += tally.pages
        query_pages += max(1, tally.requests)
        truncated += tally.truncated
        related |= tally.related
        requests += 1  # the trash sweep (one page when nothing is in the trash)
    # a first full load: database + schemas + query pages + trash sweep + cut values re-read + related titles
    requests += query_pages + truncated + len(related)
    report.counts.append(StreamCount(SOURCE, stream, pages, requests, round(paced_seconds(requests, *NOTION_LIMIT), 1)))


def _database_problem(key: str, database_id: str, exc: SourceUnavailable) -> Finding:
    if exc.cause.startswith("HTTP 404"):
        return Finding(SOURCE, key, f"database {database_id} is not shared with the integration (Notion answers "
                                    "object_not_found)", f"{SHARE_FIX}; or correct the id (the 32 hex digits of "
                                                         "the database's URL)")
    if exc.cause.startswith("HTTP 400"):
        return Finding(SOURCE, key, f"{database_id!r} is not a database id Notion accepts ({exc.cause})",
                       "copy the 32 hex digits of the database's URL (before '?v=')")
    return _unavailable(key, exc)


def _read_pages(hook: Any, data_source_id: str, mapped: dict[str, tuple[str, str]], typed_ok: set[str],
                key: str) -> _Tally:
    """Every page of the data source, with only the mapped properties: counts, samples, values."""
    client = hook.client
    tally = _Tally()
    by_name: dict[str, list[str]] = {}  # one property may be mapped to several logical properties
    for logical, (name, _pid) in mapped.items():
        by_name.setdefault(name, []).append(logical)
    body: dict[str, Any] = {"page_size": PAGE_SIZE}
    if mapped:
        body["filter_properties"] = [pid for _name, pid in mapped.values()]
    cursor = None
    while True:
        kwargs = dict(body, start_cursor=cursor) if cursor else body
        answer = hook.call(lambda kwargs=kwargs: client.data_sources.query(data_source_id=data_source_id, **kwargs))
        tally.requests += 1
        for page in answer.get("results") or []:
            if not isinstance(page, dict):
                continue
            tally.pages += 1
            for name, value in (page.get("properties") or {}).items():
                if isinstance(value, dict):
                    for logical in by_name.get(name, ()):
                        _see(tally, key, logical, name, value, logical in typed_ok)
        cursor = answer.get("next_cursor") if answer.get("has_more") else None
        if not cursor:
            return tally


def _see(tally: _Tally, key: str, logical: str, name: str, value: dict[str, Any], typed_ok: bool) -> None:
    """One page's value of one mapped property: its sample, result type, cut, relations and words."""
    words = values_of(value)
    if words and logical not in tally.samples:
        tally.samples[logical] = ", ".join(words)[:80]
    if not typed_ok:
        return
    if logical not in tally.bad_results:
        try:
            check_value(f"{key}.properties.{logical}", logical, name, value)
        except ConfigError as exc:
            tally.bad_results[logical] = exc.problem
    if is_truncated(value):
        tally.truncated += 1
    if value.get("type") == "relation":
        tally.related.update(r["id"] for r in value.get("relation") or []
                             if isinstance(r, dict) and r.get("id"))
    if NEEDS[logical] == "category" and value.get("type") not in ("relation", "rollup"):
        counter = tally.values.setdefault(logical, Counter())
        counter.update(dict.fromkeys(words, 1))


def values_of(value: dict[str, Any]) -> list[str]:
    """A property value as the texts a person reads in Notion (a multi-select: one per option)."""
    ptype = value.get("type")
    inner = value.get(ptype) if ptype else None
    if ptype in ("title", "rich_text"):
        text = "".join(str(t.get("plain_text") or "") for t in inner or [] if isinstance(t, dict))
        return [text] if text.strip() else []
    if ptype in ("select", "status"):
        return [str(inner["name"])] if isinstance(inner, dict) and inner.get("name") else []
    if ptype == "multi_select":
        return [str(o["name"]) for o in inner or [] if isinstance(o, dict) and o.get("name")]
    if ptype == "date":
        if not isinstance(inner, dict) or not inner.get("start"):
            return []
        return [str(inner["start"]) + (f" → {inner['end']}" if inner.get("end") else "")]
    if ptype == "people":
        return [str(p.get("name") or (p.get("person") or {}).get("email") or p.get("id"))
                for p in inner or [] if isinstance(p, dict)]
    if ptype in ("created_by", "last_edited_by"):
        return [str(inner.get("name") or inner.get("id"))] if isinstance(inner, dict) else []
    if ptype == "relation":
        return [f"{len(inner or [])} related page(s)"] if inner else []
    if ptype == "formula" and isinstance(inner, dict):
        result = inner.get(inner.get("type") or "")
        if isinstance(result, dict):
            result = result.get("start")
        return [] if result in (None, "") else [str(result)]
    if ptype == "rollup" and isinstance(inner, dict):
        kind = inner.get("type")
        if kind == "array":
            return [w for item in inner.get("array") or [] if isinstance(item, dict) for w in values_of(item)]
        result = inner.get(kind or "")
        if isinstance(result, dict):
            result = result.get("start")
        return [] if result in (None, "") else [str(result)]
    if ptype == "unique_id" and isinstance(inner, dict):
        return [f"{inner.get('prefix') + '-' if inner.get('prefix') else ''}{inner.get('number')}"]
    if ptype == "checkbox":
        return [str(bool(inner)).lower()]
    return [] if inner in (None, "", []) else [str(inner)]


def _unmapped_values(config: Config, stream: str, tally: _Tally, report: SourceReport) -> None:
    """Products no catalogue entry names and release types no type claims (kept, flagged by dbt: a
    warning); the statuses read as open or closed (info)."""
    prop_key = f"notion.{stream}.properties"
    products = unmapped(tally.values.get("product", Counter()), product_spellings(config))
    if products:
        report.findings.append(Finding(
            SOURCE, "products.catalogue", f"{prop_key}.product holds values no product names: "
                                          f"{listed(products, 'page')}",
            "add each as an alias of its product in products.catalogue (or correct it in Notion)", "warning"))
    if stream == "release_calendar":
        kinds = unmapped(tally.values.get("release_type", Counter()), release_type_values(config))
        if kinds:
            report.findings.append(Finding(
                SOURCE, "taxonomies.release_types", f"{prop_key}.release_type holds values no release type "
                                                    f"claims: {listed(kinds, 'page')}",
                "add each to the values of its type in taxonomies.release_types", "warning"))
    statuses = tally.values.get("status", Counter())
    if stream == "risk_records" and statuses:
        closed = set(config.risk_records.closed_statuses)  # compared as written (dbt var risk_closed_statuses)
        read_closed = listed(sorted((v, n) for v, n in statuses.items() if v in closed), "page") or "none"
        read_open = listed(sorted((v, n) for v, n in statuses.items() if v not in closed), "page") or "none"
        report.findings.append(Finding(
            SOURCE, "notion.risk_records.closed_statuses",
            f"risk statuses read as closed: {read_closed}; as open: {read_open}",
            "list every status that means closed, spelt as in Notion", "info"))
    if stream == "release_calendar" and statuses and "calendar_status" in config.releases.shipped_by:
        shipped = {norm(s) for s in config.releases.shipped_statuses}
        others = sorted((v, n) for v, n in statuses.items() if norm(v) not in shipped)
        report.findings.append(Finding(
            SOURCE, "releases.shipped_statuses",
            f"calendar statuses read as shipped: "
            f"{listed(sorted((v, n) for v, n in statuses.items() if norm(v) in shipped), 'page') or 'none'}; "
            f"as not shipped: {listed(others, 'page') or 'none'}",
            "list every calendar status that means shipped", "info"))


def _count_users(hook: Any, report: SourceReport) -> None:
    """The workspace's users (``GET /v1/users``, 100 a page): the users stream of a first load."""
    client = hook.client
    users = requests = 0
    cursor = None
    try:
        while True:
            kwargs: dict[str, Any] = {"page_size": PAGE_SIZE, **({"start_cursor": cursor} if cursor else {})}
            answer = hook.call(lambda kwargs=kwargs: client.users.list(**kwargs))
            requests += 1
            users += len(answer.get("results") or [])
            cursor = answer.get("next_cursor") if answer.get("has_more") else None
            if not cursor:
                break
    except SourceUnavailable as exc:
        report.findings.append(Finding(
            SOURCE, f"connection {hook.notion_conn_id}", f"cannot list users ({exc.cause})",
            "give the integration the 'Read user information including email addresses' capability"))
        return
    report.counts.append(StreamCount(SOURCE, "users", users, max(1, math.ceil(users / PAGE_SIZE)),
                                     round(paced_seconds(requests, *NOTION_LIMIT), 1)))
