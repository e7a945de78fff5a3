"""The DAG definitions: schedules, pools, params, assets, the failure alert and the chaser's call."""

from __future__ import annotations

import os
from datetime import UTC, date, datetime, timedelta
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest

from shinrai.airflow_env import airflow_env, sandbox_connections
from shinrai.orchestration.defaults import ALERTS_CONN_ID, SlackFailureAlert
from shinrai.orchestration.resources import MARTS, POOLS, PUBLICATION, WAREHOUSE_POOL, WAREHOUSE_SLOTS
from shinrai.settings import PROJECT_ROOT

EXTRACTS = ("extract_jira", "extract_notion", "extract_slack")
# The DAGs are parsed (and the chaser's callable run) under a configuration whose reporting zone is
# not the shipped one, so a schedule or "today" pinned to the shipped zone fails here.
ZONE = "America/Los_Angeles"
RETRIES = {"retries": 3, "retry_delay_seconds": 7}


def _config_in(zone: str, home) -> str:
    import yaml

    tree = yaml.safe_load((PROJECT_ROOT / "config" / "shinrai.yaml").read_text(encoding="utf-8"))
    assert tree["reporting"]["timezone"] != zone
    tree["reporting"]["timezone"] = zone
    assert tree["airflow"] != RETRIES
    tree["airflow"] = RETRIES  # not the defaults either: every task takes the configured ones
    path = home / "shinrai.yaml"
    path.write_text(yaml.safe_dump(tree, allow_unicode=True), encoding="utf-8")
    return str(path)


def _today() -> date:
    from zoneinfo import ZoneInfo

    return datetime.now(UTC).astimezone(ZoneInfo(ZONE)).date()


def _reporting_zone() -> ZoneInfo:
    """The DAGs' zone: the configuration's, never a copy of it."""
    from shinrai import config

    return ZoneInfo(config.load().timezone)


@pytest.fixture(scope="module")
def dags(tmp_path_factory):
    saved = dict(os.environ)
    home = tmp_path_factory.mktemp("home")
    os.environ.update(airflow_env(extra={"SHINRAI_HOME": str(home), "SHINRAI_CONFIG": _config_in(ZONE, home)}))
    try:
        from airflow.dag_processing.dagbag import DagBag

        bag = DagBag(dag_folder=str(PROJECT_ROOT / "dags"))
        assert bag.import_errors == {}
        yield bag.dags
    finally:
        os.environ.clear()
        os.environ.update(saved)


def test_schedules_are_cron_triggers_in_the_reporting_zone(dags):
    from airflow.timetables.trigger import CronTriggerTimetable

    nightly, chaser = dags["shinrai_nightly"], dags["shinrai_chaser"]
    for dag, cron in ((nightly, "0 2 * * *"), (chaser, "0 10 * * 1-5")):  # chaser: weekdays, business hours
        assert isinstance(dag.timetable, CronTriggerTimetable)  # shown with its zone: test_airflow_ui.py
        assert dag.timetable.serialize()["expression"] == cron
        assert dag.timetable.serialize()["timezone"] == ZONE  # the configured zone, not the shipped one
        assert dag.catchup is False and dag.max_active_runs == 1


def test_nightly_steps_in_order(dags):
    dag = dags["shinrai_nightly"]
    assert set(dag.task_ids) == {"plan", *EXTRACTS, "build_marts", "check_quality", "publish", "chase"}
    for extract in EXTRACTS:
        assert dag.get_task(extract).upstream_task_ids == {"plan"}
        assert dag.get_task(extract).downstream_task_ids == {"build_marts"}  # no extract waits for another
    assert dag.get_task("check_quality").upstream_task_ids == {"build_marts", "plan"}
    assert dag.get_task("publish").upstream_task_ids == {"check_quality", "plan"}
    assert dag.get_task("chase").upstream_task_ids == {"publish", "plan"}


