from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pytest

from shinrai.load.landing import Cursor, LandingStore, Quarantined, Record

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def _rec(i: int, text: str = "a") -> Record:
    return Record(str(i), f"INC-{i}", T0, {"id": str(i), "fields": {"summary": text}})


def _snapshot(store: LandingStore, stream: str) -> list[tuple]:
    return store.con.execute(f"select * from raw.{stream} order by source_id").fetchall()


def test_merge_is_idempotent_and_keeps_versions(tmp_path: Path):
    with LandingStore(tmp_path / "jira.duckdb", "jira") as store:
        store.ensure_stream("incidents")
        first = store.save_page("incidents", [_rec(1), _rec(2)], [], Cursor(watermark=T0), "run-1")
        assert (first.inserted, first.updated) == (2, 0)
        before = _snapshot(store, "incidents")
        again = store.save_page("incidents", [_rec(1), _rec(2)], [], Cursor(watermark=T0), "run-2")
        assert (again.inserted, again.updated, again.unchanged) == (0, 0, 2)
        assert _snapshot(store, "incidents") == before  # not even run_id or extracted_at moved
        changed = store.save_page("incidents", [_rec(2, "b")], [], Cursor(watermark=T0), "run-3")
        assert (changed.inserted, changed.updated) == (0, 1)
        versions = store.con.execute("select count(*) from raw.incidents__versions").fetchone()[0]
        assert versions == 3


def test_duplicate_within_a_page_lands_once(tmp_path: Path):
    with LandingStore(tmp_path / "jira.duckdb", "jira") as store:
        store.ensure_stream("incidents")
        result = store.save_page("incidents", [_rec(1), _rec(1)], [], Cursor(), "run-1")
        assert result.inserted == 1
        assert store.con.execute("select count(*) from raw.incidents").fetchone()[0] == 1


def test_cursor_moves_with_the_page_and_survives_reopen(tmp_path: Path):
    path = tmp_path / "jira.duckdb"
    with LandingStore(path, "jira") as store:
        store.ensure_stream("incidents")
        store.save_page("incidents", [_rec(1)], [], Cursor(T0, {"next_page_token": "abc"}), "run-1")
    with LandingStore(path, "jira") as store:
        cursor = store.cursor("incidents")
        assert cursor.watermark == T0
        assert cursor.in_progress == {"next_page_token": "abc"}


def test_failed_page_rolls_back_records_and_cursor(tmp_path: Path):
    with LandingStore(tmp_path / "jira.duckdb", "jira") as store:
        store.ensure_stream("incidents")
        store.save_page("incidents", [_rec(1)], [], Cursor(T0, {"next_page_token": "p2"}), "run-1")
        bad = Record("2", "INC-2", T0, {"x": object()})  # not JSON-serialisable: fails mid-page
        try:
            store.save_page("incidents", [_rec(3), bad], [], Cursor(T0, {"next_page_token": "p3"}), "run-1")
        except TypeError:
            pass
        assert store.cursor("incidents").in_progress == {"next_page_token": "p2"}
        assert store.live_ids("incidents") == {"1"}


def test_quarantine_keeps_reason_and_resolves_when_a_good_version_lands(tmp_path: Path):
    with LandingStore(tmp_path / "jira.duckdb", "jira") as store:
        store.ensure_stream("incidents")
        q = Quarantined("5", "field occurred_at value '2024-13-45' is not a timestamp", '{"id":"5"}')
        store.save_page("incidents", [], [q], Cursor(), "run-1")
        store.save_page("incidents", [], [q], Cursor(), "run-2")  # seen again: still one row
        rows = store.con.execute("select source_id, reason, resolved_at from raw.quarantine").fetchall()
        assert rows == [("5", q.reason, None)]
        store.save_page("incidents", [_rec(5)], [], Cursor(), "run-3")
        assert store.con.execute("select resolved_at is not null from raw.quarantine").fetchone()[0]


def test_soft_delete_marks_and_counts_once(tmp_path: Path):
    with LandingStore(tmp_path / "jira.duckdb", "jira") as store:
        store.ensure_stream("incidents")
        store.save_page("incidents", [_rec(1), _rec(2)], [], Cursor(), "run-1")
        assert store.mark_deleted("incidents", ["2"], "run-2") == 1
        assert store.mark_deleted("incidents", ["2"], "run-3") == 0
        assert store.live_ids("incidents") == {"1"}
        assert store.con.execute("select count(*) from raw.incidents").fetchone()[0] == 2


