"""Environment for running Airflow against this project: locally (demo, tests, `make airflow`),
as separate components on 127.0.0.1 (the orchestration tests), and on PostgreSQL + Celery/Redis
(the production topology of ``docker-compose.yaml``, which sets the same variables)."""

from __future__ import annotations

import json
import os
import re
import secrets
import shlex
import sys
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path

from shinrai.settings import PROJECT_ROOT, Paths, paths

# What every Airflow component needs to find and run this project, wherever it runs. The
# docker-compose file must set each of these (tests/orchestration/test_compose.py checks it).
PROJECT_SETTINGS = (
    "AIRFLOW__CORE__DAGS_FOLDER",
    "AIRFLOW__CORE__PLUGINS_FOLDER",
    "AIRFLOW__CORE__LOAD_EXAMPLES",
    "SHINRAI_HOME",
    "SHINRAI_CONFIG",
    "GX_ANALYTICS_ENABLED",
    "DBT_SEND_ANONYMOUS_USAGE_STATS",
)


# SQLite (local Airflow only): writers wait up to a minute for the database lock instead of
# sqlite3's 5 s, so the scheduler, DAG processor, API server and CLI do not trip over each other
# ("database is locked") on a busy machine. Airflow imports these through the settings below.
SQLITE_CONNECT_ARGS: dict[str, object] = {"timeout": 60}
SQLITE_CONNECT_ARGS_ASYNC: dict[str, object] = {"timeout": 60}
SQLITE_SETTINGS = {
    "AIRFLOW__DATABASE__SQL_ALCHEMY_CONNECT_ARGS": "shinrai.airflow_env.SQLITE_CONNECT_ARGS",
    "AIRFLOW__DATABASE__SQL_ALCHEMY_CONNECT_ARGS_ASYNC": "shinrai.airflow_env.SQLITE_CONNECT_ARGS_ASYNC",
}


