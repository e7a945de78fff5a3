"""Every example BI query in docs/queries answers its question on the published file, and gives
the same answer from the Parquet set."""

from __future__ import annotations

from pathlib import Path

import pytest

from shinrai.publish.reader import connect, connect_parquet
from shinrai.settings import PROJECT_ROOT

QUERIES = sorted((PROJECT_ROOT / "docs" / "queries").glob("*.sql"))


def test_there_are_ten_documented_queries():
    assert len(QUERIES) >= 10
    for path in QUERIES:
        lines = path.read_text(encoding="utf-8").splitlines()
        header = " ".join(line for line in lines if line.startswith("--"))
        assert lines[0].startswith("-- Question: ") and "?" in header, f"{path.name} says no question it answers"
        assert "Source:" in header, f"{path.name} names no source tables"


@pytest.mark.parametrize("query", QUERIES, ids=[p.stem for p in QUERIES])
def test_query_runs_on_the_publication_and_its_parquet_set(query: Path, sandbox_publication):
    sql = query.read_text(encoding="utf-8")
    with connect(sandbox_publication.layout) as con:
        cursor = con.execute(sql)
        rows = cursor.fetchall()
        columns = [d[0] for d in cursor.description]
    assert rows, f"{query.name} returned no rows on the sandbox publication"
    with connect_parquet(sandbox_publication.layout) as con:
        cursor = con.execute(sql)
        assert [d[0] for d in cursor.description] == columns
        assert cursor.fetchall() == rows
