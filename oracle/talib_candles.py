"""TA-Lib as the oracle of silver.candlestick_patterns, and telling a tie from a difference.

TA-Lib keeps running sums whose last bits can differ from a fresh window sum, so where a
price sits exactly on a threshold the two can round to opposite sides. A differing cell
is a tie when moving every candle-setting factor by 1e-9 (either way) makes TA-Lib give
the SQL value. The dbt oracle model (models/silver/candlestick_patterns_talib.py) writes
TA-Lib's signals at the default factors and at both moved factors, so the dbt test
applies the same rule as the Python tests and the bench.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import numpy as np
import pandas as pd
import talib
from talib import _ta_lib

PRICES = ["open", "high", "low", "close"]

# Both ways a tie may be proven: every factor times (1 - 1e-9) or (1 + 1e-9).
TIE_SCALES = (1 - 1e-9, 1 + 1e-9)

# TA-Lib's default candle settings (TA_RestoreCandleDefaultSettings): setting enum ->
# (range type enum, period, factor); see macros/candles/candle_settings.sql.
DEFAULT_SETTINGS = {
    0: (0, 10, 1.0),  # BodyLong
    1: (0, 10, 3.0),  # BodyVeryLong
    2: (0, 10, 1.0),  # BodyShort
    3: (1, 10, 0.1),  # BodyDoji
    4: (0, 0, 1.0),  # ShadowLong
    5: (0, 0, 2.0),  # ShadowVeryLong
    6: (2, 10, 1.0),  # ShadowShort
    7: (1, 10, 0.1),  # ShadowVeryShort
    8: (1, 5, 0.2),  # Near
    9: (1, 5, 0.6),  # Far
    10: (1, 5, 0.05),  # Equal
}


def pattern_functions() -> list[str]:
    """TA-Lib's 61 CDL* function names."""
    return list(talib.get_function_groups()["Pattern Recognition"])


@contextmanager
def factors_scaled(scale: float) -> Iterator[None]:
    """Every candle-setting factor multiplied by `scale` inside the block."""
    try:
        for setting, (range_type, period, factor) in DEFAULT_SETTINGS.items():
            # Private TA-Lib call, absent from talib's _ta_lib.pyi.
            _ta_lib._ta_set_candle_settings(  # type: ignore[attr-defined]
                setting, range_type, period, factor * scale
            )
        yield
    finally:
        # Private TA-Lib call, absent from talib's _ta_lib.pyi.
        _ta_lib._ta_restore_candle_default_settings(11)  # type: ignore[attr-defined]


def talib_pattern(pattern: str, prices: list[np.ndarray]) -> np.ndarray:
    """TA-Lib's CDL function `pattern` (any case) over open, high, low, close arrays."""
    return getattr(talib, pattern.upper())(*(np.asarray(p, np.float64) for p in prices))


def with_factors(scale: float, pattern: str, prices: list[np.ndarray]) -> np.ndarray:
    """TA-Lib's output with every candle-setting factor multiplied by `scale`."""
    with factors_scaled(scale):
        return talib_pattern(pattern, prices)


def is_tie(pattern: str, prices: list[np.ndarray], row: int, sql_value: int) -> bool:
    """Whether TA-Lib gives `sql_value` at `row` once its factors move by 1e-9."""
    return any(int(with_factors(scale, pattern, prices)[row]) == sql_value for scale in TIE_SCALES)


def candlestick_signals(bars: pd.DataFrame) -> pd.DataFrame:
    """All 61 patterns for every bar of `bars` (symbol, date, open, high, low, close),
    each symbol's rows by date as one series: one row per bar, sorted by symbol and date."""
    bars = bars.sort_values(["symbol", "date"], kind="stable").reset_index(drop=True)
    prices = [bars[name].to_numpy(dtype=np.float64) for name in PRICES]
    symbols = bars["symbol"].to_numpy()
    # Each symbol is a contiguous slice after the sort; TA-Lib runs once per slice.
    starts = np.flatnonzero(np.r_[True, symbols[1:] != symbols[:-1]])
    ends = np.r_[starts[1:], len(bars)]
    signals = {}
    for function in pattern_functions():
        compute = getattr(talib, function)
        column = np.zeros(len(bars), dtype=np.int16)
        for start, end in zip(starts, ends, strict=True):
            column[start:end] = compute(*(price[start:end] for price in prices))
        signals[function.lower()] = column
    return pd.concat([bars[["symbol", "date"]], pd.DataFrame(signals)], axis=1)


def oracle_table(bars: pd.DataFrame) -> pd.DataFrame:
    """TA-Lib's signals at the default factors (`factor_scale` 1.0) for every bar, plus,
    for each tie scale, the bars where moving the factors changes any signal: a SQL value
    may differ from the default row only where it equals one of those rows."""
    default = candlestick_signals(bars)
    frames = [default.assign(factor_scale=1.0)]
    patterns = [name.lower() for name in pattern_functions()]
    for scale in TIE_SCALES:
        with factors_scaled(scale):
            moved = candlestick_signals(bars)
        changed = (moved[patterns].to_numpy() != default[patterns].to_numpy()).any(axis=1)
        frames.append(moved[changed].assign(factor_scale=scale))
    return pd.concat(frames, ignore_index=True)
