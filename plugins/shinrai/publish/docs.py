"""dbt docs for analysts as one self-contained page that opens offline.

``dbt docs generate --static`` writes ``static_index.html``: the docs app with the manifest and
catalog inlined. Two things in it point outside the file and are neutralised here: dbt's
Snowplow tracker loader (a ``//d1fc8wv8zag5ca.cloudfront.net/.../sp.js`` script, only injected
when anonymous usage tracking is on, which shinrai turns off) and a favicon link left as an
uninterpolated ``${require(...)}`` template. The page uses no web fonts; its icon fonts are inlined.

Relation names: dbt shows each model as ``warehouse.marts.<name>`` (the working warehouse), but
analysts query the publication, where the same table is ``main.<name>`` in ``marts.duckdb``
(catalog ``marts``). So the page is assembled here from dbt's own template, ``manifest.json`` and
``catalog.json`` exactly as ``--static`` does, with every *published* relation renamed to
``marts.main.<name>`` in memory (:func:`published_relations`); dbt's artifacts on disk stay as
dbt wrote them (the publication reads their descriptions, dbt-bouncer their checks). Renaming in
the inlined JSON, rather than a note, makes the relation line, the sidebar's database tree and
the catalog all say what BI users see; which tables are published is the publication's own rule
(:func:`shinrai.publish.publication.discover_tables`).

Regenerated only when what the page shows changed (:func:`docs_fingerprint`): ``dbt docs
generate`` recompiles the project and queries the warehouse's catalog (10 s of a 10x night's
25 s publish), while the models and their documentation change far less often than nightly.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from shinrai import duckdb_lock
from shinrai.publish.layout import PublishLayout, layout
from shinrai.settings import Paths, paths
from shinrai.transform import dbt

log = logging.getLogger(__name__)

_TRACKER = re.compile(r"""(["'])//[a-z0-9.-]*cloudfront\.net/[^"']*sp\.js\1""")
_FAVICON = re.compile(r"""href=(["'])\$\{require\([^)]*\)\}\1""")
# Elements and CSS that make the browser fetch something when the page loads.
_RESOURCE_REFS = (
    re.compile(r"""<script[^>]*\ssrc\s*=\s*["']?((?:https?:)?//[^"'\s>]+)""", re.I),
    re.compile(r"""<link[^>]*\shref\s*=\s*["']?((?:https?:)?//[^"'\s>]+)""", re.I),
    re.compile(r"""<(?:img|iframe|source|audio|video|embed)[^>]*\ssrc\s*=\s*["']?((?:https?:)?//[^"'\s>]+)""", re.I),
    re.compile(r"""@import\s+(?:url\()?\s*["']?((?:https?:)?//[^"')\s]+)""", re.I),
    re.compile(r"""url\(\s*["']?((?:https?:)?//[^"')\s]+)""", re.I),
    re.compile(r"""\.src\s*=\s*["']((?:https?:)?//[^"']+)""", re.I),
)


def external_references(html: str) -> list[str]:
    """URLs the page would load from the network (scripts, styles, fonts, images, CSS imports)."""
    found: list[str] = []
    for pattern in _RESOURCE_REFS:
        found += [m.group(1) for m in pattern.finditer(html)]
    return sorted(set(found))


def make_offline(html: str) -> str:
    html = _TRACKER.sub(r'\1\1', html)
    html = _FAVICON.sub('href="data:,"', html)
    return html


PUBLISHED_DATABASE = "marts"  # the catalog name of marts.duckdb when DuckDB attaches it
PUBLISHED_SCHEMA = "main"
_MANIFEST_SLOT = '"MANIFEST.JSON INLINE DATA"'
_CATALOG_SLOT = '"CATALOG.JSON INLINE DATA"'


def _is_published(node: dict[str, Any]) -> bool:
    from shinrai.publish.publication import MART_PREFIXES, MART_SCHEMA, REFERENCE_SCHEMAS

    name = str(node.get("alias") or node.get("name") or "")
    schema = node.get("schema")
    return (node.get("resource_type") == "model" and schema == MART_SCHEMA and name.startswith(MART_PREFIXES)) \
        or (node.get("resource_type") in ("seed", "model") and schema in REFERENCE_SCHEMAS
            and not name.startswith("_"))  # reference tables: seeds, and the models built from the config


def published_relations(manifest: dict[str, Any], catalog: dict[str, Any]) -> list[str]:
    """Rename every published model and seed to ``marts.main.<name>`` in both artifacts (in place);
    return the unique ids renamed."""
    renamed: list[str] = []
    for unique_id, node in manifest.get("nodes", {}).items():
        if not _is_published(node):
            continue
        name = str(node.get("alias") or node.get("name"))
        node["database"], node["schema"] = PUBLISHED_DATABASE, PUBLISHED_SCHEMA
        node["relation_name"] = f'"{PUBLISHED_DATABASE}"."{PUBLISHED_SCHEMA}"."{name}"'
        entry = catalog.get("nodes", {}).get(unique_id)
        if entry and isinstance(entry.get("metadata"), dict):
            entry["metadata"]["database"], entry["metadata"]["schema"] = PUBLISHED_DATABASE, PUBLISHED_SCHEMA
        renamed.append(unique_id)
    return renamed


def _inline(data: dict[str, Any]) -> str:
    # "</" never closes the page's <script> from inside a string ("<\/" is the same JSON)
    return json.dumps(data, ensure_ascii=False).replace("</", "<\\/")


def static_page(target_dir: Path) -> str:
    """The static docs page from dbt's template and artifacts in ``target_dir``, relations renamed.

    Falls back to dbt's own ``static_index.html`` (relations as the warehouse names them) if the
    template lacks the slots dbt fills, i.e. a dbt release changed how it inlines them."""
    template = (target_dir / "index.html").read_text(encoding="utf-8")
    if _MANIFEST_SLOT not in template or _CATALOG_SLOT not in template:
        log.warning("dbt's docs template has no inline-data slots: relations keep their warehouse names")
        return (target_dir / "static_index.html").read_text(encoding="utf-8")
    manifest = json.loads((target_dir / "manifest.json").read_text(encoding="utf-8"))
    catalog = json.loads((target_dir / "catalog.json").read_text(encoding="utf-8"))
    published_relations(manifest, catalog)
    return template.replace(_MANIFEST_SLOT, _inline(manifest), 1).replace(_CATALOG_SLOT, _inline(catalog), 1)


def write_atomically(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with open(tmp, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()


DOCS_RECORD = "generated.json"  # beside the page: the fingerprint it was generated for, and when
# Parts of a manifest entry that change from one dbt invocation to the next without the model or its
# documentation changing (parse time, the compiled SQL with this run's vars, build paths).
_VOLATILE = frozenset({"created_at", "compiled", "compiled_code", "extra_ctes", "extra_ctes_injected",
                       "compiled_path", "build_path", "deferred", "root_path", "original_file_path_absolute"})
_MANIFEST_PARTS = ("nodes", "sources", "exposures", "docs", "metrics", "semantic_models", "saved_queries",
                   "unit_tests", "groups", "macros")


def _stable(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _stable(v) for k, v in value.items() if k not in _VOLATILE}
    if isinstance(value, list):
        return [_stable(v) for v in value]
    return value


def docs_fingerprint(p: Paths | None = None) -> str | None:
    """A hash of what the docs page shows: every manifest entry (models, tests, sources, exposures,
    doc blocks, macros: their file checksums, descriptions, columns, dependencies, config) less
    what varies per invocation, the columns and types of every relation in the warehouse (the
    catalog), dbt's version and this module's own code (how the page is assembled). None when
    there is no manifest yet (nothing to compare: generate).

    The manifest is the one the nightly's ``dbt build`` just wrote (any dbt invocation writes the
    whole project's, whatever it selected), so a model, YAML or doc-block change made since the
    last published docs shows here without running dbt."""
    p = p or paths()
    manifest_path = Path(dbt.dbt_env(p)["DBT_TARGET_PATH"]) / "manifest.json"
    if not manifest_path.exists() or not p.warehouse_file.exists():
        return None
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    digest = hashlib.sha256()
    for part in _MANIFEST_PARTS:
        digest.update(json.dumps([part, _stable(manifest.get(part) or {})], sort_keys=True,
                                 ensure_ascii=False).encode("utf-8"))
    with duckdb_lock.connect(p.warehouse_file, read_only=True) as con:  # FileInUse names a holder
        columns = con.execute(
            """select table_schema, table_name, column_name, data_type, ordinal_position
               from information_schema.columns where table_catalog = current_database()
               order by all""").fetchall()
    digest.update(json.dumps([[str(v) for v in row] for row in columns]).encode("utf-8"))
    from dbt.version import __version__ as dbt_version

    digest.update(dbt_version.encode())
    digest.update(Path(__file__).read_bytes())
    return digest.hexdigest()


def _recorded(docs_dir: Path) -> dict[str, Any]:
    try:
        record = json.loads((docs_dir / DOCS_RECORD).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return record if isinstance(record, dict) else {}


def generate_docs(target: PublishLayout | None = None, p: Paths | None = None, *, force: bool = False) -> Path:
    """Publish the dbt docs page as ``<publish>/docs/index.html``: ``dbt docs generate --static``
    when the models, their documentation or the warehouse's columns changed since the page was
    last generated (:func:`docs_fingerprint`, recorded in ``docs/generated.json``), or with
    ``force``; else the page already published is kept as it is (logged)."""
    p = p or paths()
    target = target or layout()
    out = target.docs_dir / "index.html"
    before = docs_fingerprint(p)
    record = _recorded(target.docs_dir)
    if not force and before is not None and out.exists() and record.get("fingerprint") == before:
        log.info("dbt docs unchanged since %s (no model, doc or column changed): kept %s",
                 record.get("generated_at"), out)
        return out
    dbt.run_dbt(["docs", "generate", "--static"], p)
    html = make_offline(static_page(Path(dbt.dbt_env(p)["DBT_TARGET_PATH"])))
    remaining = external_references(html)
    if remaining:
        log.warning("dbt docs still reference the network: %s", ", ".join(remaining))
    write_atomically(out, html)
    # the fingerprint of what was just generated from (docs generate rewrote the manifest)
    write_atomically(target.docs_dir / DOCS_RECORD, json.dumps(
        {"fingerprint": docs_fingerprint(p), "generated_at": datetime.now(UTC).isoformat()}))
    log.info("dbt docs generated and published to %s", out)
    return out
