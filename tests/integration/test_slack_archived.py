"""Issue 18: archived Slack channels read whole after their archival are left alone.

The real pipeline function (slack_sdk over HTTP against a small sandbox) is run as simulated nights
(``now`` a day apart, so the lookback and the staggered weekly resweep go by it); each night's
``conversations.history`` / ``.replies`` requests, as the sandbox recorded them, say which channels
were read and whether whole (a history request without ``oldest``).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb
import pytest
import yaml
from slack_sdk import WebClient

from shinrai import config as config_mod
from shinrai import pipeline
from shinrai.bench import minimum as mn
from shinrai.load.landing import Cursor
from shinrai.sandbox import Sandbox
from shinrai.settings import PROJECT_ROOT, paths

SCALE = 0.1
READS = ("conversations.history", "conversations.replies")


@pytest.fixture
def sb(serve: Callable[..., Sandbox], shinrai_home: Path) -> Sandbox:
    return serve(seed=11, scale=SCALE)


def _use_config(monkeypatch: pytest.MonkeyPatch, home: Path, **slack: object) -> None:
    """The shipped config with these ``slack`` settings changed."""
    tree = yaml.safe_load((PROJECT_ROOT / "config" / "shinrai.yaml").read_text(encoding="utf-8"))
    tree["slack"].update(slack)
    home.mkdir(parents=True, exist_ok=True)
    path = home / "shinrai.yaml"
    path.write_text(yaml.safe_dump(tree, allow_unicode=True), encoding="utf-8")
    monkeypatch.setenv("SHINRAI_CONFIG", str(path))


def _wanted(sb: Sandbox) -> list:
    return [c for c in sb.org.channels if c.kind in ("incident", "release")]


def _night(sb: Sandbox, run_id: str, now: datetime | None) -> dict[str, list[dict]]:
    """Run one Slack extraction; the history/replies requests it made, by channel id."""
    sb.reset_requests()
    pipeline.extract_slack(run_id, now=now)
    out: dict[str, list[dict]] = {}
    for r in sb.requests:
        method = r.path.rsplit("/", 1)[-1]
        if r.server == "slack" and method in READS:
            out.setdefault(str(r.query.get("channel")), []).append({"method": method, **r.query})
    return out


def _whole(requests: list[dict]) -> bool:
    history = [q for q in requests if q["method"] == "conversations.history"]
    return bool(history) and not any(q.get("oldest") for q in history)


def _messages() -> list[tuple]:
    with duckdb.connect(str(paths().landing_file("slack")), read_only=True) as con:
        return con.execute("select source_id, source_key, payload_hash, is_deleted from raw.messages "
                           "order by source_id").fetchall()


def _landed_text(source_id: str) -> str:
    with duckdb.connect(str(paths().landing_file("slack")), read_only=True) as con:
        return con.execute("select payload->>'text' from raw.messages where source_id = ?", [source_id]).fetchone()[0]


def _edit_status_board(sb: Sandbox, channel_id: str, text: str) -> str:
    """chat.update the incident bot's first post in the channel (the sandbox lets the bot edit only
    its own messages); returns its landed source id."""
    client = WebClient(token=sb.credentials["slack"]["token"], base_url=sb.slack_url)
    first = sb.state.content.messages(sb.state.content.by_id[channel_id]).top[0]
    client.chat_update(channel=channel_id, ts=first["ts"], text=text)
    return f"{channel_id}:{first['ts']}"


def _quiet_live_incident_channel(sb: Sandbox) -> str:
    """A live incident channel whose last message is older than the lookback (so only a whole read,
    never the nightly lookback read, reads it)."""
    now = datetime.now(UTC).timestamp()
    for c in _wanted(sb):
        top = sb.state.content.messages(c).top
        if c.kind == "incident" and not c.archived and now - max(float(m["ts"]) for m in top) > 8 * 86400:
            return c.id
    raise AssertionError("the sandbox has no quiet live incident channel")


def test_archived_channels_read_after_archival_are_not_reread_and_lose_nothing(sb, monkeypatch, shinrai_home):
    """Eight nights (the weekly resweep's whole cycle) with edits and deletions on the second: not one
    history/replies request for a channel archived at the full load, every live channel still read
    whole within the week, nothing of the archived channels marked deleted, and the landed rows are
    exactly what a full re-read of every channel gives."""
    _use_config(monkeypatch, shinrai_home)  # the shipped policy: lookback 7 days, resweep every 7
    archived = {c.id for c in _wanted(sb) if c.archived}
    live = {c.id for c in _wanted(sb) if not c.archived}
    assert archived and live
    start = datetime.now(UTC)
    full = _night(sb, "full", None)
    assert archived | live == set(full)
    read_whole: set[str] = set()
    for day in range(1, 9):
        if day == 2:
            sb.mutate(fraction=0.02, delete_fraction=0.01, seed=5)
        reads = _night(sb, f"night-{day}", start + timedelta(days=day))
        assert not archived & set(reads), (day, sorted(archived & set(reads)))
        read_whole |= {c for c, requests in reads.items() if _whole(requests)}
    assert live <= read_whole  # the weekly resweep of live channels stays
    rows = _messages()
    assert not [r for r in rows if r[1] in archived and r[3]]  # skipped is not deleted
    again = _night(sb, "night-8-rerun", start + timedelta(days=8))
    assert not archived & set(again) and _messages() == rows  # a rerun of the night changes nothing
    sb.reset_requests()
    pipeline.extract_slack("full-reread", full_refresh=True)
    assert _messages() == rows  # the same messages as a full re-read of every channel


def test_a_channel_archived_after_its_last_full_read_is_read_whole_once_more_then_left(
        sb, monkeypatch, shinrai_home):
    """Edited, then archived after the full load: the next night reads it whole (the edit lands);
    the seven nights after do not request it at all. A resweep period far beyond the test's nights
    leaves the archival as the only reason to read the quiet channel."""
    _use_config(monkeypatch, shinrai_home, resweep_days=365)
    channel = _quiet_live_incident_channel(sb)
    start = datetime.now(UTC)
    _night(sb, "full", None)
    edited = _edit_status_board(sb, channel, "status board, final edit before archival")
    sb.mutate(fraction=0, archive=[channel])
    first = _night(sb, "night-1", start + timedelta(days=1))
    assert _whole(first.get(channel, []))
    assert _landed_text(edited) == "status board, final edit before archival"
    for day in range(2, 9):
        assert channel not in _night(sb, f"night-{day}", start + timedelta(days=day)), day


def test_an_unarchived_channel_is_read_again_and_back_in_the_resweep(sb, monkeypatch, shinrai_home):
    """Archived at the full load (so left alone), then unarchived and edited: the next night reads
    it whole (the edit lands), and the weekly resweep reads it whole again within the week after."""
    _use_config(monkeypatch, shinrai_home)
    channel = next(c.id for c in _wanted(sb) if c.kind == "incident" and c.archived)
    start = datetime.now(UTC)
    _night(sb, "full", None)
    assert channel not in _night(sb, "night-1", start + timedelta(days=1))
    sb.mutate(fraction=0, unarchive=[channel])
    edited = _edit_status_board(sb, channel, "status board, edited after unarchiving")
    second = _night(sb, "night-2", start + timedelta(days=2))
    assert _whole(second.get(channel, []))
    assert _landed_text(edited) == "status board, edited after unarchiving"
    later = [_night(sb, f"night-{day}", start + timedelta(days=day)).get(channel, []) for day in range(3, 10)]
    assert any(_whole(requests) for requests in later)


def _slack_cursors() -> dict[str, Cursor]:
    with duckdb.connect(str(paths().landing_file("slack")), read_only=True) as con:
        con.execute("set timezone = 'UTC'")
        rows = con.execute("select stream, watermark, in_progress from state.cursors").fetchall()
    return {s: Cursor(w, json.loads(i) if i else {}) for s, w, i in rows}


def test_the_benchmark_minimum_reads_the_channels_the_extractor_must_read(sb, monkeypatch, shinrai_home):
    """The benchmark's floor (shinrai.bench.minimum.slack_reads) goes by the same policy: night after
    night its channels, and which of them whole, are exactly those the extractor read, so the
    "requests / minimum" ratio stays meaningful (an archived channel left alone is in neither; one
    archived after its last full read is in both, whole)."""
    _use_config(monkeypatch, shinrai_home)
    cfg = config_mod.load()
    channel = _quiet_live_incident_channel(sb)
    start = datetime.now(UTC)
    _night(sb, "full", None)
    sb.mutate(fraction=0, archive=[channel])
    for day in range(1, 9):
        now = start + timedelta(days=day)
        cursors = _slack_cursors()
        made = _night(sb, f"night-{day}", now)
        with duckdb.connect(str(paths().landing_file("slack")), read_only=True) as con:
            due = {r.channel_id: r.oldest is None for r in mn.slack_reads(cfg, con, cursors, now)}
        assert due == {c: _whole(requests) for c, requests in made.items()}, day
        assert due.get(channel) is (True if day == 1 else None), day


def test_cursors_from_before_the_record_keep_the_resweep_until_a_full_read_records_it(
        sb, monkeypatch, shinrai_home):
    """A landing file written before cursors recorded ``archived`` (its key removed here): nothing is
    read at once, each archived channel is read whole once at its resweep slot within the week, which
    records it, and from then on none is read."""
    _use_config(monkeypatch, shinrai_home)
    archived = {c.id for c in _wanted(sb) if c.archived}
    start = datetime.now(UTC)
    _night(sb, "full", None)
    with duckdb.connect(str(paths().landing_file("slack"))) as con:
        rows = con.execute("select stream, in_progress from state.cursors where starts_with(stream, 'messages:')"
                           ).fetchall()
        for stream, state in rows:
            old = {k: v for k, v in json.loads(state).items() if k != "archived"}
            con.execute("update state.cursors set in_progress = ? where stream = ?", [json.dumps(old), stream])
    first_week: list[str] = []
    for day in range(1, 8):
        reads = _night(sb, f"night-{day}", start + timedelta(days=day))
        assert all(_whole(reads[c]) for c in archived & set(reads)), day
        first_week += sorted(archived & set(reads))
    assert sorted(first_week) == sorted(archived)  # each once, at its slot (not all on the first night)
    for day in range(8, 15):
        assert not archived & set(_night(sb, f"night-{day}", start + timedelta(days=day))), day
