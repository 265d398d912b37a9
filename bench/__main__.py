"""Every benchmark in one run, each stage beside the tool a user would otherwise pick.

    python -m bench --symbols 10000 --sessions 2520 --out bench/out [--results]

On the generated market (bench.generate_market): `dbt build` from empty with the last
session held back, then `condvest daily` for that session, served by the local Polygon
server (bench.bench_daily); the six resamples in full against polars and pandas, the 61
candlestick patterns against TA-Lib per symbol, the Bronze consolidation against the
seed's per-symbol-day files (bench.peers); then ML training and one day's prediction
(bench.bench_ml, on its own two-year market) and ingestion of one session and one year
from the local Polygon server (bench.bench_ingestion). Every stage runs in its own
process (dbt, `condvest daily`, each peer, ML, each ingestion scenario), so each peak RSS
is that stage's alone. Writes <out>/bench_<S>x<M>.json and .md, and with --scale a plot
of time against market size (<out>/bench_<S>x<M>_scaling.png); --results copies them to
bench/results/. Exits 1 if a peer's output differs from dbt's (the comparison would not
be of the same work); targets missed are marked in the table, not an error. Last, the
start-up of `condvest --help` (bench.bench_cli, the median of fresh processes).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import multiprocessing
import os
import platform
import shutil
import sys
from pathlib import Path
from typing import Any

import duckdb

from bench import bench_cli, bench_daily, bench_ingestion, bench_trino, report
from bench.bench_candles import MODEL, differences
from bench.dbt_runs import Dbt, market, run_timed
from bench.peers import resample_agreement, run_peer, talib_signals
from core.paths import REPO_ROOT

RESULTS = REPO_ROOT / "bench" / "results"
SCALE_SIZES = (1_000, 3_000)  # symbols, beside the main size, for the plot
STAGES_SKIPPABLE = ("ml", "ingestion")
INGESTION_SESSIONS = 252  # "one year"


def market_stages(symbols: int, sessions: int, out: Path, seed_files: int) -> dict[str, Any]:
    """The stages on one market, in the order they share a warehouse: the first build and
    the timed day (bench.bench_daily), then each full recompute with its peers on the
    whole market."""
    generated = market(symbols, sessions, out)
    work = out / f"work_{symbols}x{sessions}"
    dbt = Dbt.fresh(work / "lake", work / "dbt")
    peers = work / "peers"
    stages: dict[str, Any] = {"market": generated.info, **bench_daily.run_stage(generated, dbt)}
    warehouse = ["--warehouse", str(dbt.warehouse)]
    stages["per_file_consolidation"] = run_peer(
        "per-file", peers, "--lake", str(generated.lake), "--files", str(seed_files)
    )
    stages["resamples_full"] = dbt("run", "--select", *report.RESAMPLES, "--full-refresh")
    stages["pandas_resample"] = run_peer("pandas", peers, *warehouse)
    stages["polars_resample"] = run_peer("polars", peers, *warehouse)
    stages["candles_full"] = dbt("run", *MODEL, "--full-refresh")
    stages["talib_per_symbol"] = run_peer("talib", peers, *warehouse)
    with duckdb.connect(str(dbt.warehouse), read_only=True) as con:
        stages["resample_agreement"] = {
            peer: resample_agreement(con, peers, peer) for peer in ("pandas", "polars")
        }
        stages["candle_agreement"] = differences(
            con, f"select * from silver.{report.CANDLES}", talib_signals(peers)
        )
    shutil.rmtree(peers)  # the peers' outputs are as large as the tables they mirror
    return stages


def ml_stage(symbols: int, years: int, out: Path) -> dict[str, Any]:
    """bench_ml in its own process: its training and prediction peaks are the ML's own."""
    command = [sys.executable, "-m", "bench.bench_ml", "--symbols", str(symbols),
               "--years", str(years), "--out", str(out)]  # fmt: skip
    timed = run_timed(command, what="bench.bench_ml")
    result = json.loads((out / f"ml_{symbols}x{years}y.json").read_text())
    return {**result, "process": {"seconds": timed.seconds, "peak_rss_mib": timed.peak_rss_mib}}


def agreement_ok(stages: dict[str, Any]) -> bool:
    candles = stages["candle_agreement"]
    return (
        all(peer["agree"] for peer in stages["resample_agreement"].values())
        and not candles["not_ties"]
        and candles["unmatched_rows"] == 0
    )


