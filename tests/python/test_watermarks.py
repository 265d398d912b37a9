"""The watermark store, the same suite on SQLite and on a real PostgreSQL server."""

from __future__ import annotations

import datetime as dt
import json
import multiprocessing
import random
import threading
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol

import pytest
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from core.errors import ExitCode, OperationalError
from ingestion.runs import OHLCV, TICKERS, RunSummary, audited
from ingestion.store_connection import StoreUnavailableError
from ingestion.stores import Stores
from ingestion.watermarks import MARKET

BACKENDS = ["sqlite", "postgresql"]
DAY = dt.date(2024, 6, 10)
CONCURRENT_SYMBOLS = [f"C{i:03d}" for i in range(40)] + [MARKET]
CONCURRENT_DAYS = 24  # dates DAY .. DAY + 23, shared out between the writers
JOIN_TIMEOUT_SECONDS = 120
# A writer that dies before the barrier must not leave the others waiting forever.
BARRIER_TIMEOUT_SECONDS = 60
EXPECTED_LATEST = dict.fromkeys(CONCURRENT_SYMBOLS, DAY + dt.timedelta(days=CONCURRENT_DAYS - 1))


class _Barrier(Protocol):
    def wait(self) -> Any: ...


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture
def stores(backend: str, request: pytest.FixtureRequest) -> Stores:
    return request.getfixturevalue("sqlite_stores" if backend == "sqlite" else "pg_stores")


