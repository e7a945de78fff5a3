"""Issue 17: the volume gate. Against the live publication, 30% of the incidents vanishing (what a
lost permission or a narrowed JQL looks like once the landing sweep marked them deleted) fails a
critical rule with the figures, alerts once, and publication refuses, the live one unchanged; a
drop within the limit passes; the nightly param ``confirm_mass_deletion`` lets one run publish it.

The org of tests/quality/conftest.py is copied once (its warehouse and landing files), checked
and published as the "live" publication, then 30% of its live incidents are marked deleted in
the landing file and the marts rebuilt with dbt. Each test works on its own copy of that
publication.
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pytest

from quality.conftest import Org, write_config
from shinrai import pipeline
from shinrai.publish import PublishError, PublishLayout, read_publication
from shinrai.quality import rules
from shinrai.settings import PROJECT_ROOT
from shinrai.transform import dbt

DROP = 0.3


@dataclass
class Dropped:
    home: Path
    config: Path
    published: Path  # the publish dir holding the publication made before the drop
    first_run: dict  # the quality run before anything was published


@pytest.fixture(scope="module")
def dropped(org: Org, tmp_path_factory: pytest.TempPathFactory) -> Dropped:
    root = tmp_path_factory.mktemp("volume")
    home = root / "shinrai"
    home.mkdir()
    shutil.copy2(org.home / "warehouse.duckdb", home / "warehouse.duckdb")
    shutil.copytree(org.home / "landing", home / "landing")
    shutil.copytree(org.home / "dbt", home / "dbt")  # dbt's target: its partial parse saves time
    config = write_config(home, "clean", risk_stale_after_days=100_000)  # the one marts warning, pinned away
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("SHINRAI_HOME", str(home))
        mp.setenv("SHINRAI_CONFIG", str(config))
        mp.setenv("SHINRAI_PUBLISH_DIR", str(root / "published"))
        first_run = pipeline.check_quality("marts")  # nothing published yet: nothing to compare
        pipeline.publish(run_id="before-the-drop", docs=False)
        with duckdb.connect(str(home / "landing" / "jira.duckdb")) as con:
            live = con.execute("select count(*) from raw.incidents where not is_deleted").fetchone()[0]
            con.execute(
                "update raw.incidents set is_deleted = true, deleted_at = now() where source_id in ("
                "select source_id from raw.incidents where not is_deleted order by hash(source_id) limit ?)",
                [round(live * DROP)],
            )
        # what the nightly's dbt build does after such a sweep, for the models between the incidents
        # and the monthly reports (what the no-loss rules reconcile); no tests (the marts' own suite
        # runs elsewhere): the test stays within its time budget
        dbt.run_dbt(["run", "--select", "stg_jira__incidents+,+rpt_reliability_monthly",
                     "stg_jira__incidents+,+rpt_severity_monthly"])
    return Dropped(home, config, root / "published", first_run)


@pytest.fixture
def live(dropped: Dropped, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> PublishLayout:
    """This test's copy of the live publication (made before the drop), and the dropped warehouse."""
    target = tmp_path / "published"
    shutil.copytree(dropped.published, target, symlinks=True)
    monkeypatch.setenv("SHINRAI_HOME", str(dropped.home))
    monkeypatch.setenv("SHINRAI_CONFIG", str(dropped.config))
    monkeypatch.setenv("SHINRAI_PUBLISH_DIR", str(target))
    return PublishLayout(target)


def expected_drops(target: PublishLayout, warehouse: Path, limit: float,
                   min_dropped: int | None = None) -> dict[str, tuple[int, int]]:
    """What the rule must report, worked out here from the two files: key -> (published, now)."""
    min_dropped = rules.VOLUME_MIN_DROPPED_ROWS if min_dropped is None else min_dropped
    with duckdb.connect(str(target.duckdb_file), read_only=True) as pub, \
            duckdb.connect(str(warehouse), read_only=True) as wh:
        published = dict(pub.execute("select table_name, row_count from _publication_tables").fetchall())
        figures = {t: (published[t], wh.execute(f"select count(*) from marts.{t}").fetchone()[0])
                   for t in rules.VOLUME_MARTS}
        unknown = {r[0] for r in wh.execute("select product_code from marts.dim_products where is_unknown_member")
                   .fetchall()}
        now = dict(wh.execute("select product_code, count(*) from marts.fct_incidents group by all").fetchall())
        for code, n in pub.execute("select product_code, count(*) from fct_incidents group by all").fetchall():
            if code not in unknown:
                figures[f"fct_incidents[{code}]"] = (n, now.get(code, 0))
    return {k: (before, after) for k, (before, after) in figures.items()
            if before - after >= min_dropped and (before - after) / before > limit}


def figures(before: int, after: int, limit: int = 20) -> str:
    return f"published {before}, now {after} (-{(before - after) / before * 100:.1f}%, limit {limit}%)"


def test_a_first_run_with_nothing_published_passes(dropped):
    assert dropped.first_run["success"]
    with duckdb.connect(str(dropped.home / "warehouse.duckdb"), read_only=True) as con:
        outcomes = dict(con.execute(
            "select rule, status from quality.validation_results where run_id = ? and suite = ?",
            [dropped.first_run["run_id"], rules.VOLUME_DATASET]).fetchall())
    assert outcomes == {"volume_drop_within_limit": "passed", "volume_drop_confirmed": "passed"}


