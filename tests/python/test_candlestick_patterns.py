"""All 61 candlestick patterns in SQL against TA-Lib, cell by cell.

The SQL is the project's own macros (frame and pattern macros, rendered as dbt renders
them) run in DuckDB on: the generated market that makes every pattern fire with every
value, the sample market, and real series shipped in PyPI packages (arch's S&P 500 and
NASDAQ, backtesting's GOOG, BTCUSD and EURUSD). The dbt model itself is checked against
TA-Lib by the dbt test against its Python-model oracle (every `dbt build`) and in
test_resample_reference.py.

A cell may differ only if it is a tie: TA-Lib keeps running sums whose last bits can
differ from a fresh window sum, so where a price sits exactly on a threshold the two can
round to opposite sides. Such a cell is accepted only if moving TA-Lib's candle-setting
factors by 1e-9 flips TA-Lib to the SQL value, and only if it is listed in KNOWN_TIES.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pytest
import talib
import talib.abstract

from core.paths import REPO_ROOT
from ingestion.bars import invalid_reasons
from ingestion.calendar import load_calendar
from ingestion.sample_market import BAD_PRINTS, SAMPLE_END, SAMPLE_START, SampleMarket
from oracle.talib_candles import DEFAULT_SETTINGS, PRICES, is_tie, talib_pattern, with_factors
from tests.python import candle_sql
from tests.python.candle_market import PATTERN_VALUES, candle_market, pattern_counts

# (dataset, symbol, bar index, pattern) -> (TA-Lib value, SQL value); none on these data.
KNOWN_TIES: dict[tuple[str, str, int, str], tuple[int, int]] = {}


def _frame(raw: pd.DataFrame, symbol: str) -> pd.DataFrame:
    frame = raw.rename(columns=str.lower)[PRICES].astype("float64").reset_index(drop=True)
    frame.insert(0, "symbol", symbol)
    frame.insert(1, "date", pd.RangeIndex(len(frame)))  # position is all TA-Lib sees
    return frame


def _generated() -> pd.DataFrame:
    frame = candle_market().rename(columns={"bar": "date"})
    return frame[["symbol", "date", *PRICES]]


def _sample() -> pd.DataFrame:
    """The sample market as Bronze holds it: its bad prints are quarantined, not bars."""
    calendar = load_calendar(REPO_ROOT / "seeds" / "trading_calendar.csv")
    market = SampleMarket(calendar)
    table = pa.concat_tables(
        market.ticker_range(s, SAMPLE_START, SAMPLE_END) for s in market.profiles
    )
    valid = table.filter(pc.is_null(invalid_reasons(table, calendar))).to_pandas()
    assert len(valid) == table.num_rows - len(BAD_PRINTS)
    return valid[["symbol", "date", *PRICES]]


def _package(loader: Callable[[], pd.DataFrame], symbol: str) -> Callable[[], pd.DataFrame]:
    return lambda: _frame(loader(), symbol)


def _arch(name: str) -> pd.DataFrame:
    import importlib

    return importlib.import_module(f"arch.data.{name}").load()


def _backtesting(name: str) -> pd.DataFrame:
    import backtesting.test

    return getattr(backtesting.test, name)


DATASETS: dict[str, Callable[[], pd.DataFrame]] = {
    "generated": _generated,
    "sample": _sample,
    "sp500": _package(lambda: _arch("sp500"), "SPX"),
    "nasdaq": _package(lambda: _arch("nasdaq"), "COMP"),
    "goog": _package(lambda: _backtesting("GOOG"), "GOOG"),
    "btcusd": _package(lambda: _backtesting("BTCUSD"), "BTCUSD"),
    "eurusd": _package(lambda: _backtesting("EURUSD"), "EURUSD"),
}


def _talib(pattern: str, series: pd.DataFrame) -> np.ndarray:
    return talib_pattern(pattern, [series[p].to_numpy() for p in PRICES])


@pytest.fixture(scope="module", params=list(DATASETS))
def compared(request: pytest.FixtureRequest) -> tuple[str, pd.DataFrame, pd.DataFrame]:
    bars = DATASETS[request.param]().sort_values(["symbol", "date"], ignore_index=True)
    return request.param, bars, candle_sql.run_patterns(bars)


def test_the_pattern_list_is_talibs() -> None:
    expected = [f.lower() for f in talib.get_function_groups()["Pattern Recognition"]]
    assert candle_sql.pattern_names() == expected
    assert len(expected) == 61


def test_talib_defaults_are_the_ones_the_macros_use() -> None:
    # This macro `return`s a dict; candle_sql.macro's annotation assumes rendered SQL (str).
    settings = candle_sql.macro("candle_settings")()
    ranges = {"real_body": 0, "high_low": 1, "shadows": 2}
    order = [
        "BodyLong", "BodyVeryLong", "BodyShort", "BodyDoji", "ShadowLong", "ShadowVeryLong",
        "ShadowShort", "ShadowVeryShort", "Near", "Far", "Equal",
    ]  # fmt: skip
    assert {
        i: (ranges[settings[n]["range"]], settings[n]["period"], settings[n]["factor"])
        for i, n in enumerate(order)
    } == DEFAULT_SETTINGS


@pytest.mark.parametrize("pattern", candle_sql.pattern_names())
def test_lookbacks_are_talibs(pattern: str) -> None:
    """The SQL masks the same leading rows as TA-Lib (rows before its lookback are 0):
    the lookback is a pattern's last condition, or, for the stateful Hikkakes, its first
    branch; no other lookback appears."""
    sql = candle_sql.macro(pattern)()
    # talib's abstract.pyi declares only the indicator functions, not the Function class.
    lookback = talib.abstract.Function(pattern.upper()).lookback  # type: ignore[attr-defined]
    guards = re.findall(r"when bar_number < (\d+)\s+then 0|and bar_number >= (\d+)", sql)
    assert {int(first or last) for first, last in guards} == {lookback}


def test_every_cell_equals_talib(compared: tuple[str, pd.DataFrame, pd.DataFrame]) -> None:
    name, bars, sql = compared
    assert len(sql) == len(bars)
    differences: dict[tuple[str, str, int, str], tuple[int, int]] = {}
    not_ties: list[str] = []
    for symbol, series in bars.groupby("symbol", sort=True):
        got = sql[sql["symbol"] == symbol]
        assert len(got) == len(series)  # both ordered by date
        for pattern in candle_sql.pattern_names():
            expected = _talib(pattern, series)
            actual = got[pattern].to_numpy()
            for row in np.flatnonzero(expected != actual):
                key = (name, str(symbol), int(row), pattern)
                differences[key] = (int(expected[row]), int(actual[row]))
                prices = [series[p].to_numpy() for p in PRICES]
                if not is_tie(pattern, prices, int(row), int(actual[row])):
                    not_ties.append(f"{key}: TA-Lib {expected[row]}, SQL {actual[row]}")
    assert not not_ties, "cells differing from TA-Lib that are not ties:\n" + "\n".join(
        not_ties[:20]
    )
    listed = {k: v for k, v in KNOWN_TIES.items() if k[0] == name}
    assert differences == listed, f"ties not listed in KNOWN_TIES: {differences}"


def test_generated_market_fires_every_pattern_with_every_value() -> None:
    sql = candle_sql.run_patterns(_generated())
    for pattern in candle_sql.pattern_names():
        fired = sql[pattern].value_counts().to_dict()
        for value in PATTERN_VALUES[pattern.upper()]:
            assert fired.get(value, 0) >= 5, f"{pattern} = {value} fired {fired.get(value, 0)}x"


def test_a_tie_is_recognised_by_moving_the_factors() -> None:
    """A body exactly on the doji threshold (0.25 <= 0.1 x 2.5) is a doji; with the factors
    moved by 1e-9 it is not: the tie check can tell a tie from a real difference."""
    ranges = [(10.0, 11.25, 8.75, 10.0)] * 10 + [(10.0, 10.5, 9.5, 10.25)]
    series = pd.DataFrame(ranges, columns=PRICES)
    assert _talib("cdldoji", series)[-1] == 100
    assert (
        candle_sql.run_patterns(series.assign(symbol="T", date=range(11)))["cdldoji"].iat[-1] == 100
    )
    prices = [series[p].to_numpy() for p in PRICES]
    assert with_factors(1 - 1e-9, "cdldoji", prices)[-1] == 0
    assert _talib("cdldoji", series)[-1] == 100  # the defaults are restored
    assert is_tie("cdldoji", prices, 10, 0)  # a SQL 0 there would be a tie
    assert not is_tie("cdldoji", prices, 9, 100)  # inside the lookback nothing flips


def test_generated_market_is_deterministic_and_counted_by_talib() -> None:
    first, second = candle_market(symbols=3, bars=400), candle_market(symbols=3, bars=400)
    pd.testing.assert_frame_equal(first, second)
    counts = pattern_counts(first)
    assert set(counts) == set(PATTERN_VALUES)


def test_sample_dates_are_sessions() -> None:
    """The sample series is compared on its real session dates (gaps included)."""
    bars = _sample()
    assert bars["date"].min() >= SAMPLE_START and bars["date"].max() <= SAMPLE_END
    assert isinstance(bars["date"].iloc[0], dt.date)
