"""The report and the dbt docs page in a real browser: headless Chromium with DNS disabled, so a
page that reaches for the network fails here. Skipped only where Chromium is not installed."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from publish_browser import find_chromium, open_page
from publish_helpers import CHARTS, busiest_recent_month

from shinrai.publish.report import build_report

pytestmark = pytest.mark.skipif(find_chromium() is None,
                                reason="chromium is not installed (apt-get install -y chromium; .ci/run does it)")

CHARTS_DONE = ("document.documentElement.dataset.chartsTotal !== undefined && "
               "document.documentElement.dataset.chartsRendered === document.documentElement.dataset.chartsTotal")


def _local_only(urls: list[str]) -> list[str]:
    return [u for u in urls if not u.startswith(("file:", "data:", "about:", "blob:"))]


def _check_report(path: Path, screenshot: Path) -> None:
    result = open_page(path.as_uri(), CHARTS_DONE, screenshot=screenshot)
    print(f"\nscreenshot: {result.screenshot} ({result.mode})")
    assert result.problems == [], "\n".join(result.problems)
    assert _local_only(result.requested_urls) == []
    html_tag = re.search(r"<html[^>]*>", result.dom)
    assert html_tag, result.dom[:500]
    assert f'data-charts-total="{len(CHARTS)}"' in html_tag.group(0)
    assert f'data-charts-rendered="{len(CHARTS)}"' in html_tag.group(0)
    rendered = re.findall(r'<figure[^>]*data-chart="([a-z_]+)"[^>]*data-rendered="true"', result.dom)
    assert sorted(rendered) == sorted(CHARTS)
    assert result.screenshot is not None and result.screenshot.stat().st_size > 20_000


def test_the_harness_sees_console_errors(tmp_path):
    """Guards the test below: a page with errors must fail it."""
    page = tmp_path / "broken.html"
    page.write_text("<html><body><script>console.error('broken'); undefinedFunction();</script></body></html>")
    result = open_page(page.as_uri(), "document.readyState === 'complete'")
    assert any("broken" in p for p in result.problems)
    assert any("undefinedFunction" in p for p in result.problems)


def test_report_draws_every_chart_offline(sandbox_publication, artefacts, monkeypatch):
    monkeypatch.setenv("SHINRAI_HOME", str(sandbox_publication.home))
    month = busiest_recent_month(sandbox_publication.layout)
    path = build_report(month, out=artefacts / f"browser-reliability-{month}.html")
    _check_report(path, artefacts / f"reliability-{month}.png")


def test_report_of_a_quiet_month_draws_every_chart_offline(sandbox_publication, artefacts, monkeypatch):
    """Empty charts (no incidents in the month) render too, with a 'no data' note."""
    monkeypatch.setenv("SHINRAI_HOME", str(sandbox_publication.home))
    path = build_report(out=artefacts / "browser-reliability-last-closed.html", languages=("ja",))
    _check_report(path, artefacts / "reliability-last-closed-ja.png")


LAYOUT_JS = (Path(__file__).with_name("report_layout.js")).read_text(encoding="utf-8")


def _month_after_a_year_end(target) -> str:
    """The latest November the publication covers: its 12-month charts start at a December, so the
    year changes between their first two ticks (where "2025-12" ran into "2026-01")."""
    import duckdb

    with duckdb.connect(str(target.duckdb_file), read_only=True) as con:
        row = con.execute("select strftime(max(month_start), '%Y-%m') from rpt_reliability_monthly "
                          "where month(month_start) = 11").fetchone()
    assert row and row[0], "the sandbox publication covers no November"
    return str(row[0])


@pytest.mark.parametrize("languages", [("en",), ("ja",), ("en", "ja")], ids=["en", "ja", "en+ja"])
def test_report_labels_neither_overlap_nor_break_mid_word(sandbox_publication, artefacts, monkeypatch, languages):
    """Measured in the page (report_layout.js), at a desktop and a narrow window: no two tick labels of
    any chart axis overlap, and no table cell (the headline table's above all) overflows or wraps
    inside a word ("給与計|算", "SEV1-|2"). Japanese measured in a Japanese font, not as missing glyphs."""
    if languages != ("en",) and not _has_japanese_font():
        pytest.skip("no Japanese font (apt-get install -y fonts-noto-cjk; .ci/run does it)")
    monkeypatch.setenv("SHINRAI_HOME", str(sandbox_publication.home))
    month = _month_after_a_year_end(sandbox_publication.layout)
    name = "-".join(languages)
    path = build_report(month, out=artefacts / f"layout-{name}-{month}.html", languages=languages)
    found = []
    for width in (1280, 900):
        result = open_page(path.as_uri(), CHARTS_DONE, width=width, evaluate=LAYOUT_JS,
                           screenshot=artefacts / f"layout-{name}-{month}.png" if width == 1280 else None)
        assert result.problems == [], "\n".join(result.problems)
        assert isinstance(result.value, list), result.value
        found += [f"{width}px: {problem}" for problem in result.value]
    assert found == [], "\n".join(found)


def _has_japanese_font() -> bool:
    import shutil
    import subprocess

    fc_list = shutil.which("fc-list")
    if fc_list is None:
        return False
    return bool(subprocess.run([fc_list, ":lang=ja"], capture_output=True, text=True).stdout.strip())
