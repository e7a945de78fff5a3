"""Quiet, honest progress for ``shinrai demo``: Airflow's own output goes to a log file, in full, and
the terminal gets one line per task as it finishes (state, duration, warnings logged), plus the
dbt nodes done while dbt runs.

``airflow dags test`` runs the tasks one at a time in its own process and logs, for each,
``[DAG TEST] starting task_id=...``, the task's state changes (``new_state=...``) and
``[DAG TEST] end task task_id=...``; dbt's lines arrive as shinrai logs them, ``dbt | 12 of 271 OK
...``, one by one while dbt runs (:func:`shinrai.transform.dbt.run_dbt` streams them). Reading
those lines from the process's output is all this module does: :class:`DagTestLog` turns lines
into events (pure, no I/O), :func:`run_logged` runs a command with its output going to the log
file and each line to a callback, and :class:`Reporter` shows the events: a rich progress display
on a terminal, plain lines otherwise (CI, pipes, ``make demo | tee``).
"""

from __future__ import annotations

import os
import re
import subprocess
import time
from collections import deque
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import IO

_STAMP = re.compile(r"^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?)Z?\s")
_LEVEL = re.compile(r"^\S+\s+\[(\w+)\s*\]\s")
_START = re.compile(r"\[DAG TEST\] starting task_id=(\S+)")
_END = re.compile(r"\[DAG TEST\] end task task_id=(\S+)")
_STATE = re.compile(r"\bnew_state=(\w+)")
_RUN_DONE = re.compile(r"DagRun Finished: .*\bstate=(\w+)")
# dbt's per-node result line (every line "N of M" but the START one), and its closing tally
_DBT_NODE = re.compile(r"\bdbt \| (\d+) of (\d+) (?!START\b)")
_DBT_DONE = re.compile(r"\bdbt \| Done\. (PASS=\d+ WARN=\d+ ERROR=\d+ SKIP=\d+)")
# the message of a structured log line: after "<time> [<level>] ", before " [<logger>] key=value..."
_MESSAGE = re.compile(r"^\S+\s+\[\w+\s*\]\s(.*?)\s*(?:\[[\w.]+\](?:\s+\w+=.*)?)?$")
# the last line of a traceback ("shinrai.duckdb_lock.FileInUse: ..." or "ValueError: ...")
_EXCEPTION = re.compile(r"^(?:[A-Za-z_][\w.]*\.)?[A-Z]\w*(?:Error|Exception|Failed|Unavailable|InUse|Exit)\b:? ")


RETRY = "up_for_retry"


@dataclass
class TaskStarted:
    task_id: str


@dataclass
class DbtNodes:
    task_id: str
    done: int
    total: int


@dataclass
class TaskFinished:
    task_id: str
    state: str
    seconds: float
    warnings: int = 0
    dbt: str | None = None  # dbt's tally when the task ran dbt ("PASS=271 WARN=0 ERROR=0 SKIP=0")
    excerpt: list[str] = field(default_factory=list)  # the lines that say why, when it did not succeed


@dataclass
class RunFinished:
    state: str


Event = TaskStarted | DbtNodes | TaskFinished | RunFinished


def _when(line: str) -> float | None:
    m = _STAMP.match(line)
    if not m:
        return None
    try:
        return datetime.fromisoformat(m[1]).timestamp()
    except ValueError:
        return None


def _level(line: str) -> str | None:
    m = _LEVEL.match(line)
    return m[1].lower() if m else None


def _message(line: str) -> str:
    m = _MESSAGE.match(line)
    return (m[1] if m else line).strip()


@dataclass
class _Task:
    task_id: str
    started: float
    state: str = "unknown"
    warnings: int = 0
    dbt_done: int = 0
    dbt: str | None = None
    lines: deque[str] = field(default_factory=lambda: deque(maxlen=400))


class DagTestLog:
    """Events from the output of ``airflow dags test``, a line at a time.

    Durations come from the lines' own timestamps (the wall clock when a line has none), so
    reading a saved log gives the same events as following a live one.
    """

    def __init__(self, clock: Callable[[], float] = time.time):
        self._clock = clock
        self._task: _Task | None = None
        self.finished: list[TaskFinished] = []
        self.run_state: str | None = None

    def feed(self, line: str) -> list[Event]:
        line = line.rstrip("\n")
        now = _when(line) or self._clock()
        if m := _START.search(line):
            self._task = _Task(m[1], now)
            return [TaskStarted(m[1])]
        task = self._task
        if m := _END.search(line):
            if task is None or task.task_id != m[1]:
                return []
            self._task = None
            done = TaskFinished(task.task_id, task.state, max(0.0, now - task.started), task.warnings, task.dbt,
                                [] if task.state in ("success", "skipped") else excerpt(task.lines))
            self.finished.append(done)
            return [done]
        if m := _RUN_DONE.search(line):
            self.run_state = m[1]
            return [RunFinished(m[1])]
        if task is None:
            return []
        task.lines.append(line)
        if m := _STATE.search(line):
            task.state = m[1]
        elif _level(line) in ("warning", "error", "critical") and "[py.warnings]" not in line:
            task.warnings += 1
        elif m := _DBT_NODE.search(line):
            task.dbt_done += 1
            return [DbtNodes(task.task_id, task.dbt_done, int(m[2]))]
        elif m := _DBT_DONE.search(line):
            task.dbt = m[1]
        return []

    def feed_all(self, lines: Iterable[str]) -> list[Event]:
        return [event for line in lines for event in self.feed(line)]


