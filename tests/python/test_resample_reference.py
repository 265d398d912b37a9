"""The six Silver resamples equal an independent pandas computation of the DESIGN definition.

One lake holds real daily series shipped in PyPI packages (arch's S&P 500 and NASDAQ
Composite, backtesting's GOOG; vwap synthesised and left out for some rows and whole
stretches) and the deterministic SampleMarket from its start to LATEST (a split, a reverse
split, listings, delistings, missing sessions, three bad prints). It is built once with
`dbt build`; every column of every row of silver.ohlcv_{3,5,8,13,21,34}d is then compared
with tests/python/resample_reference.py.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pytest

from core.lake import Lake
from core.paths import REPO_ROOT
from ingestion.bars import BAR_SCHEMA, invalid_reasons
from ingestion.calendar import TradingCalendar
from ingestion.landing import land_bars, land_tickers
from ingestion.sample_market import (
    BAD_PRINTS,
    REVERSE_SPLIT_DATE,
    REVERSE_SPLIT_SYMBOL,
    SAMPLE_START,
    SPLIT_DATE,
    SPLIT_SYMBOL,
    SampleMarket,
)
from tests.python.dbt_helpers import content_sql, dbt
from tests.python.resample_reference import (
    COLUMNS,
    FIBONACCI_SESSIONS,
    KEY,
    load_calendar_frame,
    resample,
)

SEED_CSV = REPO_ROOT / "seeds" / "trading_calendar.csv"
VWAP_RTOL = 1e-12  # pandas and DuckDB add vwap x volume in a different order
EXACT = [c for c in COLUMNS if c != "vwap"]  # picks, counts, flags and integer sums

# Landing times of the three batches: buckets straddling the sample's two batches must
# carry the later one as max_ingested_at.
REAL_LANDED = dt.datetime(2026, 1, 5, 9, 30, tzinfo=dt.UTC)
SAMPLE_FIRST_LANDED = dt.datetime(2026, 1, 5, 10, 0, 1, tzinfo=dt.UTC)
SAMPLE_SECOND_LANDED = dt.datetime(2026, 1, 6, 10, 0, 2, 500000, tzinfo=dt.UTC)
SAMPLE_BATCH_BOUNDARY = dt.date(2024, 3, 15)  # the sample's second batch starts here
# The latest date loaded: the last session of a 3- and a 5-session bucket (is_complete
# must be true on its boundary) and inside the 8- to 34-session buckets (incomplete bars).
LATEST = dt.date(2025, 12, 19)
LATEST_ENDS_BUCKETS = {3, 5}


def _sp500() -> pd.DataFrame:
    from arch.data import sp500

    return sp500.load()


def _nasdaq() -> pd.DataFrame:
    from arch.data import nasdaq

    return nasdaq.load()


def _goog() -> pd.DataFrame:
    from backtesting.test import GOOG

    return GOOG


REAL_SERIES: dict[str, Callable[[], pd.DataFrame]] = {
    "SPX": _sp500,  # arch.data.sp500: 1999-01-04 .. 2018-12-31
    "COMP": _nasdaq,  # arch.data.nasdaq: 1999-01-04 .. 2018-12-31
    "GOOG": _goog,  # backtesting.test.GOOG: 2004-08-19 .. 2013-03-01
}


@dataclass(repr=False)
class Landed:
    """What went into the lake, and the valid daily bars dbt should consolidate."""

    daily: pd.DataFrame  # valid bars: symbol, date, open..vwap, ingested_at (naive UTC)
    real_rows: dict[str, int]
    non_session_dropped: dict[str, int]
    real_without_vwap: int
    sample_rows: int
    invalid_rows: int


@dataclass(repr=False)
class Built:
    landed: Landed
    silver: dict[int, pd.DataFrame]
    bronze_daily: pd.DataFrame
    rejected: int
    candles: pd.DataFrame  # silver.candlestick_patterns by symbol, date


def _real_bars(symbol: str, raw: pd.DataFrame, sessions: set[dt.date], seed: int) -> pa.Table:
    """One real series as BAR_SCHEMA, on calendar sessions only, with a partial vwap."""
    frame = raw.rename(columns=str.lower)
    dates = pd.DatetimeIndex(frame.index).date
    frame = frame.loc[[day in sessions for day in dates]]
    n = len(frame)
    high, low, close = (frame[c].to_numpy(dtype="float64") for c in ("high", "low", "close"))
    vwap = (high + low + close) / 3.0
    rng = np.random.default_rng(seed)
    missing = rng.random(n) < 0.15  # scattered: buckets mixing rows with and without vwap
    stretch = 700 + 450 * seed
    missing[stretch : stretch + 90] = True  # several whole buckets of every size: null vwap
    return pa.table(
        {
            "symbol": pa.array([symbol] * n, pa.string()),
            "date": pa.array(pd.DatetimeIndex(frame.index).date, pa.date32()),
            "open": pa.array(frame["open"].to_numpy(dtype="float64")),
            "high": pa.array(high),
            "low": pa.array(low),
            "close": pa.array(close),
            "volume": pa.array(frame["volume"].to_numpy(dtype="float64")),
            "vwap": pa.array(vwap, mask=missing),
            "transactions": pa.nulls(n, pa.int64()),
        },
        schema=BAR_SCHEMA,
    )


def _valid_frame(
    table: pa.Table, calendar: TradingCalendar, landed_at: dt.datetime
) -> tuple[pd.DataFrame, int]:
    """The rows ingestion accepts (by the rule codes of ingestion.bars), as pandas."""
    valid = invalid_reasons(table, calendar).is_null().to_numpy(zero_copy_only=False)
    frame = table.to_pandas().loc[valid]
    frame["date"] = pd.to_datetime(frame["date"])
    frame["ingested_at"] = pd.Timestamp(landed_at.replace(tzinfo=None))
    return frame, int((~valid).sum())


def _land(
    lake: Lake, calendar: TradingCalendar, table: pa.Table, source: str, at: dt.datetime
) -> tuple[pd.DataFrame, int]:
    land_bars(lake, calendar, table, source, at)
    return _valid_frame(table, calendar, at)


def _land_all(lake: Lake, calendar: TradingCalendar) -> Landed:
    sessions = set(calendar.sessions)
    frames: list[pd.DataFrame] = []
    invalid = 0

    real_tables, real_rows, dropped = [], {}, {}
    for seed, (symbol, load) in enumerate(REAL_SERIES.items()):
        raw = load()
        table = _real_bars(symbol, raw, sessions, seed)
        real_tables.append(table)
        real_rows[symbol] = table.num_rows
        dropped[symbol] = len(raw) - table.num_rows
    real = pa.concat_tables(real_tables)
    frame, bad = _land(lake, calendar, real, "file:real_series.parquet", REAL_LANDED)
    frames.append(frame)
    invalid += bad

    market = SampleMarket(calendar)
    sample = pa.concat_tables(
        market.ticker_range(symbol, SAMPLE_START, LATEST) for symbol in market.profiles
    )
    boundary = pa.scalar(SAMPLE_BATCH_BOUNDARY, pa.date32())
    dates = sample["date"]
    for part, at in (
        (sample.filter(pc.less(dates, boundary)), SAMPLE_FIRST_LANDED),
        (sample.filter(pc.greater_equal(dates, boundary)), SAMPLE_SECOND_LANDED),
    ):
        frame, bad = _land(lake, calendar, part, "sample", at)
        frames.append(frame)
        invalid += bad
    tickers = pa.concat_tables(
        [market.tickers(LATEST, active=True), market.tickers(LATEST, active=False)]
    )
    land_tickers(lake, tickers, "sample", SAMPLE_SECOND_LANDED)

    daily = pd.concat(frames, ignore_index=True)
    return Landed(
        daily=daily,
        real_rows=real_rows,
        non_session_dropped=dropped,
        real_without_vwap=real["vwap"].null_count,
        sample_rows=sample.num_rows,
        invalid_rows=invalid,
    )


def _normalise(frame: pd.DataFrame) -> pd.DataFrame:
    frame = frame.copy()
    for column in ("bucket_start", "bucket_end", "date", "max_ingested_at", "ingested_at"):
        if column in frame:
            frame[column] = pd.to_datetime(frame[column]).astype("datetime64[us]")
    return frame


@pytest.fixture(scope="module")
def calendar_frame() -> pd.DataFrame:
    return load_calendar_frame(str(SEED_CSV))


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory, calendar: TradingCalendar) -> Built:
    tmp = tmp_path_factory.mktemp("resample_reference")
    lake_dir, warehouse = tmp / "lake", tmp / "warehouse.duckdb"
    landed = _land_all(Lake.open(str(lake_dir)), calendar)
    # The real series end in 2018 and the sample starts in 2022: that gap is deliberate,
    # so the "no session without any bars" check does not apply to this lake.
    dbt(tmp, lake_dir, warehouse, "build", "--exclude", "assert_no_missing_market_sessions")
    return _read(Path(warehouse), landed)


def _read(warehouse: Path, landed: Landed) -> Built:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        silver = {
            n: _normalise(con.execute(content_sql(con, f"silver.ohlcv_{n}d")).df())
            for n in FIBONACCI_SESSIONS
        }
        bronze_daily = _normalise(
            con.execute(
                "select symbol, date, open, high, low, close, volume, vwap, ingested_at"
                " from bronze.ohlcv_daily"
            ).df()
        )
        candles = con.execute(
            content_sql(con, "silver.candlestick_patterns") + " order by symbol, date"
        ).df()
        counted = con.execute("select count(*) from bronze.ohlcv_rejected").fetchone()
        assert counted is not None  # an aggregate without GROUP BY returns one row
        rejected = counted[0]
    return Built(landed, silver, bronze_daily, rejected, candles)


def _show(frame: pd.DataFrame, limit: int = 8) -> str:
    with pd.option_context("display.width", 250, "display.max_columns", 40):
        return f"{len(frame)} rows, first {min(limit, len(frame))}:\n{frame.head(limit)}"


def _mismatches(actual: pd.DataFrame, expected: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """Per column, the rows where dbt and pandas disagree (frames aligned on KEY)."""
    problems: dict[str, pd.DataFrame] = {}
    for column in COLUMNS:
        a, e = actual[column], expected[column]
        if column in EXACT:
            bad = ~((a == e) | (a.isna() & e.isna()))
        else:
            a_values = a.to_numpy(dtype="float64", na_value=np.nan)
            e_values = e.to_numpy(dtype="float64", na_value=np.nan)
            both = ~np.isnan(a_values) & ~np.isnan(e_values)
            close = np.zeros(len(a), dtype=bool)
            close[both] = np.isclose(a_values[both], e_values[both], rtol=VWAP_RTOL, atol=0.0)
            bad = ~(close | (np.isnan(a_values) & np.isnan(e_values)))
        if bad.any():
            problems[column] = pd.DataFrame(
                {"symbol": actual["symbol"], "bucket_start": actual["bucket_start"]}
            ).assign(dbt=a, pandas=e)[np.asarray(bad)]
    return problems


def test_landed_data_is_substantial_and_consolidated_as_expected(built: Built) -> None:
    landed = built.landed
    daily = landed.daily
    # Real series: the packages' bars, all on NYSE sessions of the seed (0 dropped today;
    # the count is kept so a data change shows up here).
    assert landed.real_rows == {"SPX": 5031, "COMP": 5031, "GOOG": 2148}
    assert landed.non_session_dropped == {"SPX": 0, "COMP": 0, "GOOG": 0}
    assert landed.real_without_vwap > 1000
    # The sample's three bad prints are the only invalid rows, and dbt quarantined them.
    assert landed.invalid_rows == len(BAD_PRINTS) == 3
    assert built.rejected == landed.invalid_rows
    assert landed.sample_rows > 55_000
    assert daily["symbol"].nunique() == 63
    assert len(daily) == sum(landed.real_rows.values()) + landed.sample_rows - 3
    # Bronze holds exactly the bars the reference resamples.
    key = ["symbol", "date"]
    expected = _normalise(daily[built.bronze_daily.columns]).sort_values(key, ignore_index=True)
    actual = built.bronze_daily.sort_values(key, ignore_index=True)
    pd.testing.assert_frame_equal(actual, expected, check_dtype=False)


def test_the_latest_date_ends_some_buckets_and_not_others(calendar_frame: pd.DataFrame) -> None:
    index = calendar_frame.set_index("session_date").loc[pd.Timestamp(LATEST), "session_index"]
    ends = {n for n in FIBONACCI_SESSIONS if (index + 1) % n == 0}
    assert ends == LATEST_ENDS_BUCKETS


@pytest.mark.parametrize("sessions", FIBONACCI_SESSIONS)
def test_silver_resample_equals_pandas_reference(
    built: Built, calendar_frame: pd.DataFrame, sessions: int
) -> None:
    daily = built.landed.daily
    expected = resample(daily, calendar_frame, sessions)
    actual = built.silver[sessions]
    assert sorted(actual.columns) == sorted(COLUMNS)
    actual = actual[COLUMNS].sort_values(KEY, ignore_index=True)

    # Not a comparison of empty tables: every valid bar of every symbol is in one row.
    assert expected["symbol"].nunique() == 63
    assert int(expected["n_sessions"].sum()) == len(daily) > 65_000
    assert len(expected) >= len(daily) // sessions
    # The cases the definition cares about occur in the data.
    latest = pd.Timestamp(LATEST)
    assert daily["date"].max() == latest
    last_bucket = expected[expected["bucket_end"] >= latest]
    assert last_bucket["symbol"].nunique() > 50
    if sessions in LATEST_ENDS_BUCKETS:
        assert (last_bucket["bucket_end"] == latest).all() and expected["is_complete"].all()
    else:
        assert (last_bucket["bucket_end"] > latest).all() and not last_bucket["is_complete"].any()
    assert expected["vwap"].isna().any() and expected["vwap"].notna().any()
    assert (expected["n_sessions"] < sessions).any()

    assert len(actual) == len(expected), f"{sessions}d: {len(actual)} rows, pandas {len(expected)}"
    keys = actual[KEY].merge(expected[KEY], how="outer", indicator=True)
    only = keys[keys["_merge"] != "both"]
    assert only.empty, f"{sessions}d: keys differ: {_show(only)}"

    problems = _mismatches(actual, expected)
    report = "\n".join(f"{column}: {_show(rows)}" for column, rows in problems.items())
    assert not problems, f"{sessions}d: dbt differs from pandas\n{report}"


def test_splits_listings_and_delistings_are_in_the_compared_data(built: Built) -> None:
    """The sample's awkward cases reach the resamples (checked on the 34-session table)."""
    bars = built.silver[34]
    daily = built.landed.daily
    for symbol, day in ((SPLIT_SYMBOL, SPLIT_DATE), (REVERSE_SPLIT_SYMBOL, REVERSE_SPLIT_DATE)):
        when = pd.Timestamp(day)
        mask = (bars["symbol"] == symbol) & (bars["bucket_start"] <= when)
        assert (mask & (bars["bucket_end"] >= when)).sum() == 1
    first = daily.groupby("symbol")["date"].min()
    last = daily.groupby("symbol")["date"].max()
    sample = first.index.difference(list(REAL_SERIES))
    assert (first[sample] > pd.Timestamp(SAMPLE_START)).sum() >= 5  # listings
    assert (last[sample] < pd.Timestamp(LATEST)).sum() >= 3  # delistings
    # A bucket straddling the sample's two batches carries the later landing time.
    straddle = bars[
        (bars["bucket_start"] < pd.Timestamp(SAMPLE_BATCH_BOUNDARY))
        & (bars["bucket_end"] >= pd.Timestamp(SAMPLE_BATCH_BOUNDARY))
    ]
    later = pd.Timestamp(SAMPLE_SECOND_LANDED.replace(tzinfo=None))
    assert (straddle["max_ingested_at"] == later).sum() >= 50


def test_dbt_candlestick_patterns_equal_talib_on_bronze(built: Built) -> None:
    """The dbt model itself, on real series and the sample as consolidated in Bronze: each
    symbol's rows by date are one TA-Lib series; every one of the 61 columns agrees."""
    import talib

    daily = built.bronze_daily.sort_values(["symbol", "date"], ignore_index=True)
    candles = built.candles
    assert candles[["symbol", "date"]].equals(daily[["symbol", "date"]])
    functions = talib.get_function_groups()["Pattern Recognition"]
    fired = 0
    for symbol, series in daily.groupby("symbol", sort=True):
        rows = (candles["symbol"] == symbol).to_numpy()
        prices = [series[c].to_numpy("float64") for c in ("open", "high", "low", "close")]
        for function in functions:
            expected = getattr(talib, function)(*prices)
            actual = candles.loc[rows, function.lower()].to_numpy()
            bad = np.flatnonzero(expected != actual)
            assert bad.size == 0, f"{symbol} {function}: rows {bad[:5]} differ from TA-Lib"
            fired += int((actual != 0).sum())
    assert fired > 10_000
