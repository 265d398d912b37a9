"""The one connection the watermark store's tables are read and written through.

The watermark store is one database (WATERMARK_DSN: PostgreSQL with psycopg 3, RDS in AWS;
or SQLite, the embedded default) holding the watermarks (`ingestion.watermarks`), the
follow-ups (`ingestion.followups`) and the run ledger (`ingestion.run_ledger`). Each of
those classes is handed a `StoreConnection`, so a process that needs all three opens one
connection (`ingestion.stores.Stores`). The same SQL runs on both engines: it is written
with `%s` placeholders and `?` is substituted for SQLite. Every statement is parameterised.
"""

from __future__ import annotations

import datetime as dt
import os
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
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

# Any constant: the key of the advisory lock that serialises schema creation on PostgreSQL.
SCHEMA_LOCK_KEY = 0x636F6E64


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


def store_now() -> dt.datetime:
    """The stamp the store's `timestamp` columns get: UTC, without a zone."""
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


class _Connection(Protocol):
    def cursor(self) -> Any: ...
    def commit(self) -> None: ...
    def close(self) -> None: ...


class StoreConnection:
    """One connection to the store, its tables created on opening; each `cursor()` block is
    one transaction."""

    def __init__(self, connection: _Connection, placeholder: str) -> None:
        self._conn = connection
        self._placeholder = placeholder
        with self.cursor() as cur:
            if self.is_postgresql:
                # Concurrent `create table if not exists` collide in PostgreSQL's catalog
                # (unique violation on pg_type) when several jobs meet a fresh database;
                # the lock lasts until commit. SQLite's BEGIN IMMEDIATE already serialises.
                cur.execute("select pg_advisory_xact_lock(%s)", (SCHEMA_LOCK_KEY,))
            for statement in SCHEMA:
                cur.execute(statement)

    @classmethod
    def connect(cls, dsn: str) -> StoreConnection:
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

    @property
    def is_postgresql(self) -> bool:
        """PostgreSQL (advisory locks) rather than SQLite (one machine, lock rows)."""
        return self._placeholder == "%s"

    def close(self) -> None:
        self._conn.close()

    def sql(self, statement: str) -> str:
        """`statement`, written with `%s`, in this engine's placeholders."""
        return statement if self.is_postgresql else statement.replace("%s", "?")

    @contextmanager
    def cursor(self) -> Iterator[Any]:
        cur = self._conn.cursor()
        try:
            yield cur
            self._conn.commit()
        except BaseException:
            self._conn.rollback()  # type: ignore[attr-defined]
            raise
        finally:
            cur.close()


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
