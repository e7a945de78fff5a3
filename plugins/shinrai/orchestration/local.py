"""``shinrai airflow`` (``make airflow``): `airflow standalone` against the sandbox or the configured
sources (``--sources configured``), and
``shinrai airflow-setup``: migrate the metadata database and create the pools."""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Mapping
from datetime import date
from pathlib import Path

from shinrai.orchestration.setup import airflow_executable, setup_airflow


def setup_command(local: bool) -> int:
    """Set up the Airflow configured in the environment, or the local SQLite one (``local``)."""
    from shinrai.airflow_env import airflow_env

    env: Mapping[str, str] = airflow_env() if local else os.environ
    setup_airflow(env)
    print("airflow metadata database migrated; pools created")
    if local:
        from shinrai.airflow_env import write_shell_env

        print(f"for Airflow's CLI in another terminal: source {write_shell_env(env)}")
    return 0


def standalone(seed: int = 7, scale: float = 0.25, anchor: date | None = None, port: int = 8080) -> int:
    """Serve the sandbox in this process and run ``airflow standalone`` (API server and UI, scheduler,
    DAG processor, triggerer; LocalExecutor on SQLite under SHINRAI_HOME) pointed at it, until
    Ctrl-C, which stops both."""
    from shinrai.airflow_env import airflow_env, sandbox_connections
    from shinrai.sandbox import Sandbox
    from shinrai.sandbox.runner import DEFAULT_ANCHOR
    from shinrai.settings import paths

    p = paths()
    with Sandbox(seed=seed, scale=scale, anchor=anchor or DEFAULT_ANCHOR) as sb:
        print(f"sandbox: Jira {sb.jira_url}  Notion {sb.notion_url}  Slack {sb.slack_url}", flush=True)
        env = airflow_env(p, sandbox_connections(sb.jira_url, sb.notion_url, sb.slack_url, sb.credentials))
        return _standalone(env, port, "Airflow and the sandbox")


def standalone_configured(conn_ids: Mapping[str, str], port: int = 8080) -> int:
    """``airflow standalone`` against the configured sources: no sandbox; the connections are the
    environment's (``AIRFLOW_CONN_*``) or the metadata database's. A connection not found yet is
    said (one line each), not refused: it can still be added in the UI before the DAG is unpaused."""
    from shinrai.airflow_env import airflow_env
    from shinrai.orchestration.once import connection_problems
    from shinrai.settings import paths

    p = paths()
    env = airflow_env(p)
    print(f"sources: configured by {p.config_file} (no sandbox); home {p.home}", flush=True)
    for line in connection_problems(conn_ids, env, p.airflow_home / "airflow.db"):
        print(f"airflow: {line}; or add it in the UI (Admin -> Connections) before unpausing", flush=True)
    return _standalone(env, port, "Airflow")


def _standalone(env: dict[str, str], port: int, what: str) -> int:
    from shinrai.airflow_env import components_env, write_shell_env
    from shinrai.orchestration.stack import _signal_all, _tree, free_port

    env.update(components_env(port, free_port(), free_port()))
    # the UI's Test button on connections (loopback only, like the login-free UI)
    env["AIRFLOW__CORE__TEST_CONNECTION"] = "Enabled"
    # `airflow standalone` starts its components as `airflow ...` from PATH: this environment's
    # (`.venv/bin/shinrai airflow` works outside `uv run` and an activated venv too)
    env["PATH"] = os.pathsep.join([str(Path(airflow_executable()).parent), env.get("PATH", "")])
    Path(env["AIRFLOW_HOME"]).mkdir(parents=True, exist_ok=True)
    print(f"airflow: metadata database {env['AIRFLOW__DATABASE__SQL_ALCHEMY_CONN']}; creating pools", flush=True)
    setup_airflow(env)
    shell = write_shell_env(env)
    print(f"airflow: for Airflow's CLI in another terminal (backfills, triggers): source {shell}", flush=True)
    print(f"airflow: UI and API on http://127.0.0.1:{port} (loopback only, no login). The DAGs start "
          f"paused: unpause shinrai_nightly in the UI, or trigger it. Ctrl-C stops {what}.",
          flush=True)
    proc = subprocess.Popen([airflow_executable(), "standalone"], env=env)
    try:
        return proc.wait()
    except KeyboardInterrupt:
        # Ctrl-C reached the whole foreground process group: standalone is shutting down too
        deadline = time.monotonic() + 60
        while proc.poll() is None and time.monotonic() < deadline:
            try:
                time.sleep(0.5)
            except KeyboardInterrupt:
                break  # a second Ctrl-C: stop waiting
        if proc.poll() is None:
            import signal

            _signal_all(_tree(proc.pid), signal.SIGKILL)
            proc.wait(timeout=30)
        return 0
