"""Fake Notion API (version 2025-09-03: databases contain data sources)."""

from __future__ import annotations

import json
import re
import time
import uuid
from collections.abc import Callable

from .faults import Injected
from .httpbase import Request, Response, flat_query
from .manifest import (
    CALENDAR_DATA_SOURCE_ID,
    CALENDAR_DATABASE_ID,
    ISSUES_DATA_SOURCE_ID,
    ISSUES_DATABASE_ID,
    RISK_DATA_SOURCE_ID,
    RISK_DATABASE_ID,
)
from .notion_filter import FilterError, Row, compile_filter, sort_rows
from .notion_paging import PropertyRequestError, property_item_response, truncate_page
from .notion_render import (
    WORKSPACE_PAGE_ID,
    bot_json,
    issue_page,
    issue_page_id,
    person_json,
    release_page,
    rich,
    risk_page,
    schema,
)
from .planted_text import texts as planted_texts
from .state import SandboxState
from .timefmt import notion_ts

NOTION_TOKEN = "sandbox-notion-token"
MAX_PAGE_SIZE = 100
# data source id -> (kind, database id, title)
DATA_SOURCES: dict[str, tuple[str, str, str]] = {
    RISK_DATA_SOURCE_ID: ("risk", RISK_DATABASE_ID, "System Risk Records"),
    CALENDAR_DATA_SOURCE_ID: ("calendar", CALENDAR_DATABASE_ID, "Release Calendar"),
    ISSUES_DATA_SOURCE_ID: ("issues", ISSUES_DATABASE_ID, "Jira Issues"),  # relation shapes only
}
DATABASES: dict[str, str] = {db: ds for ds, (_k, db, _t) in DATA_SOURCES.items()}
_UUID = re.compile(r"^[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{12}$")


def norm_id(raw: str) -> str | None:
    if not _UUID.match(raw):
        return None
    return str(uuid.UUID(raw.replace("-", "")))


def error(status: int, code: str, message: str, headers: dict | None = None) -> Response:
    return Response(status, {"object": "error", "status": status, "code": code, "message": message,
                             "request_id": str(uuid.uuid4())}, headers or {},
                    content_type="application/json; charset=utf-8")


def ok(body: dict) -> Response:
    return Response(200, body, content_type="application/json; charset=utf-8")