def airflow_env(p: Paths | None = None, extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """Local Airflow settings: SQLite metadata under SHINRAI_HOME, this project's dags and plugins.

    Without ``p``, paths come from the environment, or from ``extra["SHINRAI_HOME"]`` when given
    (so the Airflow home and its database follow the data directory). ``extra`` may point the
    metadata elsewhere (e.g. :func:`celery_env`); the SQLite-only settings are then left out.
    """
    if p is None:
        p = paths()
        if extra and extra.get("SHINRAI_HOME"):
            p = replace(p, home=Path(extra["SHINRAI_HOME"]).resolve())
    home = p.airflow_home
    env = dict(os.environ)
    env.update(
        {
            "AIRFLOW_HOME": str(home),
            "AIRFLOW__CORE__DAGS_FOLDER": str(PROJECT_ROOT / "dags"),
            "AIRFLOW__CORE__PLUGINS_FOLDER": str(PROJECT_ROOT / "plugins"),
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{home / 'airflow.db'}",
            "AIRFLOW__LOGGING__BASE_LOG_FOLDER": str(home / "logs"),
            "AIRFLOW__SCHEDULER__ENABLE_HEALTH_CHECK": "False",
            "SHINRAI_HOME": str(p.home),
            "SHINRAI_CONFIG": str(p.config_file),
            "GX_ANALYTICS_ENABLED": "false",
            "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
            **SQLITE_SETTINGS,
        }
    )
    env.update(extra or {})
    if not env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"].startswith("sqlite"):
        for key in SQLITE_SETTINGS:
            env.pop(key)
    return env


# Never written to the shell file: the running stack's signing keys, anything named like a secret
# (an AIRFLOW__* of the user's own shell), and connections (AIRFLOW_CONN_*: credentials).
_SECRET_NAME = re.compile(r"SECRET|PASSWORD|TOKEN|_KEY\b|KWARGS")
SHELL_FILE = "env.sh"


def shell_exports(env: Mapping[str, str]) -> str:
    """The settings a second terminal needs to run Airflow's CLI against this local Airflow, as a
    file to ``source``: AIRFLOW_HOME, every ``AIRFLOW__*`` setting but the signing keys (so also
    the SQLite busy timeout that keeps the CLI from failing with "database is locked" while the
    scheduler writes), shinrai's own variables, and this environment's ``bin`` (``airflow``) first
    on PATH. Never a connection: the CLI's metadata commands need none."""
    keys = sorted(k for k in env if not _SECRET_NAME.search(k) and (
        k == "AIRFLOW_HOME" or k.startswith("AIRFLOW__") or k in PROJECT_SETTINGS))
    lines = ["# Written by shinrai for a second terminal: `source` this file, then run Airflow's CLI.",
             *(f"export {k}={shlex.quote(env[k])}" for k in keys),
             f'export PATH={shlex.quote(str(Path(sys.executable).parent))}:"$PATH"']
    return "\n".join(lines) + "\n"


def write_shell_env(env: Mapping[str, str]) -> Path:
    """``$AIRFLOW_HOME/env.sh`` from :func:`shell_exports` (rewritten on every start: ports change)."""
    path = Path(env["AIRFLOW_HOME"]) / SHELL_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    path.touch(mode=0o600)
    path.write_text(shell_exports(env))
    return path


def components_env(api_port: int, log_port: int, trigger_log_port: int, *, executor: str = "LocalExecutor",
                   parallelism: int = 2, secret: str | None = None) -> dict[str, str]:
    """Settings for Airflow's components as separate processes on 127.0.0.1.

    In Airflow 3 task processes talk to the API server's execution API (never to the database),
    so the API server must run wherever tasks run, and it and the scheduler must share the JWT
    secret that signs the task tokens.
    """
    secret = secret or secrets.token_urlsafe(48)
    base_url = f"http://127.0.0.1:{api_port}"
    return {
        "AIRFLOW__CORE__EXECUTOR": executor,
        "AIRFLOW__CORE__PARALLELISM": str(parallelism),
        "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"{base_url}/execution/",
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS": "True",  # loopback only; production sets its own auth
        "AIRFLOW__API__HOST": "127.0.0.1",
        "AIRFLOW__API__PORT": str(api_port),
        "AIRFLOW__API__BASE_URL": base_url,
        "AIRFLOW__API__WORKERS": "1",
        "AIRFLOW__API__SECRET_KEY": secret,
        "AIRFLOW__API_AUTH__JWT_SECRET": secret,
        "AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT": str(log_port),
        "AIRFLOW__LOGGING__TRIGGER_LOG_SERVER_PORT": str(trigger_log_port),
        "AIRFLOW__DAG_PROCESSOR__PARSING_PROCESSES": "1",
    }


def celery_env(sql_alchemy_conn: str, broker_url: str, result_backend: str, concurrency: int = 2) -> dict[str, str]:
    """The production executor: metadata in PostgreSQL, CeleryExecutor with a Redis broker
    (pass it as ``airflow_env(extra=...)``)."""
    return {
        "AIRFLOW__CORE__EXECUTOR": "CeleryExecutor",
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": sql_alchemy_conn,
        "AIRFLOW__CELERY__BROKER_URL": broker_url,
        "AIRFLOW__CELERY__RESULT_BACKEND": result_backend,
        "AIRFLOW__CELERY__WORKER_CONCURRENCY": str(concurrency),
    }


def sandbox_connections(jira_url: str, notion_url: str, slack_url: str, creds: Mapping[str, Mapping[str, str]]
                        ) -> dict[str, str]:
    """AIRFLOW_CONN_* variables pointing the three hooks (and the failure alerts) at a running sandbox."""
    slack = json.dumps({"conn_type": "slack", "password": creds["slack"]["token"], "extra": {"base_url": slack_url}})
    return {
        "AIRFLOW_CONN_SHINRAI_JIRA": json.dumps(
            {"conn_type": "jira", "host": jira_url, "login": creds["jira"]["email"],
             "password": creds["jira"]["token"]}
        ),
        "AIRFLOW_CONN_SHINRAI_NOTION": json.dumps(
            {"conn_type": "notion", "host": notion_url, "password": creds["notion"]["token"]}
        ),
        "AIRFLOW_CONN_SHINRAI_SLACK": slack,
        # Task-failure alerts (shinrai.orchestration.defaults): the same sandbox workspace.
        "AIRFLOW_CONN_SHINRAI_SLACK_ALERTS": slack,
    }
