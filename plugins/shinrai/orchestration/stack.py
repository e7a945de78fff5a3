"""Airflow's components as child processes on 127.0.0.1: the orchestration tests, the benchmarks
and ``make airflow`` use this to run a *real* scheduler (not ``dags test``).

>>> with AirflowStack(env, log_dir) as stack:           # doctest: +SKIP
...     stack.setup()                                    # db migrate + pools
...     stack.start("api-server", "dag-processor", "scheduler")
...     stack.wait_dag("shinrai_nightly"); stack.unpause("shinrai_nightly")
...     run_id = stack.trigger("shinrai_nightly")
...     assert stack.wait_run("shinrai_nightly", run_id) == "success"

Every process started here (and everything it forked: executor workers, task supervisors, task
processes, dbt) is killed on exit. Processes are found by walking the process tree of what we
started, plus a sweep for the stack's unique ``SHINRAI_STACK_ID`` environment marker (task
processes put themselves in their own process group, and a killed parent orphans its children).
"""

from __future__ import annotations

import atexit
import json
import os
import signal
import socket
import subprocess
import time
import urllib.request
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from shinrai.orchestration.setup import airflow_executable, run_airflow, setup_airflow

TERMINAL_RUN_STATES = frozenset({"success", "failed"})
COMMANDS: dict[str, list[str]] = {
    "api-server": ["api-server"],
    "scheduler": ["scheduler"],
    "dag-processor": ["dag-processor"],
    "triggerer": ["triggerer"],
    "celery-worker": ["celery", "worker", "--concurrency", "2"],
    "standalone": ["standalone"],
}


_RUNNING: set[AirflowStack] = set()


@atexit.register
def _stop_all() -> None:
    """Last resort when the interpreter exits with stacks still up (an exception escaped, SIGINT)."""
    for stack in list(_RUNNING):
        stack.stop(timeout=10)


def free_port() -> int:
    """A TCP port nothing listens on right now (127.0.0.1)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _tree(pid: int) -> list[Any]:
    import psutil

    try:
        root = psutil.Process(pid)
        return [root, *root.children(recursive=True)]
    except psutil.NoSuchProcess:
        return []


def _marked(stack_id: str) -> list[Any]:
    """Processes carrying this stack's environment marker (only ever ones this stack started)."""
    import psutil

    found = []
    for proc in psutil.process_iter(["pid"]):
        try:
            if proc.pid != os.getpid() and proc.environ().get("SHINRAI_STACK_ID") == stack_id:
                found.append(proc)
        except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess, OSError):
            continue
    return found


def _signal_all(procs: Iterable[Any], sig: int) -> None:
    import psutil

    for proc in procs:
        try:
            proc.send_signal(sig)
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            pass


@dataclass
class Component:
    name: str
    proc: subprocess.Popen
    log_path: Path
    log: IO[bytes] = field(repr=False)