def test_one_writer_per_duckdb_file(dags):
    assert POOLS == {WAREHOUSE_POOL: {"slots": 3, "description": POOLS[WAREHOUSE_POOL]["description"],
                                      "include_deferred": False}}
    nightly = dags["shinrai_nightly"]
    for extract in EXTRACTS:
        t = nightly.get_task(extract)
        assert (t.pool, t.pool_slots, t.max_active_tis_per_dag) == (WAREHOUSE_POOL, 1, 1)
    for name in ("build_marts", "check_quality", "publish", "chase"):
        t = nightly.get_task(name)
        assert (t.pool, t.pool_slots) == (WAREHOUSE_POOL, WAREHOUSE_SLOTS)
    chase = dags["shinrai_chaser"].get_task("chase")
    assert (chase.pool, chase.pool_slots) == (WAREHOUSE_POOL, WAREHOUSE_SLOTS)
    for dag in dags.values():  # every pool a task names is one the setup creates
        assert {t.pool for t in dag.tasks} <= {"default_pool", *POOLS}


def test_assets_connect_the_nightly_to_the_chaser(dags):
    nightly, chaser = dags["shinrai_nightly"], dags["shinrai_chaser"]
    assert MARTS in nightly.get_task("check_quality").outlets
    assert PUBLICATION in nightly.get_task("publish").outlets
    assert MARTS in chaser.get_task("chase").inlets
    assert dags["shinrai_report"].schedule == [PUBLICATION]  # the report follows every publication
    assert dags["shinrai_report"].task_ids == ["build_report"]


def test_retries_and_slack_failure_alert_on_every_task(dags):
    for dag in dags.values():
        assert dag.doc_md and dag.tags and "shinrai" in dag.tags
        for t in dag.tasks:
            assert t.retries == RETRIES["retries"], t.task_id
            assert t.retry_delay == timedelta(seconds=RETRIES["retry_delay_seconds"]), t.task_id
            callbacks = t.on_failure_callback if isinstance(t.on_failure_callback, list) else [t.on_failure_callback]
            assert any(isinstance(c, SlackFailureAlert) for c in callbacks), t.task_id


def _resolve(dag, conf):
    """What a trigger (or a backfill's --dag-run-conf) is validated as: the DAG's params with the conf."""
    import copy

    params = copy.deepcopy(dag.params)
    for key, value in conf.items():
        params[key] = value
    return params.validate()


def test_params_are_validated_by_json_schema(dags):
    from airflow.sdk.exceptions import ParamValidationError

    dag = dags["shinrai_nightly"]
    ok = _resolve(dag, {"window_start": "2026-03-01", "window_end": "2026-03-31", "full_refresh": True})
    assert ok["window_start"] == "2026-03-01" and ok["full_refresh"] is True
    assert _resolve(dag, {})["window_start"] is None
    for bad in ({"window_start": "2026-13-01"}, {"window_end": "31/03/2026"}, {"full_refresh": "yes"}):
        with pytest.raises(ParamValidationError):
            _resolve(dag, bad)
    with pytest.raises(ParamValidationError):
        _resolve(dags["shinrai_chaser"], {"dry_run": "no"})


def test_confirm_mass_deletion_is_a_boolean_param_off_by_default(dags):
    from airflow.sdk.exceptions import ParamValidationError

    dag = dags["shinrai_nightly"]
    assert _resolve(dag, {})["confirm_mass_deletion"] is False
    assert _resolve(dag, {"confirm_mass_deletion": True})["confirm_mass_deletion"] is True
    with pytest.raises(ParamValidationError):
        _resolve(dag, {"confirm_mass_deletion": "yes"})


def test_failure_alert_posts_escaped_text_to_slack(sandbox, monkeypatch):
    for key, value in sandbox_connections(sandbox.jira_url, sandbox.notion_url, sandbox.slack_url,
                                          sandbox.credentials).items():
        monkeypatch.setenv(key, value)
    before = len(sandbox.posted_messages)
    alert = SlackFailureAlert()
    assert alert.slack_conn_id == ALERTS_CONN_ID
    ti = SimpleNamespace(dag_id="shinrai_nightly", task_id="extract_jira", try_number=3)
    var = SimpleNamespace(value=SimpleNamespace(get=lambda key, default=None: default))
    alert({"ti": ti, "run_id": "scheduled__x", "exception": RuntimeError("jira down <!channel> & out"),
           "var": var, "dag": None})
    posted = sandbox.posted_messages[before:]
    assert len(posted) == 1
    text = posted[0]["text"]
    assert "shinrai_nightly.extract_jira" in text and "try 3" in text
    assert "&lt;!channel&gt; &amp; out" in text and "<!channel>" not in text


