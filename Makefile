# Two commands on a fresh machine: `make demo` and `make test`. Both install uv if it is missing
# (into .tools/, from PyPI) and sync the locked environment (uv.lock) before running.
SHELL := /bin/bash
PYTHON ?= python3
UV := $(shell command -v uv 2>/dev/null || echo $(CURDIR)/.tools/bin/uv)
export UV_PYTHON ?= 3.11

.PHONY: demo run test sync lint airflow gx-sync clean bench

$(CURDIR)/.tools/bin/uv:
	$(PYTHON) -m venv $(CURDIR)/.tools
	$(CURDIR)/.tools/bin/pip install --quiet uv

# Compile the environment's bytecode once at sync: where PYTHONDONTWRITEBYTECODE is set (as on the
# CI machine) every Airflow task, dbt and GX process would otherwise recompile Airflow from source.
# Quiet unless it fails (uv still prints its errors); one line first when .venv is created, since
# installing and compiling take a minute or two then.
sync: $(if $(filter $(CURDIR)/.tools/bin/uv,$(UV)),$(UV))
	@test -d .venv || echo "sync: installing the locked environment into .venv (the first time takes a minute or two)"
	@$(UV) sync --locked --compile-bytecode --quiet

demo: sync
	@$(UV) run --quiet shinrai demo

# The nightly job once against your own Jira, Notion and Slack: config/shinrai.yaml (or SHINRAI_CONFIG)
# and the AIRFLOW_CONN_SHINRAI_* connections (README "First hour with your own Jira, Notion and Slack").
run: sync
	@$(UV) run --quiet shinrai run

# Two pytest-xdist workers: most of the suite waits on Airflow, dbt and HTTP, not on the CPU.
# Tests sharing an expensive fixture stay on one worker (tests/conftest.py).
TEST_WORKERS ?= 2
test: sync
	$(UV) run ruff check plugins dags tests
	$(UV) run pytest -n $(TEST_WORKERS) --dist loadgroup

# The benchmark (not part of `make test`): the sandbox at 1x, 10x and 100x, every figure of the
# benchmark issue with its goal; JSON in bench/results/latest.json, a table at the end (~25 minutes).
bench: sync
	$(UV) run shinrai bench

lint: sync
	$(UV) run ruff check plugins dags tests

# Airflow standalone (UI on http://127.0.0.1:$(AIRFLOW_PORT), scheduler, DAG processor, triggerer)
# against the built-in sandbox; pools are created automatically. Ctrl-C stops both.
# The sandbox's scale is `shinrai airflow`'s default (see `shinrai airflow --help`) unless
# SANDBOX_SCALE is given: `make airflow SANDBOX_SCALE=1`. Against your own sources (no sandbox):
# `make airflow SOURCES=configured`.
AIRFLOW_PORT ?= 8080
SANDBOX_SCALE ?=
SOURCES ?= sandbox
airflow: sync
	$(UV) run shinrai airflow --sources $(SOURCES) $(if $(SANDBOX_SCALE),--scale $(SANDBOX_SCALE)) --port $(AIRFLOW_PORT)

gx-sync: sync
	$(UV) run shinrai gx sync

clean:
	rm -rf .shinrai dbt_project/target dbt_project/logs
