"""The monthly reliability report: built from the publication alone, one self-contained file,
English and Japanese as configured, for the last closed month or any month asked for."""

from __future__ import annotations

import re
import shutil
from datetime import date

import duckdb
import pytest
from publish_helpers import CHARTS, busiest_recent_month

from shinrai import cli, pipeline
from shinrai.publish.docs import external_references
from shinrai.publish.i18n import Labeler
from shinrai.publish.report import build_report
from shinrai.publish.report_data import ReportError, add_months, collect


@pytest.fixture
def published(sandbox_publication, monkeypatch):
    monkeypatch.setenv("SHINRAI_HOME", str(sandbox_publication.home))
    monkeypatch.delenv("SHINRAI_PUBLISH_DIR", raising=False)
    return sandbox_publication


def test_report_is_one_self_contained_file_with_every_chart(published, artefacts):
    month = busiest_recent_month(published.layout)
    path = build_report(month, out=artefacts / f"reliability-{month}.html")
    html = path.read_text(encoding="utf-8")
    print(f"\nreport: {path}")

    assert external_references(html) == []
    assert not re.search(r"""(src|href)\s*=\s*["'](?!#|data:)""", html), "the report links a file or URL"
    assert "@font-face" not in html and "sourceMappingURL" not in html
    assert "Chart.js v4" in html  # the vendored library, inlined
    assert re.findall(r'data-chart="([a-z_]+)"', html) == list(CHARTS)
    assert f"<h1>{month}</h1>" in html
    assert '<script id="report-data" type="application/json">' in html


def test_headline_numbers_come_from_the_monthly_mart(published):
    month = busiest_recent_month(published.layout)
    data = collect(published.layout.duckdb_file, Labeler(["en"]), "Asia/Tokyo", month)
    first = date.fromisoformat(f"{month}-01")
    with duckdb.connect(str(published.layout.duckdb_file), read_only=True) as con:
        this, last = (con.execute("select sum(incident_count) from rpt_reliability_monthly where month_start = ?",
                                  [m]).fetchone()[0] for m in (first, add_months(first, -1)))
        listed = con.execute("select count(*) from fct_incidents where occurred_month = ?", [first]).fetchone()[0]
    assert data["headline"]["total"]["this"] == this
    assert data["headline"]["total"]["last"] == last
    assert sum(r["this"] for r in data["headline"]["rows"]) == this
    assert len(data["tables"]["incidents"]) == listed
    assert data["charts"]["incidents_by_product"]["labels"][-1] == month
    assert len(data["charts"]["incidents_by_product"]["labels"]) == 24
    # one colour per product, the same in every per-product chart and table
    colours = {d["label"]: d["color"] for d in data["charts"]["incidents_by_product"]["datasets"]}
    assert len(set(colours.values())) == len(colours)
    for chart in ("development_categories", "overdue_month_end", "overdue_ageing"):
        assert {d["label"]: d["color"] for d in data["charts"][chart]["datasets"]} == colours
    assert {r["label"]: r["color"] for r in data["headline"]["rows"]} == colours


def test_headline_kpis_are_rows_of_rpt_report_figures(published, tmp_path):
    """The report formats the figures dbt computed and computes none: change a figure in a copy of
    the publication and the report shows the change (the old report recomputed the all-product
    median time to recover from fct_incidents and would not)."""
    month = busiest_recent_month(published.layout)
    first = date.fromisoformat(f"{month}-01")
    copy = tmp_path / "marts.duckdb"
    shutil.copyfile(published.layout.duckdb_file, copy)
    copy.chmod(0o644)
    with duckdb.connect(str(copy)) as con:
        median = con.execute("select median(minutes_to_recover) from fct_incidents where occurred_month = ?",
                             [first]).fetchone()[0]
        headline = con.execute(
            "select headline_key, metric, value from rpt_report_figures "
            "where scope = 'all' and month_start = ? and headline_key is not null order by headline_order",
            [first]).fetchall()
        # all-product median time to recover: over the incidents, as the old report computed it
        assert next(v for k, _, v in headline if k == "mttr") == median
        con.execute("update rpt_report_figures set value = 3 * 1440 + 125 "
                    "where scope = 'all' and month_start = ? and metric = 'minutes_to_recover_median'", [first])
        con.execute("update rpt_report_figures set value = 0.875 "
                    "where scope = 'all' and month_start = ? and metric = 'automated_detection_share'", [first])
    data = collect(copy, Labeler(["en"]), "Asia/Tokyo", month)
    assert [k["key"] for k in data["kpis"]] == [k for k, _, _ in headline]
    kpis = {k["key"]: k for k in data["kpis"]}
    assert kpis["mttr"]["value"] == "3d 2h"
    assert kpis["automated"]["value"] == "88%"