class AirflowStack:
    """Start, drive and always stop a set of Airflow components sharing one environment."""

    def __init__(self, env: Mapping[str, str], log_dir: Path):
        self.stack_id = uuid.uuid4().hex
        self.env = {**env, "SHINRAI_STACK_ID": self.stack_id, "PYTHONUNBUFFERED": "1"}
        self.log_dir = Path(log_dir)
        self.log_dir.mkdir(parents=True, exist_ok=True)
        self.components: dict[str, Component] = {}
        self._engine: Any = None

    # -- lifecycle ---------------------------------------------------------------------------------

    def __enter__(self) -> AirflowStack:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def setup(self) -> None:
        setup_airflow(self.env)

    def start(self, *names: str, extra_args: Mapping[str, Sequence[str]] | None = None,
              env: Mapping[str, str] | None = None) -> None:
        """Start components (``env`` overrides settings for these processes only)."""
        for name in names:
            if name in self.components and self.components[name].proc.poll() is None:
                raise RuntimeError(f"{name} is already running")
            log_path = self.log_dir / f"{name}.log"
            log = log_path.open("ab")
            args = [airflow_executable(), *COMMANDS[name], *(extra_args or {}).get(name, ())]
            proc = subprocess.Popen(args, env={**self.env, **(env or {})}, stdout=log, stderr=subprocess.STDOUT,
                                    stdin=subprocess.DEVNULL, start_new_session=True)
            self.components[name] = Component(name, proc, log_path, log)
            _RUNNING.add(self)

    def kill(self, *names: str) -> None:
        """SIGKILL components and everything they forked, at once (a crash, not a shutdown)."""
        import psutil

        victims = [p for name in names if name in self.components for p in _tree(self.components[name].proc.pid)]
        _signal_all(victims, signal.SIGKILL)
        psutil.wait_procs(victims, timeout=10)
        for name in names:
            comp = self.components.pop(name, None)
            if comp:
                comp.proc.wait(timeout=10)
                comp.log.close()

    def stop(self, timeout: float = 30) -> None:
        """SIGTERM every component (graceful), then SIGKILL whatever of this stack is still alive."""
        import psutil

        procs = [p for comp in self.components.values() for p in _tree(comp.proc.pid)]
        _signal_all(procs, signal.SIGTERM)
        _, alive = psutil.wait_procs(procs, timeout=timeout)
        leftovers = list(alive) + [p for p in _marked(self.stack_id) if p not in alive]
        _signal_all(leftovers, signal.SIGKILL)
        psutil.wait_procs(leftovers, timeout=10)
        for comp in self.components.values():
            try:
                comp.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                pass
            comp.log.close()
        self.components.clear()
        _RUNNING.discard(self)
        if self._engine is not None:
            self._engine.dispose()
            self._engine = None

    def alive(self) -> list[Any]:
        """Processes of this stack still running (the tests assert none survive ``stop``)."""
        return _marked(self.stack_id)

    # -- waiting -----------------------------------------------------------------------------------

    def check_running(self) -> None:
        for comp in self.components.values():
            if comp.proc.poll() is not None:
                raise RuntimeError(f"airflow {comp.name} exited with {comp.proc.returncode}:\n{self.tail(comp.name)}")

    def tail(self, name: str, chars: int = 4000) -> str:
        path = self.log_dir / f"{name}.log"
        return path.read_text(errors="replace")[-chars:] if path.exists() else ""

    def diagnostics(self) -> str:
        """The tail of every component's log (also after ``stop``)."""
        names = sorted(path.stem for path in self.log_dir.glob("*.log"))
        return "\n".join(f"--- {name} ---\n{self.tail(name, 3000)}" for name in names)

    def wait_api(self, timeout: float = 180) -> None:
        url = self.env["AIRFLOW__API__BASE_URL"].rstrip("/") + "/api/v2/monitor/health"
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self.check_running()
            try:
                with urllib.request.urlopen(url, timeout=5) as resp:  # noqa: S310 (loopback)
                    if resp.status == 200:
                        return
            except OSError:
                pass
            time.sleep(1)
        raise TimeoutError(f"API server not healthy at {url} after {timeout}s\n{self.diagnostics()}")

    # -- metadata database (read-only queries) -----------------------------------------------------

    @property
    def engine(self) -> Any:
        if self._engine is None:
            from sqlalchemy import create_engine

            url = self.env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"]
            kwargs: dict[str, Any] = {"connect_args": {"timeout": 30}} if url.startswith("sqlite") else {}
            self._engine = create_engine(url, **kwargs)
        return self._engine

    def query(self, sql: str, **params: Any) -> list[tuple]:
        from sqlalchemy import text
        from sqlalchemy.exc import OperationalError

        for attempt in range(10):
            try:
                with self.engine.connect() as con:
                    return [tuple(r) for r in con.execute(text(sql), params).fetchall()]
            except OperationalError:  # SQLite busy while a component writes
                if attempt == 9:
                    raise
                time.sleep(0.5)
        return []

    def wait_dag(self, dag_id: str, timeout: float = 240) -> None:
        """Until the DAG processor has parsed and serialized the DAG."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self.check_running()
            try:
                if self.query("select 1 from serialized_dag where dag_id = :d", d=dag_id):
                    return
            except Exception:  # tables not there yet
                pass
            time.sleep(2)
        raise TimeoutError(f"{dag_id} was not serialized within {timeout}s\n{self.diagnostics()}")

    def run_state(self, dag_id: str, run_id: str) -> str | None:
        rows = self.query("select state from dag_run where dag_id = :d and run_id = :r", d=dag_id, r=run_id)
        return rows[0][0] if rows else None

    def runs(self, dag_id: str) -> list[dict[str, Any]]:
        rows = self.query(
            "select run_id, run_type, state, logical_date, conf from dag_run where dag_id = :d order by logical_date",
            d=dag_id,
        )
        return [dict(zip(("run_id", "run_type", "state", "logical_date", "conf"), r, strict=True)) for r in rows]

    def task_states(self, dag_id: str, run_id: str) -> dict[str, str | None]:
        rows = self.query("select task_id, state from task_instance where dag_id = :d and run_id = :r",
                          d=dag_id, r=run_id)
        return dict(rows)

    def xcom(self, dag_id: str, run_id: str, task_id: str, key: str = "return_value") -> Any:
        rows = self.query("select value from xcom where dag_id = :d and run_id = :r and task_id = :t and key = :k",
                          d=dag_id, r=run_id, t=task_id, k=key)
        if not rows:
            return None
        value = rows[0][0]
        return json.loads(value) if isinstance(value, str | bytes) else value

    def wait_run(self, dag_id: str, run_id: str, timeout: float = 600) -> str:
        """Poll until the run is success or failed; on timeout raise with the task states and logs."""
        deadline = time.monotonic() + timeout
        state = None
        while time.monotonic() < deadline:
            self.check_running()
            state = self.run_state(dag_id, run_id)
            if state in TERMINAL_RUN_STATES:
                return state
            time.sleep(2)
        raise TimeoutError(
            f"{dag_id} {run_id} still {state} after {timeout}s; tasks {self.task_states(dag_id, run_id)}\n"
            f"{self.diagnostics()}"
        )

    def wait_task_state(self, dag_id: str, run_id: str, task_id: str, states: Iterable[str],
                        timeout: float = 300) -> str:
        wanted = set(states)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self.check_running()
            state = self.task_states(dag_id, run_id).get(task_id)
            if state in wanted:
                return state
            time.sleep(1)
        raise TimeoutError(f"{dag_id}.{task_id} never reached {wanted}: {self.task_states(dag_id, run_id)}")

    # -- CLI ---------------------------------------------------------------------------------------

    def cli(self, *args: str, timeout: float = 300) -> str:
        return run_airflow(list(args), self.env, timeout=timeout)

    def unpause(self, dag_id: str) -> None:
        self.cli("dags", "unpause", dag_id)

    def trigger(self, dag_id: str, conf: Mapping[str, Any] | None = None, logical_date: str | None = None,
                run_id: str | None = None) -> str:
        """``airflow dags trigger``; returns the run id."""
        run_id = run_id or f"manual__{uuid.uuid4().hex[:12]}"
        args = ["dags", "trigger", dag_id, "--run-id", run_id]
        if conf is not None:
            args += ["--conf", json.dumps(conf)]
        if logical_date is not None:
            args += ["--logical-date", logical_date]
        self.cli(*args)
        return run_id
