"""Data Docs render with no network: every CDN asset GX's templates use is vendored, and no
generated page loads a remote script or stylesheet."""

from __future__ import annotations

import re
from pathlib import Path

import great_expectations

from shinrai.quality import docs, gx

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
