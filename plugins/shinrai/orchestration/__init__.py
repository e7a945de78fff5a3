"""Orchestration helpers for the DAG files: pools and assets, params, run plans, failure alerts,
the local Airflow stack (``make airflow``, the orchestration tests) and DAG parse timing.

DAG files import the light submodules (``resources``, ``params``, ``defaults``) at parse time;
everything else is imported inside tasks or by tools.
"""

from __future__ import annotations

from typing import Any


def parse_times(*args: Any, **kwargs: Any) -> dict[str, float]:
    """Seconds Airflow takes to parse each DAG file (see :func:`shinrai.orchestration.parsing.parse_times`)."""
    from shinrai.orchestration.parsing import parse_times as _parse_times

    return _parse_times(*args, **kwargs)
