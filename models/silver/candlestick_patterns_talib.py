"""The oracle of silver.candlestick_patterns: the same table computed with TA-Lib itself.

Each symbol's Bronze rows, ordered by date, are one series passed to all 61 CDL*
functions, exactly as an analyst would call TA-Lib: one row per bar at the default
factors, plus the rows where moving every factor by 1e-9 changes a signal (the ties,
oracle/talib_candles.py). The test `matches_talib_oracle` compares the SQL model with it.
DuckDB target only (Athena runs no Python models), and not in the daily build: it
recomputes everything (selectors.yml).
"""

from __future__ import annotations

from oracle.talib_candles import oracle_table


def model(dbt, session):  # noqa: ANN001, ANN201 - dbt's Python model contract
    dbt.config(materialized="table", tags=["oracle"])
    bars = dbt.ref("ohlcv_daily").select("symbol, date, open, high, low, close").df()
    return oracle_table(bars)
