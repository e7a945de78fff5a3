# The shinrai image: Apache Airflow 3.3 with this project (DAGs, the shinrai package, the dbt
# project, the Great Expectations context, config) installed from the lockfile with
# `uv sync --locked`. Every Airflow service in docker-compose.yaml runs it.
FROM python:3.11-slim-bookworm

COPY --from=ghcr.io/astral-sh/uv:0.13.9 /uv /uvx /usr/local/bin/

ENV UV_COMPILE_BYTECODE=1 \
    UV_LINK_MODE=copy \
    UV_PYTHON_DOWNLOADS=never \
    UV_PROJECT_ENVIRONMENT=/opt/shinrai/.venv \
    PYTHONUNBUFFERED=1

RUN useradd --uid 50000 --gid 0 --create-home --home-dir /home/airflow airflow

WORKDIR /opt/shinrai

# Dependencies first: this layer changes only with the lockfile.
COPY pyproject.toml uv.lock README.md ./
RUN uv sync --locked --no-dev --no-install-project

# Then the project itself (installed in place, so DAGs and the package share one root).
COPY plugins ./plugins
COPY dags ./dags
COPY dbt_project ./dbt_project
COPY gx ./gx
COPY config ./config
# Every path a compose volume mounts exists here owned by the Airflow user, so a new named volume
# starts with that owner (docker-compose.yaml's airflow-init also chowns volumes created earlier).
RUN uv sync --locked --no-dev \
    && mkdir -p /opt/airflow/logs /opt/airflow/auth /opt/shinrai/data \
    && chown -R 50000:0 /opt/airflow /opt/shinrai/data /opt/shinrai/dbt_project /opt/shinrai/gx

ENV PATH=/opt/shinrai/.venv/bin:$PATH \
    AIRFLOW_HOME=/opt/airflow \
    SHINRAI_HOME=/opt/shinrai/data \
    SHINRAI_CONFIG=/opt/shinrai/config/shinrai.yaml \
    SHINRAI_DBT_PROJECT_DIR=/opt/shinrai/dbt_project \
    SHINRAI_GX_DIR=/opt/shinrai/gx

USER 50000
CMD ["airflow", "version"]
