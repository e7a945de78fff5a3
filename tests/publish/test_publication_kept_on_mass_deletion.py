"""A night whose incidents JQL was narrowed to one issue (what an edited JQL, a lost Jira
permission, an unshared Notion database look like) must not publish 1 incident instead of all.

Night 1 is the directory's session publication (the sandbox org at scale 0.25, extracted, built,
published), copied. Night 2 runs the nightly's steps in the DAG's order (extract the three sources
as the DAG's tasks do, ``dbt build``, the GX gate over the marts, publish) with
``jira.jql.incidents`` narrowed to one issue: the Jira extraction must fail naming the stream, the
count, the causes and the confirming param, mark nothing deleted, and so stop the night before
anything downstream runs, as the DAG does; the live publication stays as it was, byte for byte.
Then a run confirming the mass deletion (the DAG param, through the run plan) lets it through.
"""

from __future__ import annotations

import hashlib
import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time
from pathlib import Path
from zoneinfo import ZoneInfo

import duckdb
import pytest
import yaml
from publish_helpers import SandboxPublication

from shinrai import pipeline
from shinrai.airflow_env import sandbox_connections
from shinrai.orchestration.extract import extract
from shinrai.orchestration.params import nightly_params
from shinrai.orchestration.plan import plan_run
from shinrai.publish import layout
from shinrai.sandbox import Sandbox
from shinrai.settings import PROJECT_ROOT, paths

NIGHT_2, NIGHT_3 = date(2026, 11, 25), date(2026, 11, 26)
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


def write_config(path: Path, jql: dict[str, str]) -> Path:
    """The shipped config with ``jira.jql`` replaced."""
    tree = yaml.safe_load((PROJECT_ROOT / "config" / "shinrai.yaml").read_text(encoding="utf-8"))
    tree["jira"]["jql"] = jql
    path.write_text(yaml.safe_dump(tree, allow_unicode=True), encoding="utf-8")
    return path


def query(path: Path, sql: str) -> list[tuple]:
    with duckdb.connect(str(path), read_only=True) as con:
        return con.execute(sql).fetchall()


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
def story(sandbox_publication: SandboxPublication, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Story]:
    """Night 1 is the directory's session publication (the sandbox org extracted, built and
    published), copied so this module's nights change nothing the other tests read."""
    home = tmp_path_factory.mktemp("mass-deletion") / "shinrai"
    shutil.copytree(sandbox_publication.home, home, symlinks=True)
    sb = Sandbox(seed=7, scale=0.25).start()  # the organisation night 1 was extracted from
    try:
        with pytest.MonkeyPatch.context() as mp:
            for key, value in sandbox_connections(sb.jira_url, sb.notion_url, sb.slack_url, sb.credentials).items():
                mp.setenv(key, value)
            mp.setenv("SHINRAI_HOME", str(home))
            mp.delenv("SHINRAI_PUBLISH_DIR", raising=False)
            mp.delenv("AIRFLOW_CTX_DAG_RUN_ID", raising=False)
            after1 = (published_incidents(), publication_digest())
            kept = query(paths().landing_file("jira"), "select min(source_key) from raw.incidents")[0][0]
            narrowed = {**JQL, "incidents": f"{JQL['incidents']} AND key = {kept}"}
            mp.setenv("SHINRAI_CONFIG", str(write_config(home / "narrowed.yaml", narrowed)))
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
        yield Story(sb.manifest()["counts"]["jira.incidents"], *after1, night2, live2, deleted_changelogs,
                    run_log, *after2, confirmed, live3, kept)
    finally:
        sb.stop()


def test_the_narrowed_jql_fails_the_jira_extraction_naming_stream_count_causes_and_confirmation(story):
    assert story.published_after_night1 == story.incidents > 1
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


def test_the_live_publication_stays_as_it_was(story):
    assert story.night2.published is None  # the night stopped at the failed extraction
    assert story.published_after_night2 == story.incidents
    assert story.digest_after_night2 == story.digest_after_night1  # byte for byte


def test_the_landing_keeps_every_incident_and_its_changelog_live(story):
    assert story.live_after_night2 == story.incidents
    assert story.deleted_changelogs_after_night2 == 0


def test_a_run_confirming_the_mass_deletion_marks_it(story):
    assert nightly_params()["confirm_mass_deletion"].value is False  # never by default
    assert story.confirmed["incidents"]["deleted"] == story.incidents - 1
    assert story.live_after_confirmed == 1
