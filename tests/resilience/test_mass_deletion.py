"""Resilience: a night whose incidents JQL was narrowed to one issue (what an edited JQL, a lost
Jira permission, an unshared Notion database look like) must not publish 1 incident instead of all.

One sandbox (scale 0.05) for the module. Night 1 runs the nightly's steps in the DAG's order
(extract the three sources, ``dbt build``, the GX gate over the marts, publish). Night 2 runs them
the same way with ``jira.jql.incidents`` narrowed to one issue: the Jira extraction must fail naming
the stream, the count, the causes and the confirming param, mark nothing deleted, and so stop the
night before anything downstream runs (as the DAG does); the live publication stays as it was.
Then a run confirming the mass deletion (the DAG param, through the run plan) lets it through.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

import duckdb
import pytest

from shinrai import pipeline
from shinrai.orchestration.extract import extract
from shinrai.orchestration.params import nightly_params
from shinrai.orchestration.plan import plan_run
from shinrai.publish import layout
from shinrai.sandbox import Sandbox
from shinrai.settings import paths

from ._support import hook_env, pointed_at, query, write_config

pytestmark = pytest.mark.xdist_group("resilience-mass-deletion")

SCALE = 0.05
NIGHT_1, NIGHT_2, NIGHT_3 = date(2026, 11, 24), date(2026, 11, 25), date(2026, 11, 26)
JQL = {"incidents": "project = INC AND issuetype = Incident",
       "postmortems": "project = INC AND issuetype = Postmortem",
       "actions": 'issuetype = "Prevention Action"'}


@dataclass
class Night:
    failures: dict[str, str] = field(default_factory=dict)  # extract task -> its error
    published: dict | None = None


def plan(night: date, **params: object) -> dict:
    """The plan task's XCom for a manual run of the nightly DAG on ``night`` with ``params``."""
    at = datetime.combine(night, time(2), ZoneInfo("Asia/Tokyo"))
    return plan_run(run_type="manual", logical_date=at, run_after=at, params=params, tz="Asia/Tokyo",
                    now=at).to_xcom()


def nightly(run_id: str, as_of: date) -> Night:
    """The nightly DAG's steps in its order: each extraction is its own task, run as the DAG's task
    runs it (one failing leaves the others alone), and a failed extraction leaves build, quality and
    publish upstream-failed."""
    night = Night()
    for source in ("jira", "notion", "slack"):
        try:
            extract(source, run_id, plan(as_of))
        except Exception as exc:  # noqa: BLE001 - the task fails; the DAG goes on with the other extractions
            night.failures[source] = f"{type(exc).__name__}: {exc}"
    if not night.failures:
        pipeline.build_marts(as_of_date=as_of.isoformat())
        pipeline.check_quality("marts")  # the gate over the marts (the DAG's "nightly" adds raw and staging)
        night.published = pipeline.publish(run_id=run_id, docs=False)
    return night


def publication_digest() -> dict[str, str]:
    root = layout().root
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest() if p.is_file() else os.readlink(p)
            for p in sorted(root.rglob("*")) if (p.is_file() or p.is_symlink()) and not p.name.endswith(".lock")}


def published_incidents() -> int:
    with duckdb.connect(str(layout().duckdb_file), read_only=True) as con:
        schema = con.execute("select table_schema from information_schema.tables "
                             "where table_name = 'fct_incidents'").fetchone()[0]
        return con.execute(f'select count(*) from "{schema}".fct_incidents').fetchone()[0]


def live_incidents() -> int:
    return query(paths().landing_file("jira"), "select count(*) from raw.incidents where not is_deleted")[0][0]


@dataclass
class Story:
    incidents: int  # in the sandbox
    night1: Night
    published_after_night1: int
    digest_after_night1: dict[str, str]
    night2: Night
    live_after_night2: int
    deleted_changelogs_after_night2: int
    run_log: list[tuple]  # (stream, status, error) of night 2's Jira streams
    published_after_night2: int
    digest_after_night2: dict[str, str]
    confirmed: dict
    live_after_confirmed: int
    kept: str  # the one incident the narrowed JQL still matches


@pytest.fixture(scope="module")
def story(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Story]:
    home = tmp_path_factory.mktemp("mass-deletion") / "shinrai"
    sb = Sandbox(seed=7, scale=SCALE).start()
    try:
        shipped = write_config(home / "shinrai.yaml", {})
        env = {"SHINRAI_HOME": str(home), "SHINRAI_CONFIG": str(shipped), **hook_env(sb)}
        with pointed_at(env) as mp:
            night1 = nightly("night-1", NIGHT_1)
            after1 = (published_incidents(), publication_digest())
            kept = query(paths().landing_file("jira"), "select min(source_key) from raw.incidents")[0][0]
            narrowed = write_config(home / "narrowed.yaml",
                                    {"jira": {"jql": {**JQL, "incidents": f"{JQL['incidents']} AND key = {kept}"}}})
            mp.setenv("SHINRAI_CONFIG", str(narrowed))
            night2 = nightly("night-2", NIGHT_2)
            live2 = live_incidents()
            deleted_changelogs = query(paths().landing_file("jira"),
                                       "select count(*) from raw.changelogs where is_deleted")[0][0]
            run_log = query(paths().landing_file("jira"), "select stream, status, error from state.extraction_runs "
                            "where run_id = 'night-2' order by stream")
            after2 = (published_incidents(), publication_digest())
            # the next night, someone confirms that the incidents really are gone (the DAG param)
            confirmed = extract("jira", "night-3", plan(NIGHT_3, confirm_mass_deletion=True))
            live3 = live_incidents()
        yield Story(sb.manifest()["counts"]["jira.incidents"], night1, *after1, night2, live2, deleted_changelogs,
                    run_log, *after2, confirmed, live3, kept)
    finally:
        sb.stop()


def test_the_narrowed_jql_fails_the_jira_extraction_naming_stream_count_causes_and_confirmation(story):
    assert not story.night1.failures and story.published_after_night1 == story.incidents > 1
    assert set(story.night2.failures) == {"jira"}  # Notion and Slack extracted as usual
    failure = story.night2.failures["jira"]
    assert failure.startswith("AirflowFailException: ")  # no retry: the source would list the same
    error = failure.removeprefix("AirflowFailException: ")
    assert "\n" not in error
    assert error.startswith(f"jira incidents: refusing to mark {story.incidents - 1} of {story.incidents} live "
                            "records deleted")
    assert "landing.max_deleted_share 5%" in error and "nothing was marked deleted" in error
    assert "narrowed JQL" in error and "permission" in error
    assert """airflow dags trigger shinrai_nightly --conf '{"confirm_mass_deletion": true}'""" in error
    # the stream's run log records the failure; the other issue streams ran as usual
    assert story.run_log == [("actions", "success", None), ("incidents", "failed", error),
                             ("postmortems", "success", None)]


def test_the_landing_keeps_every_incident_live_and_the_publication_stays_as_it_was(story):
    assert story.live_after_night2 == story.incidents
    assert story.deleted_changelogs_after_night2 == 0
    assert story.night2.published is None  # the night stopped at the failed extraction
    assert story.published_after_night2 == story.incidents
    assert story.digest_after_night2 == story.digest_after_night1  # byte for byte


def test_a_run_confirming_the_mass_deletion_marks_it(story):
    assert nightly_params()["confirm_mass_deletion"].value is False  # never by default
    assert story.confirmed["incidents"]["deleted"] == story.incidents - 1
    assert story.live_after_confirmed == 1