def test_languages_follow_the_configuration(published, artefacts):
    month = busiest_recent_month(published.layout)
    both = build_report(month, out=artefacts / "both.html", languages=("en", "ja")).read_text(encoding="utf-8")
    assert "Incidents per month / 月別インシデント数" in both
    assert "Payroll / 給与計算" in both and '<html lang="en"' in both
    ja = build_report(month, out=artefacts / "ja.html", languages=("ja",)).read_text(encoding="utf-8")
    assert "月別インシデント数" in ja and "Incidents per month" not in ja
    assert "給与計算" in ja and "Payroll /" not in ja and '<html lang="ja"' in ja
    with pytest.raises(ValueError, match="reporting.languages"):
        build_report(month, out=artefacts / "fr.html", languages=("fr",))


def test_nightly_report_is_the_last_closed_month(published):
    path = pipeline.build_report()
    row = duckdb.connect(str(published.layout.duckdb_file), read_only=True).execute(
        "select max(as_of_date) from rpt_reliability_monthly").fetchone()
    as_of: date = row[0]
    last_closed = add_months(date(as_of.year, as_of.month, 1), -1).strftime("%Y-%m")
    assert path.endswith(f"reports/reliability-{last_closed}.html")
    assert "Month still open" not in open(path, encoding="utf-8").read()


def test_an_open_month_says_so(published, artefacts):
    with duckdb.connect(str(published.layout.duckdb_file), read_only=True) as con:
        current = con.execute("select strftime(max(month_start), '%Y-%m') from rpt_reliability_monthly "
                              "where not is_month_closed").fetchone()[0]
    html = build_report(current, out=artefacts / "open.html").read_text(encoding="utf-8")
    assert "Month still open" in html


def test_cli_writes_any_month_and_rejects_bad_ones(published, artefacts, capsys):
    month = busiest_recent_month(published.layout)
    out = artefacts / "cli" / "report.html"
    assert cli.main(["report", "--month", month, "--out", str(out)]) == 0
    assert capsys.readouterr().out.strip() == str(out) and out.exists()
    assert cli.main(["report", "--month", "1999-01"]) == 2
    assert "no data for 1999-01" in capsys.readouterr().err
    assert cli.main(["report", "--month", "2026-13"]) == 2


def test_report_needs_only_the_publication(published, tmp_path, monkeypatch):
    """BI never opens the working warehouse, and neither does the report."""
    home = tmp_path / "bi-host"
    (home / "publish").mkdir(parents=True)
    shutil.copy(published.layout.duckdb_file, home / "publish" / "marts.duckdb")
    monkeypatch.setenv("SHINRAI_HOME", str(home))
    path = pipeline.build_report()
    assert path.startswith(str(home / "publish" / "reports"))
    assert not (home / "warehouse.duckdb").exists()


def test_no_publication_is_a_clear_error(tmp_path, monkeypatch):
    monkeypatch.setenv("SHINRAI_HOME", str(tmp_path))
    with pytest.raises(ReportError, match="no publication"):
        build_report()


def test_severity_chart_and_major_column_follow_the_configured_levels(published):
    """Issue 15: the levels (codes, order, labels) come from the published taxonomy table, coloured by
    rank; the per-level counts add up with the unclassified to the month's incidents; the headline's
    major column is the levels flagged major."""
    from shinrai.publish.report_data import severity_color

    month = busiest_recent_month(published.layout)
    data = collect(published.layout.duckdb_file, Labeler(["en"]), "Asia/Tokyo", month)
    first = date.fromisoformat(f"{month}-01")
    with duckdb.connect(str(published.layout.duckdb_file), read_only=True) as con:
        levels = con.execute("select severity, severity_rank from severity_levels order by severity_rank").fetchall()
        total, major = con.execute("select sum(incident_count), sum(major_incident_count) from rpt_reliability_monthly "
                                   "where month_start = ?", [first]).fetchone()
    chart = data["charts"]["incidents_by_severity"]
    series = chart["datasets"][:-1]  # the last one is the unclassified
    assert [d["label"].split(" ")[0] for d in series] == [code for code, _ in levels]
    assert [d["color"] for d in series] == [severity_color(rank) for _, rank in levels]
    assert sum(d["data"][-1] for d in chart["datasets"]) == total
    assert data["headline"]["total"]["sev12"] == major
