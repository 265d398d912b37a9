"""`dbt build --target trino` on a real Trino server gives the DuckDB build's tables.

Trino is the engine under Athena: the same models and `default__` macros, Iceberg tables
in `awsdatacatalog`, the landing files as Hive external tables with partition projection
(ingestion/athena_ddl.py). The sample market lands once into a lake under the server's
root (on a staged clock, as test_dbt_candlestick_incremental.py does, so that landing
timestamps carry no sub-millisecond part, which Athena's and Trino's Hive readers drop);
a batch of predictions lands beside it (nested folders, read by the unpartitioned Hive
table). Both engines build it, then one more session and a late correction of an old bar
land and both build incrementally (MERGE on Trino, delete+insert on DuckDB). Each time
every table must be equal row by row: keys exactly, doubles to 1e-9 relative, everything else
exactly, `built_at` (the run's start) aside.

Needs `scripts/trino/install.sh` (`make trino`) once; run alone with `pytest -m trino`.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import time
import uuid
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd
import pytest

from core.lake import Lake
from ingestion import fetch
from ingestion.fetch import OhlcvRequest, fetch_ohlcv, fetch_tickers
from ingestion.landing import land_bars
from ingestion.sample_market import SampleMarket
from ingestion.watermarks import WatermarkStore
from ml.predict import write_predictions
from tests.python.dbt_helpers import TABLES, content_sql, dbt
from tests.python.test_dbt_candlestick_incremental import _doji_correction
from tests.python.trino_helpers import (
    create_landing_tables,
    dbt_environment,
    dbt_trino,
    execute,
    table_rows,
)

# Two Trino builds take ~6 min on 2 cores (the seed alone ~45 s: dbt-trino inserts 1000
# rows a statement); the module fixture runs inside the first test's timeout.
pytestmark = [pytest.mark.trino, pytest.mark.timeout(1800)]

# Through ORCA's bad print (2024-10-01: a rejected row) and NVLX's split (2024-06-10).
START, END = dt.date(2024, 1, 2), dt.date(2024, 10, 4)
NEXT = dt.date(2024, 10, 7)
CORRECTED_SYMBOL, CORRECTED_DATE = "ACRN", dt.date(2024, 5, 1)
KEYS = {
    "bronze.ohlcv_daily": ("symbol", "date"),
    "bronze.ohlcv_rejected": ("batch_id", "batch_row"),
    **{table: ("symbol", "bucket_start") for table in TABLES if table.startswith("silver.ohlcv")},
    "silver.candlestick_patterns": ("symbol", "date"),
    "gold.dim_symbol": ("symbol",),
    "gold.ml_features": ("symbol", "date"),
    "gold.predictions": ("symbol", "date", "model_version"),
}
COMPARED = (*TABLES, "gold.predictions")
RELATIVE_TOLERANCE = 1e-9
MISMATCHES_SHOWN = 10


def _landed_at(session: dt.date) -> dt.datetime:
    return dt.datetime.combine(session, dt.time(21, 30), tzinfo=dt.UTC)


def _duckdb_tables(warehouse: Path) -> dict[str, tuple[list[str], list[tuple]]]:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        tables = {}
        for table in COMPARED:
            cursor = con.execute(content_sql(con, table))
            tables[table] = ([c[0] for c in cursor.description], cursor.fetchall())
        return tables


def _statuses(target: Path) -> dict[str, str]:
    results = json.loads((target / "run_results.json").read_text())["results"]
    return {result["unique_id"]: result["status"] for result in results}


def _build_both(tmp: Path, step: str, server, env: dict[str, str], warehouse: Path) -> dict:
    """`dbt build` on Trino, then on DuckDB, of the same lake: timings, statuses, rows."""
    started = time.monotonic()
    dbt_trino(tmp / f"trino_{step}", env, "build")
    trino_seconds = time.monotonic() - started
    dbt(tmp / f"duckdb_{step}", Path(env["LAKE_ROOT"]), warehouse, "build")
    prefix = env["DBT_SCHEMA_PREFIX"]
    return {
        "trino_seconds": trino_seconds,
        "trino_status": _statuses(tmp / f"trino_{step}" / "target"),
        "duckdb_status": _statuses(tmp / f"duckdb_{step}" / "target"),
        "trino": {table: table_rows(server, prefix, table) for table in COMPARED},
        "duckdb": _duckdb_tables(warehouse),
    }


def _predict(lake: Lake, now: dt.datetime) -> None:
    """A batch of predictions as `condvest predict` writes them (one file per model
    version and date, in nested folders): one with a realized outcome, one pending."""
    predictions = pd.DataFrame(
        {
            "symbol": [CORRECTED_SYMBOL, "NVLX", CORRECTED_SYMBOL],
            "date": pd.to_datetime([dt.date(2024, 6, 3), dt.date(2024, 6, 3), END]),
            "model_version": ["v1"] * 3,
            "probability_up": [0.61, 0.42, 0.57],
            "predicted_up": [1, 0, 1],
            "rank_in_day": [1, 2, 1],
        }
    )
    write_predictions(lake, predictions, now)


@pytest.fixture(scope="module")
def built(trino_server, tmp_path_factory, calendar) -> dict[str, Any]:
    tmp = tmp_path_factory.mktemp("trino_build")
    # schemas and a lake of its own: the server is shared by the session
    prefix = f"build{uuid.uuid4().hex[:8]}_"
    lake_dir = trino_server.lake_root / prefix.rstrip("_")
    warehouse = tmp / "warehouse.duckdb"
    lake = Lake.open(str(lake_dir))
    store = WatermarkStore.connect(f"sqlite:///{tmp / 'wm.sqlite'}")
    market = SampleMarket(calendar)
    env = dbt_environment(trino_server, prefix, lake_dir)
    steps: dict[str, Any] = {"prefix": prefix}
    clock = pytest.MonkeyPatch()
    try:
        clock.setattr(fetch, "utcnow", lambda: _landed_at(END))
        fetch_tickers(market, lake, store, END)
        request = OhlcvRequest(start=START, end=END, history_start=START)
        fetch_ohlcv(market, lake, store, calendar, request)
        _predict(lake, _landed_at(END) + dt.timedelta(minutes=30))
        create_landing_tables(trino_server, lake_dir, f"{prefix}landing")
        steps["first"] = _build_both(tmp, "first", trino_server, env, warehouse)

        # one more session, then a late correction of an old bar (a doji now)
        clock.setattr(fetch, "utcnow", lambda: _landed_at(NEXT))
        fetch_ohlcv(market, lake, store, calendar, OhlcvRequest(end=NEXT, history_start=START))
        correction = _doji_correction(lake_dir, CORRECTED_SYMBOL, CORRECTED_DATE)
        corrected_at = _landed_at(NEXT) + dt.timedelta(days=1)
        land_bars(lake, calendar, correction, "correction", corrected_at)
        steps["incremental"] = _build_both(tmp, "incremental", trino_server, env, warehouse)
    finally:
        clock.undo()
        store.close()
    steps["tmp"] = tmp
    print(  # the timings, in the -s / -rP output
        "dbt build --target trino: "
        f"first {steps['first']['trino_seconds']:.0f} s, "
        f"incremental {steps['incremental']['trino_seconds']:.0f} s"
    )
    return steps


def _same_value(trino: Any, duck: Any) -> bool:
    if type(trino) is not type(duck):
        return False
    if isinstance(trino, float):
        if math.isnan(trino) or math.isnan(duck):
            return math.isnan(trino) and math.isnan(duck)
        return math.isclose(trino, duck, rel_tol=RELATIVE_TOLERANCE, abs_tol=0.0)
    if isinstance(trino, Decimal):  # exact, scale included
        return trino.as_tuple() == duck.as_tuple()
    return trino == duck


def _differences(table: str, trino: tuple[list[str], list], duck: tuple[list[str], list]):
    """Where the Trino table differs from the DuckDB one (at most MISMATCHES_SHOWN)."""
    (trino_columns, trino_rows), (duck_columns, duck_rows) = trino, duck
    if trino_columns != duck_columns:
        return [f"columns: trino {trino_columns} != duckdb {duck_columns}"]
    key_at = [trino_columns.index(key) for key in KEYS[table]]

    def by_key(rows: list[tuple]) -> dict[tuple, tuple]:
        keyed = {tuple(row[i] for i in key_at): row for row in rows}
        assert len(keyed) == len(rows), f"{table}: duplicate keys"
        return keyed

    trino_by_key, duck_by_key = by_key(trino_rows), by_key(duck_rows)
    differences = [
        f"key {key} only in {engine}"
        for engine, keys in (
            ("trino", trino_by_key.keys() - duck_by_key.keys()),
            ("duckdb", duck_by_key.keys() - trino_by_key.keys()),
        )
        for key in sorted(keys)
    ]
    for key in sorted(trino_by_key.keys() & duck_by_key.keys()):
        for column, value, expected in zip(
            trino_columns, trino_by_key[key], duck_by_key[key], strict=True
        ):
            if not _same_value(value, expected):
                differences.append(f"{key} {column}: trino {value!r} != duckdb {expected!r}")
    return differences[:MISMATCHES_SHOWN]


@pytest.mark.parametrize("step", ["first", "incremental"])
def test_dbt_build_on_trino_passes_as_on_duckdb(built, step):
    trino, duck = built[step]["trino_status"], built[step]["duckdb_status"]
    assert set(trino) == set(duck)
    # exposures (where the data is used) have nothing to run: dbt reports them as no-op
    ok = {"success", "pass", "warn"}
    assert not {
        uid: s
        for uid, s in trino.items()
        if s not in (ok | {"no-op"} if uid.startswith("exposure.") else ok)
    }
    # the same warnings (the sample's session gaps), data tests included
    assert trino == duck
    assert sum(uid.startswith("test.") for uid in trino) > 50


@pytest.mark.parametrize("step", ["first", "incremental"])
@pytest.mark.parametrize("table", COMPARED)
def test_every_table_equals_the_duckdb_build(built, step, table):
    trino, duck = built[step]["trino"][table], built[step]["duckdb"][table]
    assert len(trino[1]) == len(duck[1])
    assert not _differences(table, trino, duck)


def test_the_data_covers_a_rejected_row_a_new_session_and_the_correction(built):
    first, incremental = built["first"]["duckdb"], built["incremental"]["duckdb"]
    assert len(first["bronze.ohlcv_rejected"][1]) == 1  # ORCA's missing close
    columns, rows = first["gold.predictions"]
    realized = [row[columns.index("realized_up")] for row in rows]
    assert len(realized) == 3 and realized.count(None) == 1  # END's label is pending
    columns, rows = incremental["bronze.ohlcv_daily"]
    dates = {row[columns.index("date")] for row in rows}
    assert max(dates) == NEXT
    corrected = next(
        dict(zip(columns, row, strict=True))
        for row in rows
        if row[columns.index("symbol")] == CORRECTED_SYMBOL
        and row[columns.index("date")] == CORRECTED_DATE
    )
    assert corrected["close"] == corrected["open"]
    assert corrected["source"] == "correction"


def test_trino_tables_are_month_partitioned_iceberg_and_the_upserts_merge(built, trino_server):
    prefix = built["prefix"]
    ddl = execute(trino_server, f"show create table {prefix}bronze.ohlcv_daily")[0][0]
    assert "partitioning = ARRAY['month(date)']" in ddl
    assert "format_version = 2" in ddl  # Iceberg
    partitions = f'select count(*) from {prefix}bronze."ohlcv_daily$partitions"'
    assert execute(trino_server, partitions) == [[10]]  # 2024-01 .. 2024-10
    run_sql = built["tmp"] / "trino_incremental" / "target" / "run" / "condvest" / "models"
    merged = [path.stem for path in run_sql.rglob("*.sql") if "merge into" in path.read_text()]
    assert sorted(merged) == sorted(
        ["ohlcv_daily", "ohlcv_rejected", "candlestick_patterns", "ml_features"]
        + [table.split(".")[1] for table in TABLES if table.startswith("silver.ohlcv")]
    )
