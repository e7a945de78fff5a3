"""dbt docs for analysts: one static page under <publish>/docs that opens without a network."""

from __future__ import annotations

import pytest
from publish_browser import find_chromium, open_page

from shinrai.publish.docs import external_references, generate_docs, make_offline


def test_make_offline_removes_the_tracker_and_the_broken_favicon():
    page = ('<link rel="shortcut icon" href="${require(\'./assets/favicons/favicon.ico\')}"/>'
            '<script>i.src="//d1fc8wv8zag5ca.cloudfront.net/2.9.0/sp.js"</script>'
            '<link rel="stylesheet" href="https://fonts.googleapis.com/css?family=Inter">')
    assert external_references(page) == ["//d1fc8wv8zag5ca.cloudfront.net/2.9.0/sp.js",
                                          "https://fonts.googleapis.com/css?family=Inter"]
    cleaned = make_offline(page)
    assert "cloudfront" not in cleaned and "${require" not in cleaned
    assert external_references(cleaned) == ["https://fonts.googleapis.com/css?family=Inter"]  # reported, not hidden


def test_dbt_docs_are_one_static_page_that_needs_no_network(sandbox_publication, monkeypatch, artefacts):
    monkeypatch.setenv("SHINRAI_HOME", str(sandbox_publication.home))
    monkeypatch.delenv("SHINRAI_PUBLISH_DIR", raising=False)
    page = generate_docs()
    assert page == sandbox_publication.layout.docs_dir / "index.html"
    html = page.read_text(encoding="utf-8")
    assert external_references(html) == []
    assert "fct_incidents" in html and "rpt_reliability_monthly" in html  # manifest and catalog inlined
    assert '"send_anonymous_usage_stats": false' in html
    print(f"\ndbt docs: {page}")

    if find_chromium() is None:
        pytest.skip("chromium is not installed: static checks only")
    result = open_page(page.as_uri() + "#!/model/model.shinrai.fct_incidents",
                       "document.body && document.body.innerText.includes('fct_incidents')",
                       screenshot=artefacts / "dbt-docs.png")
    assert "fct_incidents" in result.dom
    network = [u for u in result.requested_urls if not u.startswith(("file:", "data:", "about:", "blob:"))]
    assert network == [], network
    # dbt's own page logs security warnings about its un-interpolated template URLs (file: only);
    # anything else (an exception, a failed network load) is a problem
    assert result.exceptions == []
    assert [p for p in result.problems if "file:" not in p and "Unsafe attempt" not in p] == []
