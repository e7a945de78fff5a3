"""The production topology, natively: scheduler, DAG processor, API server and a Celery worker on
a fresh PostgreSQL metadata database and a Redis broker (what docker-compose.yaml runs), completing
a nightly run. Skipped where PostgreSQL (127.0.0.1:5432, trust auth, user postgres) or Redis
(127.0.0.1:6379) is not running."""

from __future__ import annotations

import random
import socket
import uuid
from collections.abc import Iterator

import pytest

from shinrai.airflow_env import airflow_env, celery_env, components_env, sandbox_connections
from shinrai.orchestration.stack import AirflowStack, free_port

from ._support import NIGHTLY, TEST_SETTINGS, mart_contents, mart_differences, today_in

pytestmark = pytest.mark.slow

PG_HOST, PG_PORT, REDIS_HOST, REDIS_PORT = "127.0.0.1", 5432, "127.0.0.1", 6379


def _listening(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=2):
            return True
    except OSError:
        return False


@pytest.fixture
def postgres_url() -> Iterator[str]:
    if not _listening(PG_HOST, PG_PORT):
        pytest.skip(f"no PostgreSQL at {PG_HOST}:{PG_PORT}")
    import psycopg2

    try:
        admin = psycopg2.connect(host=PG_HOST, port=PG_PORT, user="postgres", dbname="postgres", connect_timeout=5)
    except psycopg2.OperationalError as exc:
        pytest.skip(f"PostgreSQL at {PG_HOST}:{PG_PORT} refuses user postgres without a password: {exc}")
    admin.autocommit = True
    name = f"shinrai_it_{uuid.uuid4().hex[:12]}"
    with admin.cursor() as cur:
        cur.execute(f'create database "{name}"')
    try:
        yield f"postgresql+psycopg2://postgres@{PG_HOST}:{PG_PORT}/{name}"
    finally:
        with admin.cursor() as cur:
            cur.execute(f'drop database if exists "{name}" with (force)')
        admin.close()


@pytest.fixture
def redis_url() -> Iterator[str]:
    if not _listening(REDIS_HOST, REDIS_PORT):
        pytest.skip(f"no Redis at {REDIS_HOST}:{REDIS_PORT}")
    import redis

    probe = redis.Redis(host=REDIS_HOST, port=REDIS_PORT, socket_timeout=5)
    databases = int(probe.config_get("databases").get("databases", 16))
    empty = [n for n in range(1, databases) if redis.Redis(host=REDIS_HOST, port=REDIS_PORT, db=n).dbsize() == 0]
    if not empty:
        pytest.skip("no empty Redis database to use")
    number = random.choice(empty)
    try:
        yield f"redis://{REDIS_HOST}:{REDIS_PORT}/{number}"
    finally:
        redis.Redis(host=REDIS_HOST, port=REDIS_PORT, db=number).flushdb()


@pytest.fixture(scope="session")
def celery_executor() -> None:
    """The locked celery and apache-airflow-providers-celery must import together."""
    from importlib.metadata import version

    try:
        import airflow.providers.celery.executors.celery_executor  # noqa: F401
    except ImportError as exc:
        pytest.skip(
            f"CeleryExecutor does not import with the locked packages (celery {version('celery')}, "
            f"apache-airflow-providers-celery {version('apache-airflow-providers-celery')}): {exc}. "
            "The lockfile needs a celery these providers support (celery<5.7)."
        )


def test_nightly_run_on_postgres_with_celery_and_redis(celery_executor, postgres_url, redis_url, sandbox,
                                                       scheduler_runs, tmp_path_factory):
    home = tmp_path_factory.mktemp("celery") / "shinrai"
    result_backend = "db+" + postgres_url.replace("+psycopg2", "")
    env = airflow_env(extra={"SHINRAI_HOME": str(home),
                             **celery_env(postgres_url, redis_url, result_backend, concurrency=2)})
    env.update(components_env(free_port(), free_port(), free_port(), executor="CeleryExecutor"))
    env.update(sandbox_connections(sandbox.jira_url, sandbox.notion_url, sandbox.slack_url, sandbox.credentials))
    env.update(TEST_SETTINGS)
    stack = AirflowStack(env, home / "stack-logs")
    try:
        stack.setup()  # db migrate on PostgreSQL + pools, as the compose file's airflow-init does
        assert ("shinrai_warehouse", 3) in stack.query("select pool, slots from slot_pool")
        stack.start("api-server", "dag-processor", "scheduler", "celery-worker")
        stack.wait_api()
        stack.wait_dag(NIGHTLY)
        stack.unpause(NIGHTLY)
        run_id = stack.trigger(NIGHTLY, conf={"publish_docs": False})
        state = stack.wait_run(NIGHTLY, run_id, timeout=900)
        tasks = stack.task_states(NIGHTLY, run_id)
        executors = {r[0] for r in stack.query(
            "select executor from task_instance where dag_id = :d and run_id = :r", d=NIGHTLY, r=run_id)}
        hostnames = {r[0] for r in stack.query(
            "select hostname from task_instance where dag_id = :d and run_id = :r", d=NIGHTLY, r=run_id)}
    finally:
        stack.stop()
    assert not stack.alive(), f"processes survived teardown: {stack.alive()}"
    assert state == "success", f"{tasks}\n{stack.diagnostics()}"
    assert set(tasks.values()) == {"success"}
    assert executors <= {None, "CeleryExecutor"} and all(hostnames)
    marts = mart_contents(home)
    assert len(marts["fct_incidents"]) == sandbox.manifest()["counts"]["jira.incidents"]
    if today_in() == scheduler_runs.today:  # the same warehouse as under LocalExecutor on SQLite
        assert mart_differences(scheduler_runs.marts_today, marts) == []
