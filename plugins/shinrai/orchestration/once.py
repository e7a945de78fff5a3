"""The nightly DAG once under real Airflow (``airflow dags test``), for ``shinrai demo`` (against the
built-in sandbox) and ``shinrai run`` (against the sources the configuration and the Airflow
connections name): migrate the local SQLite metadata database, run the DAG with one line per task on
the terminal and Airflow's and dbt's output in full in a log file, then the marts' rows and where
everything is.

Everything sandbox-only (its servers, its organisation's marker in the home, anchor days, shapes,
the manifest's counts) stays with ``shinrai demo`` in :mod:`shinrai.cli`; this module knows only
an Airflow environment, a log file and the home of :func:`shinrai.settings.paths`.
"""

from __future__ import annotations

import json
import os
import sqlite3
import time
from collections import deque
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from shinrai.orchestration.progress import DagTestLog, Reporter, excerpt, run_logged
from shinrai.orchestration.setup import airflow_executable
from shinrai.settings import Paths

NIGHTLY = "shinrai_nightly"
# the marts whose rows the summary names one by one (the other tables in one line)
HEADLINE_MARTS = ("marts.fct_incidents", "marts.fct_postmortems", "marts.fct_prevention_actions",
                  "marts.fct_risk_records")


def say_plain(console: Any) -> Callable[..., None]:
    """Print one line as written: never wrapped (people copy paths), no markup or highlighting."""
    def say(text: str, **kwargs: Any) -> None:
        console.print(text, soft_wrap=True, highlight=False, markup=False, **kwargs)
    return say


# -- connections -----------------------------------------------------------------------------------


def env_var(conn_id: str) -> str:
    """The environment variable Airflow reads a connection from (before its metadata database)."""
    return f"AIRFLOW_CONN_{conn_id.upper()}"


def _in_metadata_db(db_file: Path) -> set[str]:
    """Connection ids stored in the local SQLite metadata database (none when it is not there yet)."""
    if not db_file.is_file():
        return set()
    try:
        con = sqlite3.connect(f"file:{db_file}?mode=ro", uri=True, timeout=60)
        try:
            return {row[0] for row in con.execute("select conn_id from connection")}
        finally:
            con.close()
    except sqlite3.Error:  # not migrated yet: no connection table
        return set()


def _extra(conn: Mapping[str, Any]) -> dict[str, Any]:
    extra = conn.get("extra") or {}
    if isinstance(extra, str):  # Airflow also takes extra as a JSON string
        try:
            extra = json.loads(extra)
        except ValueError:
            return {}
    return extra if isinstance(extra, dict) else {}


def connection_problems(conn_ids: Mapping[str, str], env: Mapping[str, str], db_file: Path) -> list[str]:
    """One line per connection the run cannot find, naming its config key and the variable to set.

    ``conn_ids`` maps a config key (``jira.conn_id``) to the connection id it names. A connection is
    found in the environment (``AIRFLOW_CONN_<ID>``, JSON or URI) or in the metadata database
    ``db_file``; a JSON value that does not parse is a problem too (its text is never shown: it
    holds a token), and so is a Slack ``extra.base_url`` without its trailing slash."""
    stored = _in_metadata_db(db_file)
    problems = []
    for key, conn_id in conn_ids.items():
        var = env_var(conn_id)
        value = env.get(var, "").strip()
        if value.startswith("{"):
            try:
                conn = json.loads(value)
            except ValueError as exc:
                problems.append(f"connection {conn_id} ({key}): {var} is not valid JSON ({exc.msg} at "
                                f"character {exc.pos}); see README 'Write the connections'")
                continue
            base_url = _extra(conn).get("base_url")
            if conn.get("conn_type") == "slack" and isinstance(base_url, str) and not base_url.endswith("/"):
                # slack_sdk joins the method name to it: ".../api" + "auth.test" calls ".../auth.test"
                problems.append(f"connection {conn_id} ({key}): {var} extra.base_url {base_url!r} must end with "
                                f"'/' (Slack's is https://slack.com/api/; leave it out for slack.com)")
        elif not value and conn_id not in stored:
            problems.append(f"connection {conn_id} ({key}) is missing: set {var} or add it with "
                            f"`airflow connections add {conn_id}` (README 'Write the connections')")
    return problems


# -- the run ---------------------------------------------------------------------------------------


@dataclass
class Outcome:
    """How ``airflow dags test`` ended: its exit code, the tasks' last states, the lines before the end."""

    code: int
    run_state: str | None = None
    final: dict[str, str] = field(default_factory=dict)
    tail: list[str] = field(default_factory=list)
    failed_step: str | None = None  # "migrate" when the metadata database could not be migrated

    @property
    def ok(self) -> bool:
        return self.code == 0 and self.run_state == "success" and self.failed_step is None

    @property
    def failed_tasks(self) -> list[str]:
        return [task for task, state in self.final.items() if state not in ("success", "skipped")]


