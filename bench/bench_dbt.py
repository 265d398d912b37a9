"""Benchmark the dbt build at market scale: full build from empty, then one new session.

    python -m bench.bench_dbt --symbols 10000 --sessions 2520

Generates (or reuses) the market with bench.generate_market, holds back its last
session, builds the daily pipeline (staging -> bronze -> silver, candlestick patterns
included, and gold.dim_symbol) from an empty DuckDB warehouse, then lands the held-back
session and runs the daily incremental build. Reports wall time, rows per second and the
peak RSS of the dbt process for each, with per-model seconds, as JSON (stdout and
bench/out/). Targets (issue 3, before the patterns were part of the build): full build
< 120 s, incremental < 20 s, peak memory < 8 GiB.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import duckdb

from bench.dbt_runs import ORACLE, Dbt, Market, market, save_result

# The daily pipeline without ML: gold.ml_features is built by bench_ml, and
# gold.predictions needs a trained model's predictions.
SELECTION = [
    "--select", "staging", "bronze", "silver", "dim_symbol", "trading_calendar",
    "--exclude", ORACLE,
]  # fmt: skip
RESAMPLES = [f"ohlcv_{n}d" for n in (3, 5, 8, 13, 21, 34)]


def row_counts(warehouse: Path) -> dict[str, int]:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        tables = ["bronze.ohlcv_daily", "bronze.ohlcv_rejected"] + [
            f"silver.{model}" for model in RESAMPLES
        ]
        counts = {}
        for table in tables:
            row = con.execute(f"select count(*) from {table}").fetchone()
            assert row is not None  # an aggregate without GROUP BY returns one row
            counts[table] = row[0]
        return counts


def build(generated: Market, dbt: Dbt) -> dict[str, object]:
    """Seed and full build with the last session held back, then the daily run that
    lands it; `dbt`'s warehouse is left holding the whole market."""
    with generated.last_session_held_back():
        seed = dbt("seed")
        full = dbt("run", *SELECTION)
        full_rows = row_counts(dbt.warehouse)
    daily = dbt("run", *SELECTION)
    daily_rows = row_counts(dbt.warehouse)
    landed = full_rows["bronze.ohlcv_daily"] + full_rows["bronze.ohlcv_rejected"]
    new_rows = daily_rows["bronze.ohlcv_daily"] - full_rows["bronze.ohlcv_daily"]
    return {
        "seed": seed,
        "full_build": {**full, "rows_per_second": round(landed / full["seconds"])},
        "daily_incremental": {**daily, "new_bars": new_rows},
        "rows_after_full": full_rows,
        "rows_after_daily": daily_rows,
    }


def run(symbols: int, sessions: int, out: Path) -> dict[str, object]:
    generated = market(symbols, sessions, out)
    return {
        "market": generated.info,
        **build(generated, Dbt.fresh(generated.lake, out / "dbt_work")),
        "targets": {"full_build_s": 120, "daily_incremental_s": 20, "peak_rss_mib": 8192},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--symbols", type=int, default=10_000)
    parser.add_argument("--sessions", type=int, default=2_520)
    parser.add_argument("--out", type=Path, default=Path("bench/out"))
    args = parser.parse_args()
    result = run(args.symbols, args.sessions, args.out)
    save_result(result, args.out / f"dbt_{args.symbols}x{args.sessions}.json")


if __name__ == "__main__":
    main()
