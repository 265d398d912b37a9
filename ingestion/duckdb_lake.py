"""DuckDB's view of the lake: landing tables as macros, and offline S3 access.

dbt's sources on the dev target read the lake's files through table macros defined here
at connection time: the Bronze landing files (`landing_raw_ohlcv()`,
`landing_raw_tickers()`) and the ML batch predictions (`lake_predictions()`). They glob
LAKE_ROOT, and when a dataset has no file yet they return an empty table with its schema,
so a fresh lake (say, only `ingest-file` so far, or no model trained yet) still builds.
The landing tables also name each row's file in a `"$path"` column, as Athena's and
Trino's hidden column does, so bronze.landing_consolidation reads the same on every engine.

For an s3:// lake, DuckDB would download `httpfs`/`aws` on first use, which fails without
internet: the extensions come from their PyPI packages (`duckdb-extension-httpfs`, ...).
Credentials and the endpoint come from the usual AWS environment (including
AWS_ENDPOINT_URL for moto or MinIO).
"""

from __future__ import annotations

import importlib
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import duckdb
import pyarrow as pa
from dbt.adapters.duckdb.plugins import BasePlugin

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


def load_packaged_extension(conn: duckdb.DuckDBPyConnection, name: str) -> None:
    """INSTALL from the wheel's file (no download), then LOAD."""
    module = importlib.import_module(f"duckdb_extension_{name}")
    version = conn.execute("pragma version").fetchone()[0]  # type: ignore[index]
    if module.__file__ is None:
        raise RuntimeError(f"duckdb-extension-{name} is not installed as a regular package")
    path = Path(module.__file__).parent / "extensions" / version / f"{name}.duckdb_extension"
    if not path.exists():
        raise RuntimeError(f"duckdb-extension-{name} has no build for DuckDB {version} ({path})")
    conn.execute(f"install '{path}'")
    conn.execute(f"load {name}")


def configure_s3(
    conn: duckdb.DuckDBPyConnection, region: str, env: dict[str, str] | None = None
) -> None:
    """Load httpfs and create an S3 secret in `region` from the AWS SDK's credential
    variables (or its credential chain)."""
    env = dict(os.environ if env is None else env)
    load_packaged_extension(conn, "httpfs")
    options: dict[str, Any] = {
        "TYPE": "s3",
        "REGION": region,
    }
    if env.get("AWS_ACCESS_KEY_ID"):
        options["KEY_ID"] = env["AWS_ACCESS_KEY_ID"]
        options["SECRET"] = env.get("AWS_SECRET_ACCESS_KEY", "")
        if env.get("AWS_SESSION_TOKEN"):
            options["SESSION_TOKEN"] = env["AWS_SESSION_TOKEN"]
    else:
        # No static keys: fall back to the AWS SDK chain (instance role, SSO, ECS task role).
        load_packaged_extension(conn, "aws")
        options["PROVIDER"] = "credential_chain"
    endpoint = env.get("AWS_ENDPOINT_URL_S3") or env.get("AWS_ENDPOINT_URL")
    if endpoint:
        parsed = urlparse(endpoint)
        options["ENDPOINT"] = parsed.netloc
        options["USE_SSL"] = parsed.scheme == "https"
        options["URL_STYLE"] = "path"
    body = ", ".join(
        f"{key} {_literal(value)}" if key != "TYPE" else f"TYPE {value}"
        for key, value in options.items()
    )
    conn.execute(f"create or replace secret condvest_lake ({body})")


def _literal(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return "'" + str(value).replace("'", "''") + "'"


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
            f"select * from read_parquet({_literal(pattern)}, hive_partitioning = {hive}, "
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
