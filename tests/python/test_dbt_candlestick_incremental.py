"""silver.candlestick_patterns built day by day equals a full rebuild.

The sample market lands on a staged clock (a day apart, so the 60-minute cursor
look-back does not make every run see everything as new): history to the Friday before
NVLX's split, then the split week (its restatement rewrites NVLX's whole history), then
a back-dated correction of one bar. Each step is a `dbt build` of the model with its
TA-Lib oracle, so the matches_talib_oracle test checks every step too; the end state must equal
a full refresh on a fresh warehouse.
"""

from __future__ import annotations

import datetime as dt

import duckdb
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as ds
import pytest

from core.lake import Lake
from ingestion import landing_pipeline
from ingestion.fetch import OhlcvRequest, fetch_ohlcv, fetch_tickers
from ingestion.landing import land_bars
from ingestion.sample_market import SPLIT_DATE, SPLIT_SYMBOL, SampleMarket
from ingestion.stores import Stores
from tests.python.dbt_helpers import content_sql, dbt, landed_at

START = dt.date(2024, 1, 2)
BEFORE_SPLIT = dt.date(2024, 6, 7)
SPLIT_WEEK_END = dt.date(2024, 6, 12)
CORRECTED_SYMBOL = "ACRN"
CORRECTED_DATE = dt.date(2024, 5, 1)
SELECT = (
    "--select",
    "+candlestick_patterns",
    "candlestick_patterns_talib",
    "--indirect-selection",
    "cautious",
)


def _patterns(warehouse) -> list[tuple]:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        content = content_sql(con, "silver.candlestick_patterns")
        return con.execute(f"{content} order by all").fetchall()


def _row(warehouse, symbol: str, date: dt.date) -> dict[str, object]:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        cursor = con.execute(
            f"{content_sql(con, 'silver.candlestick_patterns')} where symbol = ? and date = ?",
            [symbol, date],
        )
        names = [column[0] for column in cursor.description]
        row = cursor.fetchone()
        assert row is not None, f"no candlestick_patterns row for {symbol} on {date}"
        return dict(zip(names, row, strict=True))


def _doji_correction(lake_dir, symbol: str, date: dt.date) -> pa.Table:
    """The landed bar of `symbol` on `date`, corrected to close where it opened."""
    landed = ds.dataset(lake_dir / "bronze" / "raw_ohlcv", partitioning="hive").to_table(
        filter=(ds.field("symbol") == symbol) & (ds.field("date") == date)
    )
    bar = landed.sort_by([("ingested_at", "descending")]).slice(0, 1)
    columns = ["symbol", "date", "open", "high", "low", "close", "volume", "vwap", "transactions"]
    bar = bar.select(columns)
    return bar.set_column(columns.index("close"), "close", bar["open"])


@pytest.fixture(scope="module")
def built(tmp_path_factory, calendar):
    tmp = tmp_path_factory.mktemp("candles_incremental")
    lake_dir, warehouse = tmp / "lake", tmp / "warehouse.duckdb"
    lake = Lake.open(str(lake_dir))
    stores = Stores.connect(f"sqlite:///{tmp / 'wm.sqlite'}")
    market = SampleMarket(calendar)
    clock = pytest.MonkeyPatch()
    steps: dict[str, object] = {"warehouse": warehouse}
    try:
        clock.setattr(landing_pipeline, "utcnow", lambda: landed_at(BEFORE_SPLIT))
        fetch_tickers(market, lake, stores, BEFORE_SPLIT)
        request = OhlcvRequest(start=START, end=BEFORE_SPLIT, history_start=START)
        fetch_ohlcv(market, lake, stores, calendar, request)
        dbt(tmp, lake_dir, warehouse, "build", *SELECT)
        steps["before_split"] = _patterns(warehouse)

        clock.setattr(landing_pipeline, "utcnow", lambda: landed_at(SPLIT_WEEK_END))
        request = OhlcvRequest(end=SPLIT_WEEK_END, history_start=START)
        steps["split_week"] = fetch_ohlcv(market, lake, stores, calendar, request).to_dict()
        dbt(tmp, lake_dir, warehouse, "build", *SELECT)
        steps["after_split"] = _patterns(warehouse)
        steps["doji_before"] = _row(warehouse, CORRECTED_SYMBOL, CORRECTED_DATE)["cdldoji"]

        correction = _doji_correction(lake_dir, CORRECTED_SYMBOL, CORRECTED_DATE)
        corrected_at = landed_at(SPLIT_WEEK_END) + dt.timedelta(days=1)
        land_bars(lake, calendar, correction, "correction", corrected_at)
        dbt(tmp, lake_dir, warehouse, "build", *SELECT)
        steps["after_correction"] = _patterns(warehouse)
    finally:
        clock.undo()

    full = tmp / "full.duckdb"
    dbt(tmp, lake_dir, full, "build", *SELECT, "--full-refresh")
    steps["full"] = _patterns(full)
    return steps


def test_the_split_week_restates_one_symbol_and_adds_three_sessions(built):
    assert built["split_week"]["restated_symbols"] == [SPLIT_SYMBOL]
    new = {row[1] for row in built["after_split"]} - {row[1] for row in built["before_split"]}
    assert new == {SPLIT_DATE + dt.timedelta(days=d) for d in range(3)}  # Mon..Wed


def test_the_back_dated_correction_reaches_the_table(built):
    row = _row(built["warehouse"], CORRECTED_SYMBOL, CORRECTED_DATE)
    assert built["doji_before"] == 0  # the test would prove nothing on a bar already a doji
    assert row["cdldoji"] == 100  # a bar that closes where it opened is TA-Lib's doji
    # Bronze keeps UTC timestamps without a zone
    corrected_at = landed_at(SPLIT_WEEK_END) + dt.timedelta(days=1)
    assert row["ingested_at"] == corrected_at.replace(tzinfo=None)
    changed = {(r[0], r[1]) for r in set(built["after_correction"]) - set(built["after_split"])}
    assert (CORRECTED_SYMBOL, CORRECTED_DATE) in changed
    # only the corrected bar and the rows whose patterns can reach back to it
    assert all(symbol == CORRECTED_SYMBOL and date >= CORRECTED_DATE for symbol, date in changed)


def test_built_day_by_day_equals_a_full_rebuild(built):
    assert built["after_correction"] == built["full"]
    split_rows = [row for row in built["full"] if row[0] == SPLIT_SYMBOL]
    stamps = pc.unique(pa.array([row[-1] for row in split_rows]))
    # every NVLX row now comes from the restatement (or a later session's landing)
    assert min(stamps.to_pylist()) == landed_at(SPLIT_WEEK_END).replace(tzinfo=None)
