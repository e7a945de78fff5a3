"""Fake Slack Web API (the methods an extractor and a notifier use)."""

from __future__ import annotations

import base64
import json
import time
from bisect import bisect_left, bisect_right
from decimal import Decimal, InvalidOperation
from urllib.parse import parse_qs

from .faults import Injected
from .httpbase import Request, Response
from .model import Channel
from .planted_text import texts as planted_texts
from .slack_render import all_users, channel_json
from .state import SandboxState
from .timefmt import slack_ts

SLACK_TOKEN = "sandbox-slack-token"
# The bot token scopes of SLACK_TOKEN (and of a token given in Sandbox(credentials=...)): every scope the
# pipeline and the chaser use. Sandbox.slack_token(scopes) registers a token with fewer.
DEFAULT_SCOPES = ("channels:read", "channels:history", "groups:read", "groups:history", "im:read", "im:write",
                  "im:history", "users:read", "users:read.email", "chat:write")
# the scope each method needs, by kind of conversation where it depends on one (the spec's
# `security` lists these alternatives: slack_web_openapi_v2.json); None: no scope
_BY_KIND = {
    "read": {"public": "channels:read", "private": "groups:read", "im": "im:read", "mpim": "mpim:read"},
    "history": {"public": "channels:history", "private": "groups:history", "im": "im:history",
                "mpim": "mpim:history"},
}
_LIST_TYPES = {"public_channel": "public", "private_channel": "private", "im": "im", "mpim": "mpim"}
_FIXED_SCOPE = {"auth.test": None, "users.list": "users:read", "users.info": "users:read",
                "chat.postMessage": "chat:write", "chat.update": "chat:write", "conversations.open": "im:write"}
WEBHOOK_CHANNEL = "reliability"  # where incoming webhooks post (the reliability team channel)
HISTORY_DEFAULT_LIMIT = 100
HISTORY_MAX_LIMIT = 999
LIST_MAX_LIMIT = 1000


def micros(ts: str) -> int:
    """``"1712345678.000200"`` -> 1712345678000200 (raises ValueError)."""
    try:
        return int(Decimal(ts) * 1_000_000)
    except InvalidOperation as exc:
        raise ValueError(ts) from exc


def _b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def _unb64(cursor: str, prefix: str) -> str | None:
    try:
        raw = base64.b64decode(cursor.encode(), validate=True).decode()
    except (ValueError, UnicodeDecodeError):
        return None
    return raw[len(prefix):] if raw.startswith(prefix) else None


def _truthy(v: object) -> bool:
    return str(v).lower() in ("1", "true", "yes")


def _accepted(method: str) -> tuple[str, ...]:
    """What ``x-accepted-oauth-scopes`` says for a method: any one of these scopes lets it run."""
    if method in _FIXED_SCOPE:
        scope = _FIXED_SCOPE[method]
        return (scope,) if scope else ()
    if method in ("conversations.history", "conversations.replies"):
        return tuple(_BY_KIND["history"].values())
    if method in ("conversations.list", "conversations.info"):
        return tuple(_BY_KIND["read"].values())
    return ()


def _without_emails(resp: Response) -> Response:
    """users.list / users.info for a token without users:read.email: profiles carry no ``email``."""
    body = resp.body
    if not isinstance(body, dict) or not body.get("ok"):
        return resp
    def strip(user: dict) -> dict:
        return {**user, "profile": {k: v for k, v in (user.get("profile") or {}).items() if k != "email"}}
    if "members" in body:
        body = {**body, "members": [strip(u) for u in body["members"]]}
    if "user" in body:
        body = {**body, "user": strip(body["user"])}
    return Response(resp.status, body, resp.headers, resp.content_type)


def _ok(body: dict) -> Response:
    return Response(200, {"ok": True, **body}, content_type="application/json; charset=utf-8")


def _fail(error: str, status: int = 200, headers: dict | None = None, **extra: object) -> Response:
    return Response(status, {"ok": False, "error": error, **extra}, headers or {},
                    content_type="application/json; charset=utf-8")


