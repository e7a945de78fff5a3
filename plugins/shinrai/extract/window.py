"""Bounded re-reads (backfill windows): the extractors keep a separate cursor for each window."""

from __future__ import annotations

from datetime import UTC, datetime

Window = tuple[datetime, datetime]


def window_cursor_key(stream: str, window: Window) -> str:
    """The cursor of a bounded re-read, apart from the stream's own watermark: ``<stream>@<start>/<end>``."""
    start, end = (t.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ") for t in window)
    return f"{stream}@{start}/{end}"
