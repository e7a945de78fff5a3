"""Notion hook: the real ``notion-client`` (API version 2025-09-03), created on first use.

Connection: ``password`` is the integration token; ``host`` optionally overrides the API base URL
(the sandbox); ``extra.timeout`` is in seconds. The client's retries are off; see
:mod:`shinrai.hooks.retry`. Every answer's content type is checked before the client parses it.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cached_property
from typing import TYPE_CHECKING, Any, TypeVar

from airflow.sdk import BaseHook

from shinrai.hooks._testing import ONE_ATTEMPT, outcome
from shinrai.hooks.retry import Failure, RetryPolicy, call, check_json_answer, host_of

if TYPE_CHECKING:
    from notion_client import Client

T = TypeVar("T")
NOTION_VERSION = "2025-09-03"


def classify_notion_error(exc: BaseException) -> Failure | None:
    import httpx
    from notion_client.errors import HTTPResponseError, RequestTimeoutError

    if isinstance(exc, HTTPResponseError):
        retry_after = None
        value = exc.headers.get("retry-after", "") if exc.headers is not None else ""
        if value.strip().isdigit():
            retry_after = float(value)
        code = getattr(exc.code, "value", exc.code)
        cause = f"HTTP {exc.status} {code}"
        if exc.status == 401:
            cause += " (check the Notion connection's integration token)"
        retryable = exc.status == 429 or exc.status >= 500
        return Failure(retryable, exc.status, retry_after, cause)
    if isinstance(exc, RequestTimeoutError | httpx.TimeoutException):
        return Failure(True, None, None, "request timed out")
    if isinstance(exc, httpx.TransportError):
        return Failure(True, None, None, "connection failed")
    return None


class NotionHook(BaseHook):
    """Interact with Notion through ``notion-client``."""

    conn_name_attr = "notion_conn_id"
    default_conn_name = "shinrai_notion"
    conn_type = "notion"
    hook_name = "Notion (shinrai)"

    def __init__(self, notion_conn_id: str = default_conn_name, **kwargs: Any):
        super().__init__(**kwargs)
        self.notion_conn_id = notion_conn_id
        self.retry_policy = RetryPolicy()

    def test_connection(self) -> tuple[bool, str]:
        """The UI's Test button and ``airflow connections test``: the API accepts the integration
        token (``GET /v1/users/me``, the integration's bot user). One attempt, one line, no secret."""
        self.retry_policy = ONE_ATTEMPT  # a person is waiting: report, do not back off for minutes

        def who() -> str:
            me = self.call(self.client.users.me)
            return f"Notion at {host_of(self.client.options.base_url)} accepts the token of {me.get('name') or '?'}"

        return outcome(who)

    @cached_property
    def client(self) -> Client:
        from notion_client import Client

        conn = self.get_connection(self.notion_conn_id)
        if not conn.password:
            raise ValueError(f"Airflow connection {self.notion_conn_id!r} has no password (the token)")
        extra = conn.extra_dejson
        options: dict[str, Any] = {
            "auth": conn.password,
            "notion_version": NOTION_VERSION,
            "timeout_ms": int(float(extra.get("timeout") or 60) * 1000),
            "retry": False,
        }
        if conn.host:
            options["base_url"] = conn.host if "://" in conn.host else f"https://{conn.host}"
        client = Client(**options)
        host = host_of(client.options.base_url)

        def check(response: Any) -> None:
            check_json_answer(response.status_code, response.headers.get("content-type"), host)

        client.client.event_hooks["response"].append(check)
        return client

    def get_conn(self) -> Client:
        return self.client

    def call(self, fn: Callable[[], T]) -> T:
        pacers = self._pacers
        if pacers is None:
            return call("Notion", fn, classify_notion_error, self.retry_policy)

        def paced() -> T:  # every attempt waits its turn: Notion limits all requests together
            pacers.wait("*")
            return fn()

        return call("Notion", paced, classify_notion_error, self.retry_policy)

    @cached_property
    def _pacers(self) -> Any:
        from shinrai.hooks.pacing import configured_pacers

        return configured_pacers("notion")