# error-level messages that say nothing of their own (the exception after them does)
_GENERIC = frozenset({"Task failed with exception"})


def excerpt(lines: Iterable[str], limit: int = 4) -> list[str]:
    """What says why a task failed: its error-level messages (deduplicated, in order) and the
    exception its last traceback ends with, without the module path; at most ``limit`` lines."""
    said: list[str] = []
    last: str | None = None
    for line in lines:
        if _level(line) in ("error", "critical"):
            text = _message(line)
            if text and text not in _GENERIC and text not in said:
                said.append(text)
        elif _EXCEPTION.match(line.strip()):
            name, _, message = line.strip().partition(" ")
            last = f"{name.rsplit('.', 1)[-1]} {message}".strip()
    if last is None:
        return said[-limit:]
    return [*[x for x in said if x != last][-(limit - 1):], last] if limit > 1 else [last]


def run_logged(cmd: list[str], env: Mapping[str, str], log_file: IO[str],
               on_line: Callable[[str], None] | None = None) -> int:
    """Run ``cmd`` with its output (stdout and stderr) appended to ``log_file`` as it comes, each
    line also handed to ``on_line``; the exit code."""
    env = {**env, "PYTHONUNBUFFERED": "1"}  # lines as they are written, not a pipe buffer at a time
    with subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                          errors="replace", bufsize=1) as proc:
        assert proc.stdout is not None
        for line in proc.stdout:
            log_file.write(line)
            log_file.flush()
            if on_line is not None:
                on_line(line)
    return proc.returncode


def log_path(logs_dir: Path, name: str) -> Path:
    """``<logs_dir>/<name>-<UTC time>.log``, the directory created."""
    logs_dir.mkdir(parents=True, exist_ok=True)
    return logs_dir / f"{name}-{datetime.now(UTC).strftime('%Y%m%dT%H%M%SZ')}.log"


def task_line(done: TaskFinished) -> str:
    notes = [x for x in (done.dbt and f"dbt {done.dbt}",
                         done.warnings and f"{done.warnings} warning{'s' if done.warnings != 1 else ''} in the log")
             if x]
    return f"{done.task_id:<15} {done.state:<12} {done.seconds:6.1f}s" + (f"  {', '.join(notes)}" if notes else "")


class Reporter:
    """Shows the events on ``console``: on a terminal, a live line for the running task (a bar of
    dbt nodes while dbt runs) above which each finished task is printed; elsewhere plain lines,
    with dbt's progress every quarter of its nodes."""

    def __init__(self, console, steps: int = 4):
        self.console = console
        self.steps = steps
        self._progress = None
        self._bar = None
        self._reported = 0

    def __enter__(self) -> Reporter:
        if self.console.is_terminal and not os.environ.get("CI"):
            from rich.progress import (
                BarColumn,
                MofNCompleteColumn,
                Progress,
                SpinnerColumn,
                TextColumn,
                TimeElapsedColumn,
            )

            self._progress = Progress(SpinnerColumn(), TextColumn("{task.description:<15}"), BarColumn(),
                                      MofNCompleteColumn(), TimeElapsedColumn(), console=self.console,
                                      transient=True)
            self._progress.start()
        return self

    def __exit__(self, *exc) -> None:
        if self._progress is not None:
            self._progress.stop()

    def print(self, text: str, **kwargs) -> None:
        # never markup: an exception's message may hold brackets ("[Errno 13] ...")
        self.console.print(text, highlight=False, soft_wrap=True, markup=False, **kwargs)

    def __call__(self, event: Event) -> None:
        progress = self._progress
        if isinstance(event, TaskStarted):
            self._reported = 0
            if progress is not None:
                self._bar = progress.add_task(event.task_id, total=None)
        elif isinstance(event, DbtNodes):
            if progress is not None and self._bar is not None:
                progress.update(self._bar, total=event.total, completed=event.done)
            elif progress is None:
                step = max(1, -(-event.total // self.steps))
                if event.done // step > self._reported and event.done < event.total:
                    self._reported = event.done // step
                    self.print(f"{event.task_id:<15} dbt {event.done}/{event.total} nodes done")
        elif isinstance(event, TaskFinished):
            if progress is not None and self._bar is not None:
                progress.remove_task(self._bar)
                self._bar = None
            ok = event.state in ("success", "skipped")
            self.print(task_line(event), style=None if ok else "yellow" if event.state == RETRY else "bold red")
            for line in event.excerpt if event.state != RETRY else event.excerpt[-1:]:
                self.print(f"    {line}")
