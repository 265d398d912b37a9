"""One run at a time per lake and store, and stale runs marked (issue 19, classes 7, 8).

The holder is a real other process (a killed one frees the lock), on SQLite and on a real
PostgreSQL; the CLI's second run exits BUSY naming the holder, or queues with --wait."""

from __future__ import annotations

import importlib
import multiprocessing
import os
import signal
import sqlite3
import threading
import time
from contextlib import closing
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from condvest.cli import main
from core.errors import ExitCode
from ingestion.run_ledger import RunLockBusyError
from ingestion.runs import OHLCV
from ingestion.runtime import runtime
from ingestion.stores import Stores
from orchestration.daily import LocalSteps

LOCK = "run /some/lake"
RUN_DATE = "2025-12-31"


def _hold(dsn: str, name: str, holder: str, ready: Any) -> None:
    """A child process: take the lock, say so, then sleep until killed."""
    stores = Stores.connect(dsn)
    with stores.ledger.run_lock(name, holder):
        ready.set()
        time.sleep(600)


class Holder:
    def __init__(self, dsn: str, name: str, holder: str) -> None:
        # fork: the child needs nothing but the store, and starts in milliseconds.
        context = multiprocessing.get_context("fork")
        self.ready = context.Event()
        self.process = context.Process(target=_hold, args=(dsn, name, holder, self.ready))

    def __enter__(self) -> Holder:
        self.process.start()
        assert self.ready.wait(60), "the holder never took the lock"
        return self

    def kill(self) -> None:
        if self.process.pid is not None and self.process.is_alive():
            os.kill(self.process.pid, signal.SIGKILL)
        self.process.join(30)

    def __exit__(self, *exc: object) -> None:
        self.kill()


@pytest.fixture(params=["sqlite", "postgresql"])
def dsn(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'shared.sqlite'}"
    return request.getfixturevalue("pg_database")


def test_a_second_run_is_refused_naming_the_holder_until_the_holder_dies(dsn: str) -> None:
    stores = Stores.connect(dsn)
    with Holder(dsn, LOCK, "condvest daily") as holder:
        with (
            pytest.raises(RunLockBusyError) as busy,
            stores.ledger.run_lock(LOCK, "condvest ingest"),
        ):
            pytest.fail("two runs held the lock")
        message = str(busy.value)
        assert message.startswith(f"another run holds the run lock of {LOCK}: condvest daily ")
        assert f"(pid {holder.process.pid} on " in message and "--wait" in message
        assert busy.value.exit_code == ExitCode.BUSY
        # Another lake is another lock.
        with stores.ledger.run_lock("run /other/lake", "condvest ingest"):
            pass
        holder.kill()  # killed: no release, yet the lock is free again
    # PostgreSQL ends the killed client's session (and its lock) a moment later.
    deadline = time.monotonic() + 20
    while True:
        try:
            with stores.ledger.run_lock(LOCK, "condvest ingest") as me:
                assert me.pid == os.getpid()
            break
        except RunLockBusyError:
            assert time.monotonic() < deadline, "a killed holder kept the lock"
            time.sleep(0.1)
    stores.close()


def test_wait_queues_behind_the_holder(dsn: str) -> None:
    stores = Stores.connect(dsn)
    told: list[str] = []
    with Holder(dsn, LOCK, "condvest daily") as holder:
        threading.Timer(1.0, holder.kill).start()
        started = time.monotonic()
        with stores.ledger.run_lock(
            LOCK,
            "condvest ingest",
            wait=True,
            on_wait=lambda h: told.append(h.holder),
            poll_seconds=0.2,
        ):
            assert time.monotonic() - started >= 0.9
    assert told == ["condvest daily"]
    stores.close()


def test_a_killed_runs_running_row_is_marked_abandoned_by_the_next_run(dsn: str) -> None:
    stores = Stores.connect(dsn)
    killed = stores.ledger.start_run(OHLCV, "polygon", None, None)  # its process died here
    with stores.ledger.run_lock(LOCK, "condvest ingest"):
        assert stores.ledger.abandon_stale_runs() == [killed.run_id]
        assert stores.ledger.abandon_stale_runs() == []
    (row,) = stores.ledger.runs(OHLCV)
    assert row["status"] == "abandoned" and row["finished_at"] is not None
    stores.close()


# --- through the CLI --------------------------------------------------------------------


