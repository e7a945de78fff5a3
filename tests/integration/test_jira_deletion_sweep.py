"""The Jira deletion sweep, staggered by id range (``jira.sweep_days``), and the 404 of a changed
issue, against the sandbox over HTTP with the real ``jira`` client. Nights are simulated by the
``now`` the sweep is given; the sandbox deletes issues (``mutate``) and counts the requests."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from shinrai import config
from shinrai.extract.jira import JiraIssueExtractor
from shinrai.hooks.jira import JiraHook
from shinrai.load.landing import LandingStore, MassDeletionRefused
from shinrai.sandbox import Sandbox

STREAM = "actions"  # the largest issue stream at a small scale (143 at 0.1)
NIGHT0 = datetime.now(UTC).replace(hour=2, minute=0, second=0, microsecond=0)


@pytest.fixture
def sb(serve: Callable[..., Sandbox]) -> Sandbox:
    return serve(seed=7, scale=0.1)


def _store(path: Path, confirm: bool = False) -> LandingStore:
    return LandingStore(path / "jira.duckdb", "jira", confirm_mass_deletion=confirm)


def _extractor(store: LandingStore) -> JiraIssueExtractor:
    cfg = config.load()
    return JiraIssueExtractor(cfg, JiraHook(cfg.jira_conn_id), store)


def _deleted(path: Path) -> set[str]:
    with _store(path) as store:
        return {r[0] for r in store.con.execute(f"select source_id from raw.{STREAM} where is_deleted").fetchall()}


def _ids_of(path: Path, keys: list[str]) -> set[str]:
    with _store(path) as store:
        return {r[0] for r in store.con.execute(
            f"select source_id from raw.{STREAM} where source_key in (select unnest(?::varchar[]))", [keys]
        ).fetchall()}


def _all_ids(path: Path) -> set[str]:
    with _store(path) as store:
        return {r[0] for r in store.con.execute(f"select source_id from raw.{STREAM}").fetchall()}


def _listings(sb: Sandbox) -> list[str]:
    """The JQL of every id-only search (the deletion sweep's listings) since the last reset."""
    return [str(r.query.get("jql")) for r in sb.requests
            if r.path.endswith("/search/jql") and "ORDER BY updated" not in str(r.query.get("jql"))]


def _bounds(jql: str) -> tuple[int | None, int | None]:
    low = re.search(r"\bid > (\d+)", jql)
    high = re.search(r"\bid <= (\d+)", jql)
    return (int(low.group(1)) if low else None, int(high.group(1)) if high else None)


def _in(issue_id: str, bounds: tuple[int | None, int | None]) -> bool:
    low, high = bounds
    return (low is None or int(issue_id) > low) and (high is None or int(issue_id) <= high)


def _load_and_first_sweep(sb: Sandbox, path: Path) -> None:
    with _store(path) as store:
        extractor = _extractor(store)
        extractor.run(STREAM, "run-0")
        sb.reset_requests()
        assert extractor.sweep_deleted(STREAM, "run-0", now=NIGHT0) == 0
    # the first sweep has nothing listed yet: the whole site, once, unbounded
    assert [_bounds(j) for j in _listings(sb)] == [(None, None)]


def test_each_night_lists_only_its_slice_and_every_deleted_issue_goes_within_the_cycle(sb, tmp_path):
    _load_and_first_sweep(sb, tmp_path)
    held = _all_ids(tmp_path)
    gone_keys = sb.mutate(fraction=0, delete_fraction=0.05, seed=5)["deleted"][f"jira.{STREAM}"]
    gone = _ids_of(tmp_path, gone_keys)
    assert len(gone) >= 5
    covered: list[tuple[int | None, int | None]] = []
    for night in range(1, 8):
        sb.reset_requests()
        with _store(tmp_path) as store:
            _extractor(store).sweep_deleted(STREAM, f"run-{night}", now=NIGHT0 + timedelta(days=night))
        listings = _listings(sb)
        assert len(listings) == 1, (night, listings)  # one page: a slice, not the site
        bounds = _bounds(listings[0])
        assert bounds != (None, None), night
        covered.append(bounds)
        in_slice = {i for i in held if _in(i, bounds)}
        assert len(in_slice) <= 2 * -(-len(held) // 7), (night, len(in_slice))  # about 1/7 of the issues
        # marked deleted: exactly the deleted issues of the slices listed so far, none of the others
        assert _deleted(tmp_path) == {i for i in gone if any(_in(i, b) for b in covered)}, night
    # the seven nights' slices cover every issue once: each deleted one was marked within the week
    assert all(sum(_in(i, b) for b in covered) == 1 for i in held)
    assert _deleted(tmp_path) == gone

    # a rerun of the last night lists nothing more and changes nothing
    sb.reset_requests()
    with _store(tmp_path) as store:
        assert _extractor(store).sweep_deleted(STREAM, "run-7b", now=NIGHT0 + timedelta(days=7, hours=1)) == 0
    assert _listings(sb) == []
    assert _deleted(tmp_path) == gone


def test_the_guard_judges_a_partial_sweep_against_its_slice_only(sb, tmp_path):
    _load_and_first_sweep(sb, tmp_path)
    held = _all_ids(tmp_path)
    sb.mutate(fraction=0, delete_fraction=0.8, seed=6)  # what a narrowed JQL or a lost permission looks like
    night = NIGHT0 + timedelta(days=1)
    sb.reset_requests()
    with _store(tmp_path) as store, pytest.raises(MassDeletionRefused) as refused:
        _extractor(store).sweep_deleted(STREAM, "run-1", now=night)
    bounds = _bounds(_listings(sb)[0])
    in_slice = {i for i in held if _in(i, bounds)}
    # the share is of the slice listed (the others were not looked at), named in the message
    assert f" of {len(in_slice)} live records deleted" in str(refused.value)
    assert "jira actions (ids " in str(refused.value)
    assert _deleted(tmp_path) == set()
    # refused: the slice stays due, and a confirmed run marks only what its slice lacks
    sb.reset_requests()
    with _store(tmp_path, confirm=True) as store:
        marked = _extractor(store).sweep_deleted(STREAM, "run-1b", now=night)
    assert [_bounds(j) for j in _listings(sb)] == [bounds]
    deleted = _deleted(tmp_path)
    assert len(deleted) == marked > 10
    assert deleted <= in_slice


def test_a_changed_issue_deleted_since_goes_the_next_night_by_its_404(sb, tmp_path):
    with _store(tmp_path) as store:
        _extractor(store).run(STREAM, "run-0")
    changed = sb.mutate(fraction=0.05, seed=8)["changed"][f"jira.{STREAM}"]
    with _store(tmp_path) as store:
        _extractor(store).run(STREAM, "run-1")
    victim = changed[0]
    with sb.state.lock:  # deleted at the source after the change was read
        sb.org.by_key[victim].deleted = True
        sb.state.bump()
    (victim_id,) = _ids_of(tmp_path, [victim])
    sb.reset_requests()
    with _store(tmp_path) as store:
        stats = _extractor(store).run(STREAM, "run-2")
    assert stats.deleted == 1
    assert _deleted(tmp_path) == {victim_id}
    gets = [r for r in sb.requests if re.search(r"/issue/\d+$", r.path)]
    assert [(r.path.rsplit("/", 1)[1], r.status) for r in gets] == [(victim_id, 404)]
    assert _listings(sb) == []  # no listing needed
