"""dbt docs for analysts: one static page under <publish>/docs that opens without a network."""

from __future__ import annotations

from pathlib import Path

import pytest
from publish_browser import find_chromium, open_page

from shinrai.publish.docs import external_references, generate_docs, make_offline


@pytest.fixture(scope="module")
def docs_page(sandbox_publication) -> Path:
    """``generate_docs()`` run once for this module on the shared sandbox publication."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("SHINRAI_HOME", str(sandbox_publication.home))
        mp.delenv("SHINRAI_PUBLISH_DIR", raising=False)
        return generate_docs()


def test_make_offline_removes_the_tracker_and_the_broken_favicon():
    page = ('<link rel="shortcut icon" href="${require(\'./assets/favicons/favicon.ico\')}"/>'
            '<script>i.src="//d1fc8wv8zag5ca.cloudfront.net/2.9.0/sp.js"</script>'
            '<link rel="stylesheet" href="https://fonts.googleapis.com/css?family=Inter">')
    assert external_references(page) == ["//d1fc8wv8zag5ca.cloudfront.net/2.9.0/sp.js",
                                          "https://fonts.googleapis.com/css?family=Inter"]
    cleaned = make_offline(page)
    assert "cloudfront" not in cleaned and "${require" not in cleaned
    assert external_references(cleaned) == ["https://fonts.googleapis.com/css?family=Inter"]  # reported, not hidden


def test_dbt_docs_are_one_static_page_that_needs_no_network(sandbox_publication, docs_page, artefacts):
    page = docs_page
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


def test_dbt_docs_open_on_a_bilingual_overview_and_name_relations_as_bi_users_query_them(docs_page, artefacts):
    html = docs_page.read_text(encoding="utf-8")
    assert '"doc.shinrai.__overview__"' in html  # the project's overview replaces dbt's "Welcome!"
    # published marts and seeds as BI sees them (main.<table> in marts.duckdb); staging keeps its name
    assert '"relation_name": "\\"marts\\".\\"main\\".\\"fct_incidents\\""' in html
    assert '"relation_name": "\\"marts\\".\\"main\\".\\"severity_levels\\""' in html
    assert '\\"warehouse\\".\\"marts\\".' not in html and '\\"warehouse\\".\\"seeds\\".' not in html
    assert '"relation_name": "\\"warehouse\\".\\"staging\\".\\"stg_jira__incidents\\""' in html

    if find_chromium() is None:
        pytest.skip("chromium is not installed: static checks only")
    overview = open_page(docs_page.as_uri() + "#!/overview",
                         "document.body && document.body.innerText.includes('信頼性データマート')",
                         screenshot=artefacts / "dbt-docs-overview.png")
    assert "Where to query them" in overview.dom and "どこに問い合わせるか" in overview.dom
    assert "Welcome!" not in overview.dom
    model = open_page(docs_page.as_uri() + "#!/model/model.shinrai.fct_incidents",
                      "document.body && document.body.innerText.includes('marts.main.fct_incidents')",
                      screenshot=artefacts / "dbt-docs-relation.png")
    assert "marts.main.fct_incidents" in model.dom and "warehouse.marts.fct_incidents" not in model.dom
