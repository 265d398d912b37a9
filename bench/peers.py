"""The work done the way a user would otherwise do it: the peers `python -m bench` times
beside dbt. Each runs in its own process (`run_peer`, under GNU time) so its wall time and
peak RSS are its own, never the benchmark driver's:

    python -m bench.peers pandas --warehouse W --out-dir D     # pandas, the six resamples
    python -m bench.peers polars --warehouse W --out-dir D     # polars, the six resamples
    python -m bench.peers talib --warehouse W --out-dir D      # TA-Lib per symbol, 61 patterns
    python -m bench.peers per-file --lake L --files K --out-dir D  # the seed's consolidation

Each writes `D/<name>.json` (its own timings) and what the driver checks against dbt.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
import tempfile
import time
from pathlib import Path

import duckdb
import pandas as pd
import polars as pl
import pyarrow as pa
import pyarrow.dataset as ds
import pyarrow.parquet as pq

from bench.bench_candles import talib_per_symbol
from bench.dbt_runs import run_timed
from core.paths import REPO_ROOT
from ingestion.bars import BAR_SCHEMA
from tests.python.resample_reference import (
    FIBONACCI_SESSIONS,
    calendar_buckets,
    load_calendar_frame,
)

DAILY = """
    select symbol, date, session_index, open, high, low, close, volume, vwap
    from bronze.ohlcv_daily order by symbol, date
