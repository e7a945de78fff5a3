"""``python -m shinrai.bench.child <step> [json kwargs]``: run one pipeline step in its own process.

The benchmark runs every step this way, so each step's peak memory is its own and the sandbox's is
not counted. Peak memory is the largest resident set of this process and its subprocesses (dbt)
together, sampled every 50 ms, or this process's own high-water mark (``VmHWM``) if larger.
(``ru_maxrss`` would not do: Linux keeps it across ``execve``, so a child can report its parent's.)
The last line printed is ``BENCH_RESULT <json>``: the step's seconds (the call, and since the
process started, imports included), CPU seconds of the call (user + system, this process and the
subprocesses it waited for), peak RSS in MiB, and the step's summary (or its error).

``<step>`` is a function of :mod:`shinrai.pipeline`, or ``<module>:<function>`` (the benchmark's
side-by-side contenders, :mod:`shinrai.bench.sidebyside`).
"""

from __future__ import annotations

import json
import logging
import os
import sys
import threading
import time
import traceback
from pathlib import Path

MARK = "BENCH_RESULT "
_PAGE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096


def _rss_bytes(pid: int) -> int:
    try:
        return int(Path(f"/proc/{pid}/statm").read_text().split()[1]) * _PAGE
    except (OSError, IndexError, ValueError):
        return 0


def _descendants(pid: int) -> list[int]:
    out, todo = [], [pid]
    while todo:
        current = todo.pop()
        try:
            tasks = os.listdir(f"/proc/{current}/task")
        except OSError:
            continue
        for tid in tasks:
            try:
                kids = Path(f"/proc/{current}/task/{tid}/children").read_text().split()
            except OSError:
                continue
            for kid in map(int, kids):
                out.append(kid)
                todo.append(kid)
    return out


class PeakSampler(threading.Thread):
    """The largest RSS of this process plus its descendants, sampled every ``interval`` seconds."""

    def __init__(self, interval: float = 0.05):
        super().__init__(daemon=True, name="bench-rss-sampler")
        self.interval, self.peak, self._halt = interval, 0, threading.Event()

    def run(self) -> None:
        me = os.getpid()
        while not self._halt.is_set():
            self.peak = max(self.peak, _rss_bytes(me) + sum(_rss_bytes(p) for p in _descendants(me)))
            self._halt.wait(self.interval)

    def stop(self) -> int:
        self._halt.set()
        self.join(timeout=2)
        return self.peak


def _own_high_water() -> int:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def _since_process_start() -> float | None:
    try:
        start_ticks = int(Path("/proc/self/stat").read_text().rsplit(")", 1)[1].split()[19])
        boot = next(int(line.split()[1]) for line in Path("/proc/stat").read_text().splitlines()
                    if line.startswith("btime"))
        return round(time.time() - (boot + start_ticks / os.sysconf("SC_CLK_TCK")), 3)
    except (OSError, ValueError, IndexError, StopIteration):
        return None


def _cpu_seconds() -> float:
    import resource

    own, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return round(own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime, 3)


def _summary(value: object) -> object:
    text = json.dumps(value, default=str)
    return json.loads(text) if len(text) < 20_000 else {"truncated": text[:2000]}


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    step, kwargs = args[0], json.loads(args[1]) if len(args) > 1 else {}
    if "now" in kwargs:  # the simulated clock of a benchmark night
        from datetime import datetime

        kwargs["now"] = datetime.fromisoformat(kwargs["now"])
    logging.basicConfig(level=logging.WARNING)
    logging.getLogger().setLevel(logging.WARNING)
    sampler = PeakSampler()
    sampler.start()
    import importlib

    module, _, name = step.rpartition(":") if ":" in step else ("shinrai.pipeline", "", step)
    function = getattr(importlib.import_module(module), name)
    ok, error, result = True, None, None
    started, cpu_started = time.perf_counter(), _cpu_seconds()
    try:
        result = function(**kwargs)
    except Exception as exc:  # the benchmark records the failure and goes on
        ok, error = False, f"{type(exc).__name__}: {exc}"[:2000]
        traceback.print_exc()
    wall = time.perf_counter() - started
    peak = max(sampler.stop(), _own_high_water())
    out = {"step": step, "ok": ok, "error": error, "wall_s": round(wall, 3), "process_s": _since_process_start(),
           "cpu_s": round(_cpu_seconds() - cpu_started, 3), "peak_rss_mib": round(peak / 2**20, 1),
           "result": _summary(result)}
    print(MARK + json.dumps(out), flush=True)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