def test_staged_pages_read_back_before_their_commit_and_commit_with_their_cursor(tmp_path: Path):
    path = tmp_path / "slack.duckdb"
    with LandingStore(path, "slack", commit_interval_s=3600) as store:
        store.save_page("messages", [_rec(1)], [], Cursor(T0, {"page": 1}), "run-1")  # the first commits at once
        store.save_page("messages", [_rec(2)], [], Cursor(T0, {"page": 2}), "run-1")  # this one waits
        assert store.cursor("messages").in_progress == {"page": 2}
        assert store.live_ids("messages") == {"1", "2"}
        again = store.save_page("messages", [_rec(2)], [], None, "run-1")
        assert (again.inserted, again.unchanged) == (0, 1)  # the staged copy counts as held
    with LandingStore(path, "slack") as store:  # closing committed page 2 with its cursor
        assert store.cursor("messages").in_progress == {"page": 2}
        assert store.live_ids("messages") == {"1", "2"}


def test_delete_then_land_again_in_one_batch_leaves_the_record_live(tmp_path: Path):
    with LandingStore(tmp_path / "jira.duckdb", "jira", commit_interval_s=3600) as store:
        store.save_page("incidents", [_rec(1), _rec(2)], [], Cursor(), "run-1")
        assert store.mark_deleted("incidents", ["1", "9"], "run-2") == 1
        again = store.save_page("incidents", [_rec(1)], [], Cursor(), "run-2")
        assert (again.inserted, again.updated) == (0, 1)
        result = store.save_page("incidents", [_rec(3)], [], Cursor(), "run-2", deleted=["2"])
        assert (result.inserted, result.deleted) == (1, 1)
        assert store.live_ids("incidents") == {"1", "3"}
        rows = dict(store.con.execute("select source_id, is_deleted from raw.incidents").fetchall())
    assert rows == {"1": False, "2": True, "3": False}


def test_a_record_said_to_be_new_that_is_held_fails_the_commit_rather_than_lose_anything(tmp_path: Path):
    with LandingStore(tmp_path / "slack.duckdb", "slack", commit_interval_s=0) as store:
        store.save_page("messages", [_rec(1)], [], Cursor(T0, {"page": 1}), "run-1")
        with pytest.raises(duckdb.ConstraintException):
            # (a later run: in the same run a second copy that is not newer would be quarantined)
            store.save_page("messages", [_rec(1, "b")], [], Cursor(T0, {"page": 2}), "run-2", known_new=True)
        assert store.cursor("messages").in_progress == {"page": 1}
        assert store.con.execute("select payload->>'$.fields.summary' from raw.messages").fetchall() == [("a",)]


def _quarantine(store: LandingStore) -> list[tuple]:
    return store.con.execute(
        "select stream, source_id, reason, payload_text, resolved_at is not null from raw.quarantine order by 2"
    ).fetchall()


def test_a_lone_surrogate_quarantines_its_record_and_the_rest_of_the_page_lands(tmp_path: Path):
    """``"\\ud800"`` is legal JSON; Python parses it into a str no UTF-8 encoder takes. Before, the
    whole page (and so the stream) failed with "'utf-8' codec can't encode character"."""
    with LandingStore(tmp_path / "jira.duckdb", "jira") as store:
        bad = _rec(2, "broken \ud800 text")
        result = store.save_page("incidents", [_rec(1), bad, _rec(3)], [], Cursor(T0, {"page": 1}), "run-1")
        assert (result.inserted, result.quarantined) == (2, 1)
        assert store.live_ids("incidents") == {"1", "3"}
        assert store.cursor("incidents").in_progress == {"page": 1}  # the cursor moved past it
        [(stream, sid, reason, text, resolved)] = _quarantine(store)
        assert (stream, sid, resolved) == ("incidents", "2", False)
        assert reason == "invalid Unicode: lone surrogate U+D800 at $.fields.summary"
        assert "broken \\ud800 text" in text  # kept as the source sent it (a JSON escape)
        # the source fixes the text: it lands and the quarantine row is resolved
        store.save_page("incidents", [_rec(2, "fixed")], [], Cursor(T0), "run-2")
        assert store.live_ids("incidents") == {"1", "2", "3"}
        assert _quarantine(store)[0][4] is True


