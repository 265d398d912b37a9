"""Telling a tie from a real difference between the SQL patterns and TA-Lib.

TA-Lib keeps running sums whose last bits can differ from a fresh window sum, so where a
price sits exactly on a threshold the two can round to opposite sides. A differing cell
is a tie when moving every candle-setting factor by 1e-9 (either way) makes TA-Lib give
the SQL value.
"""

from __future__ import annotations

import numpy as np
import talib
from talib import _ta_lib

PRICES = ["open", "high", "low", "close"]

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


def talib_pattern(pattern: str, prices: list[np.ndarray]) -> np.ndarray:
    """TA-Lib's CDL function `pattern` (any case) over open, high, low, close arrays."""
    return getattr(talib, pattern.upper())(*(np.asarray(p, np.float64) for p in prices))


def with_factors(scale: float, pattern: str, prices: list[np.ndarray]) -> np.ndarray:
    """TA-Lib's output with every candle-setting factor multiplied by `scale`."""
    try:
        for setting, (range_type, period, factor) in DEFAULT_SETTINGS.items():
            _ta_lib._ta_set_candle_settings(setting, range_type, period, factor * scale)
        return talib_pattern(pattern, prices)
    finally:
        _ta_lib._ta_restore_candle_default_settings(11)


def is_tie(pattern: str, prices: list[np.ndarray], row: int, sql_value: int) -> bool:
    """Whether TA-Lib gives `sql_value` at `row` once its factors move by 1e-9."""
    return any(
        int(with_factors(scale, pattern, prices)[row]) == sql_value
        for scale in (1 - 1e-9, 1 + 1e-9)
    )
