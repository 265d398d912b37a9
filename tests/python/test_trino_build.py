"""`dbt build --target trino` on a real Trino server gives the DuckDB build's tables.

Trino is the engine under Athena: the same models and `default__` macros, Iceberg tables
in `awsdatacatalog`, the landing files as Hive external tables with partition projection
(ingestion/athena_ddl.py). The sample market lands once into a lake under the server's
root (on a staged clock, as test_dbt_candlestick_incremental.py does, so that landing
timestamps carry no sub-millisecond part, which Athena's and Trino's Hive readers drop);
a batch of predictions lands beside it (nested folders, read by the unpartitioned Hive
table). One symbol also gets a history back to 2003 (a backfill batch). Both engines build
it, then one more session, a late correction of an old bar and a split restatement of the
long symbol's whole history land, and both build incrementally (MERGE on Trino,
delete+insert on DuckDB). Each time every table must be equal row by row: keys exactly,
doubles to 1e-9 relative, everything else exactly, `built_at` (the run's start) aside.

The server allows 100 open partitions per write, as Athena: the first build of the history
from 2003 and the MERGE of its restatement both fail if a table is partitioned by month
throughout; the incremental tables store only the last twelve months by month
(storage_period, macros/engine/date_partitioning.sql).

The Athena SQL: after each build, `dbt compile --target athena` runs against an AWS whose
Athena answers from this Trino server (tests/python/athena_on_trino.py), with the build's
schema prefix, so every relation the compiled SQL names is the Trino build's own and the
incremental bounds are those of this warehouse. Each model's compiled SELECT then runs
on Trino, unchanged: the full variant must return the DuckDB table, the incremental one
(compiled on the up-to-date warehouse) rows that are all in the DuckDB table, the stored
rows it recomputes. This is the main proof of the Athena path; the DuckDB translation in
test_athena_compile.py stays as a fast check that needs no JVM.

Needs `scripts/trino/install.sh` (`make trino`) once; run alone with `pytest -m trino`.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import re
import time
import uuid
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.dataset as ds
import pytest

from core.duckdb_extensions import load_packaged_extension
from core.lake import Lake
from ingestion import landing_pipeline
from ingestion.bars import BAR_SCHEMA
from ingestion.calendar import TradingCalendar
from ingestion.fetch import OhlcvRequest, fetch_ohlcv, fetch_tickers
from ingestion.landing import land_bars
from ingestion.sample_market import SampleMarket
from ingestion.stores import Stores
from ml.predict import write_predictions
from tests.python.athena_helpers import AthenaCompile, MotoAthena, compile_for_athena
from tests.python.athena_on_trino import athena_on_trino
from tests.python.dbt_helpers import TABLES, WRITE_COLUMNS, content_sql, dbt, landed_at
from tests.python.test_dbt_candlestick_incremental import _doji_correction
from tests.python.trino_helpers import (
    create_landing_tables,
    dbt_environment,
    dbt_trino,
    execute,
    query,
    table_rows,
)

# Two builds on each engine and two Athena compiles: minutes on 2 cores, more on a busy
# machine; the module fixture runs inside the first test's timeout.
pytestmark = [pytest.mark.trino, pytest.mark.timeout(1800)]

# Through ORCA's bad print (2024-10-01: a rejected row) and NVLX's split (2024-06-10).
START, END = dt.date(2024, 1, 2), dt.date(2024, 10, 4)
NEXT = dt.date(2024, 10, 7)
CORRECTED_SYMBOL, CORRECTED_DATE = "ACRN", dt.date(2024, 5, 1)
# A symbol listed all along the sample, with a backfilled history from 2003: 22 years, 262
# months. Its split restatement rewrites all of it.
LONG_SYMBOL, LONG_HISTORY_START = "ALPN", dt.date(2003, 1, 2)
LONG_SPLIT_RATIO = 2.0
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


def _long_history(calendar: TradingCalendar, end: dt.date) -> pa.Table:
    """LONG_SYMBOL's bars from LONG_HISTORY_START to `end` (a seeded random walk, every
    session, consistent OHLC and vwap)."""
    sessions = calendar.sessions_between(LONG_HISTORY_START, end)
    rng = np.random.default_rng(2003)
    close = 40.0 * np.exp(np.cumsum(rng.normal(0.0003, 0.015, len(sessions))))
    open_ = close * np.exp(rng.normal(0.0, 0.005, len(sessions)))
    high = np.maximum(open_, close) * (1 + rng.uniform(0.0, 0.01, len(sessions)))
    low = np.minimum(open_, close) * (1 - rng.uniform(0.0, 0.01, len(sessions)))
    volume = rng.integers(100_000, 5_000_000, len(sessions)).astype(float)
    return pa.table(
        {
            "symbol": [LONG_SYMBOL] * len(sessions),
            "date": sessions,
            "open": open_,
            "high": high,
            "low": low,
            "close": close,
            "volume": volume,
            "vwap": (high + low + close) / 3,
            "transactions": (volume // 100).astype(np.int64),
        },
        schema=BAR_SCHEMA,
    )


def _split_restatement(lake_dir: Path) -> pa.Table:
    """LONG_SYMBOL's whole landed history (the latest version of each bar), adjusted for a
    2-for-1 split, as a per-ticker backfill lands it."""
    landed = ds.dataset(lake_dir / "bronze" / "raw_ohlcv", partitioning="hive").to_table(
        filter=(ds.field("symbol") == LONG_SYMBOL) & ds.field("invalid_reason").is_null()
    )
    latest = (
        landed.to_pandas()
        .sort_values("ingested_at")
        .drop_duplicates(["symbol", "date"], keep="last")
        .sort_values("date")
    )
    for column in ("open", "high", "low", "close", "vwap"):
        latest[column] = latest[column] / LONG_SPLIT_RATIO
    latest["volume"] = latest["volume"] * LONG_SPLIT_RATIO
    latest["date"] = pd.to_datetime(latest["date"]).dt.date
    return pa.Table.from_pandas(latest[BAR_SCHEMA.names], schema=BAR_SCHEMA, preserve_index=False)


def _athena_compile(
    tmp: Path, moto_url: str, server, prefix: str, incremental: list[tuple[str, str]]
) -> AthenaCompile:
    """`dbt compile --target athena` with the build's schema prefix, against an Athena
    that is this Trino server. The `incremental` relations (schema, table) are registered
    in Glue, as after a build, so dbt-athena compiles those models' incremental branch."""
    with athena_on_trino(moto_url, server) as endpoint:
        aws = MotoAthena(endpoint, schema_prefix=prefix)
        try:
            aws.provision()
            for schema, name in incremental:
                aws.register_iceberg_table(schema, name)
            variant = "athena_incremental" if incremental else "athena_full"
            return compile_for_athena(tmp / variant, aws)
        finally:
            aws.reset()