class SlackApp:
    name = "slack"

    def __init__(self, state: SandboxState) -> None:
        self.state = state
        self.base_url = "http://127.0.0.1"
        self._last_post = 0

    @property
    def org(self):
        return self.state.org

    # ------------------------------------------------------------ plumbing
    def family(self, req: Request) -> str | None:
        if req.path.startswith("/services/"):
            return "incoming-webhook"
        return req.path.rsplit("/", 1)[-1] or "unknown"

    def fault_response(self, injected: Injected) -> Response:
        headers = {"Retry-After": str(injected.retry_after)} if injected.retry_after else {}
        if injected.status == 429:
            return _fail("ratelimited", 429, headers)
        return _fail("service_unavailable", 503, headers)

    def params(self, req: Request) -> dict:
        params: dict = {k: v[-1] for k, v in req.query.items()}
        ctype = (req.header("Content-Type") or "").lower()
        if req.body:
            if "json" in ctype:
                body = req.json()
                if isinstance(body, dict):
                    params.update(body)
            else:
                form = parse_qs(req.body.decode("utf-8"), keep_blank_values=True)
                params.update({k: v[-1] for k, v in form.items()})
        return params

    def record_params(self, req: Request) -> dict:
        try:
            p = self.params(req)
        except ValueError:
            return {}
        p.pop("token", None)
        return p

    # ------------------------------------------------------------ routing
    def handle(self, req: Request) -> Response:
        if req.path.startswith("/services/"):
            return self.incoming_webhook(req)
        if not req.path.startswith("/api/"):
            return Response(404, "Not Found", content_type="text/plain")
        method = req.path[len("/api/"):]
        try:
            p = self.params(req)
        except ValueError:
            return _fail("invalid_json")
        auth = req.header("Authorization") or ""
        token = auth[7:] if auth.startswith("Bearer ") else p.get("token")
        if not token:
            return _fail("not_authed")
        scopes = self.scopes_of(token)
        if scopes is None:
            return _fail("invalid_auth")
        handlers = {
            "auth.test": self.auth_test, "conversations.list": self.conversations_list,
            "conversations.info": self.conversations_info, "conversations.history": self.history,
            "conversations.replies": self.replies, "users.list": self.users_list, "users.info": self.users_info,
            "chat.postMessage": self.post_message, "chat.update": self.update_message,
            "conversations.open": self.conversations_open,
        }
        fn = handlers.get(method)
        if fn is None:
            return _fail("unknown_method")
        with self.state.lock:
            needed = self.needed_scope(method, p, scopes)
            if needed is not None and needed not in scopes:
                resp = _fail("missing_scope", needed=needed, provided=",".join(scopes))
            else:
                resp = fn(p)
                if method in ("users.list", "users.info") and "users:read.email" not in scopes:
                    resp = _without_emails(resp)
        # as Slack: every answer to a valid token names the token's scopes, and those the method accepts
        resp.headers = {**resp.headers, "x-oauth-scopes": ",".join(scopes),
                        "x-accepted-oauth-scopes": ",".join(_accepted(method))}
        return resp

    # ------------------------------------------------------------ scopes
    def scopes_of(self, token: str) -> tuple[str, ...] | None:
        """The token's scopes, or None when the workspace does not know the token."""
        if token == (self.state.credentials.get("slack") or {}).get("token", SLACK_TOKEN):
            return DEFAULT_SCOPES
        return self.state.slack_tokens.get(token)

    def _kind(self, ref: object) -> str | None:
        s = str(ref or "")
        c = self.state.content.by_id.get(s)
        if c is not None:
            return "private" if c.is_private else "public"
        return "im" if s.startswith("D") else None

    def needed_scope(self, method: str, p: dict, scopes: tuple[str, ...] = ()) -> str | None:
        """The scope this call needs, or None. ``conversations.list`` needs the read scope of every type
        it asks for: the first of them the token lacks (``scopes``), else the first."""
        if method in _FIXED_SCOPE:
            return _FIXED_SCOPE[method]
        if method == "conversations.list":
            types = [t.strip() for t in str(p.get("types") or "public_channel").split(",") if t.strip()]
            wanted = [_BY_KIND["read"][_LIST_TYPES[t]] for t in types if t in _LIST_TYPES]
            return next((s for s in wanted if s not in scopes), wanted[0] if wanted else None)
        family = "history" if method in ("conversations.history", "conversations.replies") else "read"
        kind = self._kind(p.get("channel"))
        return _BY_KIND[family][kind] if kind else None

    # ------------------------------------------------------------ objects
    def auth_test(self, p: dict) -> Response:
        bot = self.org.incident_bot
        return _ok({"url": "https://shinrai-sandbox.slack.com/", "team": "Shinrai Sandbox", "user": "incident_bot",
                    "team_id": self.org.team_id, "user_id": bot.user_id, "bot_id": bot.bot_id,
                    "is_enterprise_install": False})

    def _channel(self, ref: object) -> Channel | None:
        if not ref:
            return None
        s = str(ref).lstrip("#")
        content = self.state.content
        return content.by_id.get(s) or content.by_name.get(s)

    def channel_json(self, c: Channel) -> dict:
        return channel_json(self.org, c)

    def conversations_list(self, p: dict) -> Response:
        types = {t.strip() for t in str(p.get("types") or "public_channel").split(",") if t.strip()}
        unknown = types - {"public_channel", "private_channel", "mpim", "im"}
        if unknown:
            return _fail("invalid_types")
        try:
            limit = int(p.get("limit") or 100)
        except ValueError:
            return _fail("invalid_limit")
        if limit < 1 or limit > LIST_MAX_LIMIT:
            return _fail("invalid_limit")
        exclude_archived = _truthy(p.get("exclude_archived", "false"))
        chans = [c for c in self.org.channels
                 if (("private_channel" in types) if c.is_private else ("public_channel" in types))
                 and not (exclude_archived and c.archived)]
        start = 0
        if p.get("cursor"):
            raw = _unb64(str(p["cursor"]), "channel:")
            if raw is None or not raw.isdigit():
                return _fail("invalid_cursor")
            start = next((k for k, c in enumerate(chans) if c.index >= int(raw)), len(chans))
        page = chans[start:start + limit]
        nxt = _b64(f"channel:{chans[start + limit].index}") if start + limit < len(chans) else ""
        return _ok({"channels": [self.channel_json(c) for c in page], "response_metadata": {"next_cursor": nxt}})

    def conversations_info(self, p: dict) -> Response:
        c = self.state.content.by_id.get(str(p.get("channel") or ""))
        if c is None:
            return _fail("channel_not_found")
        return _ok({"channel": self.channel_json(c)})

    # ------------------------------------------------------------ messages
    def _malformed_ts(self) -> tuple[str, str] | None:
        if not (self.state.faults.malformed and self.state.injector.active("slack")):
            return None
        for d in self.org.malformed:
            if d["source"] == "slack":
                ch = self.state.content.by_id[d["key"]]
                return ch.id, self.state.content.messages(ch).top[5]["ts"]
        return None

    def visible_top(self, channel_id: str) -> list[dict]:
        ch = self.state.content.by_id.get(channel_id)
        generated = self.state.content.messages(ch).top if ch else []
        deleted = self.state.slack_deleted
        if deleted:
            generated = [m for m in generated if (channel_id, m["ts"]) not in deleted]
        return generated + self.state.slack_posted.get(channel_id, [])

    def replies_of(self, channel_id: str, parent_ts: str) -> list[dict]:
        ch = self.state.content.by_id.get(channel_id)
        generated = self.state.content.messages(ch).replies.get(parent_ts, []) if ch else []
        return generated + self.state.slack_posted_replies.get((channel_id, parent_ts), [])

    def render(self, channel_id: str, m: dict, bad: tuple[str, str] | None,
               texts: dict[str, str] | None = None) -> dict:
        """``texts``: planted texts by ``"<channel>:<ts>"`` (planted_text.texts)."""
        key = (channel_id, m["ts"])
        edit = self.state.slack_edits.get(key)
        extra = self.state.slack_posted_replies.get(key)
        planted = texts.get(f"{channel_id}:{m['ts']}") if texts else None
        if not edit and not extra and key != bad and planted is None:
            return m
        d = dict(m)
        if planted is not None:
            d["text"] = planted
            d.pop("blocks", None)
        if edit:
            d.update(edit)
        if extra:
            replies = self.replies_of(channel_id, m["ts"])
            users = list(dict.fromkeys(r.get("user", "") for r in replies))
            d.update({"thread_ts": m["ts"], "reply_count": len(replies), "reply_users_count": len(users),
                      "reply_users": users, "latest_reply": replies[-1]["ts"]})
        if key == bad:
            d.pop("ts", None)
        return d

    def _limit(self, p: dict) -> int | Response:
        cap = self.state.injector.history_limit_cap()
        try:
            limit = int(p.get("limit") or (cap or HISTORY_DEFAULT_LIMIT))
        except ValueError:
            return _fail("invalid_limit")
        if limit < 1:
            limit = cap or HISTORY_DEFAULT_LIMIT
        return min(limit, cap or HISTORY_MAX_LIMIT)

    @staticmethod
    def _bounds(p: dict) -> tuple[int, int, bool] | Response:
        try:
            oldest = micros(str(p.get("oldest") or "0"))
        except ValueError:
            return _fail("invalid_ts_oldest")
        try:
            latest = micros(str(p["latest"])) if p.get("latest") else micros(f"{time.time() + 86400 * 3650:.6f}")
        except ValueError:
            return _fail("invalid_ts_latest")
        return oldest, latest, _truthy(p.get("inclusive", "0"))

    def history(self, p: dict) -> Response:
        ch_id = self._resolve_id(p.get("channel"))
        if ch_id is None:
            return _fail("channel_not_found")
        limit = self._limit(p)
        if isinstance(limit, Response):
            return limit
        bounds = self._bounds(p)
        if isinstance(bounds, Response):
            return bounds
        oldest, latest, inclusive = bounds
        msgs = self.visible_top(ch_id)
        keys = [micros(m["ts"]) for m in msgs]
        lo = bisect_left(keys, oldest) if inclusive else bisect_right(keys, oldest)
        hi = bisect_right(keys, latest) if inclusive else bisect_left(keys, latest)
        if p.get("cursor"):
            raw = _unb64(str(p["cursor"]), "next_ts:")
            if raw is None or not raw.isdigit():
                return _fail("invalid_cursor")
            hi = min(hi, bisect_left(keys, int(raw)))
        start = max(lo, hi - limit)
        page = msgs[start:hi]
        has_more = start > lo
        bad = self._malformed_ts()
        texts = planted_texts(self.state, "slack")
        out = [self.render(ch_id, m, bad, texts) for m in reversed(page)]
        nxt = _b64(f"next_ts:{keys[start]}") if has_more else ""
        return _ok({"messages": out, "has_more": has_more, "pin_count": 0, "channel_actions_ts": None,
                    "channel_actions_count": 0, "response_metadata": {"next_cursor": nxt}})

    def replies(self, p: dict) -> Response:
        ch_id = self._resolve_id(p.get("channel"))
        if ch_id is None:
            return _fail("channel_not_found")
        ts = p.get("ts")
        if not ts:
            return _fail("thread_not_found")
        limit = self._limit(p)
        if isinstance(limit, Response):
            return limit
        bounds = self._bounds(p)
        if isinstance(bounds, Response):
            return bounds
        oldest, latest, inclusive = bounds
        parent = next((m for m in self.visible_top(ch_id) if m["ts"] == str(ts)), None)
        if parent is None:
            return _fail("thread_not_found")
        replies = self.replies_of(ch_id, parent["ts"])
        keys = [micros(r["ts"]) for r in replies]
        lo = bisect_left(keys, oldest) if inclusive else bisect_right(keys, oldest)
        hi = bisect_right(keys, latest) if inclusive else bisect_left(keys, latest)
        if p.get("cursor"):
            raw = _unb64(str(p["cursor"]), "next_ts:")
            if raw is None or not raw.isdigit():
                return _fail("invalid_cursor")
            lo = max(lo, bisect_left(keys, int(raw)))
        page = replies[lo:min(hi, lo + max(limit - 1, 1))]
        end = lo + len(page)
        has_more = end < hi
        bad = self._malformed_ts()
        texts = planted_texts(self.state, "slack")
        out = [self.render(ch_id, parent, bad, texts)] + [self.render(ch_id, r, bad, texts) for r in page]
        nxt = _b64(f"next_ts:{keys[end]}") if has_more else ""
        return _ok({"messages": out, "has_more": has_more, "response_metadata": {"next_cursor": nxt}})

    def _resolve_id(self, ref: object) -> str | None:
        """Read methods take a conversation ID (like Slack, a channel name is channel_not_found)."""
        s = str(ref or "")
        if s in self.state.content.by_id:
            return s
        if s.startswith("D") and s in self.state.slack_posted:
            return s
        return None

    # ------------------------------------------------------------ users
    def all_users(self) -> list[dict]:
        return all_users(self.org)

    def users_list(self, p: dict) -> Response:
        users = self.all_users()
        try:
            limit = int(p.get("limit") or 0)
        except ValueError:
            return _fail("invalid_limit")
        if limit <= 0 or limit > LIST_MAX_LIMIT:
            limit = LIST_MAX_LIMIT
        start = 0
        if p.get("cursor"):
            raw = _unb64(str(p["cursor"]), "user:")
            if raw is None or not raw.isdigit():
                return _fail("invalid_cursor")
            start = int(raw)
        page = users[start:start + limit]
        nxt = _b64(f"user:{start + limit}") if start + limit < len(users) else ""
        return _ok({"members": page, "cache_ts": int(time.time()), "response_metadata": {"next_cursor": nxt}})

    def users_info(self, p: dict) -> Response:
        uid = p.get("user")
        for u in self.all_users():
            if u["id"] == uid:
                return _ok({"user": u})
        return _fail("user_not_found")

    # ------------------------------------------------------------ posting
    @staticmethod
    def _decode_json_field(value: object) -> object:
        if isinstance(value, str):
            try:
                return json.loads(value)
            except ValueError:
                return value
        return value

    def _target(self, ref: object) -> tuple[str, Channel | None] | None:
        c = self._channel(ref)
        if c is not None:
            return c.id, c
        s = str(ref or "")
        people = {p.slack_id: p for p in self.org.people}
        if s in people:
            if people[s].left:
                return None
            return "D" + s[1:], None
        if s.startswith("D") and s in self.state.slack_posted:
            return s, None
        return None

    def _next_ts(self) -> str:
        micro = max(int(time.time() * 1_000_000), self._last_post + 1)
        self._last_post = micro
        return slack_ts(micro / 1_000_000)

    def post_message(self, p: dict) -> Response:
        target = self._target(p.get("channel"))
        if target is None:
            return _fail("channel_not_found")
        ch_id, ch = target
        if ch is not None and ch.archived:
            return _fail("is_archived")
        text = p.get("text")
        blocks = self._decode_json_field(p.get("blocks"))
        attachments = self._decode_json_field(p.get("attachments"))
        if not text and not blocks and not attachments:
            return _fail("no_text")
        if text and len(str(text)) > 40000:
            return _fail("msg_too_long")
        bot = self.org.incident_bot
        ts = self._next_ts()
        msg: dict = {"type": "message", "user": bot.user_id, "bot_id": bot.bot_id, "app_id": bot.app_id,
                     "text": str(text or ""), "ts": ts, "team": self.org.team_id,
                     "bot_profile": {"id": bot.bot_id, "app_id": bot.app_id, "name": bot.name, "deleted": False,
                                     "team_id": self.org.team_id}}
        if blocks:
            msg["blocks"] = blocks
        if attachments:
            msg["attachments"] = attachments
        thread_ts = p.get("thread_ts")
        if thread_ts and any(m["ts"] == str(thread_ts) for m in self.visible_top(ch_id)):
            msg["thread_ts"] = str(thread_ts)
            self.state.slack_posted_replies.setdefault((ch_id, str(thread_ts)), []).append(msg)
        else:
            self.state.slack_posted.setdefault(ch_id, []).append(msg)
        record = {k: v for k, v in p.items() if k != "token"}
        record.update({"channel": p.get("channel"), "channel_id": ch_id, "text": text, "blocks": blocks,
                       "attachments": attachments, "thread_ts": thread_ts, "ts": ts})
        self.state.posted_messages.append(record)
        self.state.bump()
        return _ok({"channel": ch_id, "ts": ts, "message": msg})

    def conversations_open(self, p: dict) -> Response:
        """Open (or find) the bot's DM with one user: ``users`` is a user id; answers ``channel.id``."""
        users = [u.strip() for u in str(p.get("users") or "").split(",") if u.strip()]
        if len(users) != 1:
            return _fail("not_enough_users" if not users else "too_many_users")
        person = next((x for x in self.org.people if x.slack_id == users[0]), None)
        if person is None:
            return _fail("user_not_found")
        if person.left:
            return _fail("user_disabled")
        dm = "D" + person.slack_id[1:]
        self.state.slack_posted.setdefault(dm, [])
        return _ok({"no_op": False, "already_open": False,
                    "channel": {"id": dm, "is_im": True, "user": person.slack_id}})

    def incoming_webhook(self, req: Request) -> Response:
        """Slack incoming webhooks: ``POST /services/T…/B…/<secret>`` with a JSON body, answered with
        a plain-text ``ok``. The URL is the credential; the sandbox binds every webhook to the
        reliability team's channel unless the (legacy) payload names another."""
        if req.method != "POST" or len([part for part in req.path.split("/")[2:] if part]) != 3:
            return Response(404, "no_service", content_type="text/plain")
        try:
            payload = json.loads(req.body or b"{}")
        except ValueError:
            return Response(400, "invalid_payload", content_type="text/plain")
        if not isinstance(payload, dict):
            return Response(400, "invalid_payload", content_type="text/plain")
        params = dict(payload, channel=payload.get("channel") or WEBHOOK_CHANNEL)
        with self.state.lock:
            result = self.post_message(params)
            if isinstance(result.body, dict) and result.body.get("ok"):
                self.state.posted_messages[-1]["via"] = "webhook"
                return Response(200, "ok", content_type="text/plain")
        error = result.body.get("error", "invalid_payload") if isinstance(result.body, dict) else "invalid_payload"
        return Response(400 if error != "channel_not_found" else 404, error, content_type="text/plain")

    def update_message(self, p: dict) -> Response:
        ch_id = self._resolve_id(p.get("channel"))
        if ch_id is None:
            return _fail("channel_not_found")
        ch = self.state.content.by_id.get(ch_id)
        if ch is not None and ch.archived:
            return _fail("is_inactive")  # Slack: no edits in a frozen, archived or deleted channel
        ts = str(p.get("ts") or "")
        msg = next((m for m in self.visible_top(ch_id) if m["ts"] == ts), None)
        if msg is None:
            return _fail("message_not_found")
        if msg.get("user") != self.org.incident_bot.user_id:
            return _fail("cant_update_message")
        text = p.get("text")
        blocks = self._decode_json_field(p.get("blocks"))
        edit: dict = {"edited": {"user": self.org.incident_bot.user_id, "ts": self._next_ts()}}
        if text is not None:
            edit["text"] = str(text)
        if blocks:
            edit["blocks"] = blocks
        self.state.slack_edits[(ch_id, ts)] = {**self.state.slack_edits.get((ch_id, ts), {}), **edit}
        self.state.bump()
        return _ok({"channel": ch_id, "ts": ts, "text": edit.get("text", msg.get("text", "")),
                    "message": self.render(ch_id, msg, None)})
