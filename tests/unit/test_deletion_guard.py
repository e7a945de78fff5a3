"""The landing store's deletion guard, on real DuckDB landing files: a sweep that would mark too
much of a stream deleted (a narrowed JQL, a lost permission, an unshared database or channel)
marks nothing and says why; a real one goes through when the run confirms it."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from shinrai.load.landing import MIN_GUARDED_DELETIONS, Cursor, LandingStore, MassDeletionRefused, Record

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def _recs(ids: range | list[int], key: str = "INC") -> list[Record]:
    return [Record(str(i), key, T0, {"id": str(i)}) for i in ids]


def _live(path: Path, stream: str) -> int:
    with LandingStore(path, path.stem) as store:
        return len(store.live_ids(stream))


def test_a_sweep_of_most_of_a_stream_marks_nothing_and_says_why_in_one_line(tmp_path: Path):
    path = tmp_path / "jira.duckdb"
    with LandingStore(path, "jira") as store:
        store.save_page("incidents", _recs(range(400)), [], Cursor(), "run-1",
                        also={"changelogs": _recs(range(400))})
    with LandingStore(path, "jira") as store:
        with pytest.raises(MassDeletionRefused) as refused:
            store.mark_deleted("incidents", [str(i) for i in range(1, 400)], "run-2", also=("changelogs",))
    message = str(refused.value)
    assert "\n" not in message
    assert message.startswith("jira incidents: refusing to mark 399 of 400 live records deleted (99.8%, above "
                              "landing.max_deleted_share 5%); nothing was marked deleted.")
    assert "narrowed JQL" in message and "permission" in message
    assert """airflow dags trigger shinrai_nightly --conf '{"confirm_mass_deletion": true}'""" in message
    assert (refused.value.count, refused.value.live) == (399, 400)
    assert _live(path, "incidents") == 400 and _live(path, "changelogs") == 400  # nor their changelogs


def test_a_confirmed_run_marks_the_mass_deletion_and_its_changelogs(tmp_path: Path, caplog):
    path = tmp_path / "jira.duckdb"
    with LandingStore(path, "jira") as store:
        store.save_page("incidents", _recs(range(400)), [], Cursor(), "run-1",
                        also={"changelogs": _recs(range(400))})
    with LandingStore(path, "jira", confirm_mass_deletion=True) as store:
        assert store.mark_deleted("incidents", [str(i) for i in range(1, 400)], "run-2", also=("changelogs",)) == 399
    assert _live(path, "incidents") == 1 and _live(path, "changelogs") == 1
    assert "mass deletion confirmed for this run: marking 399 of 400" in caplog.text


@pytest.mark.parametrize(("live", "deleted", "refused"), [
    (100, MIN_GUARDED_DELETIONS, False),  # 10%, but few records: a small stream losing a few
    (100, MIN_GUARDED_DELETIONS + 1, True),  # 11% of 100
    (400, 20, False),  # exactly the limit, 5%
    (400, 21, True),  # 5.25%
    (3, 1, False),  # one of a project's three versions
    (3, 3, True),  # the whole stream, however small
    (1, 1, True),
])
def test_the_share_rule_spares_small_sweeps_but_never_the_whole_stream(tmp_path: Path, live, deleted, refused):
    path = tmp_path / "jira.duckdb"
    with LandingStore(path, "jira") as store:
        store.save_page("incidents", _recs(range(live)), [], Cursor(), "run-1")
        if refused:
            with pytest.raises(MassDeletionRefused, match=f"refusing to mark {deleted} of {live} live records"):
                store.mark_deleted("incidents", [str(i) for i in range(deleted)], "run-2")
        else:
            assert store.mark_deleted("incidents", [str(i) for i in range(deleted)], "run-2") == deleted
    assert _live(path, "incidents") == (live if refused else live - deleted)


def test_the_configured_share_is_the_limit(tmp_path: Path):
    path = tmp_path / "jira.duckdb"
    with LandingStore(path, "jira", max_deleted_share=0.5) as store:
        store.save_page("incidents", _recs(range(100)), [], Cursor(), "run-1")
        assert store.mark_deleted("incidents", [str(i) for i in range(50)], "run-2") == 50
        with pytest.raises(MassDeletionRefused, match=r"\(52%, above landing.max_deleted_share 50%\)"):
            store.mark_deleted("incidents", [str(i) for i in range(50, 76)], "run-3")


def test_an_empty_user_listing_is_refused_and_lands_nothing_of_the_listing(tmp_path: Path):
    """A Slack (or Notion, Jira) token that lost its users scope answers with nobody: the snapshot
    would mark every user deleted. Refused before the listing lands; what was staged before stays."""
    path = tmp_path / "slack.duckdb"
    with LandingStore(path, "slack") as store:
        store.save_snapshot("users", _recs(range(30), "u@example.com"), "run-1")
    with LandingStore(path, "slack", commit_interval_s=3600) as store:
        store.save_page("channels", _recs(range(5), "inc-x"), [], None, "run-2")  # staged, not committed yet
        with pytest.raises(MassDeletionRefused, match=r"^slack users: refusing to mark 30 of 30 live .*"
                                                      r"the bot was removed from the channel, or the token lost"):
            store.save_snapshot("users", _recs([99], "new@example.com"), "run-2")
    assert _live(path, "channels") == 5  # the pages staged before the refusal were kept
    with LandingStore(path, "slack") as store:
        assert store.live_ids("users") == {str(i) for i in range(30)}  # the new user did not land either


def test_scopes_are_judged_on_their_own(tmp_path: Path):
    """One project's versions, one Slack channel's messages: a project listing no versions at all is
    refused though the stream holds other projects'; a channel re-read empty lands nothing of its page."""
    path = tmp_path / "jira.duckdb"
    with LandingStore(path, "jira") as store:
        store.save_snapshot("versions", _recs(range(0, 3), "OPS"), "run-1", scope_key="OPS")
        store.save_snapshot("versions", _recs(range(10, 200), "WEB"), "run-1", scope_key="WEB")
        _, deleted = store.save_snapshot("versions", _recs(range(0, 2), "OPS"), "run-2", scope_key="OPS")
        assert deleted == 1  # one of three: a real release deleted
        with pytest.raises(MassDeletionRefused, match=r"^jira versions \(OPS\): refusing to mark 2 of 2 live"):
            store.save_snapshot("versions", [], "run-3", scope_key="OPS")
        assert len(store.live_ids("versions", "OPS")) == 2
    slack = tmp_path / "slack.duckdb"
    messages = [Record(f"C1:{i}.0", "C1", T0, {"ts": f"{i}.0"}) for i in range(1, 41)]
    with LandingStore(slack, "slack") as store:
        store.save_page("messages", messages, [], Cursor(T0), "run-1", cursor_stream="messages:C1")
        store.save_page("messages", [Record("C2:1.0", "C2", T0, {"ts": "1.0"})], [], None, "run-1")
        reply = Record("C1:99.0", "C1", T0, {"ts": "99.0"})
        with pytest.raises(MassDeletionRefused, match=r"^slack messages \(C1\): refusing to mark 40 of 40"):
            store.save_page("messages", [reply], [], Cursor(datetime(2026, 2, 1, tzinfo=UTC)), "run-2",
                            cursor_stream="messages:C1", deleted=[m.source_id for m in messages], deleted_scope="C1")
        assert store.cursor("messages:C1").watermark == T0  # the page and its cursor were not staged
        assert len(store.live_ids("messages", "C1")) == 40 and "C1:99.0" not in store.live_ids("messages")
        result = store.save_page("messages", [], [], None, "run-2", deleted=[m.source_id for m in messages[:3]],
                                 deleted_scope="C1")
        assert result.deleted == 3  # a few messages deleted in a channel of forty
