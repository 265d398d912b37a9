"""DuckDB's view of the lake: landing tables as macros, and offline S3 access.

dbt's sources on the dev target read the lake's files through table macros defined here
at connection time: the landing files (`landing_raw_ohlcv()`,
`landing_raw_tickers()`) and the ML batch predictions (`lake_predictions()`). They glob
LAKE_ROOT, and when a dataset has no file yet they return an empty table with its schema,
so a fresh lake (say, only `ingest-file` so far, or no model trained yet) still builds.
The landing tables also name each row's file in a `"$path"` column, as Athena's and
Trino's hidden column does, so bronze.landing_consolidation reads the same on every engine.

For an s3:// lake, core.duckdb_extensions gives the connection S3 access (`httpfs` and
`aws` from their PyPI packages, credentials and endpoint from the usual AWS environment).
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import duckdb
import pyarrow as pa
from dbt.adapters.duckdb.plugins import BasePlugin

from core.duckdb_extensions import configure_s3, sql_literal
from core.layout import LANDING_PREFIXES, PREDICTIONS_PREFIX, PREDICTIONS_SCHEMA
from core.settings import Settings
from ingestion.bars import LANDING_OHLCV_SCHEMA, LANDING_TICKERS_SCHEMA


@dataclass(frozen=True)
class LakeTable:
    """A table macro over the lake: the files it globs and the schema they have."""

    pattern: str  # relative to LAKE_ROOT
    schema: pa.Schema
    partition: str | None  # hive partition column the path adds, if any
    # the row's file as `"$path"` (Athena's and Trino's hidden column, visible here)
    path_column: bool = False


LAKE_TABLES = {
    "landing_raw_ohlcv": LakeTable(
        f"{LANDING_PREFIXES['ohlcv']}/*/*.parquet", LANDING_OHLCV_SCHEMA, "ingest_date", True
    ),
    "landing_raw_tickers": LakeTable(
        f"{LANDING_PREFIXES['tickers']}/*/*.parquet", LANDING_TICKERS_SCHEMA, "ingest_date", True
    ),
    # model_version=<v>/date=<d>/<batch>.parquet: both values are columns of the file too
    "lake_predictions": LakeTable(f"{PREDICTIONS_PREFIX}/*/*/*.parquet", PREDICTIONS_SCHEMA, None),
}
_DUCKDB_TYPES = {
    pa.string(): "varchar",
    pa.date32(): "date",
    pa.float64(): "double",
    pa.int64(): "bigint",
    pa.int32(): "integer",
    pa.bool_(): "boolean",
    pa.timestamp("us", tz="UTC"): "timestamptz",
}


def _empty_select(table: LakeTable) -> str:
    columns = [f"cast(null as {_DUCKDB_TYPES[f.type]}) as {f.name}" for f in table.schema]
    if table.partition:
        columns.append(f"cast(null as date) as {table.partition}")
    if table.path_column:
        columns.append('cast(null as varchar) as "$path"')
    return f"select {', '.join(columns)} where false"


def define_lake_macros(
    conn: duckdb.DuckDBPyConnection, lake_root: str, *, temporary: bool = False
) -> None:
    """One table macro per lake dataset: its files, or an empty typed table.

    dbt's connection stores them in the warehouse. `temporary` defines them for this
    connection only (it works on a read-only warehouse, and shadows the stored ones): a
    reader of the warehouse's views over landing points them at its own lake root.
    """
    root = lake_root if lake_root.startswith("s3://") else os.path.abspath(lake_root)
    for name, table in LAKE_TABLES.items():
        pattern = f"{root.rstrip('/')}/{table.pattern}"
        found = conn.execute("select count(*) from glob(?)", [pattern]).fetchone()[0]  # type: ignore[index]
        hive = "true" if table.partition else "false"
        path = ", filename = '$path'" if table.path_column else ""
        body = (
            f"select * from read_parquet({sql_literal(pattern)}, hive_partitioning = {hive}, "
            f"union_by_name = true{path})"
            if found
            else _empty_select(table)
        )
        scope = "temp " if temporary else ""
        conn.execute(f"create or replace {scope}macro {name}() as table {body}")


class Plugin(BasePlugin):
    """dbt-duckdb plugin: S3 access for an s3:// LAKE_ROOT, then the lake macros."""

    def configure_connection(self, conn: duckdb.DuckDBPyConnection) -> None:
        settings = Settings.from_env()
        if settings.lake_root.startswith("s3://"):
            configure_s3(conn, settings.aws_region)
        define_lake_macros(conn, settings.lake_root)
