"""What the data tests read: a daily `dbt build` checks what it wrote, `dbt test` and the
verify selector check everything, and the TA-Lib oracle stays out of the daily build but
keeps its strictness (a differing cell passes only as a proven tie)."""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from core.lake import Lake
from core.paths import REPO_ROOT
from ingestion import landing_pipeline
from ingestion.bars import LANDING_OHLCV_SCHEMA
from ingestion.fetch import OhlcvRequest, fetch_ohlcv, fetch_tickers
from ingestion.sample_market import SampleMarket
from ingestion.stores import Stores
from tests.python.dbt_helpers import DBT, dbt, landed_at

LAST = dt.date(2025, 12, 31)
ORACLE_TEST = "test_name:matches_talib_oracle"


def _dbt_outcome(tmp: Path, lake: Path, warehouse: Path, *args: str) -> tuple[int, str]:
    """`dbt <args>` that may fail: its exit code and output."""
    env = {
        **os.environ,
        "LAKE_ROOT": str(lake),
        "WAREHOUSE_PATH": str(warehouse),
        "DBT_PROFILES_DIR": str(REPO_ROOT),
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
    }
    env.pop("DBT_TARGET", None)
    paths = ["--project-dir", str(REPO_ROOT), "--target-path", str(tmp / "target")]
    result = subprocess.run(
        [DBT, *args, *paths, "--log-path", str(tmp / "logs")],
        env=env, capture_output=True, text=True, check=False,
    )  # fmt: skip
    return result.returncode, result.stdout


def _run_results(tmp: Path) -> dict[str, str]:
    results = json.loads((tmp / "target" / "run_results.json").read_text())["results"]
    return {result["unique_id"]: result["status"] for result in results}


def _compiled_tests(tmp: Path) -> dict[str, str]:
    """Compiled SQL of every data test of the last invocation, by file stem."""
    root = tmp / "target" / "compiled" / "condvest"
    return {path.stem: path.read_text() for path in root.rglob("*.sql") if "models" in path.parts
            and path.parent.name.endswith(".yml")}  # fmt: skip


@pytest.fixture(scope="module")
def scoped(tmp_path_factory, calendar):
    """Built in full (oracle included) up to the day before LAST; the tie checks; an old
    bad row planted; then LAST landed and the daily `dbt build`."""
    tmp = tmp_path_factory.mktemp("test_scope")
    lake_dir, warehouse = tmp / "lake", tmp / "warehouse.duckdb"
    lake = Lake.open(str(lake_dir))
    stores = Stores.connect(f"sqlite:///{tmp / 'wm.sqlite'}")
    market = SampleMarket(calendar)
    *_, earlier, before, _ = calendar.sessions_between(dt.date(2025, 1, 2), LAST)
    clock = pytest.MonkeyPatch()
    # each session landed after its close, so the daily run's look-back (an hour before
    # the newest landing) re-reads `before` and reaches LAST, not the history
    clock.setattr(landing_pipeline, "utcnow", lambda: landed_at(earlier))
    fetch_tickers(market, lake, stores, before)
    fetch_ohlcv(
        market, lake, stores, calendar, OhlcvRequest(start=dt.date(2024, 1, 2), end=earlier)
    )
    clock.setattr(landing_pipeline, "utcnow", lambda: landed_at(before))
    fetch_ohlcv(market, lake, stores, calendar, OhlcvRequest(end=before))
    dbt(tmp, lake_dir, warehouse, "build", "--selector", "verify")
    outcome: dict[str, object] = {"full": _run_results(tmp)}

    # A cell that differs from TA-Lib fails the oracle test, unless TA-Lib with moved
    # factors gives the SQL value (a tie row in the oracle).
    with duckdb.connect(str(warehouse)) as con:
        symbol, date = con.execute(
            "select symbol, date from silver.candlestick_patterns where cdldoji = 0 "
            "order by symbol, date limit 1"
        ).fetchone()
        con.execute(
            "update silver.candlestick_patterns set cdldoji = 100 where symbol = ? and date = ?",
            [symbol, date],
        )
    outcome["differs"] = _dbt_outcome(tmp, lake_dir, warehouse, "test", "--select", ORACLE_TEST)
    with duckdb.connect(str(warehouse)) as con:
        con.execute(
            "insert into silver.candlestick_patterns_talib select * replace "
            "(100 as cdldoji, 1 + 1e-9 as factor_scale) from silver.candlestick_patterns_talib "
            "where symbol = ? and date = ? and factor_scale = 1",
            [symbol, date],
        )
    outcome["tie"] = _dbt_outcome(tmp, lake_dir, warehouse, "test", "--select", ORACLE_TEST)
    with duckdb.connect(str(warehouse)) as con:
        con.execute(
            "update silver.candlestick_patterns set cdldoji = 0 where symbol = ? and date = ?",
            [symbol, date],
        )
        # An old row broken behind dbt's back: the daily build does not read it again.
        con.execute(
            "update silver.ohlcv_3d set open = null where bucket_start = "
            "(select min(bucket_start) from silver.ohlcv_3d)"
        )

    clock.setattr(landing_pipeline, "utcnow", lambda: landed_at(LAST))
    fetch_ohlcv(market, lake, stores, calendar, OhlcvRequest(end=LAST))
    clock.undo()
    outcome["daily_output"] = dbt(tmp, lake_dir, warehouse, "build")
    outcome["daily"] = _run_results(tmp)
    outcome["daily_sql"] = _compiled_tests(tmp)
    outcome["dbt_test"] = _dbt_outcome(tmp, lake_dir, warehouse, "test", "--select", "ohlcv_3d")
    outcome["all"] = _dbt_outcome(
        tmp, lake_dir, warehouse, "build", "--select", "ohlcv_3d", "--vars", "{test_scope: all}"
    )
    _land_malformed(lake_dir)
    outcome["bad_landing"] = _dbt_outcome(
        tmp, lake_dir, warehouse, "test", "--select", "assert_landing_rows_are_all_accounted_for"
    )
    return outcome