def test_what_utf8_json_cannot_carry_is_quarantined_wherever_it_is(tmp_path: Path):
    with LandingStore(tmp_path / "slack.duckdb", "slack") as store:
        records = [
            Record("C1:1.0", "C1", T0, {"ts": "1.0", "text": "ok"}),
            Record("C1:2.0", "C1", T0, {"ts": "2.0", "blocks": [{"elements": [{"text": "\udfff"}]}]}),
            Record("C1:3.0", "C1", T0, {"ts": "3.0", "reactions": {"bad\ud83d": 1}}),
            Record("C1:4.0", "C1", T0, {"ts": "4.0", "score": float("nan")}),
            Record("C1:5.0", "C\ud800", T0, {"ts": "5.0"}),
        ]
        # a record the extractor quarantined itself may carry a surrogate too
        theirs = Quarantined(None, "channel C1: 'ts' '\ud800' is not a Slack timestamp", '{"ts": "\ud800"}')
        result = store.save_page("messages", records, [theirs], Cursor(), "run-1")
        assert (result.inserted, result.quarantined) == (1, 5)
        reasons = {r[1]: r[2] for r in _quarantine(store)}
    assert reasons == {
        "C1:2.0": "invalid Unicode: lone surrogate U+DFFF at $.blocks[0].elements[0].text",
        "C1:3.0": "invalid Unicode: lone surrogate U+D83D in a key of $.reactions",
        "C1:4.0": "not valid JSON: nan at $.score (JSON has no NaN or Infinity)",
        "C1:5.0": "invalid Unicode: lone surrogate U+D800 in the record's key",
        None: "channel C1: 'ts' '\\ud800' is not a Slack timestamp",
    }


def test_a_second_copy_of_an_id_with_another_payload_is_quarantined_and_named(tmp_path: Path):
    """Two records claiming one id: the first lands, the later one is quarantined naming the id and
    both positions (before, the page kept the last copy and nothing said the first had gone)."""
    other = Record("1", "INC-9", datetime(2026, 1, 3, tzinfo=UTC), {"id": "1", "fields": {"summary": "another"}})
    with LandingStore(tmp_path / "jira.duckdb", "jira") as store:
        result = store.save_page("incidents", [_rec(1), _rec(2), _rec(1), other], [], Cursor(), "run-1")
        assert (result.inserted, result.quarantined) == (2, 1)  # the identical copy is no problem
        [(_, sid, reason, text, _)] = _quarantine(store)
        assert sid == "1" and "another" in text  # another key: not a newer version, however recent
        assert reason == ("duplicate id 1: record 4 of page 1 of this run (key INC-9) has a different payload "
                          "from record 1 of page 1 (key INC-1), and is not a newer version; the first copy is kept")
        held = store.con.execute("select payload->>'$.fields.summary' from raw.incidents where source_id = '1'")
        assert held.fetchone() == ("a",)
        # a copy with a later update time is an edit made while the run was reading: it lands
        edited = Record("1", "INC-1", datetime(2026, 1, 2, tzinfo=UTC), {"id": "1", "fields": {"summary": "edited"}})
        assert store.save_page("incidents", [edited], [], Cursor(), "run-1").updated == 1


def test_a_conflicting_copy_on_a_later_page_of_the_run_is_quarantined_until_the_source_fixes_it(tmp_path: Path):
    other = Record("1", "INC-9", T0, {"id": "1", "fields": {"summary": "another issue"}})
    with LandingStore(tmp_path / "jira.duckdb", "jira", commit_interval_s=3600) as store:
        store.save_page("incidents", [_rec(1), _rec(2)], [], Cursor(), "run-1")
        result = store.save_page("incidents", [_rec(3), other], [], Cursor(), "run-1")
        assert (result.inserted, result.quarantined) == (1, 1)
        assert _quarantine(store)[0][2].startswith("duplicate id 1: record 2 of page 2 of this run (key INC-9) "
                                                   "has a different payload from record 1 of page 1 (key INC-1)")
        # the next run meets both again: the first copy is unchanged, the conflict stays open
        store.save_page("incidents", [_rec(1), _rec(2)], [], Cursor(), "run-2")
        store.save_page("incidents", [other], [], Cursor(), "run-2")
        assert [r[4] for r in _quarantine(store)] == [False]
        # the source fixes it (the second issue no longer claims the id): resolved
        store.save_page("incidents", [_rec(1)], [], Cursor(), "run-3")
        assert [r[4] for r in _quarantine(store)] == [True]
        assert store.con.execute("select payload->>'$.fields.summary' from raw.incidents where source_id = '1'"
                                 ).fetchone() == ("a",)



def test_an_older_copy_later_in_the_run_is_dropped_not_landed_over_the_newer(tmp_path: Path):
    """Search is eventually consistent: a later page may serve an issue's previous version. Before,
    the page kept its last copy, so the older version replaced the newer one."""
    newer = Record("1", "INC-1", datetime(2026, 1, 2, tzinfo=UTC), {"id": "1", "fields": {"summary": "edited"}})
    with LandingStore(tmp_path / "jira.duckdb", "jira") as store:
        result = store.save_page("incidents", [newer, _rec(1)], [], Cursor(), "run-1")
        assert (result.inserted, result.quarantined) == (1, 0)
        later = store.save_page("incidents", [_rec(1)], [], Cursor(), "run-1")
        assert (later.updated, later.unchanged, later.quarantined) == (0, 0, 0)
        assert store.con.execute("select payload->>'$.fields.summary' from raw.incidents").fetchall() == [("edited",)]


