"""Issue 18: the rules are validated as SQL inside DuckDB (a GX SQL datasource), not on pandas
frames, with the results the pandas engine gives (the same failing keys per rule on the sandbox
with planted faults), and no rule's query holds raw payloads in a join."""

from __future__ import annotations

import json
from typing import Any

import great_expectations as gxlib
from great_expectations.datasource.fluent.sql_datasource import SQLDatasource
from great_expectations.execution_engine.sqlalchemy_batch_data import SqlAlchemyBatchData

from shinrai.quality import gx
from shinrai.quality.rules import DATASETS


def test_every_dataset_is_validated_as_a_sql_batch_in_duckdb(nightly):  # (the volume baseline: written by a run)
    from shinrai.quality.datasource import DuckDBExecutionEngine

    ctx = gx.context()
    try:
        for dataset in DATASETS.values():
            source = ctx.data_sources.get(dataset.datasource)
            assert isinstance(source, SQLDatasource), f"{dataset.name}: {type(source).__name__} is not a SQL datasource"
            batch = source.get_asset(dataset.name).get_batch_definition(gx.BATCH).get_batch()
            assert isinstance(batch.data, SqlAlchemyBatchData), f"{dataset.name}: {type(batch.data).__name__}"
            assert isinstance(batch.data.execution_engine, DuckDBExecutionEngine)
            assert batch.data.execution_engine.engine.dialect.name == "duckdb"
    finally:
        gx.close_datasources(ctx)


def _outcome(rule: gx.RuleResult) -> dict[str, Any]:
    return {"status": rule.status, "severity": rule.severity, "failing_count": rule.failing_count,
            "element_count": rule.element_count, "failing_keys": sorted(rule.failing_keys),
            "samples": sorted(rule.samples, key=lambda s: str(s["record_key"]))}


def test_failing_keys_per_rule_match_the_pandas_engine(nightly, org):
    """The same expectations, run by GX's own pandas engine on each dataset's rows (what the
    checkpoints did before), fail on exactly the records the DuckDB run reported."""
    report, _ = nightly
    ctx = gx.context()
    reference = gxlib.get_context(mode="ephemeral")
    frames = reference.data_sources.add_pandas("pandas_reference")
    parameters = gx.expectation_parameters()
    try:
        for dataset in DATASETS.values():
            with ctx.data_sources.get(dataset.datasource).connect() as con:
                frame = con.execute(dataset.query).df()
            batch = frames.add_dataframe_asset(dataset.name).add_batch_definition_whole_dataframe("all")
            suite = reference.suites.add(gxlib.ExpectationSuite(name=dataset.name, expectations=dataset.expectations()))
            result = gxlib.ValidationDefinition(name=dataset.name, data=batch, suite=suite).run(
                batch_parameters={"dataframe": frame}, expectation_parameters=parameters,
                result_format=gx.RESULT_FORMAT)
            for expected in gx._rules(result):
                actual = report.rule(dataset.name, expected.rule)
                assert _outcome(actual) == _outcome(expected), f"{dataset.name}.{expected.rule}"
    finally:
        gx.close_datasources(ctx)
    failing = [r for r in report.rules if r.failing_keys]
    assert len(failing) >= 5  # the planted faults are reported (the comparison is not vacuous)


def _nodes(node: dict) -> Any:
    yield node
    for child in node.get("children", []):
        yield from _nodes(child)


def _outputs(node: dict) -> list[str]:
    info = node.get("extra_info", {})
    columns = info.get("Projections") or info.get("Expressions") or []
    return [columns] if isinstance(columns, str) else list(columns)


def test_no_rule_query_holds_raw_payloads_in_a_join(nightly):  # (the volume baseline: written by a run)
    """A join's build side (the right child in DuckDB's plan) is held in memory whole: a raw
    ``payload`` column there holds every payload of a stream (what ran DuckDB out of memory at
    100x). Payloads are only ever read while scanned."""
    ctx = gx.context()
    held = {}
    for dataset in DATASETS.values():
        with ctx.data_sources.get(dataset.datasource).connect() as con:
            plan = json.loads(con.execute("explain (format json) " + dataset.query).fetchall()[0][1])
        for root in plan:
            for node in _nodes(root):
                children = node.get("children", [])
                if ("JOIN" in node.get("name", "") or "CROSS" in node.get("name", "")) and len(children) == 2:
                    if "payload" in _outputs(children[1]):
                        held.setdefault(dataset.name, []).append(node["name"])
    assert not held, f"joins built on raw payloads: {held}"


