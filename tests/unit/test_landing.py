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
            store.save_page("messages", [_rec(1, "b")], [], Cursor(T0, {"page": 2}), "run-1", known_new=True)
        assert store.cursor("messages").in_progress == {"page": 1}
        assert store.con.execute("select payload->>'$.fields.summary' from raw.messages").fetchall() == [("a",)]
