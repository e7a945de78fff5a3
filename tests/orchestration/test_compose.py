"""docker-compose.yaml (the production topology) agrees with the settings shinrai reads.

Docker cannot run here, so the file is checked statically: every Airflow service is built from
./Dockerfile (`uv sync --locked`), runs a real Airflow (or shinrai) command, and gets the same
settings `shinrai.airflow_env` gives the native stacks the other tests run."""

from __future__ import annotations

import os
import re
import shlex
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import yaml

from shinrai import config as config_mod
from shinrai.airflow_env import PROJECT_SETTINGS, airflow_env, celery_env, components_env, sandbox_connections
from shinrai.orchestration.defaults import ALERTS_CONN_ID
from shinrai.settings import PROJECT_ROOT

COMPOSE = PROJECT_ROOT / "docker-compose.yaml"
DOCKERFILE = PROJECT_ROOT / "Dockerfile"
AIRFLOW_SERVICES = {
    "airflow-init": None,
    "airflow-apiserver": ["api-server"],
    "airflow-scheduler": ["scheduler"],
    "airflow-dag-processor": ["dag-processor"],
    "airflow-triggerer": ["triggerer"],
    "airflow-worker": ["celery", "worker"],
}


def interpolate(value: str) -> str:
    """Compose's ${VAR:-default} / ${VAR:?error} with nothing set: the default, or a placeholder."""
    return re.sub(r"\$\{(\w+)(?::-([^}]*)|:\?[^}]*)?\}", lambda m: m.group(2) if m.group(2) is not None else "x",
                  str(value))


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load(COMPOSE.read_text())


@pytest.fixture(scope="module")
def services(compose) -> dict:
    return compose["services"]


def env_of(service: dict) -> dict[str, str]:
    return {k: interpolate(v) for k, v in (service.get("environment") or {}).items()}


def dockerfile_workdir() -> str:
    workdir = [line.split(None, 1)[1].strip() for line in DOCKERFILE.read_text().splitlines()
               if line.startswith("WORKDIR ")]
    return workdir[-1]


def test_topology_has_every_component(services):
    assert {"postgres", "redis", *AIRFLOW_SERVICES} <= set(services)


def test_image_is_built_from_the_lockfile():
    text = DOCKERFILE.read_text()
    assert "COPY pyproject.toml uv.lock" in text
    syncs = re.findall(r"uv sync ([^\n\\&]*)", text)
    assert syncs and all("--locked" in s for s in syncs)
    for folder in ("plugins", "dags", "dbt_project", "gx", "config"):
        assert f"COPY {folder} ./{folder}" in text and (PROJECT_ROOT / folder).is_dir()


@pytest.mark.parametrize("name", sorted(AIRFLOW_SERVICES))
def test_airflow_services_build_this_project_and_run_real_commands(services, name):
    service = services[name]
    build = service["build"]
    assert Path(PROJECT_ROOT / build["context"]).resolve() == PROJECT_ROOT
    assert (PROJECT_ROOT / build["context"] / build["dockerfile"]).resolve() == DOCKERFILE
    command = service["command"]
    command = shlex.split(command) if isinstance(command, str) else command
    if name == "airflow-init":
        from shinrai.cli import build_parser

        assert command[:2] == ["shinrai", "airflow-setup"]
        assert build_parser().parse_args(command[1:]).func.__name__ == "cmd_airflow_setup"
    else:
        from airflow.cli.cli_parser import get_parser

        assert command[0] == "airflow" and command[1:3] == AIRFLOW_SERVICES[name][:2]
        get_parser().parse_args(command[1:])  # raises SystemExit on an unknown command or option


