"""`make test` runs on two pytest-xdist workers and relies on `xdist_group` keeping the tests that
share an expensive fixture on one worker (tests/conftest.py). pytest 9.2 silently broke that
(pytest-dev/pytest-xdist#1386): every shared fixture then ran once per worker. Guard the pin."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

GROUPED = '''
import os, pytest

@pytest.mark.xdist_group("shared")
@pytest.mark.parametrize("i", range(6))
def test_grouped(i):
    with open(os.environ["WORKERS_FILE"], "a") as out:
        out.write(os.environ["PYTEST_XDIST_WORKER"] + "\\n")
'''
OTHERS = '''
import pytest

@pytest.mark.parametrize("i", range(6))
def test_other(i):
    pass
'''


def test_a_group_runs_on_one_worker(tmp_path: Path):
    (tmp_path / "test_grouped.py").write_text(GROUPED)
    (tmp_path / "test_others.py").write_text(OTHERS)
    workers = tmp_path / "workers.txt"
    run = subprocess.run(
        [sys.executable, "-m", "pytest", "-n", "2", "--dist", "loadgroup", "-p", "no:cacheprovider", "-q",
         str(tmp_path)],
        cwd=tmp_path, env={"WORKERS_FILE": str(workers), "PATH": "/usr/bin:/bin"}, capture_output=True, text=True,
        timeout=120,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    seen = workers.read_text().split()
    assert len(seen) == 6 and len(set(seen)) == 1, seen