def test_every_payload_is_stored_once_and_every_version_stays_readable(tmp_path: Path):
    """raw.<stream> holds the current payload, raw.<stream>__versions every other one (its row for
    the current version has a NULL payload): the landing file holds each payload once, not twice,
    and every version's payload is still read back, as landed, from one or the other."""
    import hashlib
    import json

    def rec(i: int, text: str, at: datetime) -> Record:  # about 6 KB of JSON, as a Jira issue is
        return Record(str(i), f"INC-{i}", at, {"id": str(i), "fields": {"summary": text, "body": text * 1500}})

    later = datetime(2026, 1, 2, tzinfo=UTC)
    landed: dict[tuple[str, str], dict] = {}
    with LandingStore(tmp_path / "jira.duckdb", "jira", commit_interval_s=3600) as store:
        store.ensure_stream("incidents")
        for batch in ([rec(i, "a", T0) for i in range(2000)],  # a full load
                      [rec(i, "b", later) for i in range(0, 2000, 10)],  # edits
                      [rec(i, "a", T0 + (later - T0) * 2) for i in range(0, 2000, 100)]):  # edited back
            store.save_page("incidents", batch, [], None, "run")
            landed.update({(r.source_id, r.payload_digest): r.payload for r in batch})
            store.flush()
        json_bytes = sum(len(r.payload_json.encode()) for r in
                         {(r.source_id, r.payload_digest): r for r in [rec(i, "a", T0) for i in range(2000)]}.values())
        rows = store.con.execute(
            """select v.source_id, v.payload_hash, coalesce(v.payload, t.payload)::varchar,
                      v.payload is null and t.payload is not null
               from raw.incidents__versions v
               left join raw.incidents t on t.source_id = v.source_id and t.payload_hash = v.payload_hash"""
        ).fetchall()
        in_versions = store.con.execute(
            "select count(*) from raw.incidents__versions where payload is not null").fetchone()[0]
    assert {(sid, h): json.loads(text) for sid, h, text, _ in rows} == landed  # every version, readable
    assert all(hashlib.sha256(text.encode()).hexdigest() == h for _, h, text, _ in rows)
    # the current versions are not copied (those edited back to "a" keep their earlier copy of it)
    assert sum(current for *_, current in rows) == 2000 - 20
    assert in_versions == 200 + 20  # the 200 first versions edited, the 20 "b" edited back
    size = (tmp_path / "jira.duckdb").stat().st_size
    assert size < 1.5 * json_bytes, (size, json_bytes)


def test_a_file_left_mostly_free_by_its_checkpoints_is_compacted_on_close_with_nothing_lost(tmp_path: Path):
    """Each checkpoint rewrites a touched row group whole, so edits leave the blocks of the earlier
    copies free (DuckDB reuses them but never shrinks the file): closing rewrites such a file."""
    path = tmp_path / "jira.duckdb"

    def rec(i: int, text: str) -> Record:
        return Record(str(i), f"INC-{i}", T0, {"id": str(i), "fields": {"summary": text, "body": text * 8000}})

    with LandingStore(path, "jira") as store:
        store.ensure_stream("incidents")
        for round_ in "abcd":  # a load and three edits of every record, each checkpointed
            store.save_page("incidents", [rec(i, round_) for i in range(2000)], [], None, f"run-{round_}")
            store.flush()
            store.con.execute("checkpoint")
        _, _, block, total, _, free, *_ = store.con.execute("pragma database_size").fetchone()
        assert free >= total / 4 and free * block >= 32 * 2**20, (free, total)  # what the edits left free
        payloads = store.con.execute("select source_id, payload::varchar from raw.incidents order by all").fetchall()
        versions = store.con.execute(
            "select source_id, payload_hash, payload::varchar from raw.incidents__versions order by all").fetchall()
    size = path.stat().st_size
    assert size < (total - free) * block + 2**20  # rewritten without the free blocks
    with duckdb.connect(str(path), read_only=True) as con:
        assert con.execute("pragma database_size").fetchone()[5] == 0
        assert con.execute("select source_id, payload::varchar from raw.incidents order by all").fetchall() == payloads
        assert con.execute("select source_id, payload_hash, payload::varchar from raw.incidents__versions "
                           "order by all").fetchall() == versions
    with LandingStore(path, "jira") as store:  # still a landing file: keys enforced, rows merge
        assert store.save_page("incidents", [rec(1, "d"), rec(2, "e")], [], None, "run-e").updated == 1
        with pytest.raises(duckdb.ConstraintException):
            store.con.execute("insert into raw.incidents__versions select * from raw.incidents__versions limit 1")
