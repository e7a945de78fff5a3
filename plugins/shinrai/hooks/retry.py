"""One retry policy for every source, built on tenacity.

The client libraries each retry differently (jira retries 429/503 three times, notion-client
retries 429 but not 5xx on POST, slack_sdk retries nothing by default), so their own retries are
switched off in the hooks and every request goes through :func:`call`: a 429 waits exactly what
``Retry-After`` asks (bounded), 5xx and timeouts back off exponentially with jitter, and when the
attempts run out :class:`SourceUnavailable` names the source and the cause, never the credentials.

A source that answers with something that is not its API (an SSO login or maintenance page: status
200, HTML) makes each client fail its own way, deep in its JSON parsing. The hooks check every
answer's content type first and raise :class:`NotTheApi`, which :func:`call` turns into one line:
"Jira is unavailable: answered HTML (status 200), not the API (host example.atlassian.net)".
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

import tenacity

log = logging.getLogger(__name__)
T = TypeVar("T")


class SourceUnavailable(RuntimeError):
    """A source kept failing after bounded retries (or refused our credentials).

    ``exhausted`` is True when the retries ran out on a retryable failure (429, 5xx, timeouts):
    the source itself is down, not just this one request.
    """

    def __init__(self, source: str, cause: str, exhausted: bool = False):
        self.source = source
        self.cause = cause
        self.exhausted = exhausted
        super().__init__(f"{source} is unavailable: {cause}")


class NotTheApi(Exception):
    """A success status whose body is declared something other than JSON (not retried: an SSO
    page does not go away by asking again, and a maintenance page is better reported than waited
    out for minutes)."""

    def __init__(self, status: int, content_type: str, host: str):
        self.status = status
        self.content_type = content_type
        self.host = host
        super().__init__(self.cause)

    @property
    def cause(self) -> str:
        kind = self.content_type.split(";", 1)[0].strip().lower()
        what = "HTML" if "html" in kind else (kind or "something that is not JSON")
        return f"answered {what} (status {self.status}), not the API (host {self.host})"


def check_json_answer(status: int, content_type: str | None, host: str) -> None:
    """Raise :class:`NotTheApi` for a success answer whose declared type is not JSON (an answer
    without a type, or an error status, is left to the client)."""
    if 200 <= status < 300 and content_type and "json" not in content_type.lower():
        raise NotTheApi(status, content_type, host)


def host_of(url: str | None) -> str:
    """The host (and port) of ``url``, never its credentials, path or query."""
    from urllib.parse import urlsplit

    parts = urlsplit(url or "")
    host = parts.hostname or "?"
    return f"{host}:{parts.port}" if parts.port else host


@dataclass(frozen=True)
class Failure:
    """What the hook's classifier says about an exception."""

    retryable: bool
    status: int | None
    retry_after: float | None
    cause: str


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int = 6
    initial_backoff_s: float = 0.5
    max_backoff_s: float = 30.0
    max_retry_after_s: float = 120.0


def call(
    source: str,
    fn: Callable[[], T],
    classify: Callable[[BaseException], Failure | None],
    policy: RetryPolicy = RetryPolicy(),
) -> T:
    """Run ``fn`` under the policy. ``classify`` returns None for errors that are not the source's."""
    backoff = tenacity.wait_random_exponential(multiplier=policy.initial_backoff_s, max=policy.max_backoff_s)

    def wait(state: tenacity.RetryCallState) -> float:
        exc = state.outcome.exception() if state.outcome else None
        failure = classify(exc) if exc else None
        if failure and failure.retry_after is not None:
            return min(failure.retry_after, policy.max_retry_after_s)
        return backoff(state)

    def should_retry(exc: BaseException) -> bool:
        failure = classify(exc)
        return bool(failure and failure.retryable)

    def before_sleep(state: tenacity.RetryCallState) -> None:
        exc = state.outcome.exception() if state.outcome else None
        failure = classify(exc) if exc else None
        log.warning(
            "%s: attempt %d failed (%s); retrying in %.1fs",
            source,
            state.attempt_number,
            failure.cause if failure else type(exc).__name__,
            state.upcoming_sleep,
        )

    retrying = tenacity.Retrying(
        stop=tenacity.stop_after_attempt(policy.max_attempts),
        wait=wait,
        retry=tenacity.retry_if_exception(should_retry),
        before_sleep=before_sleep,
        reraise=True,
    )
    try:
        return retrying(fn)
    except SourceUnavailable:
        raise
    except NotTheApi as exc:
        raise SourceUnavailable(source, exc.cause) from None
    except BaseException as exc:
        failure = classify(exc)
        if failure is None:
            raise
        attempts = policy.max_attempts if failure.retryable else 1
        raise SourceUnavailable(source, f"{failure.cause} (after {attempts} attempt(s))",
                                exhausted=failure.retryable) from None
