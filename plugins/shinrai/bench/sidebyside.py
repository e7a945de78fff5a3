"""One Jira stream (incidents) read three ways from the same sandbox, each in its own process
(``python -m shinrai.bench.child shinrai.bench.sidebyside:<contender>``): our extractor, dlt's
``rest_api`` source into DuckDB, and a bare HTTP + JSON floor writing JSON lines.

dlt and the floor send the very query our extractor sent (its first ``/search/jql`` page: JQL, fields,
``expand=changelog``, page size, taken from the sandbox's request log) and follow ``nextPageToken``
to the end. Our extractor does more for the same stream: truncated changelogs fetched whole, the
id-only deletion sweep, versions and users; its requests say so. The connection comes from the
environment (``AIRFLOW_CONN_SHINRAI_JIRA``, as every step's), never from arguments or logs.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

# Imported here, before the child process starts its clock (as ours imports shinrai.pipeline), so the
# contenders' seconds are their calls' alone; peak memory counts every import, ours too.
os.environ.setdefault("RUNTIME__DLTHUB_TELEMETRY", "false")
import duckdb  # noqa: E402
import requests  # noqa: E402

try:
    import dlt
    from dlt.sources.rest_api import rest_api_source
except ImportError:  # the bench dependency group is not installed: the floor comparison still runs
    dlt = None

SEARCH = "rest/api/3/search/jql"
STREAM = "incidents"


def _connection() -> tuple[str, tuple[str, str]]:
    conn = json.loads(os.environ["AIRFLOW_CONN_SHINRAI_JIRA"])
    return conn["host"].rstrip("/"), (conn["login"], conn["password"])


def first_query(records: Iterable[Mapping[str, Any]], jql_part: str) -> dict[str, Any]:
    """The parameters of the first page our extractor asked for the stream whose JQL contains
    ``jql_part`` (not the deletion sweep's id-only pages), without a page token."""
    pages = [r for r in records if r["server"] == "jira" and r["path"].endswith("/search/jql")
             and jql_part in str((r.get("query") or {}).get("jql") or "") and not (r.get("query") or {}).get(
                 "nextPageToken")]
    if not pages:
        raise RuntimeError(f"no /search/jql request for {jql_part!r} in the sandbox's log")
    query = dict(max(pages, key=lambda r: len(_fields(r["query"])))["query"])
    query["fields"] = ",".join(_fields(query))
    return {k: v for k, v in query.items() if k in ("jql", "fields", "expand", "maxResults") and v not in (None, "")}


def _fields(query: Mapping[str, Any]) -> list[str]:
    value = query.get("fields") or []
    values = [value] if isinstance(value, str) else list(value)
    return [f for v in values for f in str(v).split(",") if f]


def floor(query: dict[str, Any], out: str) -> dict[str, Any]:
    """requests + json: page through search/jql, write each issue as a JSON line. Nothing else."""
    base, auth = _connection()
    pages = rows = 0
    params = dict(query)
    with requests.Session() as session, open(out, "w", encoding="utf-8") as sink:
        session.auth = auth
        while True:
            resp = session.get(f"{base}/{SEARCH}", params=params, timeout=120)
            resp.raise_for_status()
            page = resp.json()
            pages += 1
            for issue in page.get("issues") or []:
                sink.write(json.dumps(issue, ensure_ascii=False) + "\n")
                rows += 1
            token = page.get("nextPageToken")
            if not token:
                break
            params["nextPageToken"] = token
    return {"pages": pages, "rows": rows, "file_bytes": Path(out).stat().st_size}


def dlt_rest_api(query: dict[str, Any], out: str) -> dict[str, Any]:
    """dlt's ``rest_api`` source (cursor paginator on ``nextPageToken``), merged on the issue id into
    a DuckDB file, dlt's defaults otherwise (nested fields unpacked into child tables)."""
    if dlt is None:
        raise RuntimeError("dlt is not installed (the bench dependency group: uv sync --group bench)")
    if Path(out).stem == "jira":
        raise ValueError("the DuckDB file must not be named like the dataset (jira): DuckDB names the catalog "
                         "after the file, and dlt's schema queries would be ambiguous")
    work = Path(out).parent
    base, (user, token) = _connection()
    source = rest_api_source({
        "client": {"base_url": f"{base}/", "auth": {"type": "http_basic", "username": user, "password": token}},
        "resources": [{
            "name": STREAM, "primary_key": "id", "write_disposition": "merge",
            "endpoint": {"path": SEARCH, "params": dict(query), "data_selector": "issues",
                         "paginator": {"type": "cursor", "cursor_path": "nextPageToken",
                                       "cursor_param": "nextPageToken"}},
        }],
    })
    pipeline = dlt.pipeline(pipeline_name="bench_jira", pipelines_dir=str(work / "dlt-pipelines"),
                            destination=dlt.destinations.duckdb(out), dataset_name="jira")
    info = pipeline.run(source)
    with duckdb.connect(out, read_only=True) as con:
        rows = con.execute(f"select count(*) from jira.{STREAM}").fetchone()[0]
        tables = con.execute("select count(*) from information_schema.tables where table_schema = 'jira'"
                             ).fetchone()[0]
    return {"rows": int(rows), "tables": int(tables), "loads": len(info.loads_ids),
            "file_bytes": Path(out).stat().st_size}
