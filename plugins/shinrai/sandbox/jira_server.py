"""Fake Jira Cloud REST API (v2 + v3) over the organisation."""

from __future__ import annotations

import base64
import re
import threading
import time
from datetime import UTC, datetime

from . import jira_schema as js
from .faults import Injected
from .httpbase import Request, Response, flat_query
from .jira_render import JiraRenderer, adf, adf_text, field_name, field_schema, release_description
from .jql import UNBOUNDED, JqlError, Query, compile_jql
from .model import INCIDENT_PROJECT_ID, INCIDENT_PROJECT_KEY, PRODUCT_BY_KEY, PRODUCTS, Issue, Release
from .planted_text import impostor
from .planted_text import texts as planted_texts
from .state import SandboxState
from .timefmt import jira_ts, jst_date
from .tokens import TokenCodec, query_hash

JIRA_EMAIL = "sandbox@example.com"
JIRA_TOKEN = "sandbox-jira-token"
API_USER = {
    "accountId": "5b10a2844c20165700ede21f", "displayName": "Shinrai Sandbox Integration",
    "emailAddress": JIRA_EMAIL, "active": True, "timeZone": "Asia/Tokyo", "accountType": "atlassian",
}
APP_USER = {
    "accountId": "557058:f58131cb-b67d-43c7-b30d-6b58d40bd077", "displayName": "Automation for Jira",
    "active": True, "accountType": "app",
}
LEGACY_SEARCH_GONE = (
    "The requested API has been removed. Please migrate to the /rest/api/3/search/jql API. "
    "A full migration guideline is available at https://developer.atlassian.com/changelog/#CHANGE-2046"
)
NOT_FOUND = "Issue does not exist or you do not have permission to see it."
TOKEN_TTL_S = 7 * 86400
SEARCH_CHANGELOG_CAP = 40
ISSUE_CHANGELOG_CAP = 100
ID_ONLY_MAX = 5000
FIELDS_MAX = 100

_API = re.compile(r"^/rest/api/(?P<v>[23])/(?P<rest>.*)$")


def _err(status: int, *messages: str, errors: dict | None = None, headers: dict | None = None) -> Response:
    return Response(status, {"errorMessages": list(messages), "errors": errors or {}}, headers or {})