@pytest.fixture
def dsn(backend: str, request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A fresh database that several connections (threads, processes) can share."""
    if backend == "sqlite":
        return f"sqlite:///{tmp_path / 'shared.sqlite'}"
    return request.getfixturevalue("pg_database")


def _day(offset: int) -> dt.date:
    return DAY + dt.timedelta(days=offset)


def _iso(value: Any) -> Any:
    # SQLite hands dates back as ISO text, psycopg as dates: compare them as text.
    return value.isoformat() if isinstance(value, dt.date) else value


# -- watermarks -----------------------------------------------------------------------------


def test_unknown_watermarks_are_absent(stores: Stores) -> None:
    assert stores.watermarks.get(OHLCV) is None
    assert stores.watermarks.get(OHLCV, "AAPL") is None
    assert stores.watermarks.get_many(OHLCV, ["AAPL", "MSFT"]) == {}
    assert stores.watermarks.get_many(OHLCV, []) == {}


def test_advance_then_get(stores: Stores) -> None:
    stores.watermarks.advance(OHLCV, {MARKET: DAY, "AAPL": DAY, "MSFT": _day(-3)}, "run-1")

    assert stores.watermarks.get(OHLCV) == DAY
    assert stores.watermarks.get(OHLCV, "AAPL") == DAY
    assert stores.watermarks.get(OHLCV, "MSFT") == _day(-3)
    assert stores.watermarks.get_many(OHLCV, ["AAPL", "MSFT", "NVDA"]) == {
        "AAPL": DAY,
        "MSFT": _day(-3),
    }
    # Datasets keep separate watermarks for the same symbol.
    assert stores.watermarks.get(TICKERS) is None
    assert stores.watermarks.get(TICKERS, "AAPL") is None


def test_get_many_crosses_the_query_chunks(stores: Stores) -> None:
    # get_many queries 500 symbols at a time: 1,234 known + 66 unknown spans three chunks.
    marks = {f"S{i:04d}": _day(-(i % 400)) for i in range(1234)}
    stores.watermarks.advance(OHLCV, marks, "run-1")
    wanted = [*marks, *(f"U{i:03d}" for i in range(66))]
    random.Random(7).shuffle(wanted)

    assert stores.watermarks.get_many(OHLCV, iter(wanted)) == marks
    assert stores.watermarks.get_many(OHLCV, wanted[:3]) == {
        s: marks[s] for s in wanted[:3] if s in marks
    }


def test_watermarks_never_move_backwards(stores: Stores) -> None:
    stores.watermarks.advance(OHLCV, {"AAPL": DAY, "MSFT": _day(-5)}, "run-1")

    # One call mixing an older date (ignored), a newer one and an equal one.
    stores.watermarks.advance(OHLCV, {"AAPL": _day(-1), "MSFT": _day(-2)}, "run-2")
    stores.watermarks.advance(OHLCV, {"AAPL": DAY}, "run-3")

    assert stores.watermarks.get_many(OHLCV, ["AAPL", "MSFT"]) == {"AAPL": DAY, "MSFT": _day(-2)}


# -- audit rows -----------------------------------------------------------------------------


def test_audit_rows_record_start_and_finish(stores: Stores) -> None:
    run = stores.ledger.start_run(OHLCV, "sample", _day(-2), DAY)

    (started,) = stores.ledger.runs()
    assert started["run_id"] == run.run_id
    assert started["status"] == "running"
    assert started["finished_at"] is None
    assert started["started_at"] is not None
    assert (started["dataset"], started["source"]) == (OHLCV, "sample")
    assert (_iso(started["requested_from"]), _iso(started["requested_to"])) == (
        "2024-06-08",
        "2024-06-10",
    )

    stores.ledger.finish_run(run, "succeeded", 3, 1500, 4, {"watermark": DAY, "files": ["a", "b"]})
    failed = stores.ledger.start_run(TICKERS, "polygon", None, None)
    stores.ledger.finish_run(failed, "failed", 0, 0, 0, {"error": "RuntimeError: upstream 503"})

    finished, second = stores.ledger.runs()
    assert finished["run_id"] == run.run_id
    assert finished["status"] == "succeeded"
    assert finished["finished_at"] is not None
    assert (finished["sessions"], finished["rows_landed"], finished["files_written"]) == (
        3,
        1500,
        4,
    )
    assert json.loads(finished["detail"]) == {"files": ["a", "b"], "watermark": "2024-06-10"}
    assert second["run_id"] == failed.run_id
    assert stores.ledger.runs(TICKERS) == [second]
    assert second["status"] == "failed"
    assert second["requested_from"] is None
    assert json.loads(second["detail"]) == {"error": "RuntimeError: upstream 503"}


def test_a_failing_job_still_finishes_its_audit_row(stores: Stores) -> None:
    run = stores.ledger.start_run(OHLCV, "sample", DAY, DAY)
    summary = RunSummary(run.run_id, OHLCV, "sample")

    def body() -> None:
        raise ConnectionError("polygon unreachable")

    with pytest.raises(ConnectionError):
        audited(stores.ledger, summary, run, body)

    (row,) = stores.ledger.runs(OHLCV)
    assert row["status"] == "failed"
    assert row["finished_at"] is not None
    assert json.loads(row["detail"])["error"] == "ConnectionError: polygon unreachable"
    assert stores.watermarks.get(OHLCV) is None


# -- parameterised SQL ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "hostile",
    [
        "X'); drop table ingestion_watermarks; --",
        "A' or '1'='1",
        "B%s?C",  # the placeholders the store rewrites between dialects
        'D"; delete from ingestion_runs; --',
    ],
)
def test_hostile_symbol_is_stored_verbatim(stores: Stores, hostile: str) -> None:
    stores.watermarks.advance(OHLCV, {"AAPL": _day(-1)}, "run-1")
    run = stores.ledger.start_run(hostile, hostile, DAY, DAY)

    stores.watermarks.advance(OHLCV, {hostile: DAY}, hostile)
    stores.ledger.finish_run(run, hostile, 1, 1, 1, {"symbol": hostile})

    assert stores.watermarks.get(OHLCV, hostile) == DAY
    assert stores.watermarks.get_many(OHLCV, [hostile, "AAPL", "A"]) == {
        hostile: DAY,
        "AAPL": _day(-1),
    }
    (row,) = stores.ledger.runs(hostile)
    assert (row["dataset"], row["source"], row["status"]) == (hostile, hostile, hostile)
    assert json.loads(row["detail"]) == {"symbol": hostile}


@pytest.mark.parametrize(
    "bad_dsn",
    ["mysql://etl:hunter2@db.internal/marks", "sqlite://relative.sqlite", "redis://cache:6379/0"],
)
def test_connect_rejects_an_unsupported_dsn_scheme(bad_dsn: str) -> None:
    with pytest.raises(OperationalError, match="unsupported watermark DSN scheme") as excinfo:
        Stores.connect(bad_dsn)
    assert "hunter2" not in str(excinfo.value)
    assert excinfo.value.exit_code == ExitCode.USAGE


def test_an_unreachable_postgresql_is_one_line_naming_it_without_its_password() -> None:
    # Port 1 on loopback: nothing listens, the connection is refused at once.
    dsn = "postgresql://etl:hunter2@127.0.0.1:1/marks?connect_timeout=5"
    with pytest.raises(StoreUnavailableError) as excinfo:
        Stores.connect(dsn)
    message = str(excinfo.value)
    assert message.startswith("watermark store 127.0.0.1:1/marks is unreachable: ")
    assert "hunter2" not in message and "\n" not in message
    assert excinfo.value.exit_code == ExitCode.UNAVAILABLE


def test_connect_accepts_postgres_urls_and_conninfo_strings(pg_database: str) -> None:
    # key=value pairs, the form ingestion.credentials builds from an RDS secret
    conninfo = make_conninfo("", **conninfo_to_dict(pg_database))
    assert not conninfo.startswith("postgresql://")
    for dsn in (pg_database.replace("postgresql://", "postgres://", 1), conninfo):
        stores = Stores.connect(dsn)
        try:
            stores.watermarks.advance(OHLCV, {"AAPL": DAY}, "run-1")
            assert stores.watermarks.get(OHLCV, "AAPL") == DAY
        finally:
            stores.close()


# -- concurrency ----------------------------------------------------------------------------


def _advance_interleaved(dsn: str, worker: int, workers: int, barrier: _Barrier) -> None:
    """Writer `worker` of `workers`: connect, then advance every symbol to each of its dates.

    The writers share the dates out round-robin and each goes newest first, so older dates
    keep arriving after newer ones; symbol order is shuffled per call, as a grouped-daily
    answer comes in no particular order.
    """
    rng = random.Random(worker)
    barrier.wait()  # connect together too: the first connections race to create the schema
    stores = Stores.connect(dsn)
    try:
        for offset in reversed(range(worker, CONCURRENT_DAYS, workers)):
            symbols = CONCURRENT_SYMBOLS.copy()
            rng.shuffle(symbols)
            stores.watermarks.advance(
                OHLCV, dict.fromkeys(symbols, _day(offset)), f"writer-{worker}"
            )
    finally:
        stores.close()


def _advance_in_process(
    dsn: str, worker: int, workers: int, barrier: _Barrier, failures: Any
) -> None:
    try:
        _advance_interleaved(dsn, worker, workers, barrier)
    except BaseException:
        failures.put(traceback.format_exc())
        raise


def _watch_for_regressions(
    dsn: str, until: threading.Event, regressions: list[str], errors: list[str]
) -> None:
    """Poll the watermarks while the writers run; any value lower than before is a bug."""
    seen: dict[str, dt.date] = {}
    try:
        stores = Stores.connect(dsn)
        try:
            while not until.wait(0.002):  # the pause leaves SQLite's write lock to the writers
                for symbol, day in stores.watermarks.get_many(OHLCV, CONCURRENT_SYMBOLS).items():
                    if day < seen.get(symbol, day):
                        regressions.append(f"{symbol}: {seen[symbol]} -> {day}")
                    seen[symbol] = day
        finally:
            stores.close()
    except Exception:
        errors.append(traceback.format_exc())


def _watched(dsn: str, run_writers: Callable[[], None]) -> tuple[list[str], list[str]]:
    """Run the writers under a watcher; the regressions it saw and any error it hit."""
    done = threading.Event()
    regressions: list[str] = []
    errors: list[str] = []
    watcher = threading.Thread(target=_watch_for_regressions, args=(dsn, done, regressions, errors))
    watcher.start()
    try:
        run_writers()
    finally:
        done.set()
        watcher.join()
    return regressions, errors


def _latest(dsn: str) -> dict[str, dt.date]:
    stores = Stores.connect(dsn)
    try:
        return stores.watermarks.get_many(OHLCV, CONCURRENT_SYMBOLS)
    finally:
        stores.close()


def test_concurrent_threads_end_at_the_latest_date(dsn: str) -> None:
    workers = 4
    barrier = threading.Barrier(workers, timeout=BARRIER_TIMEOUT_SECONDS)
    errors: list[str] = []

    def writer(worker: int) -> None:
        try:
            _advance_interleaved(dsn, worker, workers, barrier)
        except Exception:
            errors.append(traceback.format_exc())

    def run_writers() -> None:
        threads = [threading.Thread(target=writer, args=(k,)) for k in range(workers)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()

    regressions, watcher_errors = _watched(dsn, run_writers)

    assert errors + watcher_errors == []
    assert regressions == []
    assert _latest(dsn) == EXPECTED_LATEST


def test_concurrent_processes_end_at_the_latest_date(dsn: str) -> None:
    # spawn, not fork: the parent holds threads (servers, psycopg) that fork would copy
    # in an arbitrary state.
    context = multiprocessing.get_context("spawn")
    workers = 2
    barrier = context.Barrier(workers, timeout=BARRIER_TIMEOUT_SECONDS)
    failures = context.SimpleQueue()
    processes = [
        context.Process(target=_advance_in_process, args=(dsn, worker, workers, barrier, failures))
        for worker in range(workers)
    ]

    def run_writers() -> None:
        for process in processes:
            process.start()
        for process in processes:
            process.join(JOIN_TIMEOUT_SECONDS)

    try:
        regressions, watcher_errors = _watched(dsn, run_writers)
    finally:
        for process in processes:
            if process.is_alive():
                process.kill()
    reported = []
    while not failures.empty():
        reported.append(failures.get())

    assert [p.exitcode for p in processes] == [0] * workers, "\n".join(reported)
    assert watcher_errors == []
    assert regressions == []
    assert _latest(dsn) == EXPECTED_LATEST
