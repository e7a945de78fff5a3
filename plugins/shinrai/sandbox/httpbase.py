"""Minimal HTTP plumbing shared by the three fake servers (stdlib ``http.server``)."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Protocol
from urllib.parse import parse_qs, urlsplit

from .faults import FaultInjector, Injected


@dataclass(frozen=True)
class RequestRecord:
    server: str
    method: str
    path: str
    query: dict  # request parameters: query string merged with form/JSON body fields (secrets removed)
    status: int
    at: float  # wall-clock epoch seconds
    bytes: int = 0  # the response body's length as sent (the benchmark sums the JSON each source served)


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: Any  # email.message.Message (case-insensitive)
    body: bytes
    _json: Any = field(default=None, repr=False)
    _json_ok: bool = field(default=False, repr=False)

    def header(self, name: str) -> str | None:
        return self.headers.get(name)

    def arg(self, name: str) -> str | None:
        v = self.query.get(name)
        return v[-1] if v else None

    def json(self) -> Any:
        """Parsed JSON body (``None`` for an empty body). Raises ValueError for invalid JSON."""
        if not self._json_ok:
            self._json = json.loads(self.body.decode("utf-8")) if self.body.strip() else None
            self._json_ok = True
        return self._json


@dataclass
class Response:
    status: int
    body: Any = None  # dict/list -> JSON; bytes/str -> as is
    headers: dict[str, str] = field(default_factory=dict)
    content_type: str = "application/json;charset=UTF-8"


class App(Protocol):
    name: str
    base_url: str

    def family(self, req: Request) -> str | None:
        """Limiter family for faults; None means this request is exempt from faults."""

    def handle(self, req: Request) -> Response: ...

    def fault_response(self, injected: Injected) -> Response: ...

    def record_params(self, req: Request) -> dict: ...


ControlFn = Callable[[str, Request], Response | None]


HTML_PAGE = (
    "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>Sign in to continue</title></head>\n"
    "<body><h1>Sign in to continue</h1><p>Your organization requires single sign-on.</p>"
    "<form method=\"post\" action=\"/login\"><button>Continue with SSO</button></form></body></html>\n"
)


def json_bytes(obj: Any) -> bytes:
    text = json.dumps(obj, ensure_ascii=False, separators=(",", ":"))
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate (Faults.lone_surrogate): sent as its JSON escape
        return json.dumps(obj, ensure_ascii=True, separators=(",", ":")).encode("ascii")


def _body(resp: Response) -> bytes:
    if isinstance(resp.body, bytes):
        return resp.body
    if isinstance(resp.body, str):
        return resp.body.encode("utf-8")
    if resp.body is None:
        return b""
    return json_bytes(resp.body)


def flat_query(query: dict[str, list[str]]) -> dict:
    return {k: (v[0] if len(v) == 1 else list(v)) for k, v in query.items()}


def make_handler(
    app: App, injector: FaultInjector, records: list[RequestRecord], control: ControlFn,
) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        server_version = "shinrai-sandbox"
        sys_version = ""

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
            return

        def _dispatch(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length > 0 else b""
            parts = urlsplit(self.path)
            req = Request(self.command, parts.path, parse_qs(parts.query, keep_blank_values=True),
                          self.headers, body)
            if parts.path.startswith("/_sandbox/"):
                resp = control(app.name, req) or Response(404, {"error": "unknown control path"})
                self._send(resp, _body(resp))
                return
            family = app.family(req)
            resp = None
            if family is not None:
                delay = injector.delay_s(app.name)
                if delay > 0:
                    time.sleep(delay)
                injected = injector.decide(app.name, family)
                if injected is not None:
                    resp = app.fault_response(injected)
                elif injector.html_answer(app.name):  # what an SSO proxy or a maintenance page serves
                    resp = Response(200, HTML_PAGE, content_type="text/html; charset=utf-8")
            if resp is None:
                try:
                    resp = app.handle(req)
                except Exception as exc:  # pragma: no cover - defensive: never kill the connection
                    resp = Response(500, {"error": f"sandbox bug: {type(exc).__name__}: {exc}"})
            try:
                params = app.record_params(req)
            except Exception:
                params = flat_query(req.query)
            data = _body(resp)
            records.append(RequestRecord(app.name, req.method, req.path, params, resp.status, time.time(),
                                         len(data)))
            try:
                self._send(resp, data)
            except (BrokenPipeError, ConnectionResetError):
                # the client gave up first (a timeout shorter than the injected delay): what a real
                # server sees too; nothing to answer
                self.close_connection = True

        def _send(self, resp: Response, data: bytes) -> None:
            self.send_response(resp.status)
            if data or resp.status not in (204, 304):
                self.send_header("Content-Type", resp.content_type)
            self.send_header("Content-Length", str(len(data)))
            for k, v in resp.headers.items():
                self.send_header(k, v)
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(data)

        do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = _dispatch  # noqa: N815

    return Handler


class ServerThread:
    """A ThreadingHTTPServer running in a daemon thread."""

    def __init__(self, host: str, port: int, handler: type[BaseHTTPRequestHandler]) -> None:
        self.httpd = ThreadingHTTPServer((host, port), handler)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.2},
                                       daemon=True, name=f"sandbox-{port}")

    @property
    def port(self) -> int:
        return int(self.httpd.server_address[1])

    def start(self) -> None:
        self.thread.start()

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(timeout=5)