class JiraApp:
    name = "jira"

    def __init__(self, state: SandboxState, secret: bytes) -> None:
        self.state = state
        self.base_url = "http://127.0.0.1"
        self.codec = TokenCodec(secret)
        self.token_ttl_s = TOKEN_TTL_S
        self._cache: dict[tuple[str, int], list[int]] = {}
        self._compiled: dict[str, Query] = {}
        self._cache_lock = threading.Lock()

    @property
    def org(self):
        return self.state.org

    def renderer(self) -> JiraRenderer:
        return JiraRenderer(self.org, self.base_url)

    # ------------------------------------------------------------ plumbing
    def family(self, req: Request) -> str | None:
        m = _API.match(req.path)
        if not m:
            return "other"
        return m.group("rest").split("/", 1)[0] or "other"

    def fault_response(self, injected: Injected) -> Response:
        headers: dict[str, str] = {}
        if injected.retry_after:
            headers["Retry-After"] = str(injected.retry_after)
        if injected.status == 429:
            reset = datetime.fromtimestamp(time.time() + (injected.retry_after or 1), UTC)
            headers.update({
                "X-RateLimit-Limit": "10", "X-RateLimit-Remaining": "0",
                "X-RateLimit-Reset": reset.strftime("%Y-%m-%dT%H:%MZ"), "RateLimit-Reason": "jira-burst-based",
            })
            return _err(429, "Rate limit exceeded.", headers=headers)
        return _err(503, "Service Unavailable: the sandbox is injecting a 5xx burst.", headers=headers)

    def record_params(self, req: Request) -> dict:
        params = flat_query(req.query)
        if req.method == "POST" and req.body:
            try:
                body = req.json()
            except ValueError:
                body = None
            if isinstance(body, dict) and "body" not in body:
                params.update(body)
        return params

    def _auth(self, req: Request) -> bool | None:
        """True = valid, False = wrong, None = missing."""
        h = req.header("Authorization")
        if not h:
            return None
        if h.startswith("Basic "):
            try:
                user, _, token = base64.b64decode(h[6:]).decode().partition(":")
            except ValueError:
                return False
            email, expected = self._credentials()
            return user == email and token == expected
        if h.startswith("Bearer "):
            return h[7:] == self._credentials()[1]
        return False

    def _credentials(self) -> tuple[str, str]:
        creds = self.state.credentials.get("jira") or {}
        return creds.get("email", JIRA_EMAIL), creds.get("token", JIRA_TOKEN)

    # ------------------------------------------------------------ routing
    def handle(self, req: Request) -> Response:
        m = _API.match(req.path)
        if not m:
            return _err(404, "Not found")
        v, rest = m.group("v"), m.group("rest").rstrip("/")
        auth = self._auth(req)
        if auth is False or (auth is None and rest != "serverInfo"):
            return _err(401, "Client must be authenticated to access this resource.")
        with self.state.lock:
            return self._route(req, v, rest)

    def _route(self, req: Request, v: str, rest: str) -> Response:
        method = req.method
        if rest == "serverInfo" and method == "GET":
            return Response(200, self._server_info())
        if rest == "myself" and method == "GET":
            return Response(200, {"self": f"{self.base_url}/rest/api/{v}/user?accountId={API_USER['accountId']}",
                                  **API_USER})
        if rest == "field" and method == "GET":
            return Response(200, js.field_catalogue(self.org.shape))
        if rest == "search" and method in ("GET", "POST"):
            return _err(410, LEGACY_SEARCH_GONE)
        if rest == "search/jql" and method in ("GET", "POST"):
            return self.search(req, v)
        if rest == "search/approximate-count" and method == "POST":
            return self.approximate_count(req)
        if rest == "issueLinkType" and method == "GET":
            return Response(200, {"issueLinkTypes": [
                {"id": lid, "name": name, "inward": inward, "outward": outward,
                 "self": f"{self.base_url}/rest/api/{v}/issueLinkType/{lid}"}
                for lid, name, inward, outward in (*js.DEFAULT_LINK_TYPES, *js.LINK_TYPES.values())]})
        if rest == "project/search" and method == "GET":
            return self.project_search(req, v)
        if rest == "users/search" and method == "GET":
            return self.users_search(req, v)
        pm = re.fullmatch(r"project/([^/]+)/(versions|version)", rest)
        if pm and method == "GET":
            return self.versions(req, v, pm.group(1), paged=pm.group(2) == "version")
        im = re.fullmatch(r"issue/([^/]+)(?:/(changelog|comment))?", rest)
        if im:
            issue = self._find(im.group(1))
            if issue is None:
                return _err(404, NOT_FOUND)
            sub = im.group(2)
            if sub is None and method == "GET":
                return self.get_issue(req, v, issue)
            if sub == "changelog" and method == "GET":
                return self.changelog(req, v, issue)
            if sub == "comment" and method == "GET":
                return self.list_comments(req, v, issue)
            if sub == "comment" and method == "POST":
                return self.add_comment(req, v, issue)
            return _err(405, f"Method {method} is not allowed here.")
        return _err(404, f"No resource at /rest/api/{v}/{rest} in the sandbox.")

    def _server_info(self) -> dict:
        return {
            "baseUrl": self.base_url, "displayUrl": self.base_url, "version": "1001.0.0-SNAPSHOT",
            "versionNumbers": [1001, 0, 0], "deploymentType": "Cloud", "buildNumber": 100294,
            "buildDate": "2026-10-20T00:00:00.000+0000", "serverTime": jira_ts(time.time()),
            "scmInfo": "shinrai-sandbox", "serverTitle": "Jira (shinrai sandbox)",
            "defaultLocale": {"locale": "en_US"}, "serverTimeZone": "Asia/Tokyo",
        }

    def _find(self, id_or_key: str) -> Issue | None:
        issue = self.org.by_id.get(int(id_or_key)) if id_or_key.isdigit() else self.org.by_key.get(id_or_key.upper())
        return None if issue is None or issue.deleted else issue

    # ------------------------------------------------------------ search
    def _params(self, req: Request) -> dict:
        if req.method == "POST":
            try:
                body = req.json()
            except ValueError:
                return {"_invalid": True}
            return body if isinstance(body, dict) else {}
        q: dict = {k: (v[-1] if len(v) == 1 else v) for k, v in req.query.items()}
        if "fields" in req.query:
            q["fields"] = req.query["fields"]
        if "reconcileIssues" in req.query:
            q["reconcileIssues"] = req.query["reconcileIssues"]
        return q

    def _compile(self, jql: str) -> Query:
        if _volatile(jql):
            return compile_jql(jql, self.org.people, projects=self._shape_projects())
        q = self._compiled.get(jql)
        if q is None:
            q = compile_jql(jql, self.org.people, projects=self._shape_projects())
            if len(self._compiled) > 256:
                self._compiled.clear()
            self._compiled[jql] = q
        return q

    def result_ids(self, jql: str, query: Query, reconcile: set[int]) -> list[int]:
        now = time.time()
        lagging = self.state.lag_active(now)
        key = (jql, self.state.version)
        cacheable = not lagging and not reconcile and not _volatile(jql)
        if cacheable:
            with self._cache_lock:
                hit = self._cache.get(key)
            if hit is not None:
                return hit
        views = []
        for issue in self.org.issues:
            if issue.deleted:
                continue
            view = issue if issue.id in reconcile else self.state.search_view(issue, now)
            if query.predicate(view):
                views.append(view)
        ids = [i.id for i in query.sort(views)]
        if cacheable:
            with self._cache_lock:
                if len(self._cache) > 64:
                    self._cache.clear()
                self._cache[key] = ids
        return ids

    def search(self, req: Request, v: str) -> Response:
        p = self._params(req)
        if p.get("_invalid"):
            return _err(400, "Invalid request payload. Refer to the REST API documentation and try again.")
        jql = p.get("jql")
        if not isinstance(jql, str) or not jql.strip():
            return _err(400, UNBOUNDED)
        try:
            query = self._compile(jql)
        except JqlError as e:
            return _err(400, str(e))
        if not query.bounded:
            return _err(400, UNBOUNDED)
        field_ids = normalise_fields(p.get("fields"))
        try:
            wanted = int(p.get("maxResults") or 50)
        except (TypeError, ValueError):
            return _err(400, "maxResults must be an integer.")
        if wanted <= 0:
            wanted = 50
        size = min(wanted, FIELDS_MAX if field_ids else ID_ONLY_MAX)
        expand = {e.strip() for e in str(p.get("expand") or "").split(",") if e.strip()}
        reconcile = {int(x) for x in (_as_list(p.get("reconcileIssues")) or []) if str(x).isdigit()}
        if len(reconcile) > 50:
            return _err(400, "The number of issues to reconcile cannot exceed 50.")
        qh = query_hash(jql)
        offset, dup_done = 0, False
        token = p.get("nextPageToken")
        if token:
            payload = self.codec.decode(str(token))
            if payload is None or payload.get("q") != qh or time.time() - payload.get("t", 0) > self.token_ttl_s:
                return _err(400, "The provided next page token is invalid or expired.")
            offset, dup_done = int(payload.get("o", 0)), bool(payload.get("d"))
        ids = self.result_ids(jql, query, reconcile)
        end = min(offset + size, len(ids))
        page, next_offset = ids[offset:end], end
        dup = self.org.duplicate_issue_id
        if not dup_done and dup in page:
            p_idx = offset + page.index(dup)
            page, next_offset, dup_done = ids[offset:p_idx + 1], p_idx, True
        is_last = next_offset >= len(ids)
        r = self.renderer()
        now = time.time()
        issues = []
        malformed = self.state.faults.malformed and self.state.injector.active("jira")
        summaries = planted_texts(self.state, "jira")
        dup_id = impostor(self.state)
        for iid in page:
            live = self.org.by_id[iid]
            view = live if iid in reconcile else self.state.search_view(live, now)
            issues.append(_with_id(r.issue(
                view, field_ids, v, changelog_cap=SEARCH_CHANGELOG_CAP if "changelog" in expand else None,
                comments=self._comments(view, v), malformed=malformed, summaries=summaries,
            ), dup_id))
        body: dict = {"issues": issues}
        if not is_last:
            body["nextPageToken"] = self.codec.encode({"o": next_offset, "q": qh, "d": dup_done,
                                                       "t": int(time.time())})
        body["isLast"] = is_last
        if "names" in expand:
            body["names"] = {fid: field_name(fid, self.org.shape) for fid in field_ids}
        if "schema" in expand:
            body["schema"] = {fid: s for fid in field_ids if (s := field_schema(fid, self.org.shape)) is not None}
        return Response(200, body)

    def approximate_count(self, req: Request) -> Response:
        p = self._params(req)
        jql = p.get("jql")
        if not isinstance(jql, str) or not jql.strip():
            return _err(400, UNBOUNDED)
        try:
            query = self._compile(jql)
        except JqlError as e:
            return _err(400, str(e))
        if not query.bounded:
            return _err(400, UNBOUNDED)
        return Response(200, {"count": len(self.result_ids(jql, query, set()))})

    # ------------------------------------------------------------ issues
    def get_issue(self, req: Request, v: str, issue: Issue) -> Response:
        raw = req.query.get("fields")
        field_ids = normalise_fields(raw) if raw else list(js.ALL_FIELD_IDS)
        expand = {e.strip() for e in (req.arg("expand") or "").split(",") if e.strip()}
        malformed = self.state.faults.malformed and self.state.injector.active("jira")
        body = self.renderer().issue(
            issue, field_ids, v, changelog_cap=ISSUE_CHANGELOG_CAP if "changelog" in expand else None,
            comments=self._comments(issue, v), malformed=malformed, names="names" in expand,
            summaries=planted_texts(self.state, "jira"),
        )
        return Response(200, _with_id(body, impostor(self.state)))

    def changelog(self, req: Request, v: str, issue: Issue) -> Response:
        try:
            start = max(0, int(req.arg("startAt") or 0))
            size = min(100, max(1, int(req.arg("maxResults") or 100)))
        except ValueError:
            return _err(400, "startAt and maxResults must be integers.")
        histories = self.renderer().histories(issue)
        values = histories[start:start + size]
        return Response(200, {
            "self": f"{self.base_url}/rest/api/{v}/issue/{issue.key}/changelog?maxResults={size}&startAt={start}",
            "nextPage": (f"{self.base_url}/rest/api/{v}/issue/{issue.key}/changelog?maxResults={size}"
                         f"&startAt={start + size}") if start + size < len(histories) else None,
            "maxResults": size, "startAt": start, "total": len(histories),
            "isLast": start + size >= len(histories), "values": values,
        })

    def _comments(self, issue: Issue, v: str) -> list[dict]:
        return [self._render_comment(c, issue, v) for c in self.state.jira_comments.get(issue.key, [])]

    def _render_comment(self, c: dict, issue: Issue, v: str) -> dict:
        author = {"self": f"{self.base_url}/rest/api/{v}/user?accountId={API_USER['accountId']}", **API_USER}
        return {
            "self": f"{self.base_url}/rest/api/{v}/issue/{issue.id}/comment/{c['id']}", "id": c["id"],
            "author": author, "body": c["adf"] if v == "3" else c["text"], "updateAuthor": author,
            "created": jira_ts(c["created"]), "updated": jira_ts(c["created"]), "jsdPublic": True,
        }

    def list_comments(self, req: Request, v: str, issue: Issue) -> Response:
        comments = self._comments(issue, v)
        start = int(req.arg("startAt") or 0)
        size = int(req.arg("maxResults") or 5000)
        return Response(200, {"startAt": start, "maxResults": size, "total": len(comments),
                              "comments": comments[start:start + size]})

    def add_comment(self, req: Request, v: str, issue: Issue) -> Response:
        try:
            body = req.json()
        except ValueError:
            return _err(400, "Invalid JSON payload.")
        content = body.get("body") if isinstance(body, dict) else None
        if v == "3" and not (isinstance(content, dict) and content.get("type") == "doc"):
            return _err(400, errors={"comment": "Operation value must be an Atlassian Document "
                                                "(see the Atlassian Document Format)"})
        if v == "2" and not isinstance(content, str):
            return _err(400, errors={"comment": "Operation value must be a string"})
        if isinstance(content, str) and not content.strip() or content is None:
            return _err(400, errors={"comment": "Comment body can not be empty!"})
        now = time.time()
        self.state.remember_for_search(issue, now)
        text = adf_text(content) if isinstance(content, dict) else str(content)
        all_comments = self.state.jira_comments.setdefault(issue.key, [])
        c = {"id": str(20000 + sum(len(x) for x in self.state.jira_comments.values())), "created": now,
             "text": text, "adf": content if isinstance(content, dict) else adf(text), "version": v}
        all_comments.append(c)
        issue.updated = now
        self.state.bump()
        return Response(201, self._render_comment(c, issue, v))

    # ------------------------------------------------------------ projects, versions, users
    def _project_json(self, key: str, v: str) -> dict:
        return self.renderer().project(key, v)

    def _shape_projects(self) -> tuple[str, ...]:
        single = self.org.shape.single_project
        return (single,) if single else ()

    def project_search(self, req: Request, v: str) -> Response:
        keys = list(self._shape_projects() or (INCIDENT_PROJECT_KEY,)) + [p.project_key for p in PRODUCTS]
        wanted = {k.upper() for k in (req.query.get("keys") or [])}
        if wanted:
            keys = [k for k in keys if k in wanted]
        start = int(req.arg("startAt") or 0)
        size = min(100, int(req.arg("maxResults") or 50))
        values = [self._project_json(k, v) for k in keys[start:start + size]]
        return Response(200, {
            "self": f"{self.base_url}/rest/api/{v}/project/search?startAt={start}&maxResults={size}",
            "maxResults": size, "startAt": start, "total": len(keys), "isLast": start + size >= len(keys),
            "values": values,
        })

    def version_json(self, r: Release, v: str) -> dict:
        product = next(p for p in PRODUCTS if p.code == r.product)
        anchor_t = self.org.anchor_t
        out = {
            "self": f"{self.base_url}/rest/api/{v}/version/{r.version_id}", "id": str(r.version_id),
            "description": release_description(r),
            "name": r.name, "archived": r.at < anchor_t - 400 * 86400, "released": r.at <= anchor_t,
            "releaseDate": jst_date(r.at), "projectId": product.project_id,
        }
        if r.at > anchor_t:
            out["overdue"] = False
        return out

    def versions(self, req: Request, v: str, key: str, paged: bool) -> Response:
        key = key.upper()
        product = PRODUCT_BY_KEY.get(key)
        if product is None and not (key.isdigit() and int(key) in {p.project_id for p in PRODUCTS}):
            if key in (*(self._shape_projects() or (INCIDENT_PROJECT_KEY,)), str(INCIDENT_PROJECT_ID)):
                return Response(200, [] if not paged else self._version_page(req, v, key, []))
            return _err(404, f"No project could be found with key '{key}'.")
        if product is None:
            product = next(p for p in PRODUCTS if str(p.project_id) == key)
        rels = [r for r in self.org.releases if r.product == product.code and not r.version_deleted]
        items = [self.version_json(r, v) for r in rels]
        if not paged:
            return Response(200, items)
        order = req.arg("orderBy") or ""
        desc = order.startswith("-")
        fieldname = order.lstrip("+-")
        if fieldname in ("releaseDate", "name", "sequence"):
            keyf = {"releaseDate": lambda x: x["releaseDate"], "name": lambda x: x["name"],
                    "sequence": lambda x: int(x["id"])}[fieldname]
            items.sort(key=keyf, reverse=desc)
        status = {s.strip() for s in (req.arg("status") or "").split(",") if s.strip()}
        if status:
            items = [x for x in items if ("released" if x["released"] else "unreleased") in status
                     or ("archived" in status and x["archived"])]
        return Response(200, self._version_page(req, v, product.project_key, items))

    def _version_page(self, req: Request, v: str, key: str, items: list[dict]) -> dict:
        start = max(0, int(req.arg("startAt") or 0))
        size = min(100, max(1, int(req.arg("maxResults") or 50)))
        base = f"{self.base_url}/rest/api/{v}/project/{key}/version"
        out = {"self": f"{base}?maxResults={size}&startAt={start}", "maxResults": size, "startAt": start,
               "total": len(items), "isLast": start + size >= len(items), "values": items[start:start + size]}
        if start + size < len(items):
            out["nextPage"] = f"{base}?maxResults={size}&startAt={start + size}"
        return out

    def users(self, v: str) -> list[dict]:
        r = self.renderer()
        out = [r.user(p, v) for p in self.org.people]
        out.append({"self": f"{self.base_url}/rest/api/{v}/user?accountId={APP_USER['accountId']}", **APP_USER})
        return out

    def users_search(self, req: Request, v: str) -> Response:
        start = max(0, int(req.arg("startAt") or 0))
        size = min(1000, max(1, int(req.arg("maxResults") or 50)))
        return Response(200, self.users(v)[start:start + size])


