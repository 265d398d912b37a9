"""What the benchmarks share: the generated market with its last session held back, dbt
and the peers timed as separate processes (wall time including start-up, peak RSS), and
how a result is reported."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from bench.generate_market import generate
from ingestion.config import REPO_ROOT

# The TA-Lib Python model is the patterns' test oracle, not part of the daily work.
ORACLE = "candlestick_patterns_talib"


@dataclass(frozen=True)
class Market:
    """A generated market whose last session is held back until `landed_last_session`."""

    lake: Path
    info: dict[str, object]
    last_partition: Path
    held: Path

    @contextlib.contextmanager
    def last_session_held_back(self) -> Iterator[None]:
        """Move the last session's landing partition aside; put it back on exit."""
        shutil.rmtree(self.held, ignore_errors=True)
        self.held.mkdir(parents=True)
        shutil.move(str(self.last_partition), self.held / self.last_partition.name)
        try:
            yield
        finally:
            self.land_last_session()

    def land_last_session(self) -> None:
        parked = self.held / self.last_partition.name
        if parked.exists():
            shutil.move(str(parked), self.last_partition)


def market(symbols: int, sessions: int, out: Path) -> Market:
    """The market of `sessions` + 1 sessions under `out`, generated once and then reused."""
    root = out / f"market_{symbols}x{sessions}"
    lake = root / "lake"
    if not (root / "generated.json").exists():
        shutil.rmtree(root, ignore_errors=True)
        info = generate(symbols, sessions + 1, lake)
        (root / "generated.json").write_text(json.dumps(info))
    partitions = sorted((lake / "bronze" / "raw_ohlcv").iterdir())
    return Market(
        lake=lake,
        info=json.loads((root / "generated.json").read_text()),
        last_partition=partitions[-1],
        held=root / "held",
    )


@dataclass(frozen=True)
class Dbt:
    """dbt against one lake and one fresh DuckDB warehouse."""

    lake: Path
    work: Path

    @property
    def warehouse(self) -> Path:
        return self.work / "warehouse.duckdb"

    @classmethod
    def fresh(cls, lake: Path, work: Path) -> Dbt:
        shutil.rmtree(work, ignore_errors=True)
        work.mkdir(parents=True)
        return cls(lake, work)

    def __call__(self, *args: str) -> dict[str, object]:
        """Run dbt under GNU time: wall seconds (start-up included), peak RSS (MiB), the
        seconds dbt reports for the whole invocation and for each model it ran."""
        env = {
            **os.environ,
            "LAKE_ROOT": str(self.lake),
            "WAREHOUSE_PATH": str(self.warehouse),
            "DBT_PROFILES_DIR": str(REPO_ROOT),
            "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
            "DUCKDB_MEMORY_LIMIT": os.environ.get("DUCKDB_MEMORY_LIMIT", "6GB"),
        }
        dbt = str(Path(sys.executable).with_name("dbt"))
        target = self.work / "target"
        target.mkdir(exist_ok=True)
        command = [dbt, *args, "--project-dir", str(REPO_ROOT), "--target-path", str(target)]
        timed = run_timed(command, env, f"dbt {' '.join(args)}")
        results = json.loads((target / "run_results.json").read_text())
        return {
            "seconds": timed.seconds,
            "peak_rss_mib": timed.peak_rss_mib,
            "dbt_elapsed_seconds": round(results["elapsed_time"], 2),
            "model_seconds": {
                node["unique_id"].split(".")[-1]: round(node["execution_time"], 3)
                for node in results["results"]
                if node["unique_id"].startswith("model.")
            },
            # When each model compiled and ran: models of one invocation run two at a
            # time, so the wall time of a group is a span, not a sum of execution times.
            "model_spans": {
                node["unique_id"].split(".")[-1]: [
                    node["timing"][0]["started_at"],
                    node["timing"][-1]["completed_at"],
                ]
                for node in results["results"]
                if node["unique_id"].startswith("model.") and node["timing"]
            },
        }


@dataclass(frozen=True)
class Timed:
    seconds: float  # wall, interpreter start-up included
    peak_rss_mib: int


def run_timed(command: list[str], env: dict[str, str] | None = None, what: str = "") -> Timed:
    """Run `command` to completion under GNU time. Its peak RSS is the largest of the
    process and the children it waited for (ru_maxrss), never a sum; raises with the end
    of the output if it fails."""
    with tempfile.NamedTemporaryFile(prefix="rss-", suffix=".txt") as rss_file:
        timed = ["/usr/bin/time", "-f", "%M", "-o", rss_file.name, *command]
        started = time.perf_counter()
        result = subprocess.run(
            timed, env=env, cwd=REPO_ROOT, capture_output=True, text=True, check=False
        )
        wall = time.perf_counter() - started
        if result.returncode != 0:
            output = result.stdout[-4000:] + result.stderr[-2000:]
            raise RuntimeError(f"{what or command[0]} failed:\n{output}")
        peak_kib = int(Path(rss_file.name).read_text().split()[-1])
    return Timed(seconds=round(wall, 2), peak_rss_mib=round(peak_kib / 1024))


def save_result(result: dict[str, object], path: Path) -> None:
    """Print the result as JSON and keep it at `path` (under the run's --out)."""
    text = json.dumps(result, indent=2, default=str)
    print(text)
    path.write_text(text + "\n")
