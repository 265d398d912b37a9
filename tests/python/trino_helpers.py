"""The dbt project on the Trino server of tests/python/fixtures/trino.py: the landing
tables as Athena's catalog holds them, `dbt --target trino`, and the built tables' rows.

The landing tables come from ingestion/athena_ddl.py, the definition `condvest
landing-ddl` prints for Athena, rendered for Trino's Hive connector over `local:///`
locations. They are created in the `hive` catalog; dbt reads them as
`awsdatacatalog.<prefix>landing.raw_ohlcv`, through the Iceberg catalog's redirection, as
its sources do on Athena.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

from ingestion.athena_ddl import LANDING_TABLES, PREDICTIONS_TABLE, trino_table_ddl
from tests.python.dbt_helpers import WRITE_COLUMNS, run_dbt

if TYPE_CHECKING:  # a real import would load the plugin before pytest rewrites its asserts
    from tests.python.fixtures.trino import TrinoServer


def execute(server: TrinoServer, *statements: str, catalog: str | None = None) -> list[list]:
    """Runs each statement in turn; the rows of the last one."""
    rows: list[list] = []
    with server.connect(catalog=catalog) as conn:
        cursor = conn.cursor()
        for statement in statements:
            cursor.execute(statement)
            rows = cursor.fetchall()
    return rows


def create_landing_tables(server: TrinoServer, lake_dir: Path, schema: str) -> list[str]:
    """`schema` (the sources' `<prefix>landing`) with the Hive external tables raw_ohlcv,
    raw_tickers and predictions over the lake at `lake_dir` (under the server's lake root).
    Returns the DDL run."""
    qualified = f"{server.hive_catalog}.{schema}"
    root = server.location(lake_dir)
    statements = [f"create schema if not exists {qualified}"]
    statements += [
        trino_table_ddl(table, root, qualified) for table in (*LANDING_TABLES, PREDICTIONS_TABLE)
    ]
    execute(server, *statements)
    return statements


def dbt_environment(server: TrinoServer, schema_prefix: str, lake_dir: Path) -> dict[str, str]:
    """What profiles.yml's trino target reads, for this server; LAKE_ROOT for the project's
    Python side (the Trino tables have their locations in the catalog)."""
    env = {
        **os.environ,
        "DBT_TARGET": "trino",
        "TRINO_HOST": server.host,
        "TRINO_PORT": str(server.port),
        "TRINO_USER": "condvest_dbt",
        "TRINO_CATALOG": server.catalog,
        "TRINO_SCHEMA": f"{schema_prefix}condvest",
        "DBT_SCHEMA_PREFIX": schema_prefix,
        "LAKE_ROOT": str(lake_dir),
    }
    env.pop("WAREHOUSE_PATH", None)
    return env


def dbt_trino(tmp: Path, env: dict[str, str], *args: str) -> str:
    """`dbt <args> --target trino` in a subprocess (dbt_helpers.run_dbt)."""
    return run_dbt(tmp, env, *args, "--target", "trino")


def table_rows(server: TrinoServer, schema_prefix: str, table: str) -> tuple[list[str], list]:
    """The columns (but the WRITE_COLUMNS) and the rows of a built table `layer.name`."""
    layer, name = table.split(".")
    schema = f"{schema_prefix}{layer}"
    columns = [
        row[0]
        for row in execute(
            server,
            f"select column_name from {server.catalog}.information_schema.columns "
            f"where table_schema = '{schema}' and table_name = '{name}' "
            "order by ordinal_position",
        )
        if row[0] not in WRITE_COLUMNS
    ]
    rows = execute(server, f"select {', '.join(columns)} from {server.catalog}.{schema}.{name}")
    return columns, [tuple(row) for row in rows]


def query(server: TrinoServer, sql: str) -> tuple[list[str], list[tuple]]:
    """The column names and rows of one query."""
    with server.connect() as conn:
        cursor = conn.cursor()
        cursor.execute(sql)
        rows = cursor.fetchall()
        return [column[0] for column in cursor.description], [tuple(row) for row in rows]
