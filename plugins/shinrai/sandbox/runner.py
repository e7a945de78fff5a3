"""``Sandbox``: the organisation plus the three fake servers, in-process; ``serve`` for out-of-process use."""

from __future__ import annotations

import json
import os
import signal
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import date
from types import TracebackType

from .control import Controls
from .faults import FaultInjector, Faults
from .httpbase import RequestRecord, ServerThread, make_handler
from .jira_server import JIRA_EMAIL, JIRA_TOKEN, JiraApp
from .manifest import build_manifest
from .model import Org
from .mutate import mutate as mutate_org
from .notion_server import NOTION_TOKEN, NotionApp, norm_id
from .org import REFERENCE_ANCHOR, generate_org
from .shapes import Shape, get_shape, single_project_keys
from .slack_server import SLACK_TOKEN, SlackApp
from .state import SandboxState
from .timefmt import jira_ts

DEFAULT_ANCHOR = REFERENCE_ANCHOR
DEFAULT_PORTS = {"jira": 18081, "notion": 18082, "slack": 18083}


class Sandbox:
    """Deterministic fake Jira, Notion and Slack on loopback.

    >>> with Sandbox(scale=0.1).start() as sb:  # doctest: +SKIP
    ...     JIRA(server=sb.jira_url, basic_auth=(sb.credentials["jira"]["email"], ...))
    """

    def __init__(self, seed: int = 7, scale: float = 1.0, anchor: date = DEFAULT_ANCHOR,
                 faults: Faults | None = None, org: Org | None = None,
                 clock: Callable[[], float] = time.monotonic,
                 credentials: Mapping[str, Mapping[str, str]] | None = None,
                 shape: str | Shape | None = None) -> None:
        """``clock`` drives the rate limiters (tests share a fake clock with the client's pacer).
        ``credentials`` replaces what the servers accept, e.g. ``{"slack": {"token": "xoxb-..."}}``
        (missing entries keep the defaults); ``credentials`` then reports the values in force.
        ``shape`` (a name in ``shapes.SHAPES``) serves the same organisation in another representation;
        ``key_map`` then holds the default key -> this shape's key of every renamed issue."""
        self.org = org if org is not None else generate_org(seed, scale, anchor)
        self.org.shape = get_shape(shape)
        self.key_map: dict[str, str] = {}
        if self.org.shape.single_project and any(i.project != self.org.shape.single_project for i in self.org.issues):
            self.key_map = single_project_keys(self.org, self.org.shape.single_project)
        self.state = SandboxState(self.org, FaultInjector(faults or Faults(), clock=clock))
        self.state.credentials = _credentials(credentials)
        self.jira = JiraApp(self.state, os.urandom(32))
        self.notion = NotionApp(self.state)
        self.slack = SlackApp(self.state)
        self._servers: dict[str, ServerThread] = {}
        self._host = "127.0.0.1"

    # ------------------------------------------------------------ lifecycle
    def start(self, host: str = "127.0.0.1", jira_port: int = 0, notion_port: int = 0,
              slack_port: int = 0) -> Sandbox:
        if self._servers:
            raise RuntimeError("sandbox already started")
        self._host = host
        controls = Controls(self)
        try:
            for app, port in ((self.jira, jira_port), (self.notion, notion_port), (self.slack, slack_port)):
                handler = make_handler(app, self.state.injector, self.state.records, controls)
                server = ServerThread(host, port, handler)
                display_host = host if host not in ("0.0.0.0", "") else "127.0.0.1"  # noqa: S104
                app.base_url = f"http://{display_host}:{server.port}"
                self._servers[app.name] = server
                server.start()
        except OSError:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        for server in self._servers.values():
            server.stop()
        self._servers.clear()

    def __enter__(self) -> Sandbox:
        if not self._servers:
            self.start()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()

    # ------------------------------------------------------------ addresses and credentials
    @property
    def jira_url(self) -> str:
        return self.jira.base_url

    @property
    def notion_url(self) -> str:
        return self.notion.base_url

    @property
    def slack_url(self) -> str:
        return f"{self.slack.base_url}/api/"

    @property
    def credentials(self) -> dict[str, dict[str, str]]:
        return {server: dict(values) for server, values in self.state.credentials.items()}

    def slack_token(self, scopes: Iterable[str]) -> str:
        """A new Slack bot token the workspace accepts, granted exactly ``scopes`` (the default token
        has ``slack_server.DEFAULT_SCOPES``): its answers name them in ``x-oauth-scopes``, and a method
        needing another answers ``missing_scope`` with ``needed`` and ``provided``."""
        with self.state.lock:
            token = f"sandbox-slack-token-{len(self.state.slack_tokens) + 1}"
            self.state.slack_tokens[token] = tuple(dict.fromkeys(str(s).strip() for s in scopes if str(s).strip()))
        return token

    def notion_token(self, unshared: Iterable[str] = ()) -> str:
        """A new Notion integration token the workspace accepts, to which the databases ``unshared``
        (ids) were not shared: they, their data sources and their pages answer 404 ``object_not_found``."""
        ids = set()
        for raw in unshared:
            oid = norm_id(str(raw))
            if oid is None:
                raise ValueError(f"not a Notion id: {raw!r}")
            ids.add(oid)
        with self.state.lock:
            token = f"sandbox-notion-token-{len(self.state.notion_tokens) + 1}"
            self.state.notion_tokens[token] = frozenset(ids)
        return token

    # ------------------------------------------------------------ inspection and control
    def manifest(self) -> dict:
        return build_manifest(self.state)

    @property
    def requests(self) -> list[RequestRecord]:
        return list(self.state.records)

    def reset_requests(self) -> None:
        self.state.records.clear()

    @property
    def faults(self) -> Faults:
        return self.state.faults

    def set_faults(self, **knobs: object) -> Faults:
        faults = self.state.injector.set(**knobs)
        self.state.bump()
        return faults

    def mutate(self, fraction: float = 0.01, delete_fraction: float = 0.0, seed: int = 1,
               search_lag_s: float | None = None, archive: Sequence[str] = (), unarchive: Sequence[str] = ()) -> dict:
        lag = None if search_lag_s is None else float(search_lag_s)
        if isinstance(archive, str) or isinstance(unarchive, str):
            raise ValueError("archive and unarchive are lists of Slack channel ids")
        return mutate_org(self.state, float(fraction), float(delete_fraction), int(seed), lag,
                          [str(x) for x in archive], [str(x) for x in unarchive])

    def planted_text(self, key: str) -> str | None:
        """The text a planted large or oversized record is served with now (``Faults.large_text_bytes``,
        ``Faults.oversized_bytes``; keys as in the manifest), or None."""
        from .planted_text import texts

        for source in ("jira", "notion", "slack"):
            found = texts(self.state, source).get(key)
            if found is not None:
                return found
        return None

    @property
    def posted_messages(self) -> list[dict]:
        return list(self.state.posted_messages)

    @property
    def jira_comments(self) -> dict[str, list[dict]]:
        with self.state.lock:
            return {key: [{"id": c["id"], "created": jira_ts(c["created"]), "text": c["text"], "body": c["adf"],
                           "rest_api_version": c["version"]} for c in comments]
                    for key, comments in self.state.jira_comments.items()}


