from __future__ import annotations

import pytest

from shinrai.hooks.retry import Failure, RetryPolicy, SourceUnavailable, call


class Boom(Exception):
    def __init__(self, status: int, retry_after: float | None = None):
        self.status = status
        self.retry_after = retry_after


def classify(exc: BaseException) -> Failure | None:
    if isinstance(exc, Boom):
        return Failure(exc.status == 429 or exc.status >= 500, exc.status, exc.retry_after, f"HTTP {exc.status}")
    return None


FAST = RetryPolicy(max_attempts=4, initial_backoff_s=0.001, max_backoff_s=0.01, max_retry_after_s=0.05)


def test_recovers_from_429_and_5xx():
    outcomes = [Boom(429, 0.01), Boom(503), "ok"]

    def fn():
        item = outcomes.pop(0)
        if isinstance(item, Exception):
            raise item
        return item

    assert call("Jira", fn, classify, FAST) == "ok"
    assert outcomes == []


def test_gives_up_after_bounded_attempts_naming_source_and_cause():
    attempts = []

    def fn():
        attempts.append(1)
        raise Boom(503)

    with pytest.raises(SourceUnavailable) as err:
        call("Notion", fn, classify, FAST)
    assert len(attempts) == 4
    assert str(err.value) == "Notion is unavailable: HTTP 503 (after 4 attempt(s))"
    assert err.value.__cause__ is None  # the client's exception (may carry headers) is not chained


def test_client_errors_are_not_retried():
    attempts = []

    def fn():
        attempts.append(1)
        raise Boom(401)

    with pytest.raises(SourceUnavailable, match="HTTP 401"):
        call("Slack", fn, classify, FAST)
    assert len(attempts) == 1


def test_foreign_exceptions_pass_through():
    with pytest.raises(KeyError):
        call("Jira", lambda: {}["x"], classify, FAST)