def _volatile(jql: str) -> bool:
    """Relative dates and functions depend on the clock: never cache them."""
    return bool(re.search(r"[-+]\s*\d+\s*[wdhm]\b|\(\s*\)", jql, re.IGNORECASE))


def _as_list(value: object) -> list:
    if value is None:
        return []
    if isinstance(value, list):
        return value
    return [x for x in str(value).split(",") if x]


def normalise_fields(values: object) -> list[str]:
    """Jira ``fields``: repeated or comma-separated; ``*all``, ``*navigable``, ``-name``; default id only."""
    tokens = [t.strip() for v in _as_list(values) for t in str(v).split(",") if t.strip()]
    include: list[str] = []
    exclude: set[str] = set()
    by_name = {name.lower(): fid for fid, (name, *_r) in js.CUSTOM_FIELDS.items()}
    by_name.update({name.lower(): fid for fid, (name, *_r) in js.SYSTEM_FIELDS.items()})
    for t in tokens:
        if t.startswith("-"):
            exclude.add(by_name.get(t[1:].lower(), t[1:]))
        elif t == "*all":
            include.extend(js.ALL_FIELD_IDS)
        elif t == "*navigable":
            include.extend(js.NAVIGABLE_FIELD_IDS)
        elif t in ("id", "key", "issuekey", "*none"):
            continue
        elif t in js.ALL_FIELD_IDS:
            include.append(t)
        elif t.lower() in by_name and by_name[t.lower()] != "issuekey":
            include.append(by_name[t.lower()])
    if exclude and not include and not any(t in ("id", "key", "issuekey") for t in tokens):
        include = list(js.NAVIGABLE_FIELD_IDS)
    return [f for f in dict.fromkeys(include) if f not in exclude]


def _with_id(issue: dict, dup: tuple[str, int] | None) -> dict:
    """``issue`` as served; the impostor of ``Faults.duplicate_id`` under its victim's id."""
    if dup is None or issue.get("key") != dup[0]:
        return issue
    own = issue["id"]
    issue["id"] = str(dup[1])
    if isinstance(issue.get("self"), str):
        issue["self"] = issue["self"].removesuffix(f"/{own}") + f"/{dup[1]}"
    return issue
