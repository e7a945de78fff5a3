"""A Great Expectations SQL datasource over DuckDB: the rules run as SQL inside DuckDB.

GX's SQL datasources reach a database through a SQLAlchemy dialect. DuckDB's is a separate
package (``duckdb-engine``) which this project does not install, and GX 1.x's execution engine
returns a query's rows after closing the connection that ran it (``execute_query``), which a
DuckDB connection does not survive. So this module brings three small pieces:

* :class:`DuckDBDialect`, the PostgreSQL dialect of SQLAlchemy (DuckDB speaks its SQL) over the
  ``duckdb`` module, which is a DB-API 2.0 driver: only what GX's queries need (no reflection of
  PostgreSQL catalogs, no isolation levels; DuckDB's "no transaction is active" on a pool reset
  is not an error). Hand-written because ``duckdb-engine`` is not a dependency (see DECISIONLOG).
* :class:`DuckDBExecutionEngine`, GX's SQLAlchemy execution engine holding *one* connection for
  its lifetime (what GX does itself for SQLite and SQL Server), so a result is read while its
  connection is open, and every query of a run sees the same attached files.
* :class:`DuckDBDatasource` (``type: shinrai_duckdb``), a GX SQL datasource whose engine opens the
  database read-only with the landing files attached and ``memory_limit`` set, and whose assets
  (``type: duckdb_query``, GX's query asset) hold one SQL query each. A checkpoint with one
  validation definition per asset validates every dataset of a layer in one run.

The two expectations GX implements only for pandas and Spark
(``expect_column_values_to_match_strftime_format``, ``expect_column_values_to_be_dateutil_parseable``)
get a SQL implementation here, as GX's own Spark one does: the Python check, registered as a
DuckDB scalar function, runs inside the query on the values the rule is about (streamed by DuckDB,
never a whole table in Python), so its verdicts are exactly the pandas ones.

The database and the files attached to it are GX config strings (``${SHINRAI_WAREHOUSE}``...),
substituted by the running context (see :func:`shinrai.quality.gx.context`). Everything is opened
read-only. Importing this module registers the types with GX.
"""

from __future__ import annotations

import functools
import logging
import re
from datetime import datetime
from pathlib import Path
from typing import Any, ClassVar, Dict, List, Literal, Sequence, Type, Union  # noqa: UP035

import duckdb
import sqlalchemy as sa
from great_expectations.compatibility import pydantic
from great_expectations.datasource.fluent.config_str import ConfigStr
from great_expectations.datasource.fluent.interfaces import DataAsset, TestConnectionError
from great_expectations.datasource.fluent.sql_datasource import QueryAsset, SQLDatasource
from great_expectations.execution_engine import SqlAlchemyExecutionEngine
from great_expectations.expectations.metrics.map_metric_provider import (
    ColumnMapMetricProvider,
    column_condition_partial,
)
from sqlalchemy.dialects import registry
from sqlalchemy.dialects.postgresql.base import PGDialect
from sqlalchemy.engine.default import DefaultDialect
from sqlalchemy.pool import StaticPool

log = logging.getLogger(__name__)

DIALECT = "duckdb.shinrai"  # the SQLAlchemy URL scheme: duckdb+shinrai://
STRFTIME_FUNCTION = "shinrai_matches_strftime"
DATEUTIL_FUNCTION = "shinrai_dateutil_parseable"
TIMESTAMPTZ_MACRO = "shinrai_casts_to_timestamptz"


# -- SQLAlchemy dialect --------------------------------------------------------------------------

class _DuckDBAPI:
    """The DB-API module SQLAlchemy asks a dialect for: ``duckdb``'s own exceptions. Connections
    are made by the datasource's ``creator`` (attachments, settings), never from a URL."""

    paramstyle = "qmark"
    apilevel = "2.0"
    threadsafety = 1
    Error = duckdb.Error
    Warning = duckdb.Warning
    InterfaceError = duckdb.Error
    DatabaseError = duckdb.DatabaseError
    DataError = duckdb.DataError
    OperationalError = duckdb.OperationalError
    IntegrityError = duckdb.IntegrityError
    InternalError = duckdb.InternalError
    ProgrammingError = duckdb.ProgrammingError
    NotSupportedError = duckdb.NotSupportedError

    @staticmethod
    def connect(*args: Any, **kwargs: Any) -> Any:
        raise duckdb.InterfaceError("a shinrai DuckDB engine connects through its datasource's creator")


