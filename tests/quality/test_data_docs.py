"""Data Docs render with no network: every CDN asset GX's templates use is vendored, and no
generated page loads a remote script or stylesheet. They show each rule's severity (a failed
warning unlike a failed critical rule), the gate's publication decision for each run, and the data
asset's name."""

from __future__ import annotations

import importlib.util
import re
import sys
from pathlib import Path

import great_expectations
import pytest

from shinrai.quality import docs, gx

from .conftest import write_config

TEMPLATES = Path(great_expectations.__file__).parent / "render" / "view" / "templates"
CDN_URL = re.compile(r'(?:src|href)="(https://[^"]+)"')
ASSET_TAG = re.compile(r'<(?:script|link)\b[^>]*>', re.IGNORECASE)


def test_every_cdn_asset_of_the_gx_templates_is_vendored():
    referenced = set()
    for template in TEMPLATES.glob("*.j2"):
        for tag in ASSET_TAG.findall(template.read_text(encoding="utf-8")):
            referenced |= set(CDN_URL.findall(tag))
    assert referenced, "GX templates moved?"
    assert referenced <= set(docs.CDN_ASSETS), sorted(referenced - set(docs.CDN_ASSETS))
    for vendored in docs.CDN_ASSETS.values():
        assert (docs.VENDOR_DIR / vendored).is_file(), vendored


def test_every_vendored_package_ships_its_licence():
    for folder in (p for p in docs.VENDOR_DIR.iterdir() if p.is_dir()):
        assert list(folder.glob("LICENSE*")), folder.name


def test_rewrite_points_at_vendored_copies_relative_to_the_page(tmp_path):
    page = tmp_path / "validations" / "suite" / "run" / "page.html"
    html = (
        '<script src="https://code.jquery.com/jquery-3.7.1.min.js"></script>'
        '<script src="https://cdnjs.cloudflare.com/ajax/libs/popper.js/1.12.9/umd/popper.min.js" '
        'integrity="sha384-x" crossorigin="anonymous"></script>'
        '<img src="https://great-expectations-web-assets.s3.us-east-2.amazonaws.com/logo-long.png?d=1&x=2">'
    )
    out = docs.rewrite_page(html, page, tmp_path)
    assert 'src="../../../static/vendor/jquery-3.7.1/jquery.min.js"' in out
    assert "integrity" not in out and "crossorigin" not in out
    assert 'src="../../../static/images/logo-long.png"' in out


def test_built_site_loads_nothing_from_the_network(nightly):
    report, _ = nightly
    site = gx.data_docs_dir()
    assert report.data_docs == (site / "index.html").as_uri()
    pages = list(site.rglob("*.html"))
    assert len(pages) > len(report.rules) // 10  # index, suites and this run's validation pages
    for page in pages:
        text = page.read_text(encoding="utf-8")
        assert not docs.REMOTE_ASSET.search(text), page
        for tag in ASSET_TAG.findall(text):
            for ref in re.findall(r'(?:src|href)="([^"#?]+)', tag):
                assert (page.parent / ref).resolve().is_file(), (page, ref)


# -- severity, the gate's decision and the data asset (issue 19) ---------------------------------

ROW = re.compile(r"<tr\b.*?</tr>", re.DOTALL)
TAG = re.compile(r"<[^>]+>")
FAILED_CRITICAL_ICON = "fa-times text-danger"
FAILED_WARNING_ICON = "fa-exclamation-circle text-warning"


def validation_page(suite: str, run_id: str) -> str:
    pages = list((gx.data_docs_dir() / "validations" / suite / run_id).glob("*/*.html"))
    assert len(pages) == 1, pages
    return pages[0].read_text(encoding="utf-8")


def rule_row(page: str, description: str) -> str:
    """The HTML of the table row of the rule with this description (GX renders the description)."""
    rows = [row for row in ROW.findall(page) if description in row]
    assert len(rows) == 1, description
    return rows[0]


def text(html: str) -> str:
    return " ".join(TAG.sub(" ", html).split())


def index_rows(run_id: str) -> dict[str, str]:
    """suite -> the index's table row (GX writes the rows as data in a script) for one run."""
    index = (gx.data_docs_dir() / "index.html").read_text(encoding="utf-8")
    rows = {}
    for chunk in index.split("{'validation_success':")[1:]:
        if f"'run_name': '{run_id}'" in chunk:
            rows[re.search(r"'_expectation_suite_name_sort': '([^']+)'", chunk).group(1)] = chunk
    return rows


def description(suite: str, rule: str) -> str:
    from shinrai.quality.rules import DATASETS

    return next(e.description for e in DATASETS[suite].expectations() if e.meta["rule"] == rule)


