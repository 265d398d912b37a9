"""DDL for the lake's files as Athena (Glue) tables, from the schemas that write them.

On Athena, dbt's `polygon` sources are external tables over the landing parquet under
LAKE_ROOT/bronze/<dataset>/, partitioned by `ingest_date` with partition projection, so a
new landing file is queryable at once (no crawler, no MSCK REPAIR); the `ml.predictions`
source is one over LAKE_ROOT/gold/predictions/. Generated from `ingestion.bars` and
`core.layout` so the tables and the files can never disagree.

Each table is defined once (`external_table`) and rendered in two dialects: Athena's Hive
DDL (`landing_table_ddl`, `predictions_table_ddl`: `condvest landing-ddl`) and Trino's
Hive-connector DDL (`trino_table_ddl`), for a Trino server whose Hive catalog shares its
metastore with the Iceberg one, as Athena's `awsdatacatalog` holds both kinds of table.
"""

from __future__ import annotations

from dataclasses import dataclass

import pyarrow as pa

from core.layout import LANDING_PREFIXES, PREDICTIONS_PREFIX, PREDICTIONS_SCHEMA
from ingestion.bars import LANDING_OHLCV_SCHEMA, LANDING_TICKERS_SCHEMA

LANDING_TABLES = {
    "raw_ohlcv": ("ohlcv", LANDING_OHLCV_SCHEMA),
    "raw_tickers": ("tickers", LANDING_TICKERS_SCHEMA),
}
PREDICTIONS_TABLE = "predictions"
# Arrow type -> (Athena Hive DDL type, Trino Hive-connector type).
_TYPES = {
    pa.string(): ("string", "varchar"),
    pa.date32(): ("date", "date"),
    pa.float64(): ("double", "double"),
    pa.int64(): ("bigint", "bigint"),
    pa.int32(): ("int", "integer"),
    pa.bool_(): ("boolean", "boolean"),
    # Parquet timestamps adjusted to UTC read as Athena timestamps (UTC wall time), at
    # millisecond precision: Athena's, and the Trino Hive connector's default.
    pa.timestamp("us", tz="UTC"): ("timestamp", "timestamp(3)"),
}
PROJECTION_START = "2003-01-01"
PARTITION_COLUMN = "ingest_date"
# Lake roots each dialect can point a table at: Athena reads S3 only; Trino also reads
# its native local file system (local:///, relative to the server's local.location).
ATHENA_SCHEMES = ("s3://",)
TRINO_SCHEMES = ("s3://", "local:///")


@dataclass(frozen=True)
class ExternalTable:
    """One external parquet table over the lake: the single definition both dialects
    render. `partitioned` tables have the `ingest_date` partition, found by partition
    projection (every day from PROJECTION_START to now; absent days read as empty)."""

    name: str
    schema: pa.Schema
    location: str  # ends with '/'
    partitioned: bool

    @property
    def location_template(self) -> str:
        return f"{self.location}{PARTITION_COLUMN}=${{{PARTITION_COLUMN}}}/"


def _location(lake_root: str, prefix: str, schemes: tuple[str, ...]) -> str:
    if not lake_root.startswith(schemes):
        raise ValueError(f"these tables need a lake root starting with {' or '.join(schemes)}")
    return f"{lake_root.rstrip('/')}/{prefix}/"


def external_table(
    table: str, lake_root: str, schemes: tuple[str, ...] = ATHENA_SCHEMES
) -> ExternalTable:
    """The definition of `raw_ohlcv`, `raw_tickers` or `predictions` over `lake_root`.
    Predictions are not partitioned: Athena reads every file under a table's location,
    nested folders included, and each file carries its model version and date."""
    if table == PREDICTIONS_TABLE:
        location = _location(lake_root, PREDICTIONS_PREFIX, schemes)
        return ExternalTable(table, PREDICTIONS_SCHEMA, location, partitioned=False)
    dataset, schema = LANDING_TABLES[table]
    location = _location(lake_root, LANDING_PREFIXES[dataset], schemes)
    return ExternalTable(table, schema, location, partitioned=True)


def _athena_ddl(table: ExternalTable, database: str) -> str:
    columns = ",\n".join(f"    `{f.name}` {_TYPES[f.type][0]}" for f in table.schema)
    ddl = f"CREATE EXTERNAL TABLE IF NOT EXISTS `{database}`.`{table.name}` (\n{columns}\n)\n"
    if table.partitioned:
        ddl += f"PARTITIONED BY (`{PARTITION_COLUMN}` string)\n"
    ddl += f"STORED AS PARQUET\nLOCATION '{table.location}'"
    if table.partitioned:
        properties = {
            "projection.enabled": "true",
            f"projection.{PARTITION_COLUMN}.type": "date",
            f"projection.{PARTITION_COLUMN}.format": "yyyy-MM-dd",
            f"projection.{PARTITION_COLUMN}.range": f"{PROJECTION_START},NOW",
            f"projection.{PARTITION_COLUMN}.interval": "1",
            f"projection.{PARTITION_COLUMN}.interval.unit": "DAYS",
            "storage.location.template": table.location_template,
        }
        props = ",\n".join(f"    '{key}' = '{value}'" for key, value in properties.items())
        ddl += f"\nTBLPROPERTIES (\n{props}\n)"
    return ddl


def landing_table_ddl(table: str, lake_root: str, database: str) -> str:
    """CREATE EXTERNAL TABLE for one landing dataset (`raw_ohlcv` or `raw_tickers`)."""
    return _athena_ddl(external_table(table, lake_root), database)


def predictions_table_ddl(lake_root: str, database: str) -> str:
    """CREATE EXTERNAL TABLE for the batch predictions (no partitions: see external_table)."""
    return _athena_ddl(external_table(PREDICTIONS_TABLE, lake_root), database)


def trino_table_ddl(table: str, lake_root: str, schema: str) -> str:
    """The same table as `CREATE TABLE` of Trino's Hive connector (run it in the Hive
    catalog, `schema` qualified by that catalog if needed), partition projection included.
    `lake_root` may be s3:// or Trino's local:///."""
    definition = external_table(table, lake_root, TRINO_SCHEMES)
    columns = [f'    "{f.name}" {_TYPES[f.type][1]}' for f in definition.schema]
    properties = {
        "external_location": f"'{definition.location}'",
        "format": "'PARQUET'",
    }
    if definition.partitioned:
        columns.append(
            f'    "{PARTITION_COLUMN}" varchar WITH (\n'
            "        partition_projection_type = 'date',\n"
            "        partition_projection_format = 'yyyy-MM-dd',\n"
            f"        partition_projection_range = ARRAY['{PROJECTION_START}', 'NOW'],\n"
            "        partition_projection_interval = 1,\n"
            "        partition_projection_interval_unit = 'DAYS'\n"
            "    )"
        )
        properties |= {
            "partitioned_by": f"ARRAY['{PARTITION_COLUMN}']",
            "partition_projection_enabled": "true",
            "partition_projection_location_template": f"'{definition.location_template}'",
        }
    props = ",\n".join(f"    {key} = {value}" for key, value in properties.items())
    body = ",\n".join(columns)
    return f'CREATE TABLE IF NOT EXISTS {schema}."{table}" (\n{body}\n)\nWITH (\n{props}\n)'