def _machine() -> dict[str, Any]:
    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    return {
        "cpus": multiprocessing.cpu_count(),
        "memory_gib": round(memory / 2**30, 1),
        "platform": platform.platform(),
        "python": platform.python_version(),
        # Without a bytecode cache every process compiles what it imports (seconds for dbt
        # and scikit-learn): part of each process's start-up here.
        "python_writes_bytecode": not sys.flags.dont_write_bytecode,
    }


def _scale_sizes(value: str | None, symbols: int) -> list[int]:
    """Symbol counts for the plot: none, the given ones, or by default the smaller of
    SCALE_SIZES; the main size is always the last point."""
    if value == "none":
        return []
    sizes = SCALE_SIZES if value is None else [int(s) for s in value.split(",") if s]
    return [*sorted({s for s in sizes if s != symbols}), symbols]


def write_outputs(result: dict[str, Any], out: Path, copy_to_results: bool) -> list[Path]:
    stem = f"bench_{result['size']['symbols']}x{result['size']['sessions']}"
    paths = [out / f"{stem}.json", out / f"{stem}.md"]
    paths[0].write_text(json.dumps(result, indent=2, default=str) + "\n")
    paths[1].write_text(report.markdown(result))
    if len(result["scaling"]) >= 2:
        paths.append(out / f"{stem}_scaling.png")
        report.plot(result["scaling"], paths[-1])
    if copy_to_results:
        RESULTS.mkdir(exist_ok=True)
        for path in paths:
            shutil.copy2(path, RESULTS / path.name)
    return paths


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--symbols", type=int, default=10_000)
    parser.add_argument("--sessions", type=int, default=2_520)
    parser.add_argument("--out", type=Path, default=Path("bench/out"))
    parser.add_argument("--scale", help="symbol counts for the plot, e.g. 1000,3000, or none")
    parser.add_argument("--skip", default="", help=f"comma list of {', '.join(STAGES_SKIPPABLE)}")
    parser.add_argument(
        "--seed-files", type=int, default=5_000, help="files the per-file peer reads"
    )
    parser.add_argument("--ml-years", type=int, default=2)
    parser.add_argument(
        "--trino-symbols",
        type=int,
        default=0,
        help="also run bench.bench_trino on this many symbols (0: not)",
    )
    parser.add_argument("--results", action="store_true", help="also copy to bench/results/")
    args = parser.parse_args(argv)
    args.out = args.out.resolve()  # handed to processes that run in the repo root
    args.skip = {name for name in args.skip.split(",") if name}
    if unknown := args.skip - set(STAGES_SKIPPABLE):
        parser.error(f"--skip: unknown {', '.join(sorted(unknown))}")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    stages = market_stages(args.symbols, args.sessions, args.out, args.seed_files)
    skipped = {"skipped": "--skip"}
    ml = skipped if "ml" in args.skip else ml_stage(args.symbols, args.ml_years, args.out)
    ingestion = (
        skipped
        if "ingestion" in args.skip
        else bench_ingestion.run(
            args.symbols, INGESTION_SESSIONS, bench_ingestion.DEFAULT_END, args.out / "ingestion"
        )
    )
    cli = bench_cli.run()
    rows = report.market_rows(stages)
    others = report.ml_rows(ml) + report.ingestion_rows(ingestion) + report.cli_rows(cli)
    result: dict[str, Any] = {
        "size": {"symbols": args.symbols, "sessions": args.sessions},
        "machine": _machine(),
        "measured_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "targets": {**report.TARGETS, "peak_rss_mib_every_stage": report.PEAK_RSS_MIB},
        "table": [row.as_json() for row in rows + others],
        "agreement_ok": agreement_ok(stages),
        "market": stages["market"],
        "stages": stages,
        "ml": ml,
        "ingestion": ingestion,
        "cli": cli,
        "scaling": [],
    }
    # Written before the scaling runs, which take longer than the rest at full size.
    write_outputs(result, args.out, args.results)
    for symbols in _scale_sizes(args.scale, args.symbols):
        point_rows = rows
        if symbols != args.symbols:
            point = market_stages(symbols, args.sessions, args.out, args.seed_files)
            point_rows = report.market_rows(point)
            result["agreement_ok"] = result["agreement_ok"] and agreement_ok(point)
        result["scaling"].append(report.scaling_point(symbols, args.sessions, point_rows))
    for path in write_outputs(result, args.out, args.results):
        print(path)
    if args.trino_symbols:
        trino = ["--symbols", str(args.trino_symbols), "--sessions", str(args.sessions)]
        bench_trino.main([*trino, "--out", str(args.out), *(["--results"] * args.results)])
    if not result["agreement_ok"]:
        print("a peer's output differs from dbt's: see the JSON's agreement", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
