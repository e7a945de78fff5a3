"""`shinrai.orchestration.parse_times()` measures each DAG file the way the DAG processor parses it
(the benchmarks hold the budget; no timing is asserted here)."""

from __future__ import annotations

from shinrai.orchestration import parse_times
from shinrai.orchestration.parsing import dag_files


def test_parse_times_reports_every_dag_file():
    times = parse_times(repeat=1)
    assert set(times) == {p.name for p in dag_files()} >= {"shinrai_nightly.py", "shinrai_chaser.py"}
    assert all(isinstance(t, float) and t > 0 for t in times.values())
