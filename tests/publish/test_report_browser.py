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