def _land_malformed(lake_dir: Path) -> None:
    """A landing file a broken writer could leave: one batch position twice, a row with
    no symbol, and a valid bar no dbt run has consolidated."""
    schema = pa.schema([field.with_nullable(True) for field in LANDING_OHLCV_SCHEMA])
    stamp = landed_at(LAST) + dt.timedelta(hours=1)
    rows = [
        ("AAPL", LAST, "dup", 0),
        ("AAPL", LAST, "dup", 0),
        (None, LAST, "nosymbol", 0),
        ("ZZZZ", LAST, "lost", 0),
    ]
    table = pa.Table.from_pylist(
        [
            {
                "symbol": symbol,
                "date": date,
                "open": 1.0,
                "high": 1.0,
                "low": 1.0,
                "close": 1.0,
                "volume": 1.0,
                "vwap": 1.0,
                "transactions": 1,
                "source": "test",
                "ingested_at": stamp,
                "batch_id": batch,
                "batch_row": row,
                "invalid_reason": None,
            }
            for symbol, date, batch, row in rows
        ],
        schema=schema,
    )
    folder = lake_dir / "bronze" / "raw_ohlcv" / f"ingest_date={stamp.date()}"
    folder.mkdir(parents=True, exist_ok=True)
    pq.write_table(table, folder / "malformed.parquet")


def test_the_oracle_runs_with_the_verify_selector_only(scoped):
    assert scoped["full"]["model.condvest.candlestick_patterns_talib"] == "success"
    assert any("matches_talib_oracle" in node for node in scoped["full"])
    oracle = ("candlestick_patterns_talib", "matches_talib_oracle")
    assert not any(name in node for node in scoped["daily"] for name in oracle)
    assert not any(node.startswith("unit_test.") for node in scoped["daily"])
    assert "Using default selector daily" in scoped["daily_output"]


def test_a_cell_that_differs_from_talib_fails_unless_it_is_a_proven_tie(scoped):
    code, output = scoped["differs"]
    assert code == 1 and "FAIL 1 matches_talib_oracle" in output
    code, output = scoped["tie"]
    assert code == 0, output[-3000:]


def test_the_daily_build_tests_the_rows_it_wrote(scoped):
    sql = scoped["daily_sql"]
    run_start = "built_at >= cast('"
    assert run_start in sql["ohlcv_3d__not_null_columns"]
    assert run_start in sql["ml_features__relationships_by_key"]
    # a key test reads every row sharing a key with this run's rows
    unique = sql["unique_combination_of_columns_ohlcv_daily_symbol__date"]
    assert "inner join (" in unique and "touched.symbol = scoped.symbol" in unique
    # tables that are rebuilt whole are tested whole
    assert "built_at" not in sql["dim_symbol__not_null_columns"]
    tests = [status for node, status in scoped["daily"].items() if node.startswith("test.")]
    assert len(tests) > 40 and set(tests) <= {"pass", "warn"}


def test_dbt_test_and_test_scope_all_check_the_whole_table(scoped):
    for outcome in (scoped["dbt_test"], scoped["all"]):
        code, output = outcome
        assert code == 1
        assert "FAIL 1 ohlcv_3d__not_null_columns" in output


def test_the_reconciliation_names_each_malformed_or_lost_landing_row(scoped):
    code, output = scoped["bad_landing"]
    assert code == 1
    assert "Got 4 results" in output
