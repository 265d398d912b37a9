"""Run the real dbt project against a temporary lake and warehouse."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
from pathlib import Path

import duckdb

from core.paths import REPO_ROOT

DBT = str(Path(sys.executable).with_name("dbt"))
TABLES = (
    "bronze.ohlcv_daily",
    "bronze.ohlcv_rejected",
    "silver.ohlcv_3d",
    "silver.ohlcv_5d",
    "silver.ohlcv_8d",
    "silver.ohlcv_13d",
    "silver.ohlcv_21d",
    "silver.ohlcv_34d",
    "silver.candlestick_patterns",
    "gold.dim_symbol",
    "gold.ml_features",
)


def run_dbt(tmp: Path, env: dict[str, str], *args: str) -> str:
    """`dbt <args>` on this project in a subprocess, artifacts and logs under `tmp`."""
    env = {
        **env,
        "DBT_PROFILES_DIR": str(REPO_ROOT),
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
    }
    paths = ["--project-dir", str(REPO_ROOT), "--target-path", str(tmp / "target")]
    result = subprocess.run(
        [DBT, *args, *paths, "--log-path", str(tmp / "logs")],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        raise AssertionError(f"dbt {' '.join(args)} failed:\n{result.stdout[-6000:]}")
    return result.stdout


def dbt(tmp: Path, lake: Path, warehouse: Path, *args: str) -> str:
    """dbt on the dev target (DuckDB) against a given lake and warehouse."""
    env = {**os.environ, "LAKE_ROOT": str(lake), "WAREHOUSE_PATH": str(warehouse)}
    env.pop("DBT_TARGET", None)
    return run_dbt(tmp, env, *args)


# When and where a run wrote a row (its start; the partition it chose, by the newest date
# it saw): not the row's content, and they differ between a run and a rebuild of the data.
WRITE_COLUMNS = frozenset({"built_at", "storage_period"})


def content_sql(con: duckdb.DuckDBPyConnection, table: str) -> str:
    """`select` of every column of `table` but the WRITE_COLUMNS."""
    columns = [row[0] for row in con.execute(f"describe {table}").fetchall()]
    return f"select {', '.join(c for c in columns if c not in WRITE_COLUMNS)} from {table}"


def snapshot(warehouse: Path) -> dict[str, list[tuple]]:
    """Every table's rows (but the WRITE_COLUMNS), sorted, for exact comparison."""
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return {table: sorted(con.execute(content_sql(con, table)).fetchall()) for table in TABLES}


def landed_at(session: dt.date) -> dt.datetime:
    """When the daily pipeline lands a session: its evening, after the close (UTC)."""
    return dt.datetime.combine(session, dt.time(21, 30), tzinfo=dt.UTC)