def _run_athena_models(server, compiled: AthenaCompile) -> dict[str, tuple[list[str], list]]:
    """Every SQL model's compiled Athena SELECT, run unchanged on Trino: the columns (but
    built_at) and rows, by model name."""
    results = {}
    for unique_id, node in compiled.manifest["nodes"].items():
        if node["resource_type"] != "model" or node.get("language") != "sql":
            continue
        if not node["config"].get("enabled", True) or unique_id not in compiled.sql:
            continue
        columns, rows = query(server, compiled.sql[unique_id])
        keep = [i for i, column in enumerate(columns) if column not in WRITE_COLUMNS]
        results[node["name"]] = (
            [columns[i] for i in keep],
            [tuple(row[i] for i in keep) for row in rows],
        )
    return results


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
def built(trino_server, tmp_path_factory, calendar, moto_server) -> dict[str, Any]:
    tmp = tmp_path_factory.mktemp("trino_build")
    # schemas and a lake of its own: the server is shared by the session
    prefix = f"build{uuid.uuid4().hex[:8]}_"
    lake_dir = trino_server.lake_root / prefix.rstrip("_")
    warehouse = tmp / "warehouse.duckdb"
    lake = Lake.open(str(lake_dir))
    stores = Stores.connect(f"sqlite:///{tmp / 'wm.sqlite'}")
    market = SampleMarket(calendar)
    env = dbt_environment(trino_server, prefix, lake_dir)
    steps: dict[str, Any] = {"prefix": prefix}
    clock = pytest.MonkeyPatch()
    try:
        clock.setattr(landing_pipeline, "utcnow", lambda: landed_at(END))
        fetch_tickers(market, lake, stores, END)
        request = OhlcvRequest(start=START, end=END, history_start=START)
        fetch_ohlcv(market, lake, stores, calendar, request)
        backfill = _long_history(calendar, START - dt.timedelta(days=1))
        land_bars(lake, calendar, backfill, "backfill", landed_at(END))
        _predict(lake, landed_at(END) + dt.timedelta(minutes=30))
        create_landing_tables(trino_server, lake_dir, f"{prefix}landing")
        steps["first"] = _build_both(tmp, "first", trino_server, env, warehouse)
        steps["athena_full"] = _athena_compile(tmp, moto_server, trino_server, prefix, [])
        steps["first"]["athena"] = _run_athena_models(trino_server, steps["athena_full"])

        # one more session, then a late correction of an old bar (a doji now)
        clock.setattr(landing_pipeline, "utcnow", lambda: landed_at(NEXT))
        fetch_ohlcv(market, lake, stores, calendar, OhlcvRequest(end=NEXT, history_start=START))
        correction = _doji_correction(lake_dir, CORRECTED_SYMBOL, CORRECTED_DATE)
        corrected_at = landed_at(NEXT) + dt.timedelta(days=1)
        land_bars(lake, calendar, correction, "correction", corrected_at)
        restated_at = corrected_at + dt.timedelta(minutes=5)
        land_bars(lake, calendar, _split_restatement(lake_dir), "split", restated_at)
        steps["incremental"] = _build_both(tmp, "incremental", trino_server, env, warehouse)
        steps["athena_incremental"] = _athena_compile(
            tmp, moto_server, trino_server, prefix, steps["athena_full"].incremental_relations()
        )
        steps["incremental"]["athena"] = _run_athena_models(
            trino_server, steps["athena_incremental"]
        )
    finally:
        clock.undo()
        stores.close()
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