class _Cursor:
    """A DB-API cursor on the connection itself. ``DuckDBPyConnection.cursor()`` opens a second
    connection to the same database, with its own temporary catalog: the temporary table GX
    creates for a batch through one cursor would not exist for the next."""

    arraysize = 1

    def __init__(self, con: duckdb.DuckDBPyConnection) -> None:
        self._con = con
        self.description: Any = None

    @property
    def rowcount(self) -> int:
        return -1

    def execute(self, statement: str, parameters: Any = None) -> _Cursor:
        self._con.execute(statement, parameters or None)
        self.description = self._con.description
        return self

    def executemany(self, statement: str, parameters: Any) -> _Cursor:
        self._con.executemany(statement, parameters)
        self.description = self._con.description
        return self

    def fetchone(self) -> Any:
        return self._con.fetchone()

    def fetchmany(self, size: int | None = None) -> list:
        return self._con.fetchmany(size or self.arraysize)

    def fetchall(self) -> list:
        return self._con.fetchall()

    def close(self) -> None:
        return None  # the connection stays open (it is the engine's only one)


class _Connection:
    """A DB-API connection over one DuckDB connection whose cursors all share it."""

    def __init__(self, con: duckdb.DuckDBPyConnection) -> None:
        self.con = con

    def cursor(self) -> _Cursor:
        return _Cursor(self.con)

    def commit(self) -> None:
        self.con.commit()

    def rollback(self) -> None:
        self.con.rollback()

    def close(self) -> None:
        self.con.close()


class DuckDBDialect(PGDialect):
    name = "duckdb"
    driver = "shinrai"
    supports_statement_cache = False
    supports_server_side_cursors = False
    supports_sane_rowcount = False
    supports_sane_multi_rowcount = False
    default_paramstyle = "qmark"

    @classmethod
    def import_dbapi(cls) -> Any:
        return _DuckDBAPI

    def initialize(self, connection: Any) -> None:
        # PostgreSQL's initialize reads server settings DuckDB does not have
        DefaultDialect.initialize(self, connection)

    def _get_server_version_info(self, connection: Any) -> tuple[int, ...]:
        return (14, 0)  # the PostgreSQL features DuckDB's SQL has (SQLAlchemy picks syntax by version)

    def _get_default_schema_name(self, connection: Any) -> str:
        return connection.exec_driver_sql("select current_schema()").scalar()

    def get_default_isolation_level(self, dbapi_conn: Any) -> str:
        return "SERIALIZABLE"  # DuckDB's only level

    def get_isolation_level(self, dbapi_connection: Any) -> str:
        return "SERIALIZABLE"

    def set_isolation_level(self, dbapi_connection: Any, level: str) -> None:
        return None

    def do_rollback(self, dbapi_connection: Any) -> None:
        try:
            dbapi_connection.rollback()
        except duckdb.TransactionException:  # nothing to roll back: read-only queries, autocommit
            pass

    def do_commit(self, dbapi_connection: Any) -> None:
        try:
            dbapi_connection.commit()
        except duckdb.TransactionException:
            pass

    def do_ping(self, dbapi_connection: Any) -> bool:
        dbapi_connection.cursor().execute("select 1")
        return True


registry.register(DIALECT, __name__, "DuckDBDialect")


# -- the Python checks GX has for pandas only, as DuckDB functions -------------------------------

def _matches_strftime(value: str | None, strftime_format: str) -> bool | None:
    """GX's pandas check (``ColumnValuesMatchStrftimeFormat._pandas``): ``datetime.strptime``."""
    if value is None:
        return None
    try:
        datetime.strptime(value, strftime_format)  # noqa: DTZ007 - a format check, no time zone math
    except ValueError:
        return False
    return True


def _dateutil_parseable(value: str | None) -> bool | None:
    """GX's pandas check (``ColumnValuesDateutilParseable._pandas``): ``dateutil.parser.parse``."""
    from dateutil.parser import parse

    if value is None:
        return None
    try:
        parse(value)
    except (ValueError, OverflowError):
        return False
    return True