def run_nightly(p: Paths, env: Mapping[str, str], log_file: Path, console: Any,
                conf: Mapping[str, Any] | None = None) -> Outcome:
    """``airflow db migrate`` then ``airflow dags test shinrai_nightly`` in ``env``, their output
    appended to ``log_file``; one line per task on ``console`` as it finishes."""
    say = say_plain(console)
    tracker = DagTestLog()
    tail: deque[str] = deque(maxlen=200)
    p.airflow_home.mkdir(parents=True, exist_ok=True)
    with log_file.open("a", encoding="utf-8") as out:
        started = time.monotonic()
        if run_logged([airflow_executable(), "db", "migrate"], env, out, tail.append) != 0:
            return Outcome(1, tail=list(tail), failed_step="migrate")
        say(f"{'airflow':<15} {'ready':<12} {time.monotonic() - started:6.1f}s  metadata database migrated (SQLite)")
        tail.clear()
        args = ["--conf", json.dumps(dict(conf))] if conf else []

        def follow(line: str) -> None:
            tail.append(line)
            for event in tracker.feed(line):
                report(event)

        with Reporter(console) as report:
            code = run_logged([airflow_executable(), "dags", "test", NIGHTLY, *args], env, out, follow)
    final = {t.task_id: t.state for t in tracker.finished}  # a retried task's last try
    return Outcome(code, tracker.run_state, final, list(tail))


def report_failure(outcome: Outcome, log_file: Path, console: Any) -> None:
    """What failed, in a line or a few, and the log file."""
    say = say_plain(console)
    if outcome.failed_step == "migrate":
        say("airflow db migrate failed", style="bold red")
        for line in excerpt(outcome.tail):
            say(f"    {line}")
    else:
        failed = outcome.failed_tasks
        say(f"the nightly run failed{' at ' + ', '.join(failed) if failed else ''} "
            f"(airflow dags test exit code {outcome.code}); Airflow's and dbt's output is in the log", style="bold red")
        if not failed:  # it failed outside any task (the DAG did not load, the database...): say why
            for line in excerpt(outcome.tail):
                say(f"    {line}")
    say(f"{'log':<15} {log_file}")


@contextmanager
def logging_to(path: Path) -> Iterator[None]:
    """This process's log records appended to ``path`` instead of the terminal, for the duration
    (importing Airflow sets a root handler on stdout)."""
    import logging

    root = logging.getLogger()
    saved = root.handlers[:]
    handler = logging.FileHandler(path, encoding="utf-8")
    if saved:
        handler.setFormatter(saved[0].formatter)
    root.handlers = [handler]
    try:
        yield
    finally:
        root.handlers = saved
        handler.close()


@dataclass
class Summary:
    counts: dict[str, int]
    published: bool


def summarize(p: Paths, log_file: Path, console: Any, expected: Mapping[str, int] | None = None,
              expected_label: str = "expected") -> Summary:
    """The marts' rows (the headline marts one by one, beside ``expected`` when given) and where
    everything is: warehouse, landing files, Data Docs, and when published the BI publication,
    Parquet, dbt docs and the monthly report (written here, from the publication)."""
    from rich.table import Table

    from shinrai import pipeline
    from shinrai.publish import layout
    from shinrai.quality.gx import data_docs_dir

    say = say_plain(console)
    os.environ["SHINRAI_HOME"] = str(p.home)
    counts = pipeline.warehouse_counts()
    table = Table(title=f"marts ({len(counts)} tables)", title_justify="left")
    table.add_column("table")
    table.add_column("rows", justify="right")
    if expected is not None:
        table.add_column(expected_label, justify="right")
    names = list(expected) if expected is not None else [n for n in HEADLINE_MARTS]
    for name in names:
        row = [name, str(counts.get(name, "missing"))]
        table.add_row(*row, *([str(expected[name])] if expected is not None else []))
    others = [n for name, n in counts.items() if name not in names]
    table.add_row(f"{len(others)} other tables", str(sum(others)), *([""] if expected is not None else []))
    console.print(table)
    published = layout()
    where: dict[str, Path] = {"warehouse": p.warehouse_file, "landing files": p.landing_dir,
                              "Data Docs": data_docs_dir(p) / "index.html"}
    is_published = published.duckdb_file.exists()
    if is_published:
        where.update({"BI publication": published.duckdb_file, "Parquet": published.parquet_link,
                      "dbt docs": published.docs_dir / "index.html"})
        with logging_to(log_file):
            where["monthly report"] = pipeline.build_report()
    where["log"] = log_file
    for name, path in where.items():
        say(f"{name:<15} {path}")
    if not is_published:
        say("nothing was published (see the check_quality task in the log)", style="red")
    return Summary(counts, is_published)