def test_a_30_percent_drop_blocks_publication_and_alerts_with_the_figures(dropped, live, org):
    before = read_publication(live.duckdb_file)
    inode = os.stat(live.duckdb_file).st_ino
    posts = len(org.webhook_posts())

    with pytest.raises(pipeline.QualityGateFailed) as failed:
        pipeline.check_quality("marts")

    drops = expected_drops(live, dropped.home / "warehouse.duckdb", 0.2)
    incidents = drops["fct_incidents"]
    assert incidents[1] == incidents[0] - round(incidents[0] * DROP)
    assert any(k.startswith("fct_incidents[") for k in drops)  # products lost their incidents too
    summary = failed.value.summary
    assert summary["critical_failures"] == ["mart_volume.volume_drop_within_limit"]
    rule = next(f for f in summary["failed"] if f["rule"] == "volume_drop_within_limit")
    assert set(rule["sample_keys"]) == set(drops) and rule["failing_count"] == len(drops)
    small = set(expected_drops(live, dropped.home / "warehouse.duckdb", 0.2, min_dropped=1)) - set(drops)
    assert small and not small & set(rule["sample_keys"])  # beyond the share but under 5 rows: not counted
    message = str(failed.value)
    assert f"fct_incidents ({figures(*incidents)})" in message and "confirm_mass_deletion=true" in message
    # one alert, naming each loss with its figures
    alerts = org.webhook_posts()[posts:]
    assert len(alerts) == 1 and "publication blocked" in alerts[0]["text"]
    text = "\n".join(b["text"]["text"] for b in alerts[0]["blocks"] if isinstance(b.get("text"), dict))
    assert f"`fct_incidents` {figures(*incidents)}" in text
    # and the Data Docs page of this run lists them
    page = next((dropped.home / "quality" / "data_docs" / "validations" / rules.VOLUME_DATASET
                 / summary["run_id"]).rglob("*.html"))
    assert figures(*incidents) in page.read_text(encoding="utf-8")
    # publication refuses; the live one is untouched
    with pytest.raises(PublishError, match="failed 1 critical"):
        pipeline.publish(run_id="after-the-drop", docs=False)
    assert read_publication(live.duckdb_file) == before and os.stat(live.duckdb_file).st_ino == inode
    with duckdb.connect(str(live.duckdb_file), read_only=True) as con:
        assert con.execute("select count(*) from fct_incidents").fetchone()[0] == incidents[0]


def test_a_drop_within_the_limit_passes_and_publishes(dropped, live, quality_config):
    quality_config("volume-50", risk_stale_after_days=100_000, max_volume_drop_share=0.5)
    assert not expected_drops(live, dropped.home / "warehouse.duckdb", 0.5)  # 30% overall, up to 38% a product
    summary = pipeline.check_quality("marts")
    assert summary["success"] and not summary["warnings"], summary["failed"]
    with duckdb.connect(str(dropped.home / "warehouse.duckdb"), read_only=True) as con:
        compared = con.execute("select count(*) from quality.volume_baseline").fetchone()[0]
    assert compared > len(rules.VOLUME_MARTS)  # the tables and the products were compared
    assert pipeline.publish(run_id="small-drop", docs=False)["previous_publication_id"]


def test_a_confirmed_mass_deletion_publishes_for_that_run_only(dropped, live, org):
    drops = expected_drops(live, dropped.home / "warehouse.duckdb", 0.2)
    posts = len(org.webhook_posts())

    summary = pipeline.check_quality("marts", confirm_mass_deletion=True)

    assert summary["success"] and summary["warnings"] == ["mart_volume.volume_drop_confirmed"]
    alerts = org.webhook_posts()[posts:]
    assert len(alerts) == 1 and "publication blocked" not in alerts[0]["text"]
    text = "\n".join(b["text"]["text"] for b in alerts[0]["blocks"] if isinstance(b.get("text"), dict))
    assert f"`fct_incidents` {figures(*drops['fct_incidents'])}, confirmed by confirm_mass_deletion" in text
    published = pipeline.publish(run_id="confirmed", docs=False)
    assert published["tables"]["fct_incidents"] == drops["fct_incidents"][1]
    # the next run compares with what is live now: nothing dropped, nothing to confirm
    again = pipeline.check_quality("marts")
    assert again["success"] and not again["warnings"]


def test_marts_built_as_of_an_earlier_day_than_the_publication_are_not_compared(dropped, live):
    # a backfill: the live publication is as of a later day than the marts just built
    os.chmod(live.duckdb_file, 0o644)
    with duckdb.connect(str(live.duckdb_file)) as con:
        con.execute("update _publication set as_of_date = as_of_date + 1")
    os.chmod(live.duckdb_file, 0o444)
    summary = pipeline.check_quality("marts")
    assert summary["success"] and not summary["warnings"], summary["failed"]
    with duckdb.connect(str(dropped.home / "warehouse.duckdb"), read_only=True) as con:
        assert con.execute("select count(*) from quality.volume_baseline").fetchone()[0] > 0
        status = con.execute("select status, element_count from quality.validation_results where run_id = ? "
                             "and rule = 'volume_drop_within_limit'", [summary["run_id"]]).fetchone()
    assert status == ("passed", 0)


def test_every_mart_is_compared_or_declared_exempt():
    marts = {p.stem for p in (PROJECT_ROOT / "dbt_project" / "models" / "marts").rglob("*.sql")
             if p.stem.startswith(("dim_", "fct_", "rpt_"))}
    assert marts == set(rules.VOLUME_MARTS) | set(rules.VOLUME_EXEMPT_MARTS)
    assert not set(rules.VOLUME_MARTS) & set(rules.VOLUME_EXEMPT_MARTS)
