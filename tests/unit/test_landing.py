from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

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
