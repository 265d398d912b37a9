"""`dbt build` in this process, its log on stderr or in a file, its outcome as a small summary.

In-process (dbtRunner) rather than a subprocess: dbt's start-up costs seconds and a daily
run builds twice. stdout stays free for the command's JSON summary. A quiet `condvest
daily` sends dbt's log (a line per node: hundreds) to a file and shows only the summary.
"""

from __future__ import annotations

import gc
import os
import re
import sys
import threading
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from core.contracts import OMITTED_WHEN_NONE, Contract
from core.paths import REPO_ROOT

# Results that make a build fail (warnings do not).
_FAILED = {"error", "fail", "runtime error"}
_ANSI = re.compile(r"\x1b\[[0-9;]*m")


class DbtBuildError(RuntimeError):
    """dbt build ran but some node failed, or dbt could not run at all."""


class _Log:
    """dbt's info, warning and error messages, to stderr or (colours stripped) a file; keeps
    dbt's closing "Done. PASS=.. WARN=.. ERROR=.." line for the summary."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self.stats: str | None = None

    def __call__(self, event: Any) -> None:
        if event.info.level not in ("info", "warn", "error"):
            return
        message = event.info.msg if self.stream.isatty() else _ANSI.sub("", event.info.msg)
        if event.info.name == "StatsLine":
            self.stats = _ANSI.sub("", message)
        print(message, file=self.stream, flush=True)


def _release_duckdb() -> None:
    """Close the DuckDB database dbt-duckdb keeps open for the process: the next steps
    (training, prediction, the report) open the warehouse themselves, and DuckDB refuses a
    second configuration of a database file that is still open in the same process."""
    from dbt.adapters.duckdb.connections import DuckDBConnectionManager

    with DuckDBConnectionManager._LOCK:
        if DuckDBConnectionManager._ENV is not None:
            DuckDBConnectionManager._ENV.close()
            DuckDBConnectionManager._ENV = None


def preload() -> threading.Thread:
    """Import dbt and its DuckDB adapter in a background thread. They take seconds to
    import, and the daily run reaches its dbt build only after fetching from the vendor,
    which mostly waits on the network: importing meanwhile takes that time off the run."""

    def load() -> None:
        from dbt.adapters.duckdb import connections  # noqa: F401
        from dbt.cli import main  # noqa: F401

    thread = threading.Thread(target=load, name="dbt-preload", daemon=True)
    thread.start()
    return thread


@dataclass(frozen=True)
class DbtBuildResult(Contract):
    """A `dbt build` that passed: counts by status, dbt's summary line (`stats`), the tests
    that warned, the seconds, and where its log went (None: stderr)."""

    results: dict[str, int]
    elapsed_seconds: float
    stats: str | None
    warned: list[str]
    log_file: str | None = field(default=None, metadata=OMITTED_WHEN_NONE)

    def to_dict(self) -> dict[str, Any]:
        """The DbtBuild steps' result in the run document; `container` is shaped as the ECS
        task's in AWS: the ASL's Check states read its ExitCode."""
        return {"container": {"ExitCode": 0}, "status": "success", **super().to_dict()}


def dbt_build(
    args: Sequence[str] = (), *, target: str = "dev", log_file: Path | None = None
) -> DbtBuildResult:
    """Run `dbt build --target <target> <args>`; returns counts by status, dbt's summary
    line, the tests that warned and the elapsed seconds, or raises DbtBuildError naming
    the nodes that failed. dbt's log goes to stderr, or is appended to `log_file`."""
    if log_file is None:
        return _build(args, target, _Log(sys.stderr), None)
    log_file.parent.mkdir(parents=True, exist_ok=True)
    with log_file.open("a", encoding="utf-8") as stream:
        print(f"== dbt build {' '.join(args)}".rstrip(), file=stream, flush=True)
        return _build(args, target, _Log(stream), log_file)


def _build(args: Sequence[str], target: str, log: _Log, log_file: Path | None) -> DbtBuildResult:
    from dbt.artifacts.schemas.run import RunExecutionResult
    from dbt.cli.main import dbtRunner

    profiles_dir = os.environ.get("DBT_PROFILES_DIR", str(REPO_ROOT))
    argv = [
        "build",
        "--project-dir",
        str(REPO_ROOT),
        "--profiles-dir",
        profiles_dir,
        "--target",
        target,
        "--log-level",
        "none",
        *args,
    ]
    try:
        outcome = dbtRunner(callbacks=[log]).invoke(argv)
    finally:
        _release_duckdb()
    where = f" (full log: {log_file})" if log_file else ""
    if not isinstance(outcome.result, RunExecutionResult):
        # Only the message leaves: the exception's traceback holds dbt's DuckDB cursors in
        # reference cycles, which keep the database open until the cycle collector runs.
        cause = str(outcome.exception).strip().splitlines()[0] if outcome.exception else "?"
        del outcome
        gc.collect()
        raise DbtBuildError(f"dbt build did not run: {cause}{where}")
    results = outcome.result.results
    statuses = Counter(str(result.status) for result in results)
    failed = sorted(result.node.name for result in results if str(result.status) in _FAILED)
    if not outcome.success:
        raise DbtBuildError(
            f"dbt build failed: {len(failed)} node(s): {', '.join(failed[:10])}"
            + (" ..." if len(failed) > 10 else "")
            + where
        )
    return DbtBuildResult(
        results=dict(sorted(statuses.items())),
        elapsed_seconds=round(outcome.result.elapsed_time, 1),
        stats=log.stats,
        warned=sorted(result.node.name for result in results if str(result.status) == "warn"),
        log_file=None if log_file is None else str(log_file),
    )
