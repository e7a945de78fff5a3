"""Every reader of the marts outside dbt is a dbt exposure that declares exactly the models and
seeds it reads, so the docs' lineage shows who breaks when a model changes.

What a reader reads is taken from its own code: every model or seed name in it (names without an
underscore, like ``products``, only where SQL reads them: after ``from``/``join`` or a schema)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from shinrai.settings import PROJECT_ROOT

PLUGINS = PROJECT_ROOT / "plugins" / "shinrai"
READERS: dict[str, list[Path]] = {
    "monthly_reliability_report": [PLUGINS / "publish" / "report_data.py", PLUGINS / "publish" / "report.py"],
    "overdue_action_chaser": sorted((PLUGINS / "chase").glob("*.py")),
    "quality_gate_rules": [PLUGINS / "quality" / "rules.py"],
    "bi_example_queries": sorted((PROJECT_ROOT / "docs" / "queries").glob("*.sql")),
}


def read_relations(text: str, relations: set[str]) -> set[str]:
    words = set(re.findall(r"\b[a-z][a-z0-9_]*\b", text))
    plain = set(re.findall(r"\b(?:from|join)\s+([a-z][a-z0-9_]*)\b", text))
    plain |= set(re.findall(r"\b[a-z_]+\.([a-z][a-z0-9_]*)\b", text))
    return {r for r in relations if r in plain or ("_" in r and r in words)}


def test_read_relations_counts_plain_words_only_where_sql_reads_them():
    relations = {"products", "fct_incidents", "severity_levels", "objectives"}
    text = '"""the products of the objectives"""\nsql = "select * from fct_incidents join seeds.products"'
    assert read_relations(text, relations) == {"products", "fct_incidents"}


@pytest.fixture(scope="module")
def manifest(sandbox_publication) -> dict:
    return json.loads((sandbox_publication.home / "dbt" / "target" / "manifest.json").read_text(encoding="utf-8"))


def test_every_reader_is_an_exposure_declaring_exactly_the_marts_it_reads(manifest):
    nodes = manifest["nodes"]
    # readers name the relation (a model's alias, e.g. severity_levels for stg_config__severities)
    by_relation = {n.get("alias") or n["name"]: n["name"] for n in nodes.values()
                   if n["resource_type"] in ("model", "seed")}
    relations = set(by_relation)
    exposures = {e["name"]: e for e in manifest["exposures"].values()}
    assert set(exposures) == set(READERS)
    for reader, files in READERS.items():
        assert files, reader
        reads = {by_relation[r] for f in files for r in read_relations(f.read_text(encoding="utf-8"), relations)}
        declared = {nodes[n]["name"] for n in exposures[reader]["depends_on"]["nodes"]}
        assert reads, f"{reader} reads no model: is its code where READERS says?"
        assert declared == reads, (f"{reader}: undeclared {sorted(reads - declared)}, "
                                   f"declared but not read {sorted(declared - reads)}")
        assert exposures[reader]["description"] and exposures[reader]["owner"]["name"]
