"""What a user reads from the ``shinrai`` command and ``make``: plain-text help, ``--version``, the
default scale ``make airflow`` really uses, one line (no traceback) for an error we anticipate,
and a ``make sync`` that says nothing when all is well."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from importlib.metadata import version
from pathlib import Path

import duckdb
import pytest

from shinrai.settings import PROJECT_ROOT

SHINRAI = str(Path(sys.executable).with_name("shinrai"))


def _shinrai(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([SHINRAI, *args], capture_output=True, text=True, check=False, timeout=120,
                          env={**os.environ, "COLUMNS": "120", **(env or {})})


def test_help_is_plain_text_and_there_is_a_version():
    helps = [_shinrai("--help")] + [_shinrai(cmd, "--help") for cmd in ("demo", "run", "publish", "airflow", "report")]
    for proc in helps:
        assert proc.returncode == 0 and proc.stdout, proc.stderr
        assert "``" not in proc.stdout and ":func:" not in proc.stdout, proc.stdout
    proc = _shinrai("--version")
    assert (proc.returncode, proc.stdout.strip()) == (0, f"shinrai {version('shinrai')}")


def test_make_airflow_uses_the_scale_its_help_states():
    said = re.search(r"scale factor \(default ([\d.]+)\)", " ".join(_shinrai("airflow", "--help").stdout.split()))
    assert said, "shinrai airflow --help states no default scale"
    make = shutil.which("make")
    if make is None:
        pytest.skip("make is not installed")
    dry = subprocess.run([make, "-n", "--no-print-directory", "airflow"], cwd=PROJECT_ROOT, capture_output=True,
                         text=True, check=True, env={k: v for k, v in os.environ.items() if k != "SANDBOX_SCALE"})
    line = next(x for x in dry.stdout.splitlines() if "shinrai airflow" in x)
    # the Makefile passes no scale of its own, so the help's default is the one used
    assert "--scale" not in line, line
    from shinrai.cli import build_parser

    assert build_parser().parse_args(["airflow"]).scale == float(said[1])


def test_a_warehouse_held_by_another_process_is_one_line_without_a_traceback(tmp_path: Path):
    home = tmp_path / "home"
    home.mkdir()
    warehouse = home / "warehouse.duckdb"
    duckdb.connect(str(warehouse)).close()
    holder = subprocess.Popen(  # a DuckDB CLI or notebook left open on the working warehouse
        [sys.executable, "-c", f"import duckdb, sys; con = duckdb.connect({str(warehouse)!r}); "
                               "print('held', flush=True); sys.stdin.read()"],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        proc = _shinrai("publish", "--no-docs", env={"SHINRAI_HOME": str(home),
                                                     "SHINRAI_PUBLISH_DIR": str(tmp_path / "publish")})
    finally:
        assert holder.stdin is not None
        holder.stdin.close()
        holder.wait(timeout=30)
    assert proc.returncode == 1
    assert "Traceback" not in proc.stdout + proc.stderr
    assert proc.stderr.splitlines() == [proc.stderr.strip()]
    assert proc.stderr.startswith(f"shinrai: {warehouse} is in use by ") and f"(PID {holder.pid})" in proc.stderr
    assert "rerun" in proc.stderr
    assert not (tmp_path / "publish").exists() or not any((tmp_path / "publish").rglob("*.duckdb"))


def test_make_sync_says_nothing_when_the_environment_is_in_sync():
    make = shutil.which("make")
    if make is None or not (PROJECT_ROOT / ".venv").is_dir():
        pytest.skip("make or the project's .venv is missing")
    proc = subprocess.run([make, "--no-print-directory", "sync"], cwd=PROJECT_ROOT, capture_output=True, text=True,
                          check=False, timeout=600)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert proc.stdout + proc.stderr == ""
