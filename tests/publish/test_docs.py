"""dbt docs for analysts: one static page under <publish>/docs that opens without a network."""

from __future__ import annotations

import json
import re
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


def _inlined(html: str, artifact: str) -> dict:
    """The manifest or catalog JSON that the static page carries."""
    found = re.search(r'\{"metadata":\s*\{"dbt_schema_version":\s*"https://schemas\.getdbt\.com/dbt/' + artifact, html)
    assert found, f"no inlined {artifact} in the page"
    return json.JSONDecoder().raw_decode(html, found.start())[0]


def test_dbt_docs_open_on_a_bilingual_overview_and_name_relations_as_bi_users_query_them(docs_page, artefacts):
    html = docs_page.read_text(encoding="utf-8")
    manifest, catalog = _inlined(html, "manifest"), _inlined(html, "catalog")
    overview = manifest["docs"]["doc.shinrai.__overview__"]["block_contents"]  # replaces dbt's "Welcome!"
    assert "Where to query them" in overview and "どこに問い合わせるか" in overview
    # every published mart and seed as BI sees it (main.<table> in marts.duckdb); the rest as dbt built it
    # (reference tables: the seeds, and the models built from the configuration under their alias)
    def relation(n):
        return n.get("alias") or n["name"]

    published = {relation(n) for n in manifest["nodes"].values() if n["resource_type"] in ("model", "seed")
                 and (n["name"].startswith(("dim_", "fct_", "rpt_")) or n["resource_type"] == "seed"
                      or n["name"].startswith("stg_config__") and relation(n) != n["name"])}
    assert {"fct_incidents", "rpt_reliability_monthly", "severity_levels", "products"} <= published
    for unique_id, node in manifest["nodes"].items():
        if node["resource_type"] not in ("model", "seed"):
            continue
        if relation(node) in published:
            assert node["relation_name"] == f'"marts"."main"."{relation(node)}"', unique_id
            assert (catalog["nodes"][unique_id]["metadata"]["database"],
                    catalog["nodes"][unique_id]["metadata"]["schema"]) == ("marts", "main"), unique_id
        else:
            assert node["database"] == "warehouse" and node["schema"] in ("staging", "intermediate"), unique_id

    if find_chromium() is None:
        pytest.skip("chromium is not installed: static checks only")
    # what the reader sees (the DOM also holds dbt's templates, "Welcome!" among them)
    visible = "document.querySelector('.app-body, body').innerText"
    overview = open_page(docs_page.as_uri() + "#!/overview",
                         "document.body && document.body.innerText.includes('信頼性データマート')",
                         screenshot=artefacts / "dbt-docs-overview.png", evaluate=visible)
    text = str(overview.value)
    assert "Where to query them" in text and "どこに問い合わせるか" in text and "Welcome!" not in text, text[:2000]
    assert "<a id=" not in text, "raw HTML shown as text"
    model = open_page(docs_page.as_uri() + "#!/model/model.shinrai.fct_incidents",
                      "document.body && document.body.innerText.includes('marts.main.fct_incidents')",
                      screenshot=artefacts / "dbt-docs-relation.png", evaluate=visible)
    text = str(model.value)
    assert "marts.main.fct_incidents" in text and "warehouse.marts" not in text, text[:2000]


def test_docs_are_regenerated_only_when_a_model_its_docs_or_the_warehouse_columns_changed(
        sandbox_publication, docs_page, monkeypatch):
    """A second publish with nothing changed keeps the page without running ``dbt docs generate``
    (its catalog.json, the page and the record stay as they were); a changed model description (as
    the next ``dbt build`` writes it into the manifest) or a changed column regenerates it."""
    import duckdb

    monkeypatch.setenv("SHINRAI_HOME", str(sandbox_publication.home))
    monkeypatch.delenv("SHINRAI_PUBLISH_DIR", raising=False)
    target = sandbox_publication.home / "dbt" / "target"
    record = docs_page.parent / "generated.json"

    def stamps() -> tuple[int, int, str]:
        return (docs_page.stat().st_mtime_ns, (target / "catalog.json").stat().st_mtime_ns, record.read_text())

    first = stamps()
    assert json.loads(first[2])["fingerprint"]
    assert generate_docs() == docs_page
    assert stamps() == first  # dbt did not run: no new catalog, the page and its record untouched

    manifest = json.loads((target / "manifest.json").read_text(encoding="utf-8"))
    manifest["nodes"]["model.shinrai.fct_incidents"]["description"] += " (edited)"
    (target / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    generate_docs()
    second = stamps()
    assert all(a != b for a, b in zip(first, second, strict=True))  # regenerated
    assert generate_docs() and stamps() == second  # and kept again on the next publish

    warehouse = sandbox_publication.home / "warehouse.duckdb"
    with duckdb.connect(str(warehouse)) as con:
        con.execute("create view marts.zz_docs_probe as select 1 as probe")
    try:
        generate_docs()
        assert stamps()[1] != second[1]  # a new relation's columns: the catalog is read again
    finally:
        with duckdb.connect(str(warehouse)) as con:
            con.execute("drop view marts.zz_docs_probe")
        generate_docs()
