"""`dbt build` in this process, its log on stderr, its outcome as a small summary.

In-process (dbtRunner) rather than a subprocess: dbt's start-up costs seconds and a daily
run builds twice. stdout stays free for the command's JSON summary.
"""

from __future__ import annotations

import gc
import os
import sys
import threading
from collections import Counter
from collections.abc import Sequence
from typing import Any

from core.paths import REPO_ROOT

# Results that make a build fail (warnings do not).
_FAILED = {"error", "fail", "runtime error"}


class DbtBuildError(RuntimeError):
    """dbt build ran but some node failed, or dbt could not run at all."""


def _echo(event: Any) -> None:
    if event.info.level in ("info", "warn", "error"):
        print(event.info.msg, file=sys.stderr)


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


def dbt_build(args: Sequence[str] = (), *, target: str = "dev") -> dict[str, Any]:
    """Run `dbt build --target <target> <args>`; returns counts by status and the elapsed
    seconds, or raises DbtBuildError naming the nodes that failed."""
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
        outcome = dbtRunner(callbacks=[_echo]).invoke(argv)
    finally:
        _release_duckdb()
    if not isinstance(outcome.result, RunExecutionResult):
        # Only the message leaves: the exception's traceback holds dbt's DuckDB cursors in
        # reference cycles, which keep the database open until the cycle collector runs.
        cause = str(outcome.exception).strip().splitlines()[0] if outcome.exception else "?"
        del outcome
        gc.collect()
        raise DbtBuildError(f"dbt build did not run: {cause}")
    statuses = Counter(str(result.status) for result in outcome.result.results)
    failed = sorted(
        result.node.name for result in outcome.result.results if str(result.status) in _FAILED
    )
    if not outcome.success:
        raise DbtBuildError(
            f"dbt build failed: {len(failed)} node(s): {', '.join(failed[:10])}"
            + (" ..." if len(failed) > 10 else "")
        )
    return {
        # Shaped as the ECS task's container in AWS: the ASL's Check states read its ExitCode.
        "container": {"ExitCode": 0},
        "status": "success",
        "results": dict(sorted(statuses.items())),
        "elapsed_seconds": round(outcome.result.elapsed_time, 1),
    }
