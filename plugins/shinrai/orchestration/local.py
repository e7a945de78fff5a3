"""``shinrai airflow`` (``make airflow``): `airflow standalone` against the sandbox, and
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
    from shinrai.airflow_env import airflow_env, components_env, sandbox_connections, write_shell_env
    from shinrai.orchestration.stack import _signal_all, _tree, free_port
    from shinrai.sandbox import Sandbox
    from shinrai.sandbox.runner import DEFAULT_ANCHOR
    from shinrai.settings import paths

    p = paths()
    with Sandbox(seed=seed, scale=scale, anchor=anchor or DEFAULT_ANCHOR) as sb:
        print(f"sandbox: Jira {sb.jira_url}  Notion {sb.notion_url}  Slack {sb.slack_url}", flush=True)
        env = airflow_env(p, sandbox_connections(sb.jira_url, sb.notion_url, sb.slack_url, sb.credentials))
        env.update(components_env(port, free_port(), free_port()))
        # the UI's Test button on connections (loopback only, like the login-free UI)
        env["AIRFLOW__CORE__TEST_CONNECTION"] = "Enabled"
        # `airflow standalone` starts its components as `airflow ...` from PATH: this environment's
        # (`.venv/bin/shinrai airflow` works outside `uv run` and an activated venv too)
        env["PATH"] = os.pathsep.join([str(Path(airflow_executable()).parent), env.get("PATH", "")])
        p.airflow_home.mkdir(parents=True, exist_ok=True)
        print(f"airflow: metadata database {env['AIRFLOW__DATABASE__SQL_ALCHEMY_CONN']}; creating pools", flush=True)
        setup_airflow(env)
        shell = write_shell_env(env)
        print(f"airflow: for Airflow's CLI in another terminal (backfills, triggers): source {shell}", flush=True)
        print(f"airflow: UI and API on http://127.0.0.1:{port} (loopback only, no login). The DAGs start "
              "paused: unpause shinrai_nightly in the UI, or trigger it. Ctrl-C stops Airflow and the sandbox.",
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