@pytest.mark.parametrize("name", sorted(AIRFLOW_SERVICES))
def test_every_airflow_service_gets_the_settings_shinrai_reads(services, name):
    env = env_of(services[name])
    postgres = celery_env("postgresql+psycopg2://airflow@postgres/airflow", "redis://redis:6379/0", "db+x")
    local = airflow_env(extra={"SHINRAI_HOME": "/tmp/shinrai-compose-check", **postgres})
    set_by_shinrai = {k for k, v in local.items() if os.environ.get(k) != v}
    assert set(PROJECT_SETTINGS) <= set(env)
    assert set_by_shinrai <= set(env), sorted(set_by_shinrai - set(env))
    assert set(components_env(1, 2, 3)) <= set(env)
    assert set(celery_env("a", "b", "c")) <= set(env)
    workdir = dockerfile_workdir()
    assert env["AIRFLOW__CORE__DAGS_FOLDER"] == f"{workdir}/dags"
    assert env["AIRFLOW__CORE__PLUGINS_FOLDER"] == f"{workdir}/plugins"
    assert env["SHINRAI_CONFIG"] == f"{workdir}/config/shinrai.yaml"
    assert env["SHINRAI_DBT_PROJECT_DIR"] == f"{workdir}/dbt_project"
    assert env["SHINRAI_GX_DIR"] == f"{workdir}/gx"
    assert env["AIRFLOW__CORE__LOAD_EXAMPLES"] == "False"


def test_executor_database_and_broker_point_at_the_compose_services(services):
    pg = services["postgres"]["environment"]
    api = services["airflow-apiserver"]
    for name in AIRFLOW_SERVICES:
        env = env_of(services[name])
        assert env["AIRFLOW__CORE__EXECUTOR"] == "CeleryExecutor"
        db = urlsplit(env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"])
        assert db.scheme == "postgresql+psycopg2" and db.hostname == "postgres" and (db.port or 5432) == 5432
        assert db.path == f"/{pg['POSTGRES_DB']}" and db.username == pg["POSTGRES_USER"]
        assert db.password == interpolate(pg["POSTGRES_PASSWORD"])
        backend = urlsplit(env["AIRFLOW__CELERY__RESULT_BACKEND"])
        assert backend.scheme == "db+postgresql" and backend.hostname == "postgres"
        broker = urlsplit(env["AIRFLOW__CELERY__BROKER_URL"])
        assert broker.scheme == "redis" and broker.hostname == "redis" and broker.port == 6379
        execution = urlsplit(env["AIRFLOW__CORE__EXECUTION_API_SERVER_URL"])
        assert execution.hostname == "airflow-apiserver" and execution.path == "/execution/"
        assert str(execution.port) == env["AIRFLOW__API__PORT"]
        assert any(str(p).endswith(f":{execution.port}") for p in api["ports"])


def test_connections_come_from_the_environment(services):
    cfg = config_mod.load()
    conn_ids = {cfg.jira_conn_id, cfg.notion_conn_id, cfg.slack_conn_id, ALERTS_CONN_ID}
    expected = {f"AIRFLOW_CONN_{c.upper()}" for c in conn_ids}
    assert expected == set(sandbox_connections("j", "n", "s", {"jira": {"email": "", "token": ""},
                                                               "notion": {"token": ""}, "slack": {"token": ""}}))
    for name in AIRFLOW_SERVICES:
        raw = services[name]["environment"]
        for key in expected:
            assert raw[key] == f"${{{key}:-}}", f"{name}: {key} must come from .env, never from the file"


def test_data_and_logs_live_on_named_volumes_shared_by_every_airflow_service(compose, services):
    for name in AIRFLOW_SERVICES:
        service = services[name]
        env = env_of(service)
        mounts = dict(v.split(":", 1) for v in service["volumes"])
        by_target = {target: source for source, target in mounts.items()}
        assert by_target[env["SHINRAI_HOME"]] in compose["volumes"]
        assert by_target[env["AIRFLOW__LOGGING__BASE_LOG_FOLDER"]] in compose["volumes"]


def test_start_order(services):
    init = services["airflow-init"]["depends_on"]
    assert init["postgres"]["condition"] == init["redis"]["condition"] == "service_healthy"
    for name in set(AIRFLOW_SERVICES) - {"airflow-init"}:
        deps = services[name]["depends_on"]
        assert deps["airflow-init"]["condition"] == "service_completed_successfully"
        assert deps["postgres"]["condition"] == "service_healthy"
