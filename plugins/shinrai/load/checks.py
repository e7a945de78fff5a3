"""Per-record checks of the landing store: what one record can carry that must not stop its stream.

A source's JSON may legally hold what our landing file cannot: a lone UTF-16 surrogate
(``"\\ud800"`` is valid JSON and Python parses it into a ``str`` that no UTF-8 encoder accepts), or
``NaN``/``Infinity`` (which Python's parser accepts and DuckDB's JSON type does not). Each is one
record's defect: :func:`payload_problem` says what and where, so the store quarantines that record
with a readable reason while the rest of its page lands.

Two copies of one id in one run are told apart by :class:`RunPositions` (where each id was first
seen), so a later copy that is not a newer version of the first can be quarantined and named.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

_SURROGATE = re.compile("[\ud800-\udfff]")
_PLAIN_KEY = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_INDEX_BITS = 24  # a position packs (page, index) into one int: pages of up to 16 million records


def surrogate_in(text: str) -> str | None:
    """``U+D800`` for the first lone surrogate in ``text``, or None."""
    found = _SURROGATE.search(text)
    return f"U+{ord(found.group()):04X}" if found else None


def _child(path: str, key: object) -> str:
    if isinstance(key, int):
        return f"{path}[{key}]"
    text = str(key)
    return f"{path}.{text}" if _PLAIN_KEY.match(text) else f"{path}[{storable(json.dumps(text))}]"


def payload_problem(payload: Any) -> str | None:
    """Why ``payload`` cannot be landed as UTF-8 JSON, with the JSON path of the first culprit
    (``invalid Unicode: lone surrogate U+D800 at $.fields.summary``), or None when it can."""
    stack: list[tuple[str, Any]] = [("$", payload)]
    while stack:
        path, value = stack.pop()
        if isinstance(value, str):
            code = surrogate_in(value)
            if code:
                return f"invalid Unicode: lone surrogate {code} at {path}"
        elif isinstance(value, float):
            if not math.isfinite(value):
                return f"not valid JSON: {value!r} at {path} (JSON has no NaN or Infinity)"
        elif isinstance(value, dict):
            items = list(value.items())
            for key, _ in items:
                code = surrogate_in(key) if isinstance(key, str) else None
                if code:
                    return f"invalid Unicode: lone surrogate {code} in a key of {path}"
            stack.extend((_child(path, k), v) for k, v in reversed(items))
        elif isinstance(value, list | tuple):
            stack.extend((_child(path, i), v) for i, v in reversed(list(enumerate(value))))
    return None


def storable(text: str) -> str:
    """``text`` with any lone surrogate written as its JSON escape (``\\ud800``), so it can be
    stored as UTF-8: a quarantined record keeps exactly what the source sent."""
    if not _SURROGATE.search(text):
        return text
    return _SURROGATE.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


def quarantine_text(payload: Any) -> str:
    """A payload that cannot be landed, as JSON text that can be stored (only the surrogates
    escaped, so the rest stays readable; NaN kept as written)."""
    return storable(json.dumps(payload, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=repr))


class RunPositions:
    """Where each id of a stream was first seen in the current run: (page, record) numbers.

    A later copy of an id is only a question when the id was already seen in this run, so every
    id is remembered while the store is open for one run, by its 64-bit hash rather than its text:
    about 100 bytes an id, 124 MiB for the 1.28 million Slack messages of a 100x full load (162 with
    the ids themselves). Two ids sharing a hash (about one chance in ten million at that size) only
    make the later one compared with what the store holds for it.
    """

    def __init__(self) -> None:
        self.run_id: str | None = None
        self._pages: dict[str, int] = {}
        self._first: dict[str, dict[int, int]] = {}

    def next_page(self, stream: str, run_id: str) -> int:
        """Start the stream's next page of ``run_id`` (a new run forgets the last): its number."""
        if run_id != self.run_id:
            self.run_id, self._pages, self._first = run_id, {}, {}
        self._pages[stream] = page = self._pages.get(stream, 0) + 1
        return page

    def first(self, stream: str, source_id: str) -> tuple[int, int] | None:
        packed = self._first.get(stream, {}).get(hash(source_id))
        return None if packed is None else (packed >> _INDEX_BITS, packed & ((1 << _INDEX_BITS) - 1))

    def remember(self, stream: str, source_id: str, page: int, index: int) -> None:
        self._first.setdefault(stream, {}).setdefault(hash(source_id), (page << _INDEX_BITS) | index)


def describe(page: int, index: int) -> str:
    return f"record {index} of page {page}"
