"""Benchmark the dbt build at market scale: full build from empty, then one new session.

    python -m bench.bench_dbt --symbols 10000 --sessions 2520

Generates (or reuses) the market with bench.generate_market, holds back its last
session, builds staging -> bronze -> silver from an empty DuckDB warehouse, then lands
the held-back session and runs the daily incremental build. Reports wall time, rows per
second and the peak RSS of the dbt process for each, as JSON (stdout and bench/out/).
Targets (issue 3): full build < 120 s, incremental < 20 s, peak memory < 8 GiB.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import duckdb

from bench.dbt_runs import ORACLE, Dbt, market, save_result

SELECTION = ["--select", "staging", "bronze", "silver", "trading_calendar", "--exclude", ORACLE]


def _rows(warehouse: Path) -> dict[str, int]:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        tables = ["bronze.ohlcv_daily", "bronze.ohlcv_rejected"] + [
            f"silver.ohlcv_{n}d" for n in (3, 5, 8, 13, 21, 34)
        ]
        return {t: con.execute(f"select count(*) from {t}").fetchone()[0] for t in tables}


def run(symbols: int, sessions: int, out: Path) -> dict[str, object]:
    generated = market(symbols, sessions, out)
    dbt = Dbt.fresh(generated.lake, out / "dbt_work")
    with generated.last_session_held_back():
        dbt("seed")
        full = dbt("run", *SELECTION)
        full_rows = _rows(dbt.warehouse)
    daily = dbt("run", *SELECTION)
    daily_rows = _rows(dbt.warehouse)
    landed = full_rows["bronze.ohlcv_daily"] + full_rows["bronze.ohlcv_rejected"]
    new_rows = daily_rows["bronze.ohlcv_daily"] - full_rows["bronze.ohlcv_daily"]
    return {
        "market": generated.info,
        "full_build": {**full, "rows_per_second": round(landed / full["seconds"])},
        "daily_incremental": {**daily, "new_bars": new_rows},
        "rows_after_full": full_rows,
        "rows_after_daily": daily_rows,
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
