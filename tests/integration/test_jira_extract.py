"""The Jira extractor against the sandbox over HTTP, with the real ``jira`` client."""

from __future__ import annotations

from pathlib import Path

import pytest

from shinrai import config
from shinrai.extract.jira import JiraIssueExtractor
from shinrai.hooks.jira import JiraHook
from shinrai.hooks.retry import SourceUnavailable
from shinrai.load.landing import LandingStore


def _extract(home: Path, stream: str = "incidents", run_id: str = "run-1"):
    cfg = config.load()
    with LandingStore(home / "jira.duckdb", "jira") as store:
        stats = JiraIssueExtractor(cfg, JiraHook(cfg.jira_conn_id), store).run(stream, run_id)
        rows = store.con.execute("select source_key, payload_hash from raw.incidents order by 1").fetchall()
    return stats, rows


def test_full_load_lands_every_incident_once(sandbox, connections, tmp_path):
    manifest = sandbox.manifest()
    stats, rows = _extract(tmp_path)
    keys = [k for k, _ in rows]
    assert len(keys) == len(set(keys)) == manifest["counts"]["jira.incidents"]
    # the planted duplicate really was delivered twice, and still landed once
    duplicated = [d["key"] for d in manifest["defects"] if d["kind"] == "duplicate_across_pages"]
    assert duplicated and set(duplicated) <= set(keys)
    assert stats.seen > len(keys)


def test_unchanged_rerun_changes_nothing_and_reads_only_the_lookback(sandbox, connections, tmp_path):
    _, first = _extract(tmp_path, run_id="run-1")
    sandbox.reset_requests()
    stats, second = _extract(tmp_path, run_id="run-2")
    assert second == first
    assert stats.changed == 0
    searches = [r for r in sandbox.requests if r.path.endswith("/search/jql")]
    assert len(searches) == 1  # the lookback window fits one page


def test_field_map_is_landed_for_dbt(sandbox, connections, tmp_path):
    _extract(tmp_path)
    with LandingStore(tmp_path / "jira.duckdb", "jira") as store:
        mapping = dict(store.con.execute("select logical_name, field_id from raw.field_map").fetchall())
    assert mapping["severity"] == sandbox.manifest()["jira_fields"]["Incident Level"]


def test_bad_credentials_fail_with_a_clear_message_and_no_token(sandbox, monkeypatch, tmp_path):
    import json

    monkeypatch.setenv(
        "AIRFLOW_CONN_SHINRAI_JIRA",
        json.dumps({"conn_type": "jira", "host": sandbox.jira_url, "login": "sandbox@example.com",
                    "password": "wrong-token-123456"}),
    )
    with pytest.raises(SourceUnavailable) as err:
        _extract(tmp_path)
    message = str(err.value)
    assert message.startswith("Jira is unavailable: HTTP 401")
    assert "wrong-token-123456" not in message


def test_the_streams_run_at_once_and_a_wrong_token_costs_one_request(sandbox, connections, monkeypatch, tmp_path):
    """``pipeline.extract_jira`` reads its three issue streams concurrently (the incidents wait on
    their changelogs while the others search); a wrong token fails all three on one request."""
    import json

    from shinrai import pipeline

    monkeypatch.setenv("SHINRAI_HOME", str(tmp_path))
    right = connections["AIRFLOW_CONN_SHINRAI_JIRA"]
    monkeypatch.setenv("AIRFLOW_CONN_SHINRAI_JIRA", json.dumps(json.loads(right) | {"password": "wrong-token-1"}))
    sandbox.reset_requests()
    with pytest.raises(SourceUnavailable, match="Jira is unavailable: HTTP 401"):
        pipeline.extract_jira("run-1")
    assert [(r.server, r.status) for r in sandbox.requests] == [("jira", 401)]
    with LandingStore(tmp_path / "landing" / "jira.duckdb", "jira") as store:
        failed = store.con.execute("select stream, error from state.extraction_runs where run_id = 'run-1' "
                                   "and status = 'failed' order by stream").fetchall()
    assert [s for s, _ in failed] == ["actions", "incidents", "postmortems"]
    assert all(e.startswith("Jira is unavailable: HTTP 401") for _, e in failed)

    monkeypatch.setenv("AIRFLOW_CONN_SHINRAI_JIRA", right)
    sandbox.reset_requests()
    summary = pipeline.extract_jira("run-2")
    assert all(summary[s]["seen"] > 0 for s in ("incidents", "postmortems", "actions")), summary
    searches = [r for r in sandbox.requests if r.path.endswith("/search/jql")]
    first_read = {}
    for r in searches:
        jql = str(r.query.get("jql"))
        if "ORDER BY updated" in jql:
            stream = next(s for s in ("Incident", "Postmortem", "Prevention Action") if s in jql)
            first_read.setdefault(stream, r.at)
    first_sweep = min(r.at for r in searches if "ORDER BY key" in str(r.query.get("jql")))
    # one after another, a stream's deletion sweep (after its read) would come before the next
    # stream's first search; at once, every stream has started before any has finished
    assert len(first_read) == 3 and max(first_read.values()) < first_sweep, (first_read, first_sweep)
