"""Jira Cloud hook: the real ``jira`` client, REST v3, created on first use.

Connection: ``host`` is the site URL, ``login`` the account e-mail, ``password`` the API token.
``extra`` may set ``timeout`` (seconds). The client's own retries are off: every call goes
through :mod:`shinrai.hooks.retry` so that 429, 5xx and timeouts are handled one way. Every
answer's content type is checked before the client parses it (an HTML page: ``NotTheApi``).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from functools import cached_property
from typing import TYPE_CHECKING, Any, TypeVar

from airflow.sdk import BaseHook

from shinrai.hooks._testing import ONE_ATTEMPT, outcome
from shinrai.hooks.retry import Failure, RetryPolicy, call, check_json_answer, host_of

if TYPE_CHECKING:
    from jira import JIRA

T = TypeVar("T")


def classify_jira_error(exc: BaseException) -> Failure | None:
    """Turn a client exception into a retry decision and a cause that never carries credentials.

    ``str(JIRAError)`` includes the request headers (the Basic auth header), so it is never used.
    """
    import requests
    from jira.exceptions import JIRAError

    if isinstance(exc, JIRAError):
        status = exc.status_code
        response = getattr(exc, "response", None)
        retry_after = None
        if response is not None and response.headers.get("Retry-After", "").strip().isdigit():
            retry_after = float(response.headers["Retry-After"])
        detail = _jira_messages(response)
        cause = f"HTTP {status} from {_path_only(exc.url)}" + (f": {detail}" if detail else "")
        if status in (401, 403):
            cause += " (check the Jira connection's login e-mail and API token)"
        retryable = status == 429 or (status is not None and status >= 500)
        return Failure(retryable=retryable, status=status, retry_after=retry_after, cause=cause)
    if isinstance(exc, requests.Timeout):
        return Failure(retryable=True, status=None, retry_after=None, cause="request timed out")
    if isinstance(exc, requests.ConnectionError):
        return Failure(retryable=True, status=None, retry_after=None, cause="connection failed")
    return None


def _path_only(url: str | None) -> str:
    if not url:
        return "?"
    from urllib.parse import urlsplit

    return urlsplit(url).path


def _jira_messages(response: Any) -> str:
    if response is None:
        return ""
    try:
        body = response.json()
    except (ValueError, json.JSONDecodeError):
        return ""
    if not isinstance(body, dict):
        return ""
    messages = list(body.get("errorMessages") or [])
    messages += [f"{k}: {v}" for k, v in (body.get("errors") or {}).items()]
    return "; ".join(str(m) for m in messages)[:300]


def _paced_adapter(pacers: Any) -> Any:
    """A requests adapter that waits for the endpoint family's pacer before sending."""
    from urllib.parse import urlsplit

    from requests.adapters import HTTPAdapter

    from shinrai.hooks.pacing import jira_family

    class PacedAdapter(HTTPAdapter):
        def send(self, request: Any, *args: Any, **kwargs: Any) -> Any:
            pacers.wait(jira_family(urlsplit(request.url).path))
            return super().send(request, *args, **kwargs)

    return PacedAdapter()


class JiraHook(BaseHook):
    """Interact with Jira Cloud through the ``jira`` client library."""

    conn_name_attr = "jira_conn_id"
    default_conn_name = "shinrai_jira"
    conn_type = "jira"
    hook_name = "Jira Cloud (shinrai)"

    def __init__(self, jira_conn_id: str = default_conn_name, **kwargs: Any):
        super().__init__(**kwargs)
        self.jira_conn_id = jira_conn_id
        self.retry_policy = RetryPolicy()

    def test_connection(self) -> tuple[bool, str]:
        """The UI's Test button and ``airflow connections test``: the site answers as Jira and
        accepts the e-mail and API token (``GET /myself``). One attempt, one line, no secret."""
        self.retry_policy = ONE_ATTEMPT  # a person is waiting: report, do not back off for minutes

        def who() -> str:
            me = self.call(self.client.myself)
            return f"Jira at {host_of(self.site_url())} accepts the token of {me.get('emailAddress') or '?'}"

        return outcome(who)

    @cached_property
    def client(self) -> JIRA:
        from jira import JIRA

        conn = self.get_connection(self.jira_conn_id)
        if not conn.host:
            raise ValueError(f"Airflow connection {self.jira_conn_id!r} has no host (the Jira site URL)")
        extra = conn.extra_dejson
        server = conn.host if "://" in conn.host else f"https://{conn.host}"
        client = self.call(
            lambda: JIRA(
                server=server,
                basic_auth=(conn.login or "", conn.password or ""),
                options={"rest_api_version": "3"},
                max_retries=0,
                timeout=float(extra.get("timeout") or 60),
                get_server_info=False,  # asked below, once the answers are checked
            )
        )
        host = host_of(server)

        def check(response: Any, *args: Any, **kwargs: Any) -> None:
            check_json_answer(response.status_code, response.headers.get("Content-Type"), host)

        client._session.hooks["response"].append(check)
        # what JIRA(get_server_info=True) does, now that an HTML answer is reported as such
        info = self.call(client.server_info)
        client._version = tuple(info["versionNumbers"])
        client.deploymentType = info.get("deploymentType")
        from shinrai.hooks.pacing import configured_pacers

        pacers = configured_pacers("jira")
        if pacers is not None:  # every later request waits for its endpoint family's turn
            client._session.mount(server.rstrip("/") + "/", _paced_adapter(pacers))
        return client

    def site_url(self) -> str:
        """The Jira site URL from the connection (for links back to issues); no request is made."""
        host = self.get_connection(self.jira_conn_id).host or ""
        return host if "://" in host else f"https://{host}"

    def get_conn(self) -> JIRA:
        return self.client

    def call(self, fn: Callable[[], T]) -> T:
        return call("Jira", fn, classify_jira_error, self.retry_policy)

    def get_json(self, path: str, params: dict[str, Any] | None = None) -> Any:
        """GET ``/rest/api/3/<path>`` through the client's session, with the shared retry policy."""
        client = self.client
        return self.call(lambda: client._get_json(path, params=params))

    def issue_gone(self, issue_id: str) -> bool:
        """Whether ``GET /issue/{id}`` answers 404 (the issue was deleted, or this account can no
        longer see it: Jira answers both alike). Any other failure goes through the retry policy."""
        from jira.exceptions import JIRAError

        client = self.client

        def probe() -> bool:
            try:
                client._get_json(f"issue/{issue_id}", params={"fields": "id"})
            except JIRAError as exc:
                if exc.status_code == 404:
                    return True
                raise
            return False

        return self.call(probe)
