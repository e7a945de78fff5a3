"""How long Airflow takes to parse each DAG file (target: well under 0.5 s each).

Measured the way the DAG processor parses: one interpreter imports Airflow once, then forks a
child per parse, and the child loads the file with a ``DagBag`` (its ``FileLoadStat.duration``,
which covers everything the file imports). Nothing here asserts a budget; the benchmarks do.
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
from collections.abc import Iterable, Mapping
from pathlib import Path

from shinrai.settings import PROJECT_ROOT

_CHILD = r"""
import json, os, sys
from airflow.dag_processing.dagbag import DagBag  # Airflow is imported once, as in the DAG processor

files, repeat = json.loads(sys.argv[1]), int(sys.argv[2])
out = {}
for path in files:
    runs = []
    for _ in range(repeat):
        r, w = os.pipe()
        pid = os.fork()
        if pid == 0:
            os.close(r)
            try:
                bag = DagBag(dag_folder=path, safe_mode=False)
                stat = bag.dagbag_stats[0] if bag.dagbag_stats else None
                result = {"seconds": stat.duration.total_seconds() if stat else None,
                          "dags": stat.dag_num if stat else 0,
                          "errors": {k: str(v) for k, v in bag.import_errors.items()}}
            except BaseException as exc:
                result = {"seconds": None, "dags": 0, "errors": {path: repr(exc)}}
            os.write(w, json.dumps(result).encode())
            os._exit(0)
        os.close(w)
        chunks = []
        while chunk := os.read(r, 65536):
            chunks.append(chunk)
        os.close(r)
        os.waitpid(pid, 0)
        runs.append(json.loads(b"".join(chunks)))
    out[path] = runs
print("SHINRAI_PARSE_TIMES " + json.dumps(out), flush=True)
"""


def dag_files(dags_folder: Path | None = None) -> list[Path]:
    return sorted((dags_folder or PROJECT_ROOT / "dags").glob("*.py"))


def parse_times(files: Iterable[Path | str] | None = None, repeat: int = 3,
                env: Mapping[str, str] | None = None) -> dict[str, float]:
    """Median seconds to parse each DAG file, keyed by file name. Raises if a file does not import."""
    from shinrai.airflow_env import airflow_env

    paths = [str(Path(f).resolve()) for f in (files if files is not None else dag_files())]
    proc = subprocess.run(
        [sys.executable, "-c", _CHILD, json.dumps(paths), str(repeat)],
        env=dict(env) if env is not None else airflow_env(), capture_output=True, text=True, check=False,
    )
    if proc.returncode != 0:
        raise RuntimeError(f"parse timing failed:\n{proc.stderr[-3000:]}")
    marked = [line for line in proc.stdout.splitlines() if line.startswith("SHINRAI_PARSE_TIMES ")]
    if not marked:
        raise RuntimeError(f"parse timing printed no result:\n{proc.stdout[-2000:]}\n{proc.stderr[-2000:]}")
    results = json.loads(marked[-1].split(" ", 1)[1])
    times: dict[str, float] = {}
    for path, runs in results.items():
        errors = [r["errors"] for r in runs if r["errors"]]
        if errors or not all(r["dags"] for r in runs):
            raise RuntimeError(f"{path} did not parse: {errors[0] if errors else 'no DAG found'}")
        times[Path(path).name] = statistics.median(r["seconds"] for r in runs)
    return times
