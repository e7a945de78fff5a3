"""The dbt docs' descriptions reach BI tools: as table and column comments in the published
DuckDB file (what Metabase, Superset, DBeaver show) and as Parquet key-value metadata."""

from __future__ import annotations

import json

import duckdb
import pyarrow.parquet as pq

from shinrai.publish import publish_marts

# the Parquet keys are the contract with readers (docs/bi.md), so they are spelled out here
TABLE_KEY, COLUMNS_KEY = "description", "column_descriptions"


def load_descriptions(manifest_path) -> dict[tuple[str, str], tuple[str, dict[str, str]]]:
    """(warehouse schema, relation) -> (description, {column: description}) as dbt documents them."""
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    return {(n["schema"], n["alias"]): (n["description"].strip(),
                                        {c: d["description"].strip() for c, d in n["columns"].items()
                                         if d.get("description", "").strip()})
            for n in manifest["nodes"].values() if n["resource_type"] in ("model", "seed")}


def _expected(sandbox_publication) -> dict[str, tuple[str, dict[str, str]]]:
    """published table -> (description, {column: description}) from the manifest dbt wrote."""
    manifest = sandbox_publication.home / "dbt" / "target" / "manifest.json"
    described = load_descriptions(manifest)
    with duckdb.connect(str(sandbox_publication.layout.duckdb_file), read_only=True) as con:
        rows = con.execute("select table_name, source_schema, source_table from _publication_tables").fetchall()
    expected = {}
    for table, schema, source in rows:
        if (schema, source) in described:
            expected[table] = described[(schema, source)]
    return expected


def test_every_table_and_column_dbt_documents_has_its_comment_in_the_published_file(sandbox_publication):
    expected = _expected(sandbox_publication)
    assert "fct_incidents" in expected and "rpt_reliability_monthly" in expected and "severity_levels" in expected
    with duckdb.connect(str(sandbox_publication.layout.duckdb_file), read_only=True) as con:
        tables = dict(con.execute("select table_name, comment from duckdb_tables() where schema_name = 'main'")
                      .fetchall())
        columns: dict[str, dict[str, str | None]] = {}
        for table, column, comment in con.execute(
                "select table_name, column_name, comment from duckdb_columns() where schema_name = 'main'").fetchall():
            columns.setdefault(table, {})[column] = comment
    described_columns = 0
    for table, (description, column_docs) in expected.items():
        assert description, f"dbt documents no description for {table}"
        assert tables[table] == description, table
        for column, text in column_docs.items():
            if column in columns[table]:
                assert columns[table][column] == text, f"{table}.{column}"
                described_columns += 1
    # every column of the headline mart is documented in dbt, so every one carries its comment
    assert all(columns["fct_incidents"].values()), [c for c, v in columns["fct_incidents"].items() if not v]
    assert described_columns > 300
    print(f"\n{len(expected)} tables and {described_columns} columns carry the dbt descriptions")


def test_parquet_files_carry_the_descriptions_in_their_key_value_metadata(sandbox_publication):
    expected = _expected(sandbox_publication)
    directory = sandbox_publication.layout.current_parquet_dir()
    for table, (description, column_docs) in expected.items():
        meta = {k.decode(): v.decode() for k, v in pq.read_schema(directory / f"{table}.parquet").metadata.items()}
        assert meta[TABLE_KEY] == description, table
        columns = json.loads(meta[COLUMNS_KEY]) if column_docs else {}
        assert columns == {c: t for c, t in column_docs.items() if c in columns}
        assert set(columns) <= set(pq.read_schema(directory / f"{table}.parquet").names)
        assert meta["publication_id"]  # still there beside them
    assert json.loads(pq.read_schema(directory / "fct_incidents.parquet").metadata[COLUMNS_KEY.encode()])


def test_a_description_with_quotes_and_japanese_is_written_verbatim_and_a_missing_manifest_blocks_nothing(
        synthetic, tmp_path):
    warehouse, target = synthetic
    text = "It's the events' table: 出来事 — \"quoted\""
    manifest = {"nodes": {
        "model.x.fct_events": {"resource_type": "model", "name": "fct_events", "alias": "fct_events",
                               "schema": "marts", "description": text,
                               "columns": {"value": {"description": "値 'v'"}, "gone": {"description": "absent"},
                                           "tags": {"description": ""}}},
        "seed.x.products": {"resource_type": "seed", "name": "products", "alias": "products", "schema": "seeds",
                            "description": "Products", "columns": {}},
        "model.x.stg_events": {"resource_type": "model", "name": "stg_events", "alias": "stg_events",
                               "schema": "staging", "description": "not published", "columns": {}}}}
    path = tmp_path / "manifest.json"
    path.write_text(json.dumps(manifest), encoding="utf-8")
    publish_marts(warehouse, target, manifest=path)
    with duckdb.connect(str(target.duckdb_file), read_only=True) as con:
        tables = dict(con.execute("select table_name, comment from duckdb_tables()").fetchall())
        columns = dict(con.execute("select column_name, comment from duckdb_columns() "
                                   "where table_name = 'fct_events'").fetchall())
    assert tables["fct_events"] == text and tables["products"] == "Products"
    assert tables["rpt_event_totals"] is None and "stg_events" not in tables
    assert columns == {"event_id": None, "generation": None, "value": "値 'v'", "product_code": None, "tags": None}
    meta = pq.read_schema(target.current_parquet_dir() / "fct_events.parquet").metadata
    assert meta[TABLE_KEY.encode()].decode() == text
    assert json.loads(meta[COLUMNS_KEY.encode()]) == {"value": "値 'v'"}

    publication = publish_marts(warehouse, target, manifest=tmp_path / "missing.json")
    assert publication.tables["fct_events"] == 500
    with duckdb.connect(str(target.duckdb_file), read_only=True) as con:
        assert con.execute("select count(comment) from duckdb_tables()").fetchone() == (0,)