def test_trino_tables_are_partitioned_iceberg_and_the_upserts_merge(built, trino_server):
    """LONG_SYMBOL's 22 years (2003..2024): the incremental tables store the twelve months
    before the newest session by month and everything older by year (storage_period), so
    the first build and the MERGE of the split restatement each wrote 33 partitions, under
    the server's limit of 100 open partitions per write (by month they would be 262, and
    fail), while a daily run's look-backs read month files."""
    prefix = built["prefix"]
    for table in ("bronze.ohlcv_daily", "silver.candlestick_patterns", "gold.ml_features"):
        ddl = execute(trino_server, f"show create table {prefix}{table}")[0][0]
        assert "partitioning = ARRAY['storage_period']" in ddl, table
        assert "format_version = 2" in ddl  # Iceberg
    ddl = execute(trino_server, f"show create table {prefix}gold.predictions")[0][0]
    assert "partitioning = ARRAY['year(date)']" in ddl  # rebuilt whole every run
    years = list(range(LONG_HISTORY_START.year, 2023))  # 2003..2022, then 2023 until November
    months = [202300, *range(202311, 202313), *range(202401, 202411)]
    periods = f'select partition.storage_period from {prefix}bronze."ohlcv_daily$partitions"'
    stored = sorted(row[0] for row in execute(trino_server, periods))
    assert stored == sorted([year * 100 for year in years] + months)
    assert len(stored) == 33
    run_sql = built["tmp"] / "trino_incremental" / "target" / "run" / "condvest" / "models"
    merged = [path.stem for path in run_sql.rglob("*.sql") if "merge into" in path.read_text()]
    assert sorted(merged) == sorted(
        ["ohlcv_daily", "ohlcv_rejected", "candlestick_patterns", "ml_features"]
        + [table.split(".")[1] for table in TABLES if table.startswith("silver.ohlcv")]
    )


def test_the_split_restatement_rewrote_the_long_history_on_both_engines(built):
    for step, ratio in (("first", 1.0), ("incremental", LONG_SPLIT_RATIO)):
        for engine in ("trino", "duckdb"):
            columns, rows = built[step][engine]["bronze.ohlcv_daily"]
            long = sorted(
                (row[columns.index("date")], row[columns.index("close")])
                for row in rows
                if row[columns.index("symbol")] == LONG_SYMBOL
            )
            assert long[0][0] == LONG_HISTORY_START
            assert long[-1][0] == (END if step == "first" else NEXT)
            first_close = float(_long_history_first_close())
            assert math.isclose(long[0][1], first_close / ratio, rel_tol=1e-12), (step, engine)


def _long_history_first_close() -> float:
    return 40.0 * math.exp(np.random.default_rng(2003).normal(0.0003, 0.015, 1)[0])


