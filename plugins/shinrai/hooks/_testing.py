"""What the hooks' ``test_connection`` share: one attempt, and an outcome as Airflow shows it."""

from __future__ import annotations

from collections.abc import Callable

from shinrai.hooks.retry import RetryPolicy, SourceUnavailable

ONE_ATTEMPT = RetryPolicy(max_attempts=1)


def outcome(check: Callable[[], str]) -> tuple[bool, str]:
    """``(True, what check() says)``, or ``(False, one line)``: the source's own cause (which
    never carries credentials), or the connection's missing field."""
    try:
        return True, check()
    except SourceUnavailable as exc:
        return False, str(exc)
    except ValueError as exc:  # the connection lacks a field (host, token)
        return False, str(exc)
