"""Slack hook: the real ``slack_sdk`` WebClient, created on first use.

Connection: ``password`` is the bot token; ``extra.base_url`` optionally overrides the API URL
(the sandbox); ``extra.timeout`` is in seconds. slack_sdk retries nothing but connection errors
by default; 429/5xx go through :mod:`shinrai.hooks.retry`. An answer that is not JSON (slack_sdk
turns it into a ``SlackApiError`` quoting the body) is reported as ``NotTheApi``.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cached_property
from typing import TYPE_CHECKING, Any, TypeVar

from airflow.sdk import BaseHook

from shinrai.hooks.retry import Failure, call, check_json_answer, host_of

if TYPE_CHECKING:
    from slack_sdk import WebClient

T = TypeVar("T")


def classify_slack_error(exc: BaseException) -> Failure | None:
    import urllib.error

    from slack_sdk.errors import SlackApiError

    if isinstance(exc, SlackApiError):
        response = exc.response
        status = getattr(response, "status_code", None)
        error = response.get("error") if hasattr(response, "get") else None
        headers = getattr(response, "headers", {}) or {}
        value = next((v for k, v in headers.items() if k.lower() == "retry-after"), None)
        if isinstance(value, list):
            value = value[0] if value else None
        retry_after = float(value) if value and str(value).strip().isdigit() else None
        cause = f"HTTP {status} {error or ''}".strip()
        if error in ("invalid_auth", "not_authed", "token_revoked", "account_inactive"):
            cause += " (check the Slack connection's bot token)"
        retryable = status == 429 or (status is not None and status >= 500) or error in (
            "ratelimited", "rate_limited", "fatal_error", "internal_error", "service_unavailable"
        )
        return Failure(retryable, status, retry_after, cause)
    if isinstance(exc, TimeoutError) or (isinstance(exc, urllib.error.URLError)
                                         and isinstance(exc.reason, TimeoutError)):
        return Failure(True, None, None, "request timed out")
    if isinstance(exc, urllib.error.URLError | ConnectionError):
        return Failure(True, None, None, f"connection failed ({type(exc).__name__})")
    return None


class SlackHook(BaseHook):
    """Interact with Slack through ``slack_sdk``."""

    conn_name_attr = "slack_conn_id"
    default_conn_name = "shinrai_slack"
    conn_type = "slack"
    hook_name = "Slack (shinrai)"

    def __init__(self, slack_conn_id: str = default_conn_name, **kwargs: Any):
        super().__init__(**kwargs)
        self.slack_conn_id = slack_conn_id

    @cached_property
    def client(self) -> WebClient:
        from slack_sdk import WebClient

        conn = self.get_connection(self.slack_conn_id)
        if not conn.password:
            raise ValueError(f"Airflow connection {self.slack_conn_id!r} has no password (the bot token)")
        extra = conn.extra_dejson
        # float: int() would turn a sub-second timeout into 0, which urllib treats as non-blocking
        kwargs: dict[str, Any] = {"token": conn.password, "timeout": float(extra.get("timeout") or 30)}
        if extra.get("base_url"):
            kwargs["base_url"] = extra["base_url"]
        client = WebClient(**kwargs)
        from shinrai.hooks.pacing import configured_pacers

        pacers = configured_pacers("slack")
        if pacers is not None:  # every method call (each page, each retry) waits for its tier's turn
            api_call = client.api_call

            def paced_api_call(api_method: str, *args: Any, **kwargs: Any) -> Any:
                pacers.wait(api_method)
                return api_call(api_method, *args, **kwargs)

            client.api_call = paced_api_call  # type: ignore[method-assign]
        return client

    def get_conn(self) -> WebClient:
        return self.client

    def call(self, fn: Callable[[], T]) -> T:
        return call("Slack", lambda: _json_answers(fn), classify_slack_error)


NON_JSON = "Received a response in a non-JSON format"  # slack_sdk's error for a body it cannot parse


def _json_answers(fn: Callable[[], T]) -> T:
    """``fn()``, with slack_sdk's error for a body that is not JSON raised as ``NotTheApi``."""
    from slack_sdk.errors import SlackApiError

    try:
        return fn()
    except SlackApiError as exc:
        response = exc.response
        error = response.get("error") if hasattr(response, "get") else None
        if isinstance(error, str) and error.startswith(NON_JSON):
            headers = getattr(response, "headers", {}) or {}
            kind = next((v for k, v in headers.items() if k.lower() == "content-type"), None)
            if isinstance(kind, list):
                kind = kind[0] if kind else None
            check_json_answer(getattr(response, "status_code", 0) or 0, kind or "text/plain",
                              host_of(getattr(response, "api_url", None)))
        raise
