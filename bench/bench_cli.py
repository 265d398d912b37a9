"""`condvest --help` timed as a user meets it: the installed console script, a fresh process
each time, the median of several runs (the first run is a warm-up: it may compile bytecode
or fault in the file cache, which a user pays once).

    python -m bench.bench_cli [--runs 7] [--out bench/out]

Writes <out>/cli_help.json. The target (issue 22) is under 1 s; the import test
(tests/python/test_cli_startup.py) keeps the heavy modules off the help path, and this
measures what that buys.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
from pathlib import Path
from typing import Any

from bench.dbt_runs import run_timed

TARGET_SECONDS = 1.0
COMMANDS = (("--help",), ("--version",), ("daily", "--help"))


def time_command(args: tuple[str, ...], runs: int) -> dict[str, Any]:
    """Wall seconds of `condvest <args>` in `runs` fresh processes, after one warm-up, and
    the largest peak RSS among them."""
    condvest = str(Path(sys.executable).with_name("condvest"))
    command = [condvest, *args]
    run_timed(command, what=" ".join(command))  # the warm-up
    timed = [run_timed(command, what=" ".join(command)) for _ in range(runs)]
    seconds = [t.seconds for t in timed]
    return {
        "command": " ".join(["condvest", *args]),
        "runs": runs,
        "median_seconds": round(statistics.median(seconds), 3),
        "min_seconds": min(seconds),
        "max_seconds": max(seconds),
        "peak_rss_mib": max(t.peak_rss_mib for t in timed),
    }


def run(runs: int = 7) -> dict[str, Any]:
    timings = [time_command(args, runs) for args in COMMANDS]
    help_median = timings[0]["median_seconds"]
    return {
        "timings": timings,
        "target_seconds": TARGET_SECONDS,
        "met": help_median < TARGET_SECONDS,
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--out", type=Path, default=Path("bench/out"))
    args = parser.parse_args(argv)
    result = run(args.runs)
    args.out.mkdir(parents=True, exist_ok=True)
    text = json.dumps(result, indent=2)
    (args.out / "cli_help.json").write_text(text + "\n")
    print(text)


if __name__ == "__main__":
    main()
