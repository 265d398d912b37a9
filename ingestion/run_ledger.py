"""The run ledger: an audit row per run (ingestion, file import, daily) and the run lock.

Every run writes its row while holding the run lock (one run at a time per lake and
store), so a row still `running` when the lock is taken is the trace of a killed run. The
lock and the rows stay in ingestion: the fetch Lambdas and `condvest ingest` take the lock
and audit their runs as the daily run does.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import socket
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from core.errors import ExitCode, OperationalError
from ingestion.store_connection import StoreConnection, store_now


class RunLockBusyError(OperationalError):
    """Another live run holds the run lock: the message names it."""

    exit_code = ExitCode.BUSY


@dataclass(frozen=True)
class LockHolder:
    holder: str
    host: str
    pid: int
    acquired_at: dt.datetime

    def describe(self) -> str:
        return (
            f"{self.holder} (pid {self.pid} on {self.host}, since "
            f"{self.acquired_at:%Y-%m-%d %H:%M:%S} UTC)"
        )


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's live process
        return True
    return True


def _lock_key(name: str) -> int:
    """A signed 64-bit advisory lock key for the lock's name."""
    return int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "big", signed=True)


@dataclass
class RunRecord:
    run_id: str
    dataset: str
    source: str
    requested_from: dt.date | None
    requested_to: dt.date | None
    started_at: dt.datetime


class RunLedger:
    """The runs and locks tables, on SQLite or PostgreSQL."""

    def __init__(self, connection: StoreConnection) -> None:
        self._db = connection

    # -- run lock and stale runs ---------------------------------------------------

    @contextmanager
    def run_lock(
        self,
        name: str,
        holder: str,
        *,
        wait: bool = False,
        on_wait: Callable[[LockHolder], None] | None = None,
        poll_seconds: float = 2.0,
    ) -> Iterator[LockHolder]:
        """Hold the run lock `name` (one run at a time per lake and store) for the block.

        Busy: raise RunLockBusyError naming the holder, or with `wait` call `on_wait` once
        and poll until it is free. A holder that died frees it: its PostgreSQL session ends
        with it; on SQLite its row names a pid that no longer runs on this host.
        """
        me = LockHolder(holder, socket.gethostname(), os.getpid(), store_now())
        told = False
        while (busy := self._try_lock(name, me)) is not None:
            if not wait:
                raise RunLockBusyError(
                    f"another run holds the run lock of {name}: {busy.describe()}; let it "
                    "finish (or pass --wait to queue behind it)"
                )
            if on_wait is not None and not told:
                on_wait(busy)
                told = True
            time.sleep(poll_seconds)
        try:
            yield me
        finally:
            self._unlock(name, me)

    def _try_lock(self, name: str, me: LockHolder) -> LockHolder | None:
        """None when `me` now holds the lock, else the live holder."""
        with self._db.cursor() as cur:
            if self._db.is_postgresql:
                cur.execute("select pg_try_advisory_lock(%s)", (_lock_key(name),))
                if not cur.fetchone()[0]:
                    held = self._lock_row(cur, name)
                    return held or LockHolder("another run", "?", 0, store_now())
            else:
                held = self._lock_row(cur, name)
                if held is not None:
                    mine = (held.host, held.pid) == (me.host, me.pid)
                    dead = held.host == me.host and not _pid_alive(held.pid)
                    if not (mine or dead):
                        return held
            cur.execute(self._db.sql("delete from ingestion_locks where name = %s"), (name,))
            cur.execute(
                self._db.sql(
                    "insert into ingestion_locks (name, holder, host, pid, acquired_at) "
                    "values (%s, %s, %s, %s, %s)"
                ),
                (name, me.holder, me.host, me.pid, me.acquired_at),
            )
        return None

    def _lock_row(self, cur: Any, name: str) -> LockHolder | None:
        cur.execute(
            self._db.sql(
                "select holder, host, pid, acquired_at from ingestion_locks where name = %s"
            ),
            (name,),
        )
        row = cur.fetchone()
        if row is None:
            return None
        holder, host, pid, acquired_at = row
        if not isinstance(acquired_at, dt.datetime):
            acquired_at = dt.datetime.fromisoformat(str(acquired_at))
        return LockHolder(holder, host, int(pid), acquired_at)

    def _unlock(self, name: str, me: LockHolder) -> None:
        with self._db.cursor() as cur:
            cur.execute(
                self._db.sql(
                    "delete from ingestion_locks where name = %s and host = %s and pid = %s"
                ),
                (name, me.host, me.pid),
            )
            if self._db.is_postgresql:
                cur.execute("select pg_advisory_unlock(%s)", (_lock_key(name),))

    def abandon_stale_runs(self) -> list[str]:
        """Mark `abandoned` every run still `running`: call it holding the run lock, when
        no run of this store can be alive (every writer of runs holds the lock), so such a
        row is the trace of a run that was killed. Returns their run ids."""
        with self._db.cursor() as cur:
            cur.execute(
                self._db.sql("select run_id from ingestion_runs where status = %s order by run_id"),
                ("running",),
            )
            stale = [row[0] for row in cur.fetchall()]
            cur.execute(
                self._db.sql(
                    "update ingestion_runs set status = %s, finished_at = %s where status = %s"
                ),
                ("abandoned", store_now(), "running"),
            )
        return stale

    # -- audit ----------------------------------------------------------------

    def start_run(
        self,
        dataset: str,
        source: str,
        requested_from: dt.date | None,
        requested_to: dt.date | None,
    ) -> RunRecord:
        record = RunRecord(
            run_id=uuid.uuid4().hex,
            dataset=dataset,
            source=source,
            requested_from=requested_from,
            requested_to=requested_to,
            started_at=store_now(),
        )
        with self._db.cursor() as cur:
            cur.execute(
                self._db.sql(
                    "insert into ingestion_runs (run_id, dataset, source, requested_from, "
                    "requested_to, started_at, status) values (%s, %s, %s, %s, %s, %s, %s)"
                ),
                (
                    record.run_id,
                    dataset,
                    source,
                    requested_from,
                    requested_to,
                    record.started_at,
                    "running",
                ),
            )
        return record

    def finish_run(
        self,
        run: RunRecord,
        status: str,
        sessions: int,
        rows_landed: int,
        files_written: int,
        detail: dict[str, Any] | None = None,
    ) -> None:
        with self._db.cursor() as cur:
            cur.execute(
                self._db.sql(
                    "update ingestion_runs set finished_at = %s, status = %s, sessions = %s, "
                    "rows_landed = %s, files_written = %s, detail = %s where run_id = %s"
                ),
                (
                    store_now(),
                    status,
                    sessions,
                    rows_landed,
                    files_written,
                    json.dumps(detail or {}, default=str, sort_keys=True),
                    run.run_id,
                ),
            )

    def runs(self, dataset: str | None = None) -> list[dict[str, Any]]:
        query = "select * from ingestion_runs"
        params: tuple[Any, ...] = ()
        if dataset is not None:
            query += " where dataset = %s"
            params = (dataset,)
        with self._db.cursor() as cur:
            cur.execute(self._db.sql(query + " order by started_at"), params)
            names = [col[0] for col in cur.description]
            return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]
