"""Benchmark the 61 candlestick patterns: the dbt model against TA-Lib per symbol.

    python -m bench.bench_candles --symbols 10000 --sessions 2520

On the generated market (bench.generate_market, last session held back) Bronze is built
once; then, in the same run:
- full: `dbt run --full-refresh` of silver.candlestick_patterns (the model's execution
  time as dbt reports it, which includes reading Bronze and writing the table; the
  process's wall time including dbt start-up; peak RSS);
- TA-Lib: the same Bronze rows read sorted out of DuckDB, then all 61 functions called
  per symbol from Python (read and compute timed apart);
- agreement: every cell of the dbt table against TA-Lib's, a differing cell classified
  as a tie (TA-Lib flips to the SQL value when its factors move by 1e-9) or not;
- daily: the held-back session lands, Bronze takes it, and the incremental run of
  silver.candlestick_patterns is timed; its new rows are checked against TA-Lib run on
  each symbol's last bars.
Targets (issue 4): the model within 2x of TA-Lib's compute; daily increment under 10 s
(wall time of the dbt process).
"""

from __future__ import annotations

import argparse
import datetime as dt
import itertools
import resource
import time
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as ds
import talib

from bench.dbt_runs import Dbt, market, save_result
from oracle.talib_candles import PRICES, is_tie

PATTERNS = talib.get_function_groups()["Pattern Recognition"]
BRONZE = ["--select", "staging", "bronze", "trading_calendar"]
MODEL = ["--select", "candlestick_patterns"]
# Bars of each symbol TA-Lib sees when checking the daily rows: more than any pattern
# reaches back (14 bars, see candle_history_bars()).
CHECK_BARS = 40


def talib_per_symbol(con: duckdb.DuckDBPyConnection, bars: str) -> tuple[pa.Table, dict]:
    """TA-Lib's 61 functions over `bars` (symbol, date, open, high, low, close), per symbol."""
    started = time.perf_counter()
    rows = con.execute(f"""
        select symbol, date, open::double as open, high::double as high,
               low::double as low, close::double as close
        from ({bars}) order by symbol, date""").to_arrow_table()
    lengths = con.execute(f"select count(*) from ({bars}) group by symbol order by symbol")
    bounds = np.concatenate([[0], np.cumsum([n for (n,) in lengths.fetchall()])])
    prices = {name: rows[name].to_numpy() for name in ("open", "high", "low", "close")}
    read = time.perf_counter() - started

    started = time.perf_counter()
    signals = {name: np.zeros(rows.num_rows, dtype=np.int16) for name in PATTERNS}
    for start, stop in itertools.pairwise(bounds):
        series = [prices[name][start:stop] for name in ("open", "high", "low", "close")]
        for name in PATTERNS:
            signals[name][start:stop] = getattr(talib, name)(*series)
    compute = time.perf_counter() - started
    table = rows.select(["symbol", "date"])
    for name in PATTERNS:
        table = table.append_column(name.lower(), pa.array(signals[name]))
    return table, {
        "read_seconds": round(read, 2),
        "compute_seconds": round(compute, 2),
        "symbols": len(bounds) - 1,
        "rows": rows.num_rows,
    }


def differences(
    con: duckdb.DuckDBPyConnection, ours: str, talib_rows: pa.Table | ds.Dataset
) -> dict:
    """Cells where the dbt table and TA-Lib differ, plus unmatched rows; each differing
    cell is classified as a tie or not (see oracle/talib_candles.py)."""
    con.register("talib_rows", talib_rows)
    names = [name.lower() for name in PATTERNS]
    joined = f"({ours}) as ours full outer join talib_rows using (symbol, date)"
    differs = "ours.{0} is distinct from talib_rows.{0}"
    counts = ", ".join(f"count(*) filter (where {differs.format(n)})" for n in names)
    totals = con.execute(f"""
        select count(*) filter (where ours.symbol is null or talib_rows.symbol is null), {counts}
        from {joined}""").fetchone()
    assert totals is not None  # an aggregate without GROUP BY returns one row
    unmatched, *differing = totals
    cells = []
    for name, count in zip(names, differing, strict=True):
        if count:
            cells += con.execute(f"""
                select symbol, date, '{name}', talib_rows.{name}, ours.{name} from {joined}
                where {differs.format(name)}""").fetchall()
    con.unregister("talib_rows")
    ties = [cell for cell in cells if _is_tie(con, *cell)]
    return {
        "unmatched_rows": unmatched,
        "differing_cells": len(cells),
        "ties": len(ties),
        "not_ties": [[str(value) for value in cell] for cell in cells if cell not in ties],
        "tie_cells": [[str(value) for value in cell] for cell in ties],
    }