TIMESTAMP_EDGES = [
    "2024-05-01T10:02:00.000+0900", "2024-05-01T10:02:00.123456+0900", "2024-05-01T10:02:00.0-0330",
    "2024-02-29T23:59:59.999+0000", "2023-02-29T10:00:00.000+0900", "2024-02-30T10:00:00.000+0900",
    "2024-05-01T24:00:00.000+0900", "2024-05-01T10:60:00.000+0900", "2024-05-01T10:02:60.000+0900",
    "2024-05-01T10:02:00.1234567+0900", "2024-05-01T10:02:00.000+2400", "2024-05-01T10:02:00.000Z",
    "2024-05-01T10:02:00.000+09:00", "2024-5-1T10:02:00.000+0900", "2024-05-01 10:02:00.000+0900",
    "2024-05-01T10:02:00+0900", "2024-05-01", "2024-05-01T10:02:00Z", "2024-05-01T10:02:00.000000001Z",
    "2024-13-01T10:02:00.000Z", "yesterday", "May 1 2024 10:02", "", " 2024-05-01T10:02:00.000Z",
]


def test_timestamp_checks_in_duckdb_give_the_python_verdicts():
    """The strftime and dateutil rules run inside DuckDB (a SQL fast path, Python for the rest):
    on edge values their failing records are exactly those of GX's pandas engine."""
    import great_expectations.expectations as gxe
    import pandas as pd

    from shinrai.quality.rules import JIRA_TIMESTAMP_FORMAT

    rows = ", ".join(f"('{i}', '{v}')" for i, v in enumerate(TIMESTAMP_EDGES))
    query = (f"select record_key, 'url' as record_url, value_text as record_note, value_text "
             f"from (values {rows}) as t(record_key, value_text)")
    frame = pd.DataFrame({"record_key": [str(i) for i in range(len(TIMESTAMP_EDGES))], "record_url": "url",
                          "record_note": TIMESTAMP_EDGES, "value_text": TIMESTAMP_EDGES})

    def failing(source: Any, batch_parameters: dict | None) -> dict[str, set[str]]:
        asset = (source.add_duckdb_query_asset("edges", query=query) if batch_parameters is None
                 else source.add_dataframe_asset("edges"))
        batch = (asset.add_batch_definition_whole_table("all") if batch_parameters is None
                 else asset.add_batch_definition_whole_dataframe("all"))
        suite = gxlib.ExpectationSuite(name=f"edges_{source.name}", expectations=[
            gxe.ExpectColumnValuesToMatchStrftimeFormat(column="value_text", strftime_format=JIRA_TIMESTAMP_FORMAT),
            gxe.ExpectColumnValuesToBeDateutilParseable(column="value_text"),
        ])
        suite = ctx.suites.add(suite)
        result = gxlib.ValidationDefinition(name=f"edges_{source.name}", data=batch, suite=suite).run(
            batch_parameters=batch_parameters, result_format=gx.RESULT_FORMAT)
        assert all(not (r.exception_info or {}).get("raised_exception") for r in result.results), result.results
        return {r.expectation_config.type: {row["record_key"] for row in gx.failing_rows(r.result)}
                for r in result.results}

    import shinrai.quality.datasource  # noqa: F401 - registers the DuckDB datasource type

    ctx = gxlib.get_context(mode="ephemeral")
    duck = ctx.data_sources.add_shinrai_duckdb("duck", database=":memory:")
    try:
        in_duckdb = failing(duck, None)
    finally:
        duck.close()
    in_pandas = failing(ctx.data_sources.add_pandas("frames"), {"dataframe": frame})
    assert in_duckdb == in_pandas
    assert in_pandas["expect_column_values_to_match_strftime_format"]  # the edges include failures
    assert len(in_pandas["expect_column_values_to_match_strftime_format"]) < len(TIMESTAMP_EDGES)