def test_warning_only_run_shows_each_rules_severity_and_that_publication_goes_ahead(nightly):
    report, _ = nightly
    assert report.success and report.warnings  # the sandbox org: warnings only
    failed = [r for r in report.warnings if r.suite == "stg_actions"]
    assert failed
    page = validation_page("stg_actions", "nightly-1")
    assert "Data asset: None" not in page
    assert "Data asset: stg_actions" in text(page)
    assert f"Warnings only: publication goes ahead ({len(report.warnings)} warning rule(s) failed" in text(page)
    assert "Failed (warnings only)" in text(page)
    for rule in failed:
        row = rule_row(page, description("stg_actions", rule.rule))
        assert "warning: publication not blocked" in text(row)
        assert FAILED_WARNING_ICON in row and FAILED_CRITICAL_ICON not in row
    passed = next(r for r in report.rules if r.suite == "stg_actions" and r.success)
    row = rule_row(page, description("stg_actions", passed.rule))
    assert text(row).split()[:1] == [passed.severity] and "publication" not in text(row)
    assert FAILED_CRITICAL_ICON not in page and "blocks publication" not in page
    suite_page = (gx.data_docs_dir() / "expectations" / "stg_actions.html").read_text(encoding="utf-8")
    badges = re.findall(r'shinrai-severity-(\w+)" >\s*(\w+)', suite_page)
    assert sorted(b[1] for b in badges) == sorted(r.severity for r in report.rules if r.suite == "stg_actions")

    rows = index_rows("nightly-1")
    assert set(rows) == {r.suite for r in report.rules}
    for row in rows.values():
        assert "'publication': 'goes ahead (warnings only)'" in row
        assert FAILED_CRITICAL_ICON not in row
    assert FAILED_WARNING_ICON in rows["stg_actions"]
    assert "'_validation_success_text': 'Failed (warnings only)'" in rows["stg_actions"]


@pytest.fixture(scope="module")
def critical_run(org):
    """One marts run with critical failures: every extraction is stale (as the gate tests plant it)."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("SHINRAI_CONFIG", str(write_config(org.home, "docs-stale", freshness_max_hours=1e-6)))
        return gx.run_gate("marts", run_id="docs-critical")


def test_critical_failure_shows_blocked_on_every_page_of_the_run_and_on_the_index(critical_run):
    report = critical_run
    assert not report.success
    stale = report.rule("mart_freshness", "extraction_fresh")
    assert stale in report.critical_failures
    headline = (f"Blocked by {len(report.critical_failures)} critical rule(s): not published, "
                "the previous publication stays live")

    page = validation_page("mart_freshness", "docs-critical")
    assert headline in text(page) and "mart_freshness.extraction_fresh" in text(page)
    assert "Data asset: mart_freshness" in text(page)
    row = rule_row(page, description("mart_freshness", "extraction_fresh"))
    assert "critical: blocks publication" in text(row) and FAILED_CRITICAL_ICON in row
    # the decision is the run's: a suite of the same run with only a warning failing says it too
    warned = next(r for r in report.warnings if r.suite != "mart_freshness")
    other = validation_page(warned.suite, "docs-critical")
    assert headline in text(other) and "Failed (warnings only)" in text(other)
    assert "warning: publication not blocked" in text(rule_row(other, description(warned.suite, warned.rule)))

    index = text((gx.data_docs_dir() / "index.html").read_text(encoding="utf-8"))
    assert f"Latest run docs-critical: {headline}" in index
    rows = index_rows("docs-critical")
    assert all(f"'publication': 'blocked ({len(report.critical_failures)} critical)'" in r for r in rows.values())
    assert FAILED_CRITICAL_ICON in rows["mart_freshness"] and FAILED_WARNING_ICON in rows[warned.suite]


def _browser():
    """tests/publish/publish_browser.py (headless Chromium through the DevTools protocol)."""
    if "publish_browser" in sys.modules:
        return sys.modules["publish_browser"]
    spec = importlib.util.spec_from_file_location(
        "publish_browser", Path(__file__).resolve().parents[1] / "publish" / "publish_browser.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules["publish_browser"] = module
    spec.loader.exec_module(module)
    return module


# Once bootstrap-table has drawn the index, record the colour and glyph of a failed warning's icon
# and of a failed critical rule's icon (GX's red cross) as attributes of <html>.
ICONS_DRAWN = """(() => {
  const warning = document.querySelector('td i.fa-exclamation-circle.text-warning');
  const critical = document.querySelector('td i.fa-times.text-danger');
  if (!warning || !critical) return false;
  const look = (el) => getComputedStyle(el).color + ' ' + getComputedStyle(el, '::before').content;
  document.documentElement.dataset.warningLook = look(warning);
  document.documentElement.dataset.criticalLook = look(critical);
  return true;
})()"""


@pytest.mark.skipif(_browser().find_chromium() is None, reason="chromium is not installed")
def test_in_chromium_the_index_shows_the_decision_and_a_warning_unlike_a_critical_failure(critical_run, tmp_path):
    browser = _browser()
    index = gx.data_docs_dir() / "index.html"
    result = browser.open_page(index.as_uri(), ICONS_DRAWN, screenshot=tmp_path / "data-docs-index.png")
    print(f"\nscreenshot: {result.screenshot} ({result.mode})")
    assert result.problems == [], "\n".join(result.problems)
    assert [u for u in result.requested_urls if not u.startswith(("file:", "data:", "about:"))] == []
    html = re.search(r"<html[^>]*>", result.dom).group(0)
    warning = re.search(r'data-warning-look="([^"]*)"', html)
    critical = re.search(r'data-critical-look="([^"]*)"', html)
    assert warning and critical, html
    assert warning.group(1) != critical.group(1)  # another colour and another glyph
    assert warning.group(1).split(")")[0] != critical.group(1).split(")")[0]
    # the Publication column as bootstrap-table drew it, for the rows of the blocked run
    rows = [[text(td) for td in re.findall(r"<td\b.*?</td>", row, re.DOTALL)] for row in ROW.findall(result.dom)]
    drawn = [cells for cells in rows if "docs-critical" in cells]
    assert len(drawn) == len({r.suite for r in critical_run.rules})
    assert {cells[1] for cells in drawn} == {f"blocked ({len(critical_run.critical_failures)} critical)"}
    assert "Latest run docs-critical: Blocked by" in text(result.dom)
