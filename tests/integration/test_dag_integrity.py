"""DagBag integrity: every DAG imports, has tags, retries and docs, and does no I/O at parse time."""

from __future__ import annotations

from pathlib import Path

import pytest

from shinrai.airflow_env import airflow_env
from shinrai.settings import PROJECT_ROOT

DAGS = PROJECT_ROOT / "dags"


@pytest.fixture(scope="module")
def dagbag(tmp_path_factory: pytest.TempPathFactory):
    import os

    env = airflow_env(extra={"SHINRAI_HOME": str(tmp_path_factory.mktemp("home"))})
    saved = dict(os.environ)
    os.environ.update(env)
    try:
        from airflow.dag_processing.dagbag import DagBag

        yield DagBag(dag_folder=str(DAGS))
    finally:
        os.environ.clear()
        os.environ.update(saved)


def test_no_import_errors(dagbag):
    assert dagbag.import_errors == {}
    assert "shinrai_nightly" in dagbag.dag_ids


def test_every_dag_has_tags_docs_and_retries(dagbag):
    for dag_id, dag in dagbag.dags.items():
        assert dag.tags, f"{dag_id} has no tags"
        assert dag.doc_md, f"{dag_id} has no doc_md"
        for t in dag.tasks:
            assert t.retries >= 1, f"{dag_id}.{t.task_id} has no retries"


def test_dag_files_do_no_io_at_import(monkeypatch):
    """Parsing a DAG file must not open the warehouse or touch the network."""
    import socket

    import duckdb

    def refuse(*_a, **_k):
        raise AssertionError("I/O at DAG parse time")

    monkeypatch.setattr(duckdb, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect", refuse)
    import runpy

    files = sorted(Path(DAGS).glob("*.py"))
    assert files
    for path in files:
        runpy.run_path(str(path))  # raises through `refuse` if the file does I/O while parsing


def test_airflow_plugin_scan_does_not_shadow_client_libraries(monkeypatch, tmp_path):
    """Airflow imports plugins/*.py by bare file name; our package must be ignored by that scan."""
    import sys

    from airflow._shared.plugins_manager.plugins_manager import _load_plugins_from_plugin_directory

    before = {name: sys.modules.get(name) for name in ("jira", "slack", "notion", "cli", "pipeline")}
    _, errors = _load_plugins_from_plugin_directory(str(PROJECT_ROOT / "plugins"))
    assert errors == {}
    for name, module in before.items():
        assert sys.modules.get(name) is module, f"plugin scan registered a module named {name!r}"
    import jira

    assert hasattr(jira, "JIRA")