@pytest.fixture
def env(cli_env: Path) -> Path:
    return cli_env


def lock_name(root: Path) -> str:
    return f"run {root / 'lake'}"


@pytest.mark.parametrize("command", [["ingest", "--dataset", "tickers"], ["daily"]])
def test_a_second_command_exits_busy_with_one_line(env: Path, command: list[str]) -> None:
    with Holder(f"sqlite:///{env / 'wm.sqlite'}", lock_name(env), "condvest ingest") as holder:
        result = CliRunner().invoke(main, command)
    assert result.exit_code == ExitCode.BUSY == 4, result.output
    (line,) = result.stderr.strip().splitlines()
    assert line.startswith(f"error: another run holds the run lock of {lock_name(env)}: ")
    assert f"condvest ingest (pid {holder.process.pid} on " in line
    with closing(sqlite3.connect(env / "wm.sqlite")) as con:  # nothing was started
        assert con.execute("select count(*) from ingestion_runs").fetchone() == (0,)


def test_a_waiting_command_says_so_then_runs(env: Path) -> None:
    with Holder(f"sqlite:///{env / 'wm.sqlite'}", lock_name(env), "condvest daily") as holder:
        threading.Timer(1.0, holder.kill).start()
        result = CliRunner().invoke(main, ["ingest", "--dataset", "tickers", "--wait"])
    assert result.exit_code == ExitCode.OK, result.output
    assert result.stderr.startswith("waiting: the run lock is held by condvest daily (pid ")


def test_a_killed_ingest_and_a_killed_daily_are_marked_abandoned_by_the_next_run(
    env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from core.settings import Settings

    with runtime(Settings.from_env()) as rt:
        killed_ingest = rt.stores.ledger.start_run(OHLCV, "sample", None, None)

    # A daily killed mid-step: the exit skips the run's own reporting, as a kill does.
    def killed(self: LocalSteps, document: dict[str, Any]) -> dict[str, Any]:
        raise SystemExit(-9)

    monkeypatch.setattr(LocalSteps, "FetchMetadata", killed)
    monkeypatch.setattr("orchestration.dbt.preload", lambda: None)
    CliRunner().invoke(main, ["daily", "--date", RUN_DATE])
    with closing(sqlite3.connect(env / "wm.sqlite")) as con:
        rows = dict(con.execute("select dataset, status from ingestion_runs").fetchall())
    assert rows == {"ohlcv": "abandoned", "daily": "running"}  # the daily marked the ingest

    result = CliRunner().invoke(main, ["ingest", "--dataset", "tickers"])
    assert result.exit_code == ExitCode.OK, result.output
    assert "note: marked stale run(s) abandoned: " in result.stderr
    with closing(sqlite3.connect(env / "wm.sqlite")) as con:
        statuses = dict(con.execute("select run_id, status from ingestion_runs").fetchall())
    assert statuses[killed_ingest.run_id] == "abandoned"
    assert sorted(statuses.values()) == ["abandoned", "abandoned", "succeeded"]


@pytest.mark.parametrize("handler", ["daily_ohlcv_fetcher", "daily_meta_fetcher"])
def test_the_fetch_lambdas_take_the_same_lock(env: Path, handler: str) -> None:
    module = importlib.import_module(f"ingestion.handlers.{handler}")
    with (
        Holder(f"sqlite:///{env / 'wm.sqlite'}", lock_name(env), "lambda FetchOhlcv"),
        pytest.raises(RunLockBusyError, match="holds the run lock"),
    ):
        module.lambda_handler({"date": RUN_DATE}, None)


def test_on_aws_a_second_execution_queues_behind_the_fetch_holding_the_lock() -> None:
    # Step Functions names a Lambda's error by its exception class: the fetch states retry
    # a busy lock (another execution's fetch of the same lake), every minute for 20 minutes,
    # longer than a fetch Lambda may run, instead of fetching beside it.
    from orchestration import asl

    for name in ("FetchMetadata", "FetchOhlcv"):
        (rule,) = [r for r in asl.states()[name]["Retry"] if "RunLockBusyError" in r["ErrorEquals"]]
        assert rule["IntervalSeconds"] * rule["MaxAttempts"] > asl.states()[name]["TimeoutSeconds"]
    assert RunLockBusyError.__name__ == "RunLockBusyError"
