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
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.generate_market import generate
from core.paths import REPO_ROOT

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

    @property
    def target(self) -> Path:
        return self.work / "target"

    def env(self) -> dict[str, str]:
        """The environment dbt runs in: this lake and warehouse, the repo's profile."""
        return {
            **os.environ,
            "LAKE_ROOT": str(self.lake),
            "WAREHOUSE_PATH": str(self.warehouse),
            "DBT_PROFILES_DIR": str(REPO_ROOT),
            "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
            "DUCKDB_MEMORY_LIMIT": os.environ.get("DUCKDB_MEMORY_LIMIT", "6GB"),
        }

    def __call__(self, *args: str) -> dict[str, Any]:
        """Run dbt under GNU time: wall seconds (start-up included), peak RSS (MiB), the
        seconds dbt reports for the whole invocation and for each model it ran."""
        dbt = str(Path(sys.executable).with_name("dbt"))
        self.target.mkdir(exist_ok=True)
        command = [dbt, *args, "--project-dir", str(REPO_ROOT), "--target-path", str(self.target)]
        timed = run_timed(command, self.env(), f"dbt {' '.join(args)}")
        results = json.loads((self.target / "run_results.json").read_text())
        return {
            "seconds": timed.seconds,
            "peak_rss_mib": timed.peak_rss_mib,
            "dbt_elapsed_seconds": round(results["elapsed_time"], 2),
            **node_timings(
                (node["unique_id"], node["status"], node["execution_time"], node["timing"])
                for node in results["results"]
            ),
        }


def node_timings(
    nodes: Iterable[tuple[str, str, float, list[dict[str, str]]]],
) -> dict[str, Any]:
    """Per model of one dbt invocation, from (unique_id, status, execution seconds, timing)
    per node: its execution seconds and its span (when it compiled and when it finished;
    the wall time of a group of models is a span, not a sum of execution times, when
    models run concurrently); and how many nodes of each type ended in each status (a
    build runs seeds and tests too)."""
    seconds: dict[str, float] = {}
    spans: dict[str, list[str]] = {}
    counts: Counter[str] = Counter()
    for unique_id, status, execution, timing in nodes:
        kind, name = unique_id.split(".")[0], unique_id.split(".")[-1]
        counts[f"{kind} {status}"] += 1
        if kind != "model":
            continue
        seconds[name] = round(execution, 3)
        if timing:
            spans[name] = [timing[0]["started_at"], timing[-1]["completed_at"]]
    return {"model_seconds": seconds, "model_spans": spans, "nodes": dict(sorted(counts.items()))}


@dataclass(frozen=True)
class Timed:
    seconds: float  # wall, interpreter start-up included
    peak_rss_mib: int
    started_at: float = 0.0  # epoch seconds when the process was started
    stdout: str = ""
    stderr: str = ""


def run_timed(command: list[str], env: dict[str, str] | None = None, what: str = "") -> Timed:
    """Run `command` to completion under GNU time. Its peak RSS is the largest of the
    process and the children it waited for (ru_maxrss), never a sum; raises with the end
    of the output if it fails."""
    with tempfile.NamedTemporaryFile(prefix="rss-", suffix=".txt") as rss_file:
        timed = ["/usr/bin/time", "-f", "%M", "-o", rss_file.name, *command]
        started_at = time.time()
        started = time.perf_counter()
        result = subprocess.run(
            timed, env=env, cwd=REPO_ROOT, capture_output=True, text=True, check=False
        )
        wall = time.perf_counter() - started
        if result.returncode != 0:
            output = result.stdout[-4000:] + result.stderr[-2000:]
            raise RuntimeError(f"{what or command[0]} failed:\n{output}")
        peak_kib = int(Path(rss_file.name).read_text().split()[-1])
    return Timed(
        seconds=round(wall, 2),
        peak_rss_mib=round(peak_kib / 1024),
        started_at=started_at,
        stdout=result.stdout,
        stderr=result.stderr,
    )


def save_result(result: dict[str, object], path: Path) -> None:
    """Print the result as JSON and keep it at `path` (under the run's --out)."""
    text = json.dumps(result, indent=2, default=str)
    print(text)
    path.write_text(text + "\n")