class _Events(list):
    def ascending(self, _asc=True):
        return self

    def limit(self, n):
        return _Events(self[:n])


def _chaser_context(run_type, logical_date, marts_as_of, dry_run=False):
    dag_run = SimpleNamespace(run_type=run_type, logical_date=logical_date, run_after=logical_date, run_id="r")
    events = _Events([SimpleNamespace(extra={"as_of_date": marts_as_of})] if marts_as_of else [])
    return {"dag_run": dag_run, "logical_date": logical_date, "params": {"dry_run": dry_run},
            "inlet_events": {MARTS: events}}


@pytest.fixture
def chase_calls(dags, monkeypatch, tmp_path):
    from shinrai import pipeline

    monkeypatch.setenv("SHINRAI_HOME", str(tmp_path))
    import duckdb

    duckdb.connect(str(tmp_path / "warehouse.duckdb")).close()  # an empty warehouse: no builds, no quality runs
    calls = []
    monkeypatch.setattr(pipeline, "chase", lambda **kw: calls.append(kw) or {"sent": 0}, raising=False)
    return dags["shinrai_chaser"].get_task("chase").python_callable, calls


def test_chaser_sends_for_today_from_todays_marts(chase_calls):
    chase, calls = chase_calls
    now = datetime.now(UTC)
    today = _today()
    chase(**_chaser_context("scheduled", now, today.isoformat()))
    assert calls == [{"run_date": today, "send": True, "dry_run": None}]


@pytest.mark.parametrize(
    ("run_type", "days_ago", "marts", "dry_run"),
    [
        ("backfill", 3, "today", False),  # a backfill never sends
        ("backfill", 0, "today", False),  # not even one for today
        ("manual", 2, "today", False),  # a run for a past date never sends
        ("manual", 0, "today", True),  # dry run
    ],
)
def test_chaser_never_sends_otherwise(chase_calls, run_type, days_ago, marts, dry_run):
    chase, calls = chase_calls
    now = datetime.now(UTC)
    today = _today()
    as_of = {"today": today.isoformat(), "yesterday": (today - timedelta(days=1)).isoformat(), None: None}[marts]
    chase(**_chaser_context(run_type, now - timedelta(days=days_ago), as_of, dry_run))
    assert len(calls) == 1 and calls[0]["send"] is False
    assert calls[0]["run_date"] == today - timedelta(days=days_ago)
    assert calls[0]["dry_run"] is (True if dry_run else None)


@pytest.mark.parametrize(
    ("marts", "reason"),
    [
        ("yesterday", "the marts are not as of today"),  # stale marts: the nightly did not finish today
        (None, "no marts have been built yet"),  # no marts ever built
    ],
)
def test_chaser_holds_back_as_a_skip_with_the_reason(chase_calls, marts, reason):
    from airflow.sdk.exceptions import AirflowSkipException

    chase, calls = chase_calls
    now = datetime.now(UTC)
    yesterday = (_today() - timedelta(days=1)).isoformat()
    with pytest.raises(AirflowSkipException, match=reason):
        chase(**_chaser_context("scheduled", now, yesterday if marts else None))
    assert calls == []


def test_chaser_skips_cleanly_without_a_warehouse(dags, monkeypatch, tmp_path):
    from airflow.sdk.exceptions import AirflowSkipException

    monkeypatch.setenv("SHINRAI_HOME", str(tmp_path / "empty"))
    chase = dags["shinrai_chaser"].get_task("chase").python_callable
    with pytest.raises(AirflowSkipException, match="no warehouse"):
        chase(**_chaser_context("scheduled", datetime.now(UTC), date.today().isoformat()))
