"""Per-(dataset, symbol) watermarks: the last session each symbol (and the market) landed.

The upsert only ever moves a watermark forward, so two fetchers racing on the same symbol
can finish in any order without moving it backwards.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from ingestion.store_connection import StoreConnection, store_now

ADVANCE = """
    insert into ingestion_watermarks (dataset, symbol, last_date, updated_at, run_id)
    values (%s, %s, %s, %s, %s)
    on conflict (dataset, symbol) do update
    set last_date = excluded.last_date,
        updated_at = excluded.updated_at,
        run_id = excluded.run_id
    where ingestion_watermarks.last_date < excluded.last_date
"""

MARKET = "*"  # the symbol under which a whole-market (grouped daily) watermark is kept


class WatermarkStore:
    """The watermarks table, on SQLite or PostgreSQL."""

    def __init__(self, connection: StoreConnection) -> None:
        self._db = connection

    def get(self, dataset: str, symbol: str = MARKET) -> dt.date | None:
        with self._db.cursor() as cur:
            cur.execute(
                self._db.sql(
                    "select last_date from ingestion_watermarks where dataset = %s and symbol = %s"
                ),
                (dataset, symbol),
            )
            row = cur.fetchone()
        return None if row is None else _as_date(row[0])

    def get_many(self, dataset: str, symbols: Iterable[str]) -> dict[str, dt.date]:
        wanted = list(symbols)
        out: dict[str, dt.date] = {}
        with self._db.cursor() as cur:
            for start in range(0, len(wanted), 500):
                chunk = wanted[start : start + 500]
                marks = ", ".join(["%s"] * len(chunk))
                cur.execute(
                    self._db.sql(
                        "select symbol, last_date from ingestion_watermarks "
                        f"where dataset = %s and symbol in ({marks})"
                    ),
                    (dataset, *chunk),
                )
                out.update({symbol: _as_date(day) for symbol, day in cur.fetchall()})
        return out

    def advance(self, dataset: str, marks: dict[str, dt.date], run_id: str) -> None:
        """Move each symbol's watermark to its date, unless it is already later."""
        now = store_now()
        # Row locks are taken in symbol order, the same in every writer: two fetchers
        # advancing overlapping symbols then queue instead of deadlocking on PostgreSQL.
        rows = [(dataset, symbol, day, now, run_id) for symbol, day in sorted(marks.items())]
        with self._db.cursor() as cur:
            cur.executemany(self._db.sql(ADVANCE), rows)


def _as_date(value: Any) -> dt.date:
    if isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value))
