"""Two consecutive sandbox days into one SHINRAI_HOME, as `make demo` on two days does: the second
day's sandbox is the first one a day later (new records and edits only), so the nightly path
(extraction over HTTP, then dbt and publication) marks nothing deleted and publishes every incident
of the first day again, plus any new one.

The first night only extracts: the landing's live incidents are what it would publish (the demo's
own test checks that one-to-one); dbt and publication run once, on the second night, to keep this cheap.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import duckdb
import pytest

from shinrai import pipeline
from shinrai.airflow_env import sandbox_connections
from shinrai.sandbox import Sandbox
from shinrai.sandbox.timefmt import at_midnight_jst
from shinrai.settings import paths

# two days after the reference day on which, at 0.1x, a postmortem and an action are created and
# open incidents move on
DAY_1, DAY_2 = date(2026, 11, 4), date(2026, 11, 5)
STREAMS = {"jira": ("incidents", "postmortems", "actions", "versions"),
           "notion": ("risk_records", "release_calendar"), "slack": ("messages",)}


def _live() -> dict[str, set[str]]:
    out = {}
    for source, streams in STREAMS.items():
        with duckdb.connect(str(paths().landing_file(source)), read_only=True) as con:
            for stream in streams:
                out[f"{source}.{stream}"] = {r[0] for r in con.execute(
                    f"select source_id from raw.{stream} where not is_deleted").fetchall()}
    return out


def _extract(day: date, monkeypatch: pytest.MonkeyPatch) -> tuple[dict[str, dict], dict]:
    """The nightly extraction (the three sources at once) against the sandbox as of ``day``."""
    run_id = f"night-{day.isoformat()}"
    now = datetime.fromtimestamp(at_midnight_jst(day) + 6 * 3600, UTC)  # the Slack lookback's clock
    with Sandbox(seed=7, scale=0.1, anchor=day) as sb:
        for key, value in sandbox_connections(sb.jira_url, sb.notion_url, sb.slack_url, sb.credentials).items():
            monkeypatch.setenv(key, value)
        with ThreadPoolExecutor(max_workers=3) as pool:
            jira = pool.submit(pipeline.extract_jira, run_id)
            notion = pool.submit(pipeline.extract_notion, run_id)
            slack = pool.submit(pipeline.extract_slack, run_id, now=now)
            stats = {**{f"jira.{k}": v for k, v in jira.result().items()},
                     **{f"notion.{k}": v for k, v in notion.result().items()},
                     **{f"slack.{k}": v for k, v in slack.result().items()}}
        return stats, sb.manifest()


def test_the_next_day_marks_nothing_deleted_and_publishes_every_incident_again(
        shinrai_home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _stats, manifest_1 = _extract(DAY_1, monkeypatch)
    live_1 = _live()
    assert len(live_1["jira.incidents"]) == manifest_1["counts"]["jira.incidents"]
    stats_2, manifest_2 = _extract(DAY_2, monkeypatch)
    live_2 = _live()
    deleted = {stream: s["deleted"] for stream, s in stats_2.items() if s.get("deleted")}
    assert deleted == {}, deleted
    for stream, ids in live_1.items():
        assert ids <= live_2[stream], (stream, sorted(ids - live_2[stream])[:5])
    assert manifest_2["counts"]["jira.postmortems"] > manifest_1["counts"]["jira.postmortems"]  # a day happened

    pipeline.build_marts(as_of_date=(DAY_2 + timedelta(days=1)).isoformat())
    pipeline.check_quality("marts")  # publication takes only a checked build
    result = pipeline.publish(docs=False)
    with duckdb.connect(result["duckdb_file"], read_only=True) as con:
        published = {r[0] for r in con.execute("select incident_id from fct_incidents").fetchall()}
    assert live_1["jira.incidents"] <= {str(x) for x in published}
    assert len(published) == manifest_2["counts"]["jira.incidents"] >= len(live_1["jira.incidents"])
