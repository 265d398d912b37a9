"""Per-(dataset, symbol) watermarks and an audit row per ingestion run.

The same SQL runs on PostgreSQL (psycopg 3; RDS in AWS) and SQLite (the embedded default):
it is written with `%s` placeholders and `?` is substituted for SQLite. Every statement is
parameterised. The upsert only ever moves a watermark forward, so two fetchers racing on the
same symbol can finish in any order without moving it backwards.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import socket
import sqlite3
import time
import uuid
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Protocol
from urllib.parse import urlparse

from core.errors import ExitCode, OperationalError

# One row per held run lock: who holds it, for the message the next run prints. On
# PostgreSQL the lock itself is a session advisory lock (freed when its holder's connection
# dies, on any host); on SQLite (one machine) this row is the lock, stale when its pid is dead.
LOCKS = """
    create table if not exists ingestion_locks (
        name text primary key,
        holder text not null,
        host text not null,
        pid integer not null,
        acquired_at timestamp not null
    )
"""

SCHEMA = (
    """
    create table if not exists ingestion_watermarks (
        dataset text not null,
        symbol text not null,
        last_date date not null,
        updated_at timestamp not null,
        run_id text not null,
        primary key (dataset, symbol)
    )
    """,
    """
    create table if not exists ingestion_runs (
        run_id text primary key,
        dataset text not null,
        source text not null,
        requested_from date,
        requested_to date,
        started_at timestamp not null,
        finished_at timestamp,
        status text not null,
        sessions integer not null default 0,
        rows_landed integer not null default 0,
        files_written integer not null default 0,
        detail text
    )
    """,
    # Work a fetch owes after its watermark moved (the splits check of landed sessions, a
    # split's restatement, per-symbol marks): recorded before the watermark moves, done by
    # this run or retried by every later one until it is.
    """
    create table if not exists ingestion_followups (
        dataset text not null,
        kind text not null,
        key text not null,
        detail text not null,
        created_at timestamp not null,
        run_id text not null,
        attempts integer not null default 0,
        last_error text,
        done_at timestamp,
        primary key (dataset, kind, key)
    )
    """,
    LOCKS,
)

# A follow-up recorded again (the same session fetched again) is pending again.
ADD_FOLLOWUP = """
    insert into ingestion_followups (dataset, kind, key, detail, created_at, run_id)
    values (%s, %s, %s, %s, %s, %s)
    on conflict (dataset, kind, key) do update
    set detail = excluded.detail, run_id = excluded.run_id, done_at = null
"""

ADVANCE = """
    insert into ingestion_watermarks (dataset, symbol, last_date, updated_at, run_id)
    values (%s, %s, %s, %s, %s)
    on conflict (dataset, symbol) do update
    set last_date = excluded.last_date,
        updated_at = excluded.updated_at,
        run_id = excluded.run_id
    where ingestion_watermarks.last_date < excluded.last_date