def _register_functions(con: duckdb.DuckDBPyConnection) -> None:
    con.create_function(STRFTIME_FUNCTION, _matches_strftime, ["VARCHAR", "VARCHAR"], "BOOLEAN",
                        null_handling="special", side_effects=False)
    con.create_function(DATEUTIL_FUNCTION, _dateutil_parseable, ["VARCHAR"], "BOOLEAN",
                        null_handling="special", side_effects=False)
    con.execute(f"create or replace temp macro {TIMESTAMPTZ_MACRO}(v) as try_cast(v as timestamptz) is not null")


# -- GX execution engine, asset and datasource ---------------------------------------------------

class DuckDBExecutionEngine(SqlAlchemyExecutionEngine):
    """GX's SQL execution engine on one DuckDB connection, kept open until :meth:`close`.

    * GX 1.x's ``execute_query`` runs a query in ``with self.get_connection()`` and returns the
      result after leaving it; GX keeps the connection open only for the dialects it lists
      (SQLite, SQL Server...). DuckDB is not among them, so the connection is held here the same
      way: a result is read while its connection is open.
    * A dataset's query runs once: its rows go to a DuckDB temporary table (GX's own
      ``create_temp_table``) that every metric of its rules reads, instead of GX re-running the
      joins and JSON extraction for each metric. The table lives in DuckDB's buffer pool, under
      ``memory_limit`` (spilled to DuckDB's temporary directory beyond it), and is dropped when
      the next dataset is loaded: one dataset's rows at a time, never a pandas frame.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs["create_temp_table"] = True
        super().__init__(*args, **kwargs)
        self._temp_tables: list[str] = []

    def get_connection(self) -> Any:  # a generator context manager, as GX's
        from contextlib import contextmanager

        @contextmanager
        def held() -> Any:
            if not getattr(self, "_connection", None):
                self._connection = self.engine.connect()
            yield self._connection

        return held()

    def get_batch_data_and_markers(self, batch_spec: Any) -> Any:
        self._drop_temp_tables()
        batch_data, markers = super().get_batch_data_and_markers(batch_spec)
        if isinstance(batch_data.selectable, sa.Table):  # the temporary table GX created
            self._temp_tables.append(str(batch_data.selectable.name))
        return batch_data, markers

    def _drop_temp_tables(self) -> None:
        while self._temp_tables:
            name = self._temp_tables.pop()
            with self.get_connection() as connection:
                connection.exec_driver_sql(f'drop table if exists temp.main."{name}"')

    def close(self) -> None:
        connection = getattr(self, "_connection", None)
        if connection is not None:
            self._temp_tables.clear()  # temporary: gone with the connection
            connection.close()
            self._connection = None
        self.engine.dispose()


def _untruncated_index_list(fn: Any) -> Any:
    """GX's SQL ``unexpected_index_list`` keeps ``partial_unexpected_count`` rows even when the
    result format is ``COMPLETE`` ("SQL tables can be very large"); pandas returns them all.
    The failing record keys of a rule are its result (history, tests, the gate's log), so on
    DuckDB a ``COMPLETE`` run lists every failing record, as the pandas engine did. (Only the
    index columns travel: record_key, record_url, record_note.)"""

    @functools.wraps(fn)
    def complete(*args: Any, **kwargs: Any) -> Any:
        value_kwargs = kwargs.get("metric_value_kwargs") or {}
        result_format = value_kwargs.get("result_format") or {}
        if isinstance(result_format, dict) and result_format.get("result_format") == "COMPLETE":
            kwargs["metric_value_kwargs"] = {**value_kwargs,
                                             "result_format": {**result_format, "partial_unexpected_count": None}}
        return fn(*args, **kwargs)

    complete._shinrai_complete = True  # type: ignore[attr-defined]
    return complete


def _register_complete_index_lists() -> None:
    """Give DuckDBExecutionEngine an untruncated ``*.unexpected_index_list`` for every map metric
    (GX's metric registry, looked up by execution engine class before its bases)."""
    import great_expectations.expectations.metrics  # noqa: F401 - every GX metric registered
    from great_expectations.expectations import registry as gx_registry

    engine = DuckDBExecutionEngine.__name__
    for name, definition in gx_registry._registered_metrics.items():
        if not name.endswith(".unexpected_index_list"):
            continue
        providers = definition.get("providers", {})
        current = providers.get(engine) or providers.get(SqlAlchemyExecutionEngine.__name__)
        if current is None or getattr(current[1], "_shinrai_complete", False):
            continue
        providers[engine] = (current[0], _untruncated_index_list(current[1]))


class ColumnValuesMatchRegexDuckDB(ColumnMapMetricProvider):
    """``column_values.match_regex`` on DuckDB: GX knows no regex syntax for an unlisted dialect.
    ``regexp_matches`` finds the pattern anywhere in the value, as the pandas ``str.contains``."""

    condition_metric_name = "column_values.match_regex"
    condition_value_keys = ("regex",)

    @column_condition_partial(engine=DuckDBExecutionEngine)
    def _sqlalchemy(cls, column: Any, regex: str, **kwargs: Any) -> Any:
        return sa.func.regexp_matches(column, sa.literal(regex))


# A fast path decided in SQL, exact: a value DuckDB parses *and* shaped as the regex demands is
# one Python parses too (each field's digits and ranges are Python's: 2-digit month 01-12, hour
# 00-23, minute and second 00-59, 1-6 fraction digits, an offset under 24 hours; DuckDB checks the
# day against the month). Any other value, and any format with other directives, goes to the
# Python check itself. Only the Python call per value was slow (the condition is evaluated by
# several of a rule's metrics).
_STRPTIME_FIELDS = {
    "%Y": r"\d{4}", "%m": r"(0[1-9]|1[0-2])", "%d": r"(0[1-9]|[12]\d|3[01])", "%H": r"([01]\d|2[0-3])",
    "%M": r"[0-5]\d", "%S": r"[0-5]\d", "%f": r"\d{1,6}", "%z": r"[+-]([01]\d|2[0-3])[0-5]\d",
}
_ISO_TIMESTAMP = (r"^\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])T([01]\d|2[0-3]):[0-5]\d:[0-5]\d(\.\d{1,6})?"
                  r"(Z|[+-]([01]\d|2[0-3]):[0-5]\d)$")


def strftime_regex(strftime_format: str) -> str | None:
    """The regex a value of ``strftime_format`` matches, or None when the format has a directive
    outside :data:`_STRPTIME_FIELDS` (then every value goes to the Python check)."""
    out = []
    for part in re.split(r"(%.)", strftime_format):
        if part.startswith("%") and len(part) == 2:
            if part not in _STRPTIME_FIELDS:
                return None
            out.append(_STRPTIME_FIELDS[part])
        else:
            out.append(re.escape(part))
    return "^" + "".join(out) + "$"


class ColumnValuesMatchStrftimeFormatSql(ColumnMapMetricProvider):
    """``column_values.match_strftime_format`` on DuckDB (GX has pandas and Spark only)."""

    condition_metric_name = "column_values.match_strftime_format"
    condition_value_keys = ("strftime_format",)

    @column_condition_partial(engine=DuckDBExecutionEngine)
    def _sqlalchemy(cls, column: Any, strftime_format: str, **kwargs: Any) -> Any:
        python = sa.func.coalesce(getattr(sa.func, STRFTIME_FUNCTION)(column, sa.literal(strftime_format)), False)
        regex = strftime_regex(strftime_format)
        if regex is None:
            return python
        parsed = sa.and_(sa.func.regexp_full_match(column, sa.literal(regex)),
                         sa.func.try_strptime(column, sa.literal(strftime_format)).is_not(None))
        return sa.case((parsed, sa.true()), else_=python)


class ColumnValuesDateutilParseableSql(ColumnMapMetricProvider):
    """``column_values.dateutil_parseable`` on DuckDB (GX has pandas and Spark only)."""

    condition_metric_name = "column_values.dateutil_parseable"

    @column_condition_partial(engine=DuckDBExecutionEngine)
    def _sqlalchemy(cls, column: Any, **kwargs: Any) -> Any:
        python = sa.func.coalesce(getattr(sa.func, DATEUTIL_FUNCTION)(column), False)
        parsed = sa.and_(sa.func.regexp_full_match(column, sa.literal(_ISO_TIMESTAMP)),
                         getattr(sa.func, TIMESTAMPTZ_MACRO)(column))
        return sa.case((parsed, sa.true()), else_=python)


class DuckDBQueryAsset(QueryAsset):
    """One dataset: the rows a DuckDB query returns, validated where they are (as a subquery)."""

    type: Literal["duckdb_query"] = "duckdb_query"  # type: ignore[assignment]

    @pydantic.validator("query")
    def query_must_start_with_select(cls, v: str) -> str:
        # GX's query asset wants SELECT first; a DuckDB query may open with WITH (GX wraps it as a
        # subquery either way)
        return v


class DuckDBDatasource(SQLDatasource):
    """A DuckDB database (``:memory:`` or a file) with other DuckDB files attached, all read-only."""

    asset_types: ClassVar[Sequence[Type[DataAsset]]] = [DuckDBQueryAsset]  # noqa: UP006
    _EXTRA_EXCLUDED_EXEC_ENG_ARGS: ClassVar[set] = {"database", "attach", "memory_limit"}

    type: Literal["shinrai_duckdb"] = "shinrai_duckdb"  # type: ignore[assignment]
    connection_string: Union[ConfigStr, str] = "duckdb+shinrai://"  # noqa: UP007
    database: Union[ConfigStr, str] = ":memory:"  # noqa: UP007
    attach: Dict[str, Union[ConfigStr, str]] = {}  # noqa: UP006, UP007
    # DuckDB's buffer pool for the queries (config duckdb.memory_limit); empty: DuckDB's default
    memory_limit: Union[ConfigStr, str] = ""  # noqa: UP007
    assets: List[DuckDBQueryAsset] = []  # type: ignore[assignment] # noqa: UP006
    # (typing generics above: GX models are pydantic v1, which needs them on Python 3.11)

    def _resolve(self, value: ConfigStr | str) -> str:
        if isinstance(value, ConfigStr):
            return value.get_config_value(self._config_provider)  # type: ignore[arg-type]
        return value

    def test_connection(self, test_assets: bool = True) -> None:
        database = self._resolve(self.database)
        if database != ":memory:" and not Path(database).exists():
            raise TestConnectionError(f"DuckDB database {database} does not exist")

    def connect(self) -> duckdb.DuckDBPyConnection:
        database = self._resolve(self.database)
        con = duckdb.connect(database, read_only=database != ":memory:")
        con.execute("set timezone = 'UTC'")
        memory_limit = self._resolve(self.memory_limit)
        if memory_limit:
            con.execute("set memory_limit = ?", [memory_limit])
        for alias, path in self.attach.items():
            resolved = self._resolve(path)
            if Path(resolved).exists():
                con.execute(f"attach if not exists '{resolved}' as {alias} (read_only)")
            else:  # a source never extracted: its queries fail and name the missing catalog
                log.warning("datasource %s: %s does not exist, not attached as %s", self.name, resolved, alias)
        _register_functions(con)
        return con

    def _create_engine(self) -> sa.Engine:
        # one DuckDB connection per engine (StaticPool): the attachments and settings are per connection
        return sa.create_engine("duckdb+shinrai://", creator=lambda: _Connection(self.connect()), poolclass=StaticPool)

    def get_execution_engine(self) -> DuckDBExecutionEngine:
        if not isinstance(self._execution_engine, DuckDBExecutionEngine):
            self._execution_engine = DuckDBExecutionEngine(engine=self.get_engine())
        return self._execution_engine

    def close(self) -> None:
        """Close the DuckDB connection (after a checkpoint run: the files are free again)."""
        if isinstance(self._execution_engine, DuckDBExecutionEngine):
            self._execution_engine.close()
        self._execution_engine = None
        if self._engine is not None:
            self._engine.dispose()
            self._engine = None


_register_complete_index_lists()  # after the metric providers above: theirs are wrapped too

__all__ = ["DuckDBDatasource", "DuckDBDialect", "DuckDBExecutionEngine", "DuckDBQueryAsset"]
