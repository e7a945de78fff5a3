"""README's Airflow CLI lines, run as written from a second terminal while `make airflow`'s
metadata database exists and another process is writing to it.

Each ```bash block of README's Orchestration section that runs ``airflow`` is one new terminal:
nothing exported, the project directory as working directory (here a stand-in whose
``.shinrai/airflow/`` is the local Airflow `make airflow` sets up: the migrated DB with the pools,
the DAGs serialized as the DAG processor stores them, and the ``env.sh`` it writes). While the
first block runs, this test holds SQLite's write lock for longer than sqlite3's default 5 s wait,
as a busy scheduler can: the CLI must wait for it, not fail with "database is locked".
"""

from __future__ import annotations

import os
import re
import shutil
import sqlite3
import subprocess
import threading
from pathlib import Path

import pytest

from shinrai.airflow_env import airflow_env, write_shell_env
from shinrai.orchestration.setup import run_airflow
from shinrai.settings import PROJECT_ROOT

pytestmark = pytest.mark.slow

HELD_AFTER_OPEN_S = 7.0  # > sqlite3's default busy timeout (5 s), < shinrai's (60 s)


def readme_cli_blocks(readme: Path = PROJECT_ROOT / "README.md") -> list[str]:
    """The ```bash blocks of the Orchestration section that run Airflow's CLI."""
    text = readme.read_text()
    section = text.split("\n## Orchestration", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"```bash\n(.*?)```", section, flags=re.S)
    return [b for b in blocks if re.search(r"(?m)^airflow ", b)]


def _opened_by_another_process(db: Path) -> bool:
    """Whether a process other than this one has the database file open (Linux /proc)."""
    me = os.getpid()
    for pid in filter(str.isdigit, os.listdir("/proc")):
        if int(pid) == me:
            continue
        try:
            fds = os.listdir(f"/proc/{pid}/fd")
        except OSError:
            continue
        for fd in fds:
            try:
                if os.readlink(f"/proc/{pid}/fd/{fd}") == str(db):
                    return True
            except OSError:
                continue
    return False


class WriteLockHolder(threading.Thread):
    """Holds the database's write lock until another process opens it, then 7 s more."""

    def __init__(self, db: Path, done: threading.Event):
        super().__init__(daemon=True)
        self.db, self.done, self.contended = db, done, False

    def run(self) -> None:
        con = sqlite3.connect(self.db, isolation_level=None, timeout=60)
        try:
            con.execute("BEGIN IMMEDIATE")
            while not self.done.is_set():
                if _opened_by_another_process(self.db):
                    self.contended = True
                    self.done.wait(HELD_AFTER_OPEN_S)
                    break
                self.done.wait(0.2)
            con.execute("ROLLBACK")
        finally:
            con.close()


@pytest.fixture(scope="module")
def serialized_db(template_db: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The migrated DB with the pools and the DAGs serialized (what the DAG processor does)."""
    home = tmp_path_factory.mktemp("cli-template") / ".shinrai"
    (home / "airflow").mkdir(parents=True)
    shutil.copy(template_db, home / "airflow" / "airflow.db")
    run_airflow(["dags", "reserialize"], airflow_env(extra={"SHINRAI_HOME": str(home)}))
    return home / "airflow" / "airflow.db"


def test_readme_has_cli_blocks():
    blocks = readme_cli_blocks()
    assert blocks and any("backfill create" in b for b in blocks)


@pytest.mark.parametrize("index", range(len(readme_cli_blocks())))
def test_readme_cli_block_runs_as_written_from_a_second_terminal(index, serialized_db, tmp_path):
    block = readme_cli_blocks()[index]
    project = tmp_path / "project"  # the project directory: `make airflow` ran here
    home = project / ".shinrai"
    (home / "airflow").mkdir(parents=True)
    db = home / "airflow" / "airflow.db"
    shutil.copy(serialized_db, db)
    env = airflow_env(extra={"SHINRAI_HOME": str(home)})
    write_shell_env(env)  # what `make airflow` writes next to its database
    terminal = {"HOME": str(tmp_path), "PATH": "/usr/local/bin:/usr/bin:/bin", "LANG": "C.UTF-8"}

    done = threading.Event()
    holder = WriteLockHolder(db, done)
    if index == 0:
        holder.start()
    try:
        proc = subprocess.run(["bash", "-e", "-c", block], cwd=project, env=terminal, capture_output=True,
                              text=True, timeout=600, check=False)
    finally:
        done.set()
        if holder.is_alive():
            holder.join()
    output = proc.stdout + proc.stderr
    assert proc.returncode == 0, f"README block failed as written:\n{block}\n---\n{output[-3000:]}"
    assert "database is locked" not in output
    if index == 0:
        assert holder.contended, "the CLI never opened the database while the lock was held"
    if re.search(r"(?m)^airflow (backfill create|dags trigger) ", block):
        with sqlite3.connect(db) as con:
            runs = con.execute("select count(*) from dag_run").fetchone()[0]
        assert runs >= 1, output[-2000:]  # a backfill's runs, or the triggered one


def test_ui_schedule_column_names_the_reporting_zone(serialized_db):
    """What the API gives the UI's DAG list (``dag.timetable_summary``, its tooltip the description),
    as stored when the DAGs are serialized: the cron with the configured zone."""
    from shinrai import config

    zone = config.load().timezone
    with sqlite3.connect(serialized_db) as con:
        rows = dict(con.execute("select dag_id, timetable_summary || ' | ' || timetable_description from dag"))
    assert rows["shinrai_nightly"] == f"0 2 * * * {zone} | At 02:00, {zone}"
    chaser = rows["shinrai_chaser"]
    assert chaser.startswith(f"0 10 * * 1-5 {zone} | At 10:00") and chaser.endswith(f", {zone}")
