"""The benchmark (``make bench`` / ``shinrai bench``): the sandbox at 1x, 10x and 100x, every pipeline
step in its own process, and the figures of the benchmark issue with their goals, written as JSON
(``bench/results/latest.json``) and a short table. Not part of ``make test``."""

from __future__ import annotations

from typing import Any

__all__ = ["Options", "run"]


def __getattr__(name: str) -> Any:  # the child runner (python -m shinrai.bench.child) imports nothing else
    if name in __all__:
        from shinrai.bench import harness

        return getattr(harness, name)
    raise AttributeError(name)