def _athena_differences(table: str, athena, duck, subset: bool) -> list[str]:
    """Where the rows of the Athena SQL differ from the DuckDB table; with `subset`, only
    rows the DuckDB table lacks or holds otherwise (an incremental run's recomputed rows)."""
    if not subset:
        return _differences(table, athena, duck)
    columns, rows = athena
    if columns != duck[0]:
        return [f"columns: athena {columns} != duckdb {duck[0]}"]
    key_at = [columns.index(key) for key in KEYS[table]]
    duck_by_key = {tuple(row[i] for i in key_at): row for row in duck[1]}
    differences = []
    for row in rows:
        key = tuple(row[i] for i in key_at)
        stored = duck_by_key.get(key)
        if stored is None:
            differences.append(f"key {key} not in duckdb")
            continue
        differences.extend(
            f"{key} {column}: athena {value!r} != duckdb {expected!r}"
            for column, value, expected in zip(columns, row, stored, strict=True)
            if not _same_value(value, expected)
        )
    return differences[:MISMATCHES_SHOWN]


@pytest.mark.parametrize("table", COMPARED)
def test_the_athena_sql_of_a_full_build_returns_the_duckdb_rows_on_trino(built, table):
    athena = built["first"]["athena"][table.split(".")[1]]
    duck = built["first"]["duckdb"][table]
    assert len(athena[1]) == len(duck[1])
    assert not _differences(table, athena, duck)


INCREMENTAL = [table for table in COMPARED if table not in ("gold.dim_symbol", "gold.predictions")]


@pytest.mark.parametrize("table", INCREMENTAL)
def test_the_incremental_athena_sql_recomputes_stored_rows_on_trino(built, table):
    """Compiled on the up-to-date warehouse, with its real cursors and bounds: what an
    Athena run would upsert now. The last batches in the look-back window are the
    correction and the split restatement (LONG_SYMBOL's whole history), so every
    per-symbol model recomputes LONG_SYMBOL from 2003 on, and each row it recomputes is the
    stored DuckDB row (the DuckDB build ran the same increment)."""
    name = table.split(".")[1]
    athena = built["incremental"]["athena"][name]
    duck = built["incremental"]["duckdb"][table]
    assert not _athena_differences(table, athena, duck, subset=True)
    columns, rows = athena
    if table == "bronze.ohlcv_rejected":
        return
    symbols = {row[columns.index("symbol")] for row in rows}
    assert LONG_SYMBOL in symbols, name
    assert len(rows) < len(duck[1])  # an increment, not a rebuild
    sql = built["athena_incremental"].model_sql(name)
    bounds = [int(b) for b in re.findall(r"session_index >= (\d+)", sql)]
    if name != "ohlcv_daily":
        assert bounds and min(bounds) > 0, name  # compiled from the warehouse, not >= 0


def test_the_full_athena_sql_of_every_model_runs_on_trino(built):
    full = built["athena_full"]
    models = {
        node["name"]
        for node in full.manifest["nodes"].values()
        if node["resource_type"] == "model" and node.get("language") == "sql"
    }
    assert set(built["first"]["athena"]) == models
    assert {table.split(".")[1] for table in COMPARED} <= models


def test_duckdb_reads_a_silver_table_trino_wrote_from_its_iceberg_metadata(built, trino_server):
    """One lake, two engines: the Iceberg metadata Trino committed (after a MERGE, so with
    delete files) is all DuckDB needs to read the table's current rows."""
    prefix, table = built["prefix"], "silver.ohlcv_21d"
    layer, name = table.split(".")
    latest = execute(
        trino_server,
        f'select file from {prefix}{layer}."{name}$metadata_log_entries" '
        "order by timestamp desc limit 1",
    )[0][0]
    metadata = trino_server.lake_root / latest.removeprefix("local:///")
    columns, trino_rows = table_rows(trino_server, prefix, table)
    with duckdb.connect() as con:
        load_packaged_extension(con, "avro")
        load_packaged_extension(con, "iceberg")
        # Trino writes local:/// URIs, relative to its lake root: allow_moved_paths reads
        # them under the table's folder, which is where they are.
        scan = (
            f"iceberg_scan('{metadata.parent.parent}', allow_moved_paths = true, "
            f"version = '{metadata.name.removesuffix('.metadata.json')}')"
        )
        duck_rows = con.execute(f"select {', '.join(columns)} from {scan}").fetchall()
    assert len(duck_rows) == len(trino_rows) > 100
    assert not _differences(table, (columns, duck_rows), (columns, trino_rows))