def _credentials(overrides: Mapping[str, Mapping[str, str]] | None) -> dict[str, dict[str, str]]:
    creds = {"jira": {"email": JIRA_EMAIL, "token": JIRA_TOKEN}, "notion": {"token": NOTION_TOKEN},
             "slack": {"token": SLACK_TOKEN}}
    for server, values in (overrides or {}).items():
        if server not in creds or set(values) - set(creds[server]):
            raise ValueError(f"unknown sandbox credentials {server}: {sorted(values)}; expected {creds}")
        creds[server].update({k: str(v) for k, v in values.items()})
    return creds


def serve(seed: int = 7, scale: float = 1.0, anchor: date = DEFAULT_ANCHOR, host: str = "127.0.0.1",
          jira_port: int = DEFAULT_PORTS["jira"], notion_port: int = DEFAULT_PORTS["notion"],
          slack_port: int = DEFAULT_PORTS["slack"], faults: Faults | None = None,
          shape: str = "default") -> None:
    """Start the sandbox and block until SIGTERM/SIGINT. Prints one JSON line with the URLs when ready."""
    stop = threading.Event()
    previous = {sig: signal.signal(sig, lambda *_a: stop.set()) for sig in (signal.SIGTERM, signal.SIGINT)}
    sb = Sandbox(seed, scale, anchor, faults, shape=shape).start(host, jira_port, notion_port, slack_port)
    try:
        print(json.dumps({"jira_url": sb.jira_url, "notion_url": sb.notion_url, "slack_url": sb.slack_url,
                          "credentials": sb.credentials, "seed": seed, "scale": scale,
                          "anchor": anchor.isoformat(), "shape": sb.org.shape.name}), flush=True)
        while not stop.wait(0.5):
            pass
    finally:
        sb.stop()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
