"""Ingestion benchmark: Polygon over HTTP -> Bronze parquet + SQLite watermarks.

    python -m bench.bench_ingestion --symbols 10000 --sessions 252 [--profile]

The local Polygon stub (tests/python/fixtures/polygon_server.py) runs in its own process
with its answers pre-built, so neither its CPU time nor its memory is counted. Each
scenario runs in a fresh process against a fresh lake and watermark store, so its peak RSS
(getrusage ru_maxrss) is the client's alone:

* one_session: fetch_ohlcv for the last session, every symbol (grouped daily);
* backfill: fetch_ohlcv for all `--sessions` sessions, market mode.

Writes JSON to stdout and bench/out/ingestion.json; exits 1 if a target is missed.
With --profile each scenario also runs under cProfile (bench/out/<scenario>.prof; the
top functions go to stderr) and its timings are then inflated by the profiler.
"""

from __future__ import annotations

import argparse
import cProfile
import datetime as dt
import io
import json
import multiprocessing
import platform
import pstats
import resource
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any

from bench.market_server import server_process
from core.lake import Lake
from core.paths import REPO_ROOT
from ingestion.calendar import load_calendar
from ingestion.fetch import OhlcvRequest, fetch_ohlcv
from ingestion.polygon import PolygonClient
from ingestion.stores import Stores

STUB_MODULE = "tests.python.fixtures.polygon_server"
OUT_DIR = REPO_ROOT / "bench" / "out"
CALENDAR_PATH = REPO_ROOT / "seeds" / "trading_calendar.csv"
TARGETS = {"one_session": 5.0, "backfill": 60.0}  # wall seconds
PEAK_RSS_TARGET = 1 << 30  # bytes, per scenario process
DEFAULT_END = dt.date(2024, 12, 31)


def stub_process(
    symbols: int, first: dt.date, last: dt.date
) -> AbstractContextManager[dict[str, Any]]:
    """Run the stub in a subprocess; yield its base_url, api_key and pid."""
    return server_process(
        STUB_MODULE, f"--symbols={symbols}", f"--warm-from={first}", f"--warm-to={last}"
    )


def _peak_rss_bytes(pid: int | None = None) -> int | None:
    """Peak RSS of `pid` (default: this process). Linux's VmHWM belongs to the process's
    own memory, whereas ru_maxrss survives exec: a scenario spawned by a driver that had
    grown large would report the driver's peak as its own."""
    status = Path(f"/proc/{pid or 'self'}/status")
    if pid is None and not status.exists():
        # Not Linux: ru_maxrss (bytes on macOS).
        scale = 1 if platform.system() == "Darwin" else 1024
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * scale
    if not status.exists():
        return None
    for line in status.read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    return None


def run_scenario(
    name: str,
    base_url: str,
    api_key: str,
    start: dt.date,
    end: dt.date,
    profile: bool,
    out: Path = OUT_DIR,
) -> dict[str, Any]:
    """One fetch_ohlcv run in this (fresh) process; the clock covers the fetch only."""
    calendar = load_calendar(CALENDAR_PATH)
    with tempfile.TemporaryDirectory(prefix=f"bench-{name}-") as tmp:
        lake = Lake.open(f"{tmp}/lake")
        stores = Stores.connect(f"sqlite:///{tmp}/watermarks.sqlite")
        client = PolygonClient(api_key, base_url, max_retries=0)
        request = OhlcvRequest(start=start, end=end)
        rss_before = _peak_rss_bytes()
        profiler = cProfile.Profile() if profile else None
        cpu_started = time.process_time()
        started = time.perf_counter()
        if profiler is not None:
            profiler.enable()
        summary = fetch_ohlcv(client, lake, stores, calendar, request).to_dict()
        if profiler is not None:
            profiler.disable()
        wall = time.perf_counter() - started
        cpu = time.process_time() - cpu_started
        peak = _peak_rss_bytes()
        lake_bytes = sum(p.stat().st_size for p in Path(tmp, "lake").rglob("*.parquet"))
        stores.close()
    if profiler is not None:
        profiler.dump_stats(out / f"{name}.prof")
        text = io.StringIO()
        pstats.Stats(profiler, stream=text).sort_stats("cumulative").print_stats(30)
        print(f"== {name} (cProfile, cumulative)\n{text.getvalue()}", file=sys.stderr)
    return {
        "status": summary["status"],
        "sessions": summary["sessions_landed"],
        "rows": summary["rows_landed"],
        "files": summary["files_written"],
        "lake_bytes": lake_bytes,
        "wall_seconds": round(wall, 3),
        # CPU seconds of this process: unlike wall time, barely moved by other jobs
        # competing for the same cores.
        "cpu_seconds": round(cpu, 3),
        "rows_per_second": round(summary["rows_landed"] / wall),
        "peak_rss_bytes": peak,
        "rss_before_fetch_bytes": rss_before,
        "profiled": profile,
    }


def _in_fresh_process(**kwargs: Any) -> dict[str, Any]:
    # spawn, one task per pool: a clean interpreter whose peak RSS is this scenario's alone.
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=1, mp_context=context) as pool:
        return pool.submit(run_scenario, **kwargs).result()


def run(
    symbols: int, sessions: int, end: dt.date, out: Path = OUT_DIR, profile: bool = False
) -> dict[str, Any]:
    """Both scenarios against one stub serving `symbols` x the `sessions` up to `end`."""
    calendar = load_calendar(CALENDAR_PATH)
    days = calendar.sessions_between(calendar.first, end)[-sessions:]
    out.mkdir(parents=True, exist_ok=True)
    scenarios = {"one_session": (days[-1], days[-1]), "backfill": (days[0], days[-1])}
    started = time.perf_counter()
    with stub_process(symbols, days[0], days[-1]) as stub:
        warm_up = time.perf_counter() - started
        results = {
            name: _in_fresh_process(
                name=name,
                base_url=stub["base_url"],
                api_key=stub["api_key"],
                start=start,
                end=stop,
                profile=profile,
                out=out,
            )
            for name, (start, stop) in scenarios.items()
        }
        stub_rss = _peak_rss_bytes(stub["pid"])
    for name, result in results.items():
        result["target_wall_seconds"] = TARGETS[name]
        result["meets_targets"] = (
            result["status"] == "succeeded"
            and result["wall_seconds"] < TARGETS[name]
            and result["peak_rss_bytes"] < PEAK_RSS_TARGET
        )
    return {
        "benchmark": "ingestion",
        "symbols": symbols,
        "sessions": len(days),
        "first_session": days[0].isoformat(),
        "last_session": days[-1].isoformat(),
        "target_peak_rss_bytes": PEAK_RSS_TARGET,
        "scenarios": results,
        "stub": {"warm_up_seconds": round(warm_up, 1), "peak_rss_bytes": stub_rss},
        "python": platform.python_version(),
        "machine": {"cpus": multiprocessing.cpu_count(), "platform": platform.platform()},
        "measured_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--symbols", type=int, default=10_000)
    parser.add_argument("--sessions", type=int, default=252)
    parser.add_argument("--end", type=dt.date.fromisoformat, default=DEFAULT_END)
    parser.add_argument("--profile", action="store_true")
    args = parser.parse_args(argv)
    report = run(args.symbols, args.sessions, args.end, OUT_DIR, args.profile)
    text = json.dumps(report, indent=2)
    print(text)
    (OUT_DIR / "ingestion.json").write_text(text + "\n")
    return 0 if all(r["meets_targets"] for r in report["scenarios"].values()) else 1


if __name__ == "__main__":
    sys.exit(main())
