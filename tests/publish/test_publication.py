"""Publishing the marts: what is published, how it is recorded, and that no failure ever leaves a
half-written publication or touches the previous one."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import stat
from datetime import timedelta
from pathlib import Path

import duckdb
import pytest
from publish_helpers import write_generation

from shinrai.publish import PublishError, PublishLayout, publish_marts, read_publication
from shinrai.publish import publication as publication_mod
from shinrai.publish.reader import connect, connect_parquet


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def snapshot(target: PublishLayout) -> dict[str, object]:
    """Everything a reader could see, to compare before and after a failed publication."""
    return {
        "duckdb": digest(target.duckdb_file) if target.duckdb_file.exists() else None,
        "inode": target.duckdb_file.stat().st_ino if target.duckdb_file.exists() else None,
        "link": os.readlink(target.parquet_link) if target.parquet_link.is_symlink() else None,
        "pointer": os.readlink(target.current_link) if target.current_link.is_symlink() else None,
        "versions": sorted(p.name for p in target.publications_dir.iterdir()) if target.publications_dir.exists()
        else [],
        "root": sorted(p.name for p in target.root.iterdir()) if target.root.exists() else [],
        "history": target.history_file.read_text() if target.history_file.exists() else None,
    }


def test_publishes_every_mart_and_reference_table_with_its_row_count(synthetic):
    warehouse, target = synthetic
    before = digest(warehouse)
    pub = publish_marts(warehouse, target, source_run_id="run-42", reporting_timezone="Asia/Tokyo")

    assert set(pub.tables) == {"dim_generation", "fct_events", "rpt_event_totals", "rpt_events_per_product",
                               "products"}  # a view is published as a table; staging and non-marts are not
    assert pub.tables["fct_events"] == 500
    with connect(target) as con:
        meta = con.execute("select * from _publication").fetchall()
        assert len(meta) == 1
        row = read_publication(target.duckdb_file)
        assert row is not None
        assert row["publication_id"] == pub.publication_id and row["source_run_id"] == "run-42"
        assert row["table_count"] == 5 and row["total_rows"] == sum(pub.tables.values())
        assert row["reporting_timezone"] == "Asia/Tokyo"
        assert row["parquet_dir"] == f"publications/{pub.publication_id}/parquet"
        for name, kind, rows in con.execute(
                "select table_name, kind, row_count from _publication_tables order by table_name").fetchall():
            assert con.execute(f'select count(*) from "{name}"').fetchone()[0] == rows == pub.tables[name]
            assert kind == ("reference" if name == "products" else "mart")
        assert con.execute("select tags from fct_events where event_id = 3").fetchone()[0] == [3, 4]
        schemas = {r[0] for r in con.execute("select distinct table_schema from information_schema.tables").fetchall()}
        assert schemas == {"main"}

    # read-only on disk, nothing temporary left, the warehouse untouched
    assert stat.S_IMODE(target.duckdb_file.stat().st_mode) == 0o444
    assert not [p for p in target.root.rglob("*") if p.name.endswith((".tmp", ".wal"))]
    assert digest(warehouse) == before

    # the Parquet set: the pointer, the same tables and counts, the publication id in every file
    assert target.current_parquet_dir() == pub.parquet_dir == target.parquet_link.resolve()
    assert target.current_dir() == target.publication_dir(pub.publication_id) == pub.parquet_dir.parent
    assert target.duckdb_file.resolve() == target.live_duckdb_file() == pub.parquet_dir.parent / "marts.duckdb"
    files = {p.stem for p in pub.parquet_dir.glob("*.parquet")}
    assert files == set(pub.tables) | {"_publication", "_publication_tables"}
    with connect_parquet(target) as con:
        assert con.execute("select count(*) from fct_events").fetchone()[0] == 500
        ids = con.execute(f"select distinct decode(value) from parquet_kv_metadata('{pub.parquet_dir}/*.parquet') "
                          "where decode(key) = 'publication_id'").fetchall()
        assert ids == [(pub.publication_id,)]
    manifest = json.loads((pub.parquet_dir / "_publication.json").read_text())
    assert manifest["tables"] == pub.tables

    history = [json.loads(line) for line in target.history_file.read_text().splitlines()]
    assert [h["publication_id"] for h in history] == [pub.publication_id]


def test_each_publication_names_the_one_before(synthetic):
    warehouse, target = synthetic
    first = publish_marts(warehouse, target, source_run_id="a")
    write_generation(warehouse, 1, 50)
    second = publish_marts(warehouse, target, source_run_id="b")
    assert second.previous_publication_id == first.publication_id
    row = read_publication(target.duckdb_file)
    assert row is not None and row["publication_id"] == second.publication_id
    assert row["previous_publication_id"] == first.publication_id
    assert second.tables["fct_events"] == 50


def test_a_table_failing_midway_leaves_the_previous_publication_untouched(synthetic):
    warehouse, target = synthetic
    good = publish_marts(warehouse, target, source_run_id="good")
    before = snapshot(target)
    write_generation(warehouse, 1, 80)
    with duckdb.connect(str(warehouse)) as con:
        # sorts after the healthy marts: the copy fails with several tables already written
        con.execute("create view marts.rpt_zz_broken as "
                    "select case when i > 5 then error('source table broke mid-copy') end as x from range(10) r(i)")

    with pytest.raises(duckdb.Error, match="source table broke mid-copy"):
        publish_marts(warehouse, target, source_run_id="bad")

    assert snapshot(target) == before
    row = read_publication(target.duckdb_file)
    assert row is not None and row["publication_id"] == good.publication_id
    with connect(target) as con:
        assert con.execute("select count(*), max(generation) from fct_events").fetchone() == (500, 0)

    # once the source is fixed, the next publication goes through
    with duckdb.connect(str(warehouse)) as con:
        con.execute("drop view marts.rpt_zz_broken")
    fixed = publish_marts(warehouse, target, source_run_id="fixed")
    assert fixed.previous_publication_id == good.publication_id
    assert fixed.tables["fct_events"] == 80


def test_a_failure_at_the_switch_leaves_the_previous_publication(synthetic, monkeypatch):
    warehouse, target = synthetic
    publish_marts(warehouse, target, source_run_id="good")
    before = snapshot(target)
    real_replace = os.replace

    def failing_replace(src, dst):
        if Path(dst) == target.current_link:
            raise OSError("disk full at the very last step")
        return real_replace(src, dst)

    monkeypatch.setattr(publication_mod.os, "replace", failing_replace)
    write_generation(warehouse, 1, 90)
    with pytest.raises(OSError, match="disk full"):
        publish_marts(warehouse, target, source_run_id="bad")
    assert snapshot(target) == before


def test_a_failing_first_publication_publishes_nothing(synthetic):
    warehouse, target = synthetic
    with duckdb.connect(str(warehouse)) as con:
        con.execute("create view marts.fct_zz_broken as select error('nope') as x")
    with pytest.raises(duckdb.Error):
        publish_marts(warehouse, target)
    assert not target.duckdb_file.exists()
    assert target.current_parquet_dir() is None
    assert snapshot(target)["versions"] == []


def test_no_marts_is_an_error_and_publishes_nothing(tmp_path):
    warehouse = tmp_path / "empty.duckdb"
    duckdb.connect(str(warehouse)).close()
    target = PublishLayout(tmp_path / "publish")
    with pytest.raises(PublishError, match="no dim_/fct_/rpt_ tables"):
        publish_marts(warehouse, target)
    assert not target.duckdb_file.exists()
    with pytest.raises(PublishError, match="build the marts first"):
        publish_marts(tmp_path / "missing.duckdb", target)


def test_leftovers_of_a_killed_publisher_are_cleaned_up(synthetic):
    warehouse, target = synthetic
    publish_marts(warehouse, target)
    (target.root / ".marts.duckdb.20990101T000000Z-dead00.tmp").write_bytes(b"half a file")
    (target.root / ".marts.duckdb.20990101T000000Z-dead00.tmp.wal").write_bytes(b"")
    (target.publications_dir / ".20990101T000000Z-dead00.tmp").mkdir()
    (target.root / ".current.20990101T000000Z-dead00.tmp").symlink_to("publications/nowhere")
    publish_marts(warehouse, target)
    assert not [p for p in target.root.rglob("*") if "dead00" in p.name]


def test_old_publications_are_pruned_after_the_grace_period(synthetic):
    warehouse, target = synthetic
    kept = [publish_marts(warehouse, target, keep_versions=2, version_grace=timedelta(0)) for _ in range(4)]
    versions = sorted(p.name for p in target.publications_dir.iterdir() if p.is_dir())
    assert versions == sorted(p.publication_id for p in kept[-2:])
    # within the grace period nothing is pruned: a reader may still be reading an older set
    more = [publish_marts(warehouse, target, keep_versions=1) for _ in range(2)]
    versions = {p.name for p in target.publications_dir.iterdir() if p.is_dir()}
    assert {p.publication_id for p in more} <= versions and len(versions) == 4


def test_publish_waits_for_no_reader_and_readers_of_the_old_file_keep_it(synthetic):
    warehouse, target = synthetic
    first = publish_marts(warehouse, target, source_run_id="first")
    old = duckdb.connect(str(target.duckdb_file), read_only=True)
    try:
        write_generation(warehouse, 1, 70)
        second = publish_marts(warehouse, target, source_run_id="second")  # does not wait for `old`
        assert old.execute("select publication_id from _publication").fetchone()[0] == first.publication_id
        assert old.execute("select count(*) from fct_events").fetchone()[0] == 500
    finally:
        old.close()
    with connect(target) as con:
        assert con.execute("select publication_id from _publication").fetchone()[0] == second.publication_id


def test_a_stray_wal_next_to_the_publication_is_removed(synthetic):
    """Someone opened the publication read-write: the next reader must not replay that WAL."""
    warehouse, target = synthetic
    publish_marts(warehouse, target)
    wal = Path(f"{target.duckdb_file}.wal")
    wal.write_bytes(b"not ours")
    publish_marts(warehouse, target)
    assert not wal.exists()
    with connect(target) as con:
        assert con.execute("select count(*) from fct_events").fetchone()[0] == 500


def test_a_publication_of_the_layout_before_current_is_replaced_whole(synthetic):
    """Upgrading: marts.duckdb a real file and parquet -> parquet-versions/<id>; the first publish
    switches both to the new layout, names the old publication as previous, prunes the old sets."""
    warehouse, target = synthetic
    old = publish_marts(warehouse, target, source_run_id="gen-0")
    # rebuild what the previous layout looked like from that publication
    old_dir = target.publication_dir(old.publication_id)
    for link in (target.duckdb_file, target.parquet_link, target.current_link):
        link.unlink()
    target.parquet_versions.mkdir()
    os.replace(old_dir / "parquet", target.parquet_versions / old.publication_id)
    os.replace(old_dir / "marts.duckdb", target.duckdb_file)
    (target.parquet_versions / "CURRENT").write_text(old.publication_id + "\n")
    target.parquet_link.symlink_to(Path("parquet-versions") / old.publication_id)
    shutil.rmtree(target.publications_dir)
    assert target.current_parquet_dir() == target.parquet_versions / old.publication_id

    write_generation(warehouse, 1, 40)
    new = publish_marts(warehouse, target, source_run_id="gen-1", version_grace=timedelta(0))
    assert new.previous_publication_id == old.publication_id
    assert read_publication(target.duckdb_file)["publication_id"] == new.publication_id
    assert target.current_parquet_dir() == target.publication_dir(new.publication_id) / "parquet"
    assert not target.parquet_versions.exists()
