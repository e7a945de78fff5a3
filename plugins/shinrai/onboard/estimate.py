"""What the probes of ``shinrai check`` share: the taxonomies' claimed values, listing, headers (the paced
time of a first load is ``shinrai.hooks.pacing.paced_seconds``: the hooks' own pacer)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from typing import Any

from shinrai.config import Config


def norm(value: str) -> str:
    """How dbt compares a source value with a taxonomy's (``lower(trim(value))``)."""
    return value.strip().lower()


def product_spellings(config: Config) -> set[str]:
    """Every spelling of a product that the marts recognise (dbt ``int_product_aliases_unioned``: the
    code, name, name_ja, Jira project key, Slack channel and aliases of each catalogue entry)."""
    out: set[str] = set()
    for product in config.products.catalogue:
        named = [product.get(k) for k in ("code", "name", "name_ja", "jira_project_key", "slack_channel")]
        out.update(norm(str(s)) for s in [*named, *(product.get("aliases") or [])] if s)
    return out


def release_type_values(config: Config) -> set[str]:
    """The calendar values ``taxonomies.release_types`` claims (default each type's code)."""
    return {norm(v) for t in config.release_types for v in (t.values or (t.code,))}


def unmapped(seen: Counter[str], claimed: set[str]) -> list[tuple[str, int]]:
    """The values in ``seen`` (value -> records) that no entry claims, most frequent first."""
    return sorted(((v, n) for v, n in seen.items() if norm(v) not in claimed), key=lambda x: (-x[1], x[0]))


def listed(values: Iterable[tuple[str, int]], unit: str, limit: int = 8) -> str:
    """``'Level 4' (12 issues), 'P5' (1 issue)``: at most ``limit`` of them, then how many more."""
    items = list(values)
    shown = ", ".join(f"{v!r} ({n} {unit if n == 1 else unit + 's'})" for v, n in items[:limit])
    return shown + (f" and {len(items) - limit} more" if len(items) > limit else "")


def header(headers: Any, name: str) -> str | None:
    """A response header, by case-insensitive name (a list of values: the first)."""
    for key, value in (headers or {}).items():
        if str(key).lower() == name.lower():
            return (value[0] if value else None) if isinstance(value, list) else value
    return None
