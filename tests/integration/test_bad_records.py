"""Issue 17: one bad record is quarantined, never a stream stopped; a source answering HTML says so.

Each test starts its own small sandbox (scale 0.1) with a fault knob set from the start, and runs
the real pipeline functions the DAG tasks call over HTTP, with the real clients.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest

from shinrai import pipeline
from shinrai.airflow_env import sandbox_connections
from shinrai.hooks.retry import SourceUnavailable
from shinrai.sandbox import Faults, Sandbox
from shinrai.settings import paths

SCALE = 0.1


def extract_all(run_id: str) -> None:
    for extract in (pipeline.extract_jira, pipeline.extract_notion, pipeline.extract_slack):
        extract(run_id)


def live(source: str, stream: str) -> set[str]:
    with duckdb.connect(str(paths().landing_file(source)), read_only=True) as con:
        return {r[0] for r in con.execute(f"select source_id from raw.{stream} where not is_deleted").fetchall()}


def expected_slack_messages(sandbox: Sandbox) -> int:
    wanted = [c for c in sandbox.org.channels if c.kind in ("incident", "release")]
    return sum(c.n_top + c.n_reply - c.unposted_top - c.unposted_replies for c in wanted)


@pytest.fixture
def start(monkeypatch: pytest.MonkeyPatch, shinrai_home: Path) -> Iterator:
    started: list[Sandbox] = []

    def start_with(**knobs: object) -> Sandbox:
        sandbox = Sandbox(seed=11, scale=SCALE, faults=Faults(**knobs)).start()  # type: ignore[arg-type]
        started.append(sandbox)
        for key, value in sandbox_connections(sandbox.jira_url, sandbox.notion_url, sandbox.slack_url,
                                              sandbox.credentials).items():
            monkeypatch.setenv(key, value)
        return sandbox

    yield start_with
    for sandbox in started:
        sandbox.stop()


def quarantine(source: str) -> list[tuple]:
    with duckdb.connect(str(paths().landing_file(source)), read_only=True) as con:
        return con.execute("select stream, source_id, reason, payload_text, resolved_at is not null "
                           "from raw.quarantine order by stream, source_id").fetchall()


def key_of(source: str, stream: str, source_id: str) -> str | None:
    with duckdb.connect(str(paths().landing_file(source)), read_only=True) as con:
        row = con.execute(f"select payload->>'$.key' from raw.{stream} where source_id = ?", [source_id]).fetchone()
    return row[0] if row else None


def test_a_lone_surrogate_quarantines_one_record_per_source_and_everything_else_lands(start):
    """Before: the incidents' page failed with "'utf-8' codec can't encode character '\\ud800'",
    every night, and nothing was quarantined."""
    sb = start(lone_surrogate=True)
    manifest = sb.manifest()
    planted = {d["source"]: d["key"] for d in manifest["defects"] if d["kind"] == "invalid_unicode_record"}
    counts = manifest["counts"]
    extract_all("run-1")
    assert len(live("jira", "incidents")) == counts["jira.incidents"] - 1
    assert len(live("jira", "postmortems")) == counts["jira.postmortems"]
    assert len(live("notion", "risk_records")) == counts["notion.risk_records"] - 1
    assert len(live("slack", "messages")) == expected_slack_messages(sb) - 1
    where = {"jira": "$.fields.summary", "notion": "$.properties.Name.title[0].text.content", "slack": "$.text"}
    for source, key in planted.items():
        [row] = [q for q in quarantine(source) if q[2].startswith("invalid Unicode")]
        assert row[2] == f"invalid Unicode: lone surrogate U+D800 at {where[source]}"
        assert key in row[3] and "\\ud800" in row[3] and row[4] is False  # as sent; open
        if source == "jira":
            incident_id = row[1]
            assert key_of("jira", "incidents", incident_id) is None
    # the source fixes the text (a full refresh re-reads it): it lands and the row is resolved
    sb.set_faults(lone_surrogate=False)
    pipeline.extract_jira("run-2", full_refresh=True)
    assert key_of("jira", "incidents", incident_id) == planted["jira"]
    assert [q[4] for q in quarantine("jira") if q[1] == incident_id] == [True]


def test_two_jira_issues_with_one_id_the_second_is_quarantined_and_named(start):
    """Before: the page kept the last copy; the other issue disappeared with no quarantine row."""
    sb = start(duplicate_id=True)
    manifest = sb.manifest()
    [planted] = [d for d in manifest["defects"] if d["kind"] == "duplicate_id_record"]
    pipeline.extract_jira("run-1")
    assert len(live("jira", "incidents")) == manifest["counts"]["jira.incidents"] - 1
    [(stream, shared_id, reason, text, resolved)] = [q for q in quarantine("jira") if q[2].startswith("duplicate")]
    assert stream == "incidents" and not resolved  # its changelog went with it: no second row
    victim = re.search(r"with the id of (\S+) \((\d+)\)", planted["detail"])
    assert victim and victim.group(2) == shared_id
    landed = key_of("jira", "incidents", shared_id)
    other = planted["key"] if landed != planted["key"] else victim.group(1)
    assert {landed, other} == {planted["key"], victim.group(1)}  # one of the two landed, under the id
    assert f'"key":"{other}"' in text  # the quarantined copy is the other one, kept whole
    assert reason.startswith(f"duplicate id {shared_id}: record ")
    assert f"(key {other}) has a different payload from record " in reason and f"(key {landed})" in reason


@pytest.mark.parametrize(("extract", "source"), [(pipeline.extract_jira, "Jira"),
                                                 (pipeline.extract_notion, "Notion"),
                                                 (pipeline.extract_slack, "Slack")])
def test_a_source_answering_an_html_page_fails_with_one_clear_line(start, extract, source):
    """Before: a JSONDecodeError traceback (Jira, Notion) or slack_sdk's error quoting the page."""
    sb = start(html_answer=True, servers=(source.lower(),))
    url = {"Jira": sb.jira_url, "Notion": sb.notion_url, "Slack": sb.slack_url}[source]
    host = url.split("://", 1)[1].split("/", 1)[0]
    with pytest.raises(SourceUnavailable) as err:
        extract("run-1")
    assert str(err.value) == f"{source} is unavailable: answered HTML (status 200), not the API (host {host})"
    assert err.value.__cause__ is None and err.value.__suppress_context__  # no client internals chained
    assert [r.status for r in sb.requests] == [200]  # asked once: a login page does not go away