"""

# Any constant: the key of the advisory lock that serialises schema creation on PostgreSQL.
SCHEMA_LOCK_KEY = 0x636F6E64

MARKET = "*"  # the symbol under which a whole-market (grouped daily) watermark is kept


class StoreUnavailableError(OperationalError):
    """The watermark store cannot be opened: the message names it (never its password)."""

    exit_code = ExitCode.UNAVAILABLE


def _describe(dsn: str) -> str:
    """host:port/dbname of a PostgreSQL DSN, for messages: the password stays out."""
    from psycopg.conninfo import conninfo_to_dict

    try:
        parts = conninfo_to_dict(dsn)
    except Exception:  # an unparseable DSN: name nothing rather than echo a secret
        return "(WATERMARK_DSN)"
    return f"{parts.get('host', 'localhost')}:{parts.get('port', 5432)}/{parts.get('dbname', '')}"


class _Connection(Protocol):
    def cursor(self) -> Any: ...
    def commit(self) -> None: ...
    def close(self) -> None: ...


@dataclass(frozen=True)
class FollowUp:
    """One piece of owed work: `kind` says what, `key` which (a session, a symbol, a
    batch), `detail` what the retry needs. `attempts` and `last_error` say how it went."""

    kind: str
    key: str
    detail: dict[str, Any] = field(default_factory=dict)
    attempts: int = 0
    last_error: str | None = None


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


def _utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


class WatermarkStore:
    """One interface over SQLite and PostgreSQL."""

    def __init__(self, connection: _Connection, placeholder: str) -> None:
        self._conn = connection
        self._placeholder = placeholder
        with self._cursor() as cur:
            if placeholder == "%s":
                # Concurrent `create table if not exists` collide in PostgreSQL's catalog
                # (unique violation on pg_type) when several jobs meet a fresh database;
                # the lock lasts until commit. SQLite's BEGIN IMMEDIATE already serialises.
                cur.execute("select pg_advisory_xact_lock(%s)", (SCHEMA_LOCK_KEY,))
            for statement in SCHEMA:
                cur.execute(statement)

    @classmethod
    def connect(cls, dsn: str) -> WatermarkStore:
        """`sqlite:///path/file.sqlite` or a PostgreSQL URL / conninfo string."""
        if dsn.startswith("sqlite:///"):
            path = dsn.removeprefix("sqlite:///")
            if path != ":memory:":
                os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
            # isolation_level=None: we issue BEGIN ourselves so each write is one transaction;
            # a busy timeout lets concurrent local fetchers queue instead of failing.
            conn = sqlite3.connect(path, timeout=30, isolation_level=None)
            conn.execute("pragma journal_mode=wal")
            return cls(_SqliteConnection(conn), "?")
        import psycopg  # only needed for PostgreSQL

        scheme = urlparse(dsn).scheme
        if scheme and scheme not in {"postgresql", "postgres"}:
            raise StoreUnavailableError(
                f"WATERMARK_DSN: unsupported watermark DSN scheme {scheme!r}; use "
                "sqlite:///path or postgresql://host/db",
                ExitCode.USAGE,
            )
        try:
            return cls(psycopg.connect(dsn, autocommit=False), "%s")
        except psycopg.OperationalError as exc:
            raise StoreUnavailableError(
                f"watermark store {_describe(dsn)} is unreachable: "
                f"{str(exc).strip().splitlines()[0]}; check that PostgreSQL is up and "
                "WATERMARK_DSN (or RDS_SECRET_ARN) names it"
            ) from exc

    def close(self) -> None:
        self._conn.close()

    def _sql(self, statement: str) -> str:
        return statement if self._placeholder == "%s" else statement.replace("%s", "?")

    @contextmanager
    def _cursor(self) -> Iterator[Any]:
        cur = self._conn.cursor()
        try:
            yield cur
            self._conn.commit()
        except BaseException:
            self._conn.rollback()  # type: ignore[attr-defined]
            raise
        finally:
            cur.close()

    # -- watermarks -----------------------------------------------------------

    def get(self, dataset: str, symbol: str = MARKET) -> dt.date | None:
        with self._cursor() as cur:
            cur.execute(
                self._sql(
                    "select last_date from ingestion_watermarks where dataset = %s and symbol = %s"
                ),
                (dataset, symbol),
            )
            row = cur.fetchone()
        return None if row is None else _as_date(row[0])

    def get_many(self, dataset: str, symbols: Iterable[str]) -> dict[str, dt.date]:
        wanted = list(symbols)
        out: dict[str, dt.date] = {}
        with self._cursor() as cur:
            for start in range(0, len(wanted), 500):
                chunk = wanted[start : start + 500]
                marks = ", ".join(["%s"] * len(chunk))
                cur.execute(
                    self._sql(
                        "select symbol, last_date from ingestion_watermarks "
                        f"where dataset = %s and symbol in ({marks})"
                    ),
                    (dataset, *chunk),
                )
                out.update({symbol: _as_date(day) for symbol, day in cur.fetchall()})
        return out

    def advance(self, dataset: str, marks: dict[str, dt.date], run_id: str) -> None:
        """Move each symbol's watermark to its date, unless it is already later."""
        now = _utcnow()
        # Row locks are taken in symbol order, the same in every writer: two fetchers
        # advancing overlapping symbols then queue instead of deadlocking on PostgreSQL.
        rows = [(dataset, symbol, day, now, run_id) for symbol, day in sorted(marks.items())]
        with self._cursor() as cur:
            cur.executemany(self._sql(ADVANCE), rows)

    # -- follow-ups -----------------------------------------------------------

    def add_followups(self, dataset: str, items: Iterable[FollowUp], run_id: str) -> None:
        """Record work owed, pending until `complete_followup`; call before the watermark
        that makes the work look done moves."""
        now = _utcnow()
        rows = [
            (dataset, item.kind, item.key, json.dumps(item.detail, sort_keys=True), now, run_id)
            for item in sorted(items, key=lambda item: (item.kind, item.key))
        ]
        if rows:
            with self._cursor() as cur:
                cur.executemany(self._sql(ADD_FOLLOWUP), rows)

    def pending_followups(self, dataset: str, kind: str | None = None) -> list[FollowUp]:
        query = (
            "select kind, key, detail, attempts, last_error from ingestion_followups "
            "where dataset = %s and done_at is null"
        )
        params: tuple[Any, ...] = (dataset,)
        if kind is not None:
            query += " and kind = %s"
            params = (dataset, kind)
        with self._cursor() as cur:
            cur.execute(self._sql(query + " order by kind, key"), params)
            rows = cur.fetchall()
        return [
            FollowUp(kind, key, json.loads(detail), int(attempts), error)
            for kind, key, detail, attempts, error in rows
        ]

    def complete_followup(self, dataset: str, item: FollowUp) -> None:
        self._update_followup(dataset, item, "done_at = %s, last_error = null", (_utcnow(),))

    def fail_followup(self, dataset: str, item: FollowUp, error: str) -> None:
        self._update_followup(
            dataset, item, "attempts = attempts + 1, last_error = %s", (error[:1000],)
        )

    def _update_followup(
        self, dataset: str, item: FollowUp, assignments: str, values: tuple[Any, ...]
    ) -> None:
        with self._cursor() as cur:
            cur.execute(
                self._sql(
                    f"update ingestion_followups set {assignments} "
                    "where dataset = %s and kind = %s and key = %s"
                ),
                (*values, dataset, item.kind, item.key),
            )

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
        me = LockHolder(holder, socket.gethostname(), os.getpid(), _utcnow())
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
        with self._cursor() as cur:
            if self._placeholder == "%s":
                cur.execute("select pg_try_advisory_lock(%s)", (_lock_key(name),))
                if not cur.fetchone()[0]:
                    held = self._lock_row(cur, name)
                    return held or LockHolder("another run", "?", 0, _utcnow())
            else:
                held = self._lock_row(cur, name)
                if held is not None:
                    mine = (held.host, held.pid) == (me.host, me.pid)
                    dead = held.host == me.host and not _pid_alive(held.pid)
                    if not (mine or dead):
                        return held
            cur.execute(self._sql("delete from ingestion_locks where name = %s"), (name,))
            cur.execute(
                self._sql(
                    "insert into ingestion_locks (name, holder, host, pid, acquired_at) "
                    "values (%s, %s, %s, %s, %s)"
                ),
                (name, me.holder, me.host, me.pid, me.acquired_at),
            )
        return None

    def _lock_row(self, cur: Any, name: str) -> LockHolder | None:
        cur.execute(
            self._sql("select holder, host, pid, acquired_at from ingestion_locks where name = %s"),
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
        with self._cursor() as cur:
            cur.execute(
                self._sql("delete from ingestion_locks where name = %s and host = %s and pid = %s"),
                (name, me.host, me.pid),
            )
            if self._placeholder == "%s":
                cur.execute("select pg_advisory_unlock(%s)", (_lock_key(name),))

    def abandon_stale_runs(self) -> list[str]:
        """Mark `abandoned` every run still `running`: call it holding the run lock, when
        no run of this store can be alive (every writer of runs holds the lock), so such a
        row is the trace of a run that was killed. Returns their run ids."""
        with self._cursor() as cur:
            cur.execute(
                self._sql("select run_id from ingestion_runs where status = %s order by run_id"),
                ("running",),
            )
            stale = [row[0] for row in cur.fetchall()]
            cur.execute(
                self._sql(
                    "update ingestion_runs set status = %s, finished_at = %s where status = %s"
                ),
                ("abandoned", _utcnow(), "running"),
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
            started_at=_utcnow(),
        )
        with self._cursor() as cur:
            cur.execute(
                self._sql(
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
        with self._cursor() as cur:
            cur.execute(
                self._sql(
                    "update ingestion_runs set finished_at = %s, status = %s, sessions = %s, "
                    "rows_landed = %s, files_written = %s, detail = %s where run_id = %s"
                ),
                (
                    _utcnow(),
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
        with self._cursor() as cur:
            cur.execute(self._sql(query + " order by started_at"), params)
            names = [col[0] for col in cur.description]
            return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]


def _as_date(value: Any) -> dt.date:
    if isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value))


class _SqliteConnection:
    """sqlite3 in autocommit mode with explicit transactions, shaped like psycopg's."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn
        sqlite3.register_adapter(dt.date, lambda d: d.isoformat())
        sqlite3.register_adapter(dt.datetime, lambda d: d.isoformat(sep=" "))

    def cursor(self) -> sqlite3.Cursor:
        # BEGIN IMMEDIATE takes the write lock up front: no deadlock between two upgraders.
        self._conn.execute("begin immediate")
        return self._conn.cursor()

    def commit(self) -> None:
        self._conn.execute("commit")

    def rollback(self) -> None:
        if self._conn.in_transaction:
            self._conn.execute("rollback")

    def close(self) -> None:
        self._conn.close()