def _is_tie(
    con: duckdb.DuckDBPyConnection, symbol: str, date: dt.date, pattern: str, _: int, sql: int
) -> bool:
    series = con.execute(
        "select date, open, high, low, close from bronze.ohlcv_daily"
        " where symbol = ? order by date",
        [symbol],
    ).fetchnumpy()
    row = int(np.flatnonzero(series["date"] == np.datetime64(date))[0])
    return is_tie(pattern, [series[p] for p in PRICES], row, sql)


def run(symbols: int, sessions: int, out: Path) -> dict[str, object]:
    generated = market(symbols, sessions, out)
    dbt = Dbt.fresh(generated.lake, out / "candles_work")
    with generated.last_session_held_back():
        dbt("seed")
        bronze = dbt("run", *BRONZE)
        full = dbt("run", *MODEL, "--full-refresh")
        with duckdb.connect(str(dbt.warehouse), read_only=True) as con:
            bars = "select * from bronze.ohlcv_daily"
            talib_rows, ta_lib = talib_per_symbol(con, bars)
            full_check = differences(con, "select * from silver.candlestick_patterns", talib_rows)
            latest = con.execute("select max(date) from bronze.ohlcv_daily").fetchone()
            assert latest is not None  # an aggregate without GROUP BY returns one row
            before = latest[0]
        del talib_rows
    bronze_daily = dbt("run", *BRONZE)
    daily = dbt("run", *MODEL)
    with duckdb.connect(str(dbt.warehouse), read_only=True) as con:
        recent = f"""
            select * from bronze.ohlcv_daily
            qualify row_number() over (partition by symbol order by date desc) <= {CHECK_BARS}
        """
        talib_recent, _ = talib_per_symbol(con, recent)
        new_rows = talib_recent.filter(pc.greater(talib_recent["date"], before))
        daily_check = differences(
            con, f"select * from silver.candlestick_patterns where date > '{before}'", new_rows
        )
    sql = full["model_seconds"]["candlestick_patterns"]
    talib_seconds = ta_lib["compute_seconds"]
    return {
        "market": generated.info,
        "bronze_full_build": bronze,
        "sql_full": {**full, "rows_per_second": round(ta_lib["rows"] / sql)},
        "talib_per_symbol": {
            **ta_lib,
            "rows_per_second": round(ta_lib["rows"] / talib_seconds),
            "peak_rss_mib_of_bench": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024,
        },
        "ratios": {
            "sql_model_over_talib_compute": round(sql / talib_seconds, 2),
            "dbt_wall_over_talib_compute": round(full["seconds"] / talib_seconds, 2),
            "dbt_wall_over_talib_read_and_compute": round(
                full["seconds"] / (talib_seconds + ta_lib["read_seconds"]), 2
            ),
        },
        "full_agreement": full_check,
        "bronze_daily": bronze_daily,
        "sql_daily": {**daily, "new_rows": new_rows.num_rows},
        "daily_agreement": daily_check,
        "targets": {"sql_model_over_talib_compute": 2.0, "sql_daily_s": 10},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--symbols", type=int, default=10_000)
    parser.add_argument("--sessions", type=int, default=2_520)
    parser.add_argument("--out", type=Path, default=Path("bench/out"))
    args = parser.parse_args()
    result = run(args.symbols, args.sessions, args.out)
    save_result(result, args.out / f"candles_{args.symbols}x{args.sessions}.json")


if __name__ == "__main__":
    main()
