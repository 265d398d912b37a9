"""DDL for the lake's files as Athena (Glue) tables, from the schemas that write them.

On Athena, dbt's `polygon` sources are external tables over the landing parquet under
LAKE_ROOT/bronze/<dataset>/, partitioned by `ingest_date` with partition projection, so a
new landing file is queryable at once (no crawler, no MSCK REPAIR); the `ml.predictions`
source is one over LAKE_ROOT/gold/predictions/. Generated from `ingestion.bars` and
`core.layout` so the tables and the files can never disagree.
"""

from __future__ import annotations

import pyarrow as pa

from core.layout import LANDING_PREFIXES, PREDICTIONS_PREFIX, PREDICTIONS_SCHEMA
from ingestion.bars import LANDING_OHLCV_SCHEMA, LANDING_TICKERS_SCHEMA

LANDING_TABLES = {
    "raw_ohlcv": ("ohlcv", LANDING_OHLCV_SCHEMA),
    "raw_tickers": ("tickers", LANDING_TICKERS_SCHEMA),
}
_HIVE_TYPES = {
    pa.string(): "string",
    pa.date32(): "date",
    pa.float64(): "double",
    pa.int64(): "bigint",
    pa.int32(): "int",
    pa.bool_(): "boolean",
    # Parquet timestamps adjusted to UTC read as Athena timestamps (UTC wall time).
    pa.timestamp("us", tz="UTC"): "timestamp",
}
PROJECTION_START = "2003-01-01"


def _location(lake_root: str, prefix: str) -> str:
    if not lake_root.startswith("s3://"):
        raise ValueError("Athena tables need an s3:// lake root")
    return f"{lake_root.rstrip('/')}/{prefix}/"


def _columns(schema: pa.Schema) -> str:
    return ",\n".join(f"    `{f.name}` {_HIVE_TYPES[f.type]}" for f in schema)


def landing_table_ddl(table: str, lake_root: str, database: str) -> str:
    """CREATE EXTERNAL TABLE for one landing dataset (`raw_ohlcv` or `raw_tickers`)."""
    dataset, schema = LANDING_TABLES[table]
    location = _location(lake_root, LANDING_PREFIXES[dataset])
    columns = _columns(schema)
    properties = {
        "projection.enabled": "true",
        "projection.ingest_date.type": "date",
        "projection.ingest_date.format": "yyyy-MM-dd",
        "projection.ingest_date.range": f"{PROJECTION_START},NOW",
        "projection.ingest_date.interval": "1",
        "projection.ingest_date.interval.unit": "DAYS",
        "storage.location.template": f"{location}ingest_date=${{ingest_date}}/",
    }
    props = ",\n".join(f"    '{key}' = '{value}'" for key, value in properties.items())
    return (
        f"CREATE EXTERNAL TABLE IF NOT EXISTS `{database}`.`{table}` (\n{columns}\n)\n"
        "PARTITIONED BY (`ingest_date` string)\n"
        "STORED AS PARQUET\n"
        f"LOCATION '{location}'\n"
        f"TBLPROPERTIES (\n{props}\n)"
    )


def predictions_table_ddl(lake_root: str, database: str) -> str:
    """CREATE EXTERNAL TABLE for the batch predictions. Athena reads every file under a
    table's location, nested folders included, and each file carries its model version
    and date as columns, so the table needs no partitions to see a new day's file."""
    return (
        f"CREATE EXTERNAL TABLE IF NOT EXISTS `{database}`.`predictions` (\n"
        f"{_columns(PREDICTIONS_SCHEMA)}\n)\n"
        "STORED AS PARQUET\n"
        f"LOCATION '{_location(lake_root, PREDICTIONS_PREFIX)}'"
    )
