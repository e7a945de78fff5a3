"""Issue 17: a chaser run that holds back ends *skipped* in Airflow, with the true reason, never
green. One real task run (``dag.test()`` on a copy of the migrated metadata DB, no scheduler): the
warehouse holds marts built as of today, but the latest nightly quality run failed a critical rule."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from datetime import UTC, datetime

import duckdb

from shinrai.airflow_env import airflow_env
from shinrai.quality import history
from shinrai.transform import builds

from ._support import CHASER, today_in

RUN_ID = "scheduled__gate-blocked"
RULE = ("marts_incidents", "volume_drop_against_publication")

DAG_TEST = f"""
import os
from airflow.dag_processing.dagbag import DagBag

bag = DagBag(dag_folder=os.environ["AIRFLOW__CORE__DAGS_FOLDER"])
run = bag.dags["{CHASER}"].test()
print("TASK_STATES", {{ti.task_id: ti.state for ti in run.get_task_instances()}})
"""


def _blocked_warehouse(path) -> None:
    now = datetime.now(UTC)
    build_id = builds.start(path, "scheduled__x", today_in(), False)
    builds.finish(path, build_id, builds.SUCCESS)
    with duckdb.connect(str(path)) as con:
        history.ensure_tables(con)
        con.execute("insert into quality.validation_runs values (?, 'nightly', false, 2, 1, 0, null, ?)",
                    [RUN_ID, now])
        results = ((RULE, "critical", "failed"), (("marts", "other"), "critical", "passed"))
        for (suite, rule), severity, status in results:
            con.execute("insert into quality.validation_results values (?, 'nightly', ?, ?, 'expect_x', null, ?, ?, "
                        "null, 1, 10, [], ?)", [RUN_ID, suite, rule, severity, status, now])


def test_a_held_back_chase_is_skipped_with_the_gate_s_reason(template_db, tmp_path):
    home = tmp_path / "shinrai"
    (home / "airflow").mkdir(parents=True)
    shutil.copy(template_db, home / "airflow" / "airflow.db")
    _blocked_warehouse(home / "warehouse.duckdb")
    env = airflow_env(extra={"SHINRAI_HOME": str(home)})
    done = subprocess.run([sys.executable, "-c", DAG_TEST], env=env, capture_output=True, text=True, timeout=600)
    output = done.stdout + done.stderr
    assert done.returncode == 0, output[-3000:]
    assert "TASK_STATES {'chase': 'skipped'}" in output, output[-3000:]
    skip = re.search(r"Skipping task\..*reason=(.*)", output)
    assert skip is not None, output[-3000:]
    reason = skip.group(1)
    assert "the quality gate blocked the marts" in reason
    assert RUN_ID in reason and f"{RULE[0]}.{RULE[1]}" in reason and "marts.other" not in reason
    assert "no marts have been built yet" not in output
