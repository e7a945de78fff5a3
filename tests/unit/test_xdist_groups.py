"""`make test` runs on two pytest-xdist workers and relies on `xdist_group` keeping the tests that
share an expensive fixture on one worker (tests/conftest.py). Two things silently broke that
before: pytest 9.2 (pytest-dev/pytest-xdist#1386), and a grouping hook running after xdist's own.
Either way every shared fixture ran once per worker. This runs the project's own hook in a
two-worker session and checks a module's tests stay on one worker."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from shinrai.settings import PROJECT_ROOT

CONFTEST = f'''
import importlib.util

_spec = importlib.util.spec_from_file_location("project_conftest", {str(PROJECT_ROOT / "tests" / "conftest.py")!r})
_project = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_project)
pytest_collection_modifyitems = _project.pytest_collection_modifyitems
'''
MODULE = '''
import os, pytest

@pytest.mark.parametrize("i", range(6))
def test_one(i):
    with open(os.environ["WORKERS_FILE"], "a") as out:
        out.write(__name__ + " " + os.environ["PYTEST_XDIST_WORKER"] + "\\n")
'''


def test_a_module_runs_on_one_worker(tmp_path: Path):
    (tmp_path / "conftest.py").write_text(CONFTEST)
    for name in ("test_first", "test_second"):
        (tmp_path / f"{name}.py").write_text(MODULE)
    workers = tmp_path / "workers.txt"
    run = subprocess.run(
        [sys.executable, "-m", "pytest", "-n", "2", "--dist", "loadgroup", "-p", "no:cacheprovider", "-q",
         str(tmp_path)],
        cwd=tmp_path, env={"WORKERS_FILE": str(workers), "PATH": "/usr/bin:/bin"}, capture_output=True, text=True,
        timeout=120,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    seen: dict[str, set[str]] = {}
    for line in workers.read_text().splitlines():
        module, worker = line.split()
        seen.setdefault(module, set()).add(worker)
    assert sorted(seen) == ["test_first", "test_second"] and all(len(w) == 1 for w in seen.values()), seen
