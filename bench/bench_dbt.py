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
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import duckdb

from bench.generate_market import generate
from ingestion.config import REPO_ROOT

SELECTION = ["staging", "bronze", "silver"]


def _dbt(args: list[str], lake: Path, warehouse: Path, target: Path) -> dict[str, float]:
    """Run dbt under GNU time; return wall seconds and peak RSS (MiB)."""
    env = {
        **os.environ,
        "LAKE_ROOT": str(lake),
        "WAREHOUSE_PATH": str(warehouse),
        "DBT_PROFILES_DIR": str(REPO_ROOT),
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
        "DUCKDB_MEMORY_LIMIT": os.environ.get("DUCKDB_MEMORY_LIMIT", "6GB"),
    }
    dbt = str(Path(sys.executable).with_name("dbt"))
    target.mkdir(parents=True, exist_ok=True)
    rss_file = target / "rss.txt"
    command = ["/usr/bin/time", "-f", "%M", "-o", str(rss_file), dbt, *args,
               "--project-dir", str(REPO_ROOT), "--target-path", str(target)]  # fmt: skip
    started = time.perf_counter()
    result = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    wall = time.perf_counter() - started
    if result.returncode != 0:
        output = result.stdout[-4000:] + result.stderr[-2000:]
        raise RuntimeError(f"dbt {' '.join(args)} failed:\n{output}")
    return {"seconds": round(wall, 2), "peak_rss_mib": round(int(rss_file.read_text()) / 1024)}


def _rows(warehouse: Path) -> dict[str, int]:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        tables = ["bronze.ohlcv_daily", "bronze.ohlcv_rejected"] + [
            f"silver.ohlcv_{n}d" for n in (3, 5, 8, 13, 21, 34)
        ]
        return {t: con.execute(f"select count(*) from {t}").fetchone()[0] for t in tables}


def run(symbols: int, sessions: int, out: Path) -> dict[str, object]:
    market = out / f"market_{symbols}x{sessions}"
    lake = market / "lake"
    if not (market / "generated.json").exists():
        shutil.rmtree(market, ignore_errors=True)
        info = generate(symbols, sessions + 1, lake)
        (market / "generated.json").write_text(json.dumps(info))
    info = json.loads((market / "generated.json").read_text())
    partitions = sorted((lake / "bronze" / "raw_ohlcv").iterdir())
    held = market / "held"
    shutil.rmtree(held, ignore_errors=True)
    held.mkdir()
    last = partitions[-1]
    shutil.move(str(last), held / last.name)

    work = out / "dbt_work"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    warehouse = work / "warehouse.duckdb"
    select = ["--select", *SELECTION, "trading_calendar"]
    try:
        _dbt(["seed"], lake, warehouse, work / "target")
        full = _dbt(["run", *select], lake, warehouse, work / "target")
        full_rows = _rows(warehouse)
        shutil.move(str(held / last.name), last)
        daily = _dbt(["run", *select], lake, warehouse, work / "target")
        daily_rows = _rows(warehouse)
    finally:
        if (held / last.name).exists():
            shutil.move(str(held / last.name), last)
    landed = full_rows["bronze.ohlcv_daily"] + full_rows["bronze.ohlcv_rejected"]
    new_rows = daily_rows["bronze.ohlcv_daily"] - full_rows["bronze.ohlcv_daily"]
    return {
        "market": info,
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
    text = json.dumps(result, indent=2)
    print(text)
    (args.out / f"dbt_{args.symbols}x{args.sessions}.json").write_text(text + "\n")


if __name__ == "__main__":
    main()