"""
# Columns compared exactly between pandas and dbt; vwap is compared with VWAP_RTOL, as dbt
# sums vwap x volume in decimal (exact_sum) and pandas in float64.
EXACT = ["bucket_start", "bucket_end", "open", "high", "low", "close", "volume", "n_sessions",
         "is_complete"]  # fmt: skip
VWAP_RTOL = 1e-9


def _seconds_since(started: float) -> float:
    return round(time.perf_counter() - started, 3)


def pandas_resamples(daily: pd.DataFrame, calendar: pd.DataFrame) -> dict[int, pd.DataFrame]:
    """The six Fibonacci resamples of `daily` (sorted by symbol, date) the idiomatic fast
    pandas way: one groupby().agg with named aggregations per size. Bucket spans come from
    the calendar (as in dbt), not from the symbol's own first and last dates."""
    has_vwap = daily["vwap"].notna()
    bars = daily.assign(
        # Categorical keys: grouping 25M Python strings six times costs more than the sums.
        symbol=daily["symbol"].astype("category"),
        vwap_x_volume=(daily["vwap"] * daily["volume"]).where(has_vwap),
        volume_with_vwap=daily["volume"].where(has_vwap),
    )
    latest = daily["date"].max()
    out = {}
    for sessions in FIBONACCI_SESSIONS:
        spans = calendar_buckets(calendar, sessions).drop_duplicates("bucket_number")
        grouped = bars.groupby(
            [bars["symbol"], (bars["session_index"] // sessions).rename("bucket_number")],
            sort=False,
            observed=True,
        )
        frame = grouped.agg(
            open=("open", "first"),
            high=("high", "max"),
            low=("low", "min"),
            close=("close", "last"),
            volume=("volume", "sum"),
            n_sessions=("close", "size"),
            vwap_x_volume=("vwap_x_volume", "sum"),
            volume_with_vwap=("volume_with_vwap", "sum"),
        ).reset_index()
        # No session with a vwap (or no volume behind them): null, as dbt's nullif.
        denominator = frame.pop("volume_with_vwap")
        frame["vwap"] = (frame.pop("vwap_x_volume") / denominator).where(denominator != 0)
        frame = frame.merge(spans[["bucket_number", "bucket_start", "bucket_end"]], how="left")
        frame["is_complete"] = frame["bucket_end"] <= latest
        out[sessions] = frame
    return out


def polars_resamples(daily: pl.DataFrame, calendar: pd.DataFrame) -> dict[int, pl.DataFrame]:
    """The six resamples the idiomatic polars way: one lazy group_by().agg per size,
    collected together (polars plans the six at once and runs them on every core).
    first() and last() follow the frame's order within a group, so `daily` is sorted by
    (symbol, date); Bronze's valid bars have no null price, so they are the first open and
    last close available, as in dbt."""
    has_vwap = pl.col("vwap").is_not_null()
    bars = daily.lazy().with_columns(
        vwap_x_volume=pl.when(has_vwap).then(pl.col("vwap") * pl.col("volume")),
        volume_with_vwap=pl.when(has_vwap).then(pl.col("volume")),
    )
    latest = daily["date"].max()
    if not isinstance(latest, dt.date):
        raise ValueError(f"polars_resamples needs dated daily bars; the latest date is {latest!r}")
    sessions = pl.from_pandas(calendar[["session_date", "session_index"]]).lazy()
    plans = [
        _polars_resample(bars, _polars_spans(sessions, size), size, latest)
        for size in FIBONACCI_SESSIONS
    ]
    return dict(zip(FIBONACCI_SESSIONS, pl.collect_all(plans), strict=True))


def _polars_spans(sessions: pl.LazyFrame, size: int) -> pl.LazyFrame:
    """Each bucket's first and last calendar session."""
    return sessions.group_by((pl.col("session_index") // size).alias("bucket_number")).agg(
        bucket_start=pl.col("session_date").min().dt.date(),
        bucket_end=pl.col("session_date").max().dt.date(),
    )


def _polars_resample(
    bars: pl.LazyFrame, spans: pl.LazyFrame, size: int, latest: dt.date
) -> pl.LazyFrame:
    return (
        bars.group_by("symbol", (pl.col("session_index") // size).alias("bucket_number"))
        .agg(
            open=pl.col("open").first(),
            high=pl.col("high").max(),
            low=pl.col("low").min(),
            close=pl.col("close").last(),
            volume=pl.col("volume").sum(),
            n_sessions=pl.len(),
            vwap_x_volume=pl.col("vwap_x_volume").sum(),
            volume_with_vwap=pl.col("volume_with_vwap").sum(),
        )
        .with_columns(
            # No session with a vwap (or no volume behind them): null, as dbt's nullif.
            vwap=pl.when(pl.col("volume_with_vwap") != 0).then(
                pl.col("vwap_x_volume") / pl.col("volume_with_vwap")
            )
        )
        .drop("vwap_x_volume", "volume_with_vwap")
        .join(spans, on="bucket_number", how="left")
        .with_columns(is_complete=pl.col("bucket_end") <= latest)
    )


def _calendar() -> pd.DataFrame:
    return load_calendar_frame(str(REPO_ROOT / "seeds" / "trading_calendar.csv"))


def pandas_peer(warehouse: Path, out_dir: Path) -> dict[str, object]:
    """Read Bronze into pandas, resample it six ways (timed apart), keep the results."""
    started = time.perf_counter()
    with duckdb.connect(str(warehouse), read_only=True) as con:
        table = con.execute(DAILY).to_arrow_table()
    # Through Arrow, strings to categorical: pandas gets the symbol column without 25M
    # Python strings being built first, which took longer than all six resamples.
    daily = table.to_pandas(strings_to_categorical=True, date_as_object=False)
    del table
    read = _seconds_since(started)
    calendar = _calendar()
    started = time.perf_counter()
    frames = pandas_resamples(daily, calendar)
    compute = _seconds_since(started)
    for sessions, frame in frames.items():
        frame.to_parquet(out_dir / f"pandas_{sessions}d.parquet", index=False)
    return _timings(len(daily), read, compute, {n: len(frame) for n, frame in frames.items()})


def polars_peer(warehouse: Path, out_dir: Path) -> dict[str, object]:
    """Read Bronze into polars (DuckDB hands it over as Arrow), resample it six ways
    (timed apart), keep the results."""
    started = time.perf_counter()
    with duckdb.connect(str(warehouse), read_only=True) as con:
        daily = con.execute(DAILY).pl()
    read = _seconds_since(started)
    calendar = _calendar()
    started = time.perf_counter()
    frames = polars_resamples(daily, calendar)
    compute = _seconds_since(started)
    for sessions, frame in frames.items():
        frame.write_parquet(out_dir / f"polars_{sessions}d.parquet")
    return _timings(len(daily), read, compute, {n: len(frame) for n, frame in frames.items()})


def _timings(rows: int, read: float, compute: float, rows_out: dict[int, int]) -> dict[str, object]:
    return {
        "rows": rows,
        "read_seconds": read,
        "compute_seconds": compute,
        "seconds": round(read + compute, 3),
        "rows_out": {f"{n}d": count for n, count in rows_out.items()},
    }


def resample_agreement(
    con: duckdb.DuckDBPyConnection, out_dir: Path, peer: str = "pandas"
) -> dict[str, object]:
    """Per size: dbt's rows against the peer's (`pandas` or `polars`), joined on (symbol,
    bucket_number); rows only one side has, and rows where any column differs. `agree`
    only if all are zero."""
    differs = " or ".join(f"d.{c} is distinct from p.{c}" for c in EXACT)
    vwap_differs = (
        "(d.vwap is null) <> (p.vwap is null)"
        f" or abs(d.vwap - p.vwap) > {VWAP_RTOL} * greatest(abs(d.vwap), abs(p.vwap))"
    )
    sizes = {}
    for sessions in FIBONACCI_SESSIONS:
        peer_file = out_dir / f"{peer}_{sessions}d.parquet"
        counts = con.execute(f"""
            select count(d.symbol), count(p.symbol),
                   count(*) filter (where d.symbol is null or p.symbol is null),
                   count(*) filter (where {differs}), count(*) filter (where {vwap_differs})
            from silver.ohlcv_{sessions}d as d
            full outer join (
                select * replace (bucket_start::date as bucket_start,
                                  bucket_end::date as bucket_end)
                from read_parquet('{peer_file}')
            ) as p using (symbol, bucket_number)""").fetchone()
        assert counts is not None  # an aggregate without GROUP BY returns one row
        dbt_rows, peer_rows, unmatched, different, vwap = counts
        sizes[f"{sessions}d"] = {
            "dbt_rows": dbt_rows,
            "peer_rows": peer_rows,
            "unmatched_rows": unmatched,
            "differing_rows": different,
            "vwap_differing_rows": vwap,
        }
    problems = sum(s["unmatched_rows"] + s["differing_rows"] + s["vwap_differing_rows"]
                   for s in sizes.values())  # fmt: skip
    return {"peer": peer, "agree": problems == 0, "vwap_rtol": VWAP_RTOL, "sizes": sizes}


def talib_peer(warehouse: Path, out_dir: Path) -> dict[str, object]:
    """TA-Lib's 61 functions per symbol over Bronze (bench_candles' own peer); the
    signals are kept for the driver's cell-by-cell comparison."""
    with duckdb.connect(str(warehouse), read_only=True) as con:
        table, timings = talib_per_symbol(con, "select * from bronze.ohlcv_daily")
    pq.write_table(table, out_dir / "talib.parquet")
    return {**timings, "seconds": round(timings["read_seconds"] + timings["compute_seconds"], 3)}


def talib_signals(out_dir: Path) -> ds.Dataset:
    """The TA-Lib peer's signals, scanned lazily (DuckDB reads only the columns it needs)."""
    return ds.dataset(out_dir / "talib.parquet")


def _sample_bars(lake: Path, files: int) -> pa.Table:
    """The first `files` bars the market landed, session by session."""
    tables, rows = [], 0
    for path in sorted((lake / "bronze" / "raw_ohlcv").glob("*/*.parquet")):
        table = pq.read_table(path, columns=BAR_SCHEMA.names)
        tables.append(table.slice(0, files - rows))
        rows += tables[-1].num_rows
        if rows == files:
            break
    return pa.concat_tables(tables)


def per_file_peer(lake: Path, files: int, out_dir: Path) -> dict[str, object]:
    """The seed's consolidation on a sample: one parquet file per (symbol, date), written
    untimed, then read back file by file with pandas and concatenated (timed)."""
    bars = _sample_bars(lake, files)
    with tempfile.TemporaryDirectory(prefix="seed-files-", dir=out_dir) as tmp:
        paths = []
        for row in range(bars.num_rows):
            bar = bars.slice(row, 1)
            path = Path(tmp, bar["symbol"][0].as_py(), f"{bar['date'][0]}.parquet")
            path.parent.mkdir(exist_ok=True)
            pq.write_table(bar, path)
            paths.append(path)
        started = time.perf_counter()
        history = pd.concat([pd.read_parquet(path) for path in paths], ignore_index=True)
        seconds = _seconds_since(started)
    if len(history) != bars.num_rows:
        raise RuntimeError(f"read {len(history)} rows back from {bars.num_rows} files")
    return {
        "files": bars.num_rows,
        "seconds": seconds,
        "ms_per_file": round(1000 * seconds / bars.num_rows, 4),
    }


def run_peer(name: str, out_dir: Path, *args: str) -> dict[str, object]:
    """Run one peer as `python -m bench.peers` in a fresh process: its own JSON plus the
    process's wall seconds (interpreter start-up included) and peak RSS."""
    out_dir.mkdir(parents=True, exist_ok=True)
    command = [sys.executable, "-m", "bench.peers", name, "--out-dir", str(out_dir), *args]
    timed = run_timed(command, what=f"peer {name}")
    return {
        **json.loads((out_dir / f"{name}.json").read_text()),
        "process_seconds": timed.seconds,
        "peak_rss_mib": timed.peak_rss_mib,
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("peer", choices=["pandas", "polars", "talib", "per-file"])
    parser.add_argument("--out-dir", type=Path, required=True)
    parser.add_argument("--warehouse", type=Path)
    parser.add_argument("--lake", type=Path)
    parser.add_argument("--files", type=int, default=5_000)
    args = parser.parse_args(argv)
    if args.peer == "pandas":
        result = pandas_peer(args.warehouse, args.out_dir)
    elif args.peer == "polars":
        result = polars_peer(args.warehouse, args.out_dir)
    elif args.peer == "talib":
        result = talib_peer(args.warehouse, args.out_dir)
    else:
        result = per_file_peer(args.lake, args.files, args.out_dir)
    (args.out_dir / f"{args.peer}.json").write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
