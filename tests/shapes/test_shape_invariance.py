"""The proof that the product adapts: the same organisation served in another shape, mapped only by that
shape's config (plugins/shinrai/sandbox/shapes/<shape>.yaml), publishes the default shape's marts.

Every published mart (marts.dim_*, fct_*, rpt_*) must equal the default shape's row for row. Two things
are representation, not data, and are normalised before comparing: issue keys (a single-project shape
names an issue OPS-n; the sandbox's key map turns them back, and an action's ``project_key`` is then the
project its mapped-back key names) and, in a shape where a lifecycle field is a
date picker, that column (a date picker keeps only the day, so ``fct_incidents.introduced_at`` is compared
by its local date). Build and extraction bookkeeping (when a row was extracted, loaded or built) differs
between any two runs and is left out. The headline figures are checked on their own first, so a
failure reads as "change failure rate 0.12 != 0.09 on kaisha" before the row diff.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import duckdb
import pytest
import yaml

from shinrai.sandbox.shapes import SHAPES
from shinrai.settings import PROJECT_ROOT

OTHER_SHAPES = [name for name in SHAPES if name != "default"]
# bookkeeping of a run, not of the organisation
RUN_COLUMNS = re.compile(r"^(first_|last_)?(extracted|loaded|built|published|ingested)_at$|^(build|run)_id$|"
                         r"invocation_id$|^_|^dbt_")
# how a person's Slack account was found (e-mail, or a display name where the source hid the e-mail):
# an audit of the representation, not a fact of the organisation; the person, their e-mail and their
# Slack account are compared
MATCH_AUDIT_COLUMNS = {("dim_people", "slack_matched_by")}
KEY = re.compile(r"\b[A-Z][A-Z0-9]+-\d+\b")
REPORTING_TZ = ZoneInfo(yaml.safe_load((PROJECT_ROOT / "config" / "shinrai.yaml").read_text())["reporting"]["timezone"])
DATE_PICKER_COLUMNS = {"introduced": ("fct_incidents", "introduced_at")}
# the Jira project an issue is filed in: in a single-project shape every issue's is that project
PROJECT_COLUMNS = {("fct_prevention_actions", "project_key")}

HEADLINES: dict[str, str] = {
    "incident count": "select count(*) from marts.fct_incidents",
    "incidents by severity": "select list((severity, n) order by severity) "
                             "from (select severity, count(*) as n from marts.fct_incidents group by 1)",
    "incidents by product": "select list((product_code, n) order by product_code) "
                            "from (select product_code, count(*) as n from marts.fct_incidents group by 1)",
    **{f"stage medians: {stage}": f"select sum(minutes_to_{stage}_n), round(sum(minutes_to_{stage}_median), 3), "
                                  f"round(median(minutes_to_{stage}_median), 3) from marts.rpt_reliability_monthly"
       for stage in ("detect", "acknowledge", "mitigate", "recover")},
    "stage medians over all incidents": "select " + ", ".join(
        f"round(median(minutes_to_{stage}), 3)" for stage in ("detect", "acknowledge", "mitigate", "recover"))
        + " from marts.fct_incidents",
    "change failure rate":
        "select sum(failed_releases_count), sum(releases_count) from marts.rpt_reliability_monthly",
    "freeze minutes":
        "select count(*), count(resumed_at), round(sum(freeze_minutes), 3) from marts.fct_release_freezes",
    "overdue actions": "select count(*) filter (where is_overdue) from marts.fct_prevention_actions",
    "overdue actions by product": "select list((product_code, n) order by product_code) from (select product_code, "
                                  "count(*) as n from marts.fct_prevention_actions where is_overdue group by 1)",
    "overdue chaser rows": "select count(*) from marts.rpt_overdue_actions",
    "risk records linked to incidents": "select sum(linked_incident_count), sum(linked_action_count) "
                                        "from marts.fct_risk_records",
}


def _ok(run) -> None:  # noqa: ANN001 - ShapeRun
    if run.failed_step is not None:
        pytest.fail(f"shape {run.shape}: the pipeline failed at {run.failed_step} (after {run.steps}):\n{run.error}")


def _connect(run) -> duckdb.DuckDBPyConnection:  # noqa: ANN001
    con = duckdb.connect(str(run.warehouse), read_only=True)
    con.execute("set timezone = 'UTC'")
    return con


def _marts(con: duckdb.DuckDBPyConnection) -> list[str]:
    return [t for t, in con.execute(
        "select table_name from information_schema.tables where table_schema = 'marts' "
        "and regexp_matches(table_name, '^(dim|fct|rpt)_') order by 1").fetchall()]


def _normalise(value: Any, keys: dict[str, str]) -> Any:
    if isinstance(value, str):
        return KEY.sub(lambda m: keys.get(m.group(0), m.group(0)), value)
    if isinstance(value, list):
        items = [_normalise(v, keys) for v in value]
        if items and all(isinstance(v, str) and KEY.fullmatch(v) for v in items):
            return sorted(items, key=_key_order)  # a list of keys is ordered by key: the mapped keys' order
        return items
    if isinstance(value, dict):
        return {k: _normalise(v, keys) for k, v in value.items()}
    if isinstance(value, float):
        return round(value, 6)
    return value


def _key_order(key: str) -> tuple[str, int]:
    project, _, number = key.rpartition("-")
    return project, int(number)


def _project_of(key: str) -> str:
    return key.rpartition("-")[0]


def _rows(run, table: str, date_columns: set[str]) -> tuple[list[str], list[tuple]]:  # noqa: ANN001
    back = {shaped: default for default, shaped in run.key_map.items()}
    with _connect(run) as con:
        cols = [c for c, in con.execute(
            "select column_name from information_schema.columns where table_schema = 'marts' and table_name = ? "
            "order by ordinal_position", [table]).fetchall()
            if not RUN_COLUMNS.search(c) and (table, c) not in MATCH_AUDIT_COLUMNS]
        data = con.execute(f"select {', '.join(cols)} from marts.{table}").fetchall()  # noqa: S608 - our names
    out = []
    for row in data:
        values = []
        for col, value in zip(cols, row, strict=True):
            if col in date_columns and isinstance(value, datetime):
                value = value.astimezone(REPORTING_TZ).date()
            values.append(_normalise(value, back))
        if back and (table, "project_key") in PROJECT_COLUMNS and {"project_key", "action_key"} <= set(cols):
            # filed in the single project: the default's project is the one its (mapped-back) key names
            record = dict(zip(cols, values, strict=True))
            record["project_key"] = _project_of(record["action_key"])
            values = [record[c] for c in cols]
        out.append(tuple(values))
    return cols, sorted(out, key=repr)


def _date_columns(shape: str, table: str) -> set[str]:
    pickers = SHAPES[shape].date_pickers | SHAPES["default"].date_pickers
    return {col for attr, (t, col) in DATE_PICKER_COLUMNS.items() if attr in pickers and t == table}


def _headline(run, sql: str) -> Any:  # noqa: ANN001
    back = {shaped: default for default, shaped in run.key_map.items()}
    with _connect(run) as con:
        return _normalise(con.execute(sql).fetchone(), back)


@pytest.fixture(scope="module")
def default_run(shape_run):  # noqa: ANN001, ANN201
    run = shape_run("default")
    _ok(run)
    return run


@pytest.mark.parametrize("shape", OTHER_SHAPES)
def test_pipeline_runs_and_passes_the_gate(shape_run, default_run, shape: str) -> None:  # noqa: ANN001
    run = shape_run(shape)
    _ok(run)
    assert run.gate is not None and default_run.gate is not None


@pytest.mark.parametrize("shape", OTHER_SHAPES)
@pytest.mark.parametrize("figure", list(HEADLINES))
def test_headline_figures_match_the_default_shape(shape_run, default_run, shape: str, figure: str) -> None:  # noqa: ANN001
    run = shape_run(shape)
    _ok(run)
    expected, got = _headline(default_run, HEADLINES[figure]), _headline(run, HEADLINES[figure])
    assert got == expected, f"{figure} on shape {shape}: {got} != {expected} (default shape)"


@pytest.mark.parametrize("shape", OTHER_SHAPES)
def test_every_mart_equals_the_default_shape_row_for_row(shape_run, default_run, shape: str) -> None:  # noqa: ANN001
    run = shape_run(shape)
    _ok(run)
    with _connect(default_run) as con:
        tables = _marts(con)
    with _connect(run) as con:
        assert _marts(con) == tables
    differing: list[str] = []
    for table in tables:
        dates = _date_columns(shape, table)
        cols, expected = _rows(default_run, table, dates)
        _c, got = _rows(run, table, dates)
        if got == expected:
            continue
        only_default = [r for r in expected if r not in got][:3]
        only_shape = [r for r in got if r not in expected][:3]
        diff_cols = sorted({c for a, b in zip(only_default, only_shape, strict=False)
                            for c, x, y in zip(cols, a, b, strict=True) if x != y})
        differing.append(f"{table}: {len(expected)} rows vs {len(got)}; columns differing in the first unmatched "
                         f"rows: {diff_cols}; e.g. default {only_default[:1]} vs {shape} {only_shape[:1]}")
    assert not differing, f"marts differing on shape {shape}:\n" + "\n".join(differing)


def test_the_date_picker_day_is_the_local_day() -> None:
    """The normalisation itself: an instant late in the UTC day is the next day in the reporting zone."""
    instant = datetime(2026, 3, 1, 20, 30, tzinfo=ZoneInfo("UTC"))
    assert instant.astimezone(REPORTING_TZ).date() == date(2026, 3, 2)