class NotionApp:
    name = "notion"

    def __init__(self, state: SandboxState) -> None:
        self.state = state
        self.base_url = "http://127.0.0.1"
        self._cache: dict[tuple, list[Row]] = {}
        self._index: dict[str, tuple[str, object]] | None = None
        # other pages this organisation shape serves (e.g. the pages a relation points at): each
        # provider returns a page id's whole page object, or None (see :meth:`whole_page`)
        self.page_providers: list[Callable[[str], dict | None]] = []
        self._unshared: frozenset[str] = frozenset()  # of the request being answered (under the state lock)

    @property
    def org(self):
        return self.state.org

    def family(self, req: Request) -> str | None:
        return "*"

    def fault_response(self, injected: Injected) -> Response:
        headers = {"Retry-After": str(injected.retry_after)} if injected.retry_after else {}
        if injected.status == 429:
            return error(429, "rate_limited", "You have been rate limited. Please try again in a few minutes.",
                         headers)
        return error(503, "service_unavailable", "Notion is unavailable, please try again later.", headers)

    def record_params(self, req: Request) -> dict:
        params = flat_query(req.query)
        if req.method in ("POST", "PATCH") and req.body:
            try:
                body = req.json()
            except ValueError:
                body = None
            if isinstance(body, dict):
                params.update(body)
        return params

    # ------------------------------------------------------------ routing
    def handle(self, req: Request) -> Response:
        auth = req.header("Authorization") or ""
        token = (self.state.credentials.get("notion") or {}).get("token", NOTION_TOKEN)
        given = auth[len("Bearer "):] if auth.startswith("Bearer ") else None
        if given != token and given not in self.state.notion_tokens:
            return error(401, "unauthorized", "API token is invalid.")
        if not req.header("Notion-Version"):
            return error(400, "missing_version", "Notion-Version header failed validation: Notion-Version header "
                                                 "should be defined, instead was `undefined`.")
        path = req.path.rstrip("/")
        with self.state.lock:
            # the databases this integration was not given (••• > Connections): as on Notion, they and
            # their data sources and pages are answered object_not_found, as if they did not exist
            self._unshared = self.state.notion_tokens.get(given or "", frozenset())
            return self._route(req, path)

    def _route(self, req: Request, path: str) -> Response:
        m = req.method
        if path == "/v1/users" and m == "GET":
            return self.users(req)
        if path == "/v1/users/me" and m == "GET":
            return ok(bot_json(self.org.notion_bot_id))
        parts = path.split("/")
        if len(parts) >= 4 and parts[1] == "v1":
            kind, raw = parts[2], parts[3]
            oid = norm_id(raw)
            rest = parts[4:]
            if kind == "databases" and not rest and m == "GET":
                return self.database(oid, raw)
            if kind == "databases" and rest == ["query"]:
                return error(400, "invalid_request_url",
                             "Invalid request URL. Databases are queried through their data sources since "
                             "Notion-Version 2025-09-03: use POST /v1/data_sources/{data_source_id}/query.")
            if kind == "data_sources" and not rest and m == "GET":
                return self.data_source(oid, raw)
            if kind == "data_sources" and rest == ["query"] and m == "POST":
                return self.query(req, oid, raw)
            if kind == "pages" and not rest and m == "GET":
                return self.page(oid, raw)
            if kind == "pages" and len(rest) == 2 and rest[0] == "properties" and m == "GET":
                return self.page_property(req, oid, raw, rest[1])
            if kind == "users" and not rest and m == "GET":
                return self.user(oid, raw)
        return error(400, "invalid_request_url", "Invalid request URL.")

    # ------------------------------------------------------------ objects
    def _rows(self, kind: str) -> list[Row]:
        org = self.org
        malformed_ids = set()
        if self.state.faults.malformed and self.state.injector.active("notion"):
            malformed_ids = {d["key"] for d in org.malformed if d["source"] == "notion"}
        titles = planted_texts(self.state, "notion")
        if kind == "risk":
            return [Row(r.page_id, r.created, r.edited, r.trashed,
                        lambda r=r: risk_page(org, r, r.page_id in malformed_ids, titles.get(r.page_id)))
                    for r in org.risks]
        if kind == "issues":
            return [Row(issue_page_id(i), i.created, i.created, False, lambda i=i: issue_page(org, i))
                    for i in org.issues]
        return [Row(x.page_id, x.page_created, x.page_edited, x.trashed,
                    lambda x=x: release_page(org, x, titles.get(x.page_id)))
                for x in org.releases]

    def _shared(self, data_source: str | None) -> bool:
        """The data source exists and is shared with the requesting integration. The Jira issues
        database exists only on a workspace whose links are relations."""
        return data_source in DATA_SOURCES and (DATA_SOURCES[data_source][0] != "issues"
                                                or self.org.shape.related_as == "relation") \
            and DATA_SOURCES[data_source][1] not in self._unshared

    def database(self, oid: str | None, raw: str) -> Response:
        if oid not in DATABASES or not self._shared(DATABASES[oid]):
            return error(404, "object_not_found", f"Could not find database with ID: {raw}. Make sure the relevant "
                                                  "pages and databases are shared with your integration.")
        ds = DATABASES[oid]
        _kind, _db, title = DATA_SOURCES[ds]
        created = notion_ts(self.org.anchor_t - 1200 * 86400)
        return ok({
            "object": "database", "id": oid, "title": rich(title), "description": [],
            "parent": {"type": "page_id", "page_id": WORKSPACE_PAGE_ID}, "is_inline": False, "in_trash": False,
            "is_locked": False, "created_time": created, "last_edited_time": created,
            "data_sources": [{"id": ds, "name": title}], "icon": None, "cover": None,
            "url": f"https://www.notion.so/{oid.replace('-', '')}", "public_url": None,
        })

    def data_source(self, oid: str | None, raw: str) -> Response:
        if not self._shared(oid):
            return error(404, "object_not_found", f"Could not find data_source with ID: {raw}. Make sure the "
                                                  "relevant pages and databases are shared with your integration.")
        kind, db, title = DATA_SOURCES[oid]
        created = notion_ts(self.org.anchor_t - 1200 * 86400)
        bot = {"object": "user", "id": self.org.notion_bot_id}
        return ok({
            "object": "data_source", "id": oid, "created_time": created, "last_edited_time": created,
            "created_by": bot, "last_edited_by": bot, "properties": schema(kind, self.org.shape),
            "parent": {"type": "database_id", "database_id": db},
            "database_parent": {"type": "page_id", "page_id": WORKSPACE_PAGE_ID}, "archived": False,
            "in_trash": False, "is_inline": False, "title": rich(title), "description": [], "icon": None,
            "cover": None, "url": f"https://www.notion.so/{db.replace('-', '')}", "public_url": None,
        })

    def whole_page(self, oid: str | None) -> dict | None:
        """A page's whole object (no 25-entry cap), by id: a risk record, a calendar entry, or a page
        from :attr:`page_providers`; None when no page has that id."""
        if self._index is None:
            self._index = {r.page_id: ("risk", r) for r in self.org.risks}
            self._index.update({x.page_id: ("calendar", x) for x in self.org.releases})
            if self.org.shape.related_as == "relation":
                self._index.update({issue_page_id(i): ("issues", i) for i in self.org.issues})
        hit = self._index.get(oid or "")
        if hit is not None:
            kind, record = hit
            if kind == "issues":
                return issue_page(self.org, record)  # type: ignore[arg-type]
            title = planted_texts(self.state, "notion").get(record.page_id)  # type: ignore[union-attr]
            if kind == "risk":
                malformed = (self.state.faults.malformed and self.state.injector.active("notion")
                             and any(d["key"] == oid for d in self.org.malformed))
                return risk_page(self.org, record, malformed, title)  # type: ignore[arg-type]
            return release_page(self.org, record, title)  # type: ignore[arg-type]
        for provider in self.page_providers:
            page = provider(oid or "")
            if page is not None:
                return page
        return None

    def _visible_page(self, oid: str | None) -> dict | None:
        """:meth:`whole_page`, or None when its database is not shared with the requesting integration."""
        page = self.whole_page(oid)
        if page is not None and self._unshared:
            parent = page.get("parent") or {}
            if parent.get("database_id") in self._unshared or parent.get("data_source_id") in {
                    ds for ds, (_k, db, _t) in DATA_SOURCES.items() if db in self._unshared}:
                return None
        return page

    def page(self, oid: str | None, raw: str) -> Response:
        page = self._visible_page(oid)
        if page is not None:
            return ok(truncate_page(page))
        return error(404, "object_not_found", f"Could not find page with ID: {raw}. Make sure the relevant pages "
                                              "and databases are shared with your integration.")

    def page_property(self, req: Request, oid: str | None, raw: str, property_id: str) -> Response:
        """``GET /v1/pages/{page_id}/properties/{property_id}``: the whole value, paginated."""
        page = self._visible_page(oid)
        if page is None:
            return error(404, "object_not_found", f"Could not find page with ID: {raw}. Make sure the relevant "
                                                  "pages and databases are shared with your integration.")
        try:
            return ok(property_item_response(page, property_id, req.arg("start_cursor"), req.arg("page_size"),
                                             self.base_url))
        except PropertyRequestError as e:
            return error(e.status, e.code, str(e))

    def query(self, req: Request, oid: str | None, raw: str) -> Response:
        if not self._shared(oid):
            return error(404, "object_not_found", f"Could not find data_source with ID: {raw}. Make sure the "
                                                  "relevant pages and databases are shared with your integration.")
        try:
            body = req.json() or {}
        except ValueError:
            return error(400, "invalid_json", "Error parsing JSON body.")
        if not isinstance(body, dict):
            return error(400, "validation_error", "body failed validation: body should be an object.")
        size = body.get("page_size", MAX_PAGE_SIZE)
        if not isinstance(size, int) or isinstance(size, bool) or size < 1:
            return error(400, "validation_error", f"body failed validation: body.page_size should be a positive "
                                                  f"integer, instead was `{size!r}`.")
        if size > MAX_PAGE_SIZE:
            return error(400, "validation_error", f"body failed validation: body.page_size should be less than or "
                                                  f"equal to `{MAX_PAGE_SIZE}`, instead was `{size}`.")
        kind = DATA_SOURCES[oid][0]
        try:
            rows = self._matching(kind, body)
        except FilterError as e:
            return error(400, "validation_error", str(e))
        start = 0
        cursor = body.get("start_cursor")
        if cursor is not None:
            cid = norm_id(str(cursor))
            if cid is None:
                return error(400, "validation_error", f"body failed validation: body.start_cursor should be a valid "
                                                      f"uuid, instead was `\"{cursor}\"`.")
            start = next((k for k, r in enumerate(rows) if r.id == cid), -1)
            if start < 0:
                return error(400, "validation_error", f"start_cursor provided is invalid: {cursor}")
        page = rows[start:start + size]
        has_more = start + size < len(rows)
        wanted = req.query.get("filter_properties")
        results = [self._only(truncate_page(r.page()), wanted) for r in page]
        for r in page:
            r.forget()
        return ok({"object": "list", "results": results, "next_cursor": rows[start + size].id if has_more else None,
                   "has_more": has_more, "type": "page_or_data_source", "page_or_data_source": {},
                   "request_id": str(uuid.uuid4())})

    def _matching(self, kind: str, body: dict) -> list[Row]:
        """Filtered and sorted rows; cached per query until the data (or the malformed knob) changes."""
        spec = json.dumps([body.get("filter"), body.get("sorts"), bool(body.get("in_trash") or body.get("archived"))],
                          sort_keys=True, default=str)
        malformed = self.state.faults.malformed and self.state.injector.active("notion")
        key = (kind, spec, self.state.version, malformed)
        volatile = any(w in spec for w in ('"past_', '"next_', '"this_'))
        hit = None if volatile else self._cache.get(key)
        if hit is not None:
            return hit
        props = schema(kind, self.org.shape)
        pred = compile_filter(body["filter"], props, time.time()) if body.get("filter") else None
        trashed = bool(body.get("in_trash") or body.get("archived"))
        rows = [r for r in self._rows(kind) if r.trashed == trashed and (pred is None or pred(r))]
        rows = sort_rows(rows, body.get("sorts"), props)
        for r in rows:
            r.forget()
        if not volatile:
            if len(self._cache) > 32:
                self._cache.clear()
            self._cache[key] = rows
        return rows

    @staticmethod
    def _only(page: dict, wanted: list[str] | None) -> dict:
        if not wanted:
            return page
        keep = set(wanted)
        props = {n: v for n, v in page["properties"].items() if n in keep or v["id"] in keep}
        return {**page, "properties": props}

    def _users(self) -> list[dict]:
        return [person_json(p) for p in self.org.people if not p.left] + [bot_json(self.org.notion_bot_id)]

    def users(self, req: Request) -> Response:
        try:
            size = int(req.arg("page_size") or MAX_PAGE_SIZE)
        except ValueError:
            return error(400, "validation_error", "query failed validation: page_size should be a number.")
        if size < 1 or size > MAX_PAGE_SIZE:
            return error(400, "validation_error", f"query failed validation: page_size should be less than or equal "
                                                  f"to `{MAX_PAGE_SIZE}`, instead was `{size}`.")
        users = self._users()
        start = 0
        cursor = req.arg("start_cursor")
        if cursor:
            start = next((k for k, u in enumerate(users) if u["id"] == cursor), -1)
            if start < 0:
                return error(400, "validation_error", f"start_cursor provided is invalid: {cursor}")
        has_more = start + size < len(users)
        return ok({"object": "list", "results": users[start:start + size],
                   "next_cursor": users[start + size]["id"] if has_more else None, "has_more": has_more,
                   "type": "user", "user": {}, "request_id": str(uuid.uuid4())})

    def user(self, oid: str | None, raw: str) -> Response:
        for u in self._users():
            if u["id"] == oid:
                return ok(u)
        return error(404, "object_not_found", f"Could not find user with ID: {raw}.")
