"""DuckDB lets one process open a file for writing, and then no other process even reads it.

When something outside shinrai's own tasks holds a landing file or the warehouse (a DuckDB CLI, a
notebook, a BI tool pointed at the working warehouse instead of the publication), the step fails at
once with :class:`FileInUse`, naming the file and the process holding it; nothing has been changed,
and the step succeeds when rerun after the other process lets go. (shinrai's own tasks never collide:
the ``shinrai_warehouse`` pool runs them one writer at a time.)
"""

from __future__ import annotations

import re
from pathlib import Path

import duckdb

_HOLDER = re.compile(r"Conflicting lock is held in (?P<program>.+?) \(PID (?P<pid>\d+)\)")


class FileInUse(RuntimeError):
    """Another process holds a DuckDB file this step must open."""

    def __init__(self, path: Path, program: str | None, pid: int | None):
        self.path = Path(path)
        self.program = program
        self.pid = pid
        holder = f"{program} (PID {pid})" if pid is not None else "another process"
        super().__init__(
            f"{self.path} is in use by {holder}: DuckDB lets one process at a time open it for writing. "
            "Nothing was changed; rerun this step once that process has closed the file."
        )


def in_use(exc: BaseException, path: Path) -> FileInUse | None:
    """The :class:`FileInUse` that a DuckDB lock error on ``path`` means, or None for any other error."""
    if not isinstance(exc, duckdb.IOException) or "Could not set lock" not in str(exc):
        return None
    m = _HOLDER.search(str(exc))
    return FileInUse(path, m["program"] if m else None, int(m["pid"]) if m else None)


def connect(path: Path, read_only: bool = False) -> duckdb.DuckDBPyConnection:
    """``duckdb.connect`` that raises :class:`FileInUse` when another process holds the file."""
    try:
        return duckdb.connect(str(path), read_only=read_only)
    except duckdb.IOException as exc:
        busy = in_use(exc, path)
        if busy is None:
            raise
        raise busy from exc


def ensure_free(path: Path, read_only: bool = False) -> None:
    """Fail now, with :class:`FileInUse`, if ``path`` cannot be opened (before a subprocess that would
    fail later with the same error buried in its output)."""
    if Path(path).exists():
        connect(path, read_only=read_only).close()
