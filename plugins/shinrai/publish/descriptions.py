"""The dbt docs' descriptions, carried into the publication so BI tools show them.

Metabase, Superset, DBeaver and Evidence read table and column comments from the database
(DuckDB's ``duckdb_tables().comment`` / ``duckdb_columns().comment``), and Arrow, pandas, Spark
and Polars read a Parquet file's key-value metadata; none of them reads dbt's ``manifest.json``.
So at publish time the descriptions are taken from the manifest that the last dbt run wrote (every
``{{ doc(...) }}`` already rendered there) and written as ``COMMENT ON`` into the new publication
file, and as Parquet key-value metadata (``description`` and ``column_descriptions``, a JSON
object) on each table's Parquet file.

Why from the manifest at publish, not dbt's ``persist_docs``: ``persist_docs`` writes comments
into the working warehouse, where nobody reads them, and the publication copies tables with
``create table as select``, which drops comments anyway; it would also make every dbt run issue
an ``alter`` per column. The manifest is the same text the docs page shows.

A missing or unreadable manifest never blocks a publication: it is published without
descriptions and the reason is logged (a warehouse built outside dbt, a first run).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import duckdb

log = logging.getLogger(__name__)

TABLE_KEY = "description"
COLUMNS_KEY = "column_descriptions"


class _Table(Protocol):  # publication.SourceTable, without importing it (no cycle)
    schema: str
    name: str

    @property
    def published_name(self) -> str: ...


@dataclass(frozen=True)
class Description:
    table: str
    columns: dict[str, str] = field(default_factory=dict)


def default_manifest() -> Path:
    """The manifest the project's dbt runs write (``<SHINRAI_HOME>/dbt/target/manifest.json``)."""
    from shinrai.transform import dbt

    return Path(dbt.dbt_env()["DBT_TARGET_PATH"]) / "manifest.json"


def load_descriptions(manifest: Path | dict[str, Any] | None) -> dict[tuple[str, str], Description]:
    """``(schema, relation name) -> Description`` for every model and seed dbt documents.

    Keys are the warehouse relation (dbt's ``schema`` and ``alias``), so they match what
    :func:`shinrai.publish.publication.discover_tables` finds there. Empty when there is no manifest.
    """
    if manifest is None:
        return {}
    if not isinstance(manifest, dict):
        try:
            manifest = json.loads(Path(manifest).read_text(encoding="utf-8"))
        except FileNotFoundError:
            log.warning("no dbt manifest at %s: publishing without table and column descriptions", manifest)
            return {}
        except (OSError, ValueError) as exc:
            log.warning("unreadable dbt manifest %s (%s): publishing without descriptions", manifest, exc)
            return {}
    found: dict[tuple[str, str], Description] = {}
    for node in manifest.get("nodes", {}).values():
        if node.get("resource_type") not in ("model", "seed"):
            continue
        relation = node.get("alias") or node.get("name")
        columns = {name: str(col.get("description") or "").strip()
                   for name, col in (node.get("columns") or {}).items()}
        found[(str(node.get("schema")), str(relation))] = Description(
            str(node.get("description") or "").strip(), {k: v for k, v in columns.items() if v})
    return found


def _literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def apply_descriptions(
    con: duckdb.DuckDBPyConnection,
    catalog: str,
    tables: Iterable[_Table],
    descriptions: dict[tuple[str, str], Description],
) -> dict[str, Description]:
    """``COMMENT ON`` every published table and column that dbt describes, in ``<catalog>.main``.

    Columns dbt documents but the table lacks are skipped (the manifest may be older than the
    table). Returns ``published name -> Description`` as written, for :func:`parquet_kv_metadata`.
    """
    written: dict[str, Description] = {}
    for table in tables:
        described = descriptions.get((table.schema, table.name))
        if described is None:
            continue
        name = table.published_name
        present = {r[0] for r in con.execute(
            "select column_name from duckdb_columns() where database_name = ? and schema_name = 'main' "
            "and table_name = ?", [catalog, name]).fetchall()}
        relation = f"{_ident(catalog)}.main.{_ident(name)}"
        if described.table:
            con.execute(f"comment on table {relation} is {_literal(described.table)}")
        columns = {c: text for c, text in described.columns.items() if c in present}
        for column, text in columns.items():
            con.execute(f"comment on column {relation}.{_ident(column)} is {_literal(text)}")
        written[name] = Description(described.table, columns)
    return written


def parquet_kv_metadata(description: Description | None) -> dict[str, str]:
    """The Parquet key-value metadata for one table: its description and its columns' (JSON)."""
    if description is None:
        return {}
    kv: dict[str, str] = {}
    if description.table:
        kv[TABLE_KEY] = description.table
    if description.columns:
        kv[COLUMNS_KEY] = json.dumps(description.columns, ensure_ascii=False, sort_keys=True)
    return kv
