"""A Great Expectations datasource that reads DuckDB through the ``duckdb`` Python API.

GX's SQL datasources need a SQLAlchemy dialect (``duckdb-engine``), which this project does not
install, and its pandas ``dataframe`` assets take their data from ``batch_parameters``, which a
checkpoint hands unchanged to every validation definition it runs, so one checkpoint could not
validate several tables. This datasource closes the gap the GX way: it is a fluent pandas
datasource (``type: shinrai_duckdb``) whose assets (``type: duckdb_query``) each hold one SQL
query. A checkpoint with one validation definition per asset then validates every dataset of a
layer in one run (one run of its actions: one Slack alert, one Data Docs update).

The database and the files attached to it are GX config strings, so ``great_expectations.yml``
says ``${SHINRAI_WAREHOUSE}`` and the running context substitutes the paths of this
``SHINRAI_HOME`` (see :func:`shinrai.quality.gx.context`). Everything is opened read-only.

Importing this module registers the types with GX; :func:`shinrai.quality.gx.context` does so
before it loads the file context.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar, Dict, List, Literal, Sequence, Type, Union  # noqa: UP035

import duckdb
from great_expectations.compatibility import pydantic
from great_expectations.core.batch import LegacyBatchDefinition
from great_expectations.core.batch_spec import RuntimeDataBatchSpec
from great_expectations.datasource.fluent.batch_identifier_util import make_batch_identifier
from great_expectations.datasource.fluent.config_str import ConfigStr
from great_expectations.datasource.fluent.constants import _DATA_CONNECTOR_NAME
from great_expectations.datasource.fluent.interfaces import Batch, DataAsset, TestConnectionError
from great_expectations.datasource.fluent.pandas_datasource import _PandasDataAsset, _PandasDatasource

if TYPE_CHECKING:
    import pandas as pd
    from great_expectations.datasource.fluent.batch_request import BatchRequest

log = logging.getLogger(__name__)

class DuckDBQueryAsset(_PandasDataAsset):
    """One dataset: the rows a SQL query returns, read whole into pandas for validation."""

    type: Literal["duckdb_query"] = "duckdb_query"
    query: str

    class Config:
        extra = pydantic.Extra.forbid

    def _validate_batch_request(self, batch_request: BatchRequest) -> None:
        if batch_request.options:
            raise ValueError(f"duckdb_query asset {self.name!r} takes no batch parameters")

    def get_batch(self, batch_request: BatchRequest) -> Batch:
        self._validate_batch_request(batch_request)
        datasource: DuckDBDatasource = self.datasource  # type: ignore[assignment]
        frame = datasource.read(self.query)
        # data_asset_name: as GX's SQL assets put it in their batch spec (Data Docs' page header
        # and title read it there; without it the header says "Data asset: None")
        spec = RuntimeDataBatchSpec(batch_data=frame, data_asset_name=self.name)
        data, markers = datasource.get_execution_engine().get_batch_data_and_markers(batch_spec=spec)
        legacy = LegacyBatchDefinition(
            datasource_name=datasource.name,
            data_connector_name=_DATA_CONNECTOR_NAME,
            data_asset_name=self.name,
            batch_identifiers=make_batch_identifier(batch_request.options),
            batch_spec_passthrough=None,
        )
        return Batch(
            datasource=datasource,
            data_asset=self,
            batch_request=batch_request,
            data=data,
            metadata=self._get_batch_metadata_from_batch_request(batch_request=batch_request),
            batch_markers=markers,
            batch_spec=spec,
            batch_definition=legacy,
        )


class DuckDBDatasource(_PandasDatasource):
    """A DuckDB database (``:memory:`` or a file) with other DuckDB files attached, all read-only."""

    asset_types: ClassVar[Sequence[Type[DataAsset]]] = [DuckDBQueryAsset]  # noqa: UP006
    _EXTRA_EXCLUDED_EXEC_ENG_ARGS: ClassVar[set] = {"database", "attach", "memory_limit"}

    type: Literal["shinrai_duckdb"] = "shinrai_duckdb"
    database: Union[ConfigStr, str] = ":memory:"  # noqa: UP007
    attach: Dict[str, Union[ConfigStr, str]] = {}  # noqa: UP006, UP007
    # DuckDB's buffer pool for the queries (config duckdb.memory_limit); empty: DuckDB's default
    memory_limit: Union[ConfigStr, str] = ""  # noqa: UP007
    assets: List[DuckDBQueryAsset] = []  # noqa: UP006
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
        return con

    def read(self, query: str) -> pd.DataFrame:
        with self.connect() as con:
            return con.execute(query).df()


__all__ = ["DuckDBDatasource", "DuckDBQueryAsset"]
