"""The oracle of silver.candlestick_patterns: the same table computed with TA-Lib itself.

Each symbol's Bronze rows, ordered by date, are one series passed to all 61 CDL*
functions with their default parameters, exactly as an analyst would call TA-Lib. A dbt
test asserts the SQL model equals this table on every cell. DuckDB target only (Athena
runs no Python models); enabled there by dbt_project.yml.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import talib


def candlestick_signals(bars: pd.DataFrame) -> pd.DataFrame:
    """One row per bar of `bars` (symbol, date, open, high, low, close): every pattern."""
    bars = bars.sort_values(["symbol", "date"], kind="stable").reset_index(drop=True)
    columns = ("open", "high", "low", "close")
    prices = [bars[name].to_numpy(dtype=np.float64) for name in columns]
    symbols = bars["symbol"].to_numpy()
    # Each symbol is a contiguous slice after the sort; TA-Lib runs once per slice.
    starts = np.flatnonzero(np.r_[True, symbols[1:] != symbols[:-1]])
    ends = np.r_[starts[1:], len(bars)]
    signals = {}
    for function in talib.get_function_groups()["Pattern Recognition"]:
        compute = getattr(talib, function)
        column = np.zeros(len(bars), dtype=np.int16)
        for start, end in zip(starts, ends, strict=True):
            column[start:end] = compute(*(price[start:end] for price in prices))
        signals[function.lower()] = column
    return pd.concat([bars[["symbol", "date"]], pd.DataFrame(signals)], axis=1)


def model(dbt, session):  # noqa: ANN001, ANN201 - dbt's Python model contract
    dbt.config(materialized="table")
    bars = dbt.ref("ohlcv_daily").select("symbol, date, open, high, low, close").df()
    return candlestick_signals(bars)
