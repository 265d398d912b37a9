"""Follow-ups: work a fetch owes once its watermark moved, kept until it is done.

Moving a watermark hides what lies behind it from the next run, so the work a landing
owes (the splits check of landed sessions, a split's restatement, per-symbol marks) is
recorded before the watermark moves, and stays pending (with its attempts and last error)
until done, by this run or a later one (`ingestion.settle`).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from ingestion.store_connection import StoreConnection, store_now

# Follow-up kinds: the splits check of a landed session, a split symbol's restatement, a
# landed batch's per-symbol marks, the splits check of one symbol's fetched range.
SPLITS, RESTATE, SYMBOL_MARKS = "splits", "restate", "symbol_marks"
SYMBOL_SPLITS = "symbol_splits"

# A follow-up recorded again (the same session fetched again) is pending again.
ADD_FOLLOWUP = """
    insert into ingestion_followups (dataset, kind, key, detail, created_at, run_id)
    values (%s, %s, %s, %s, %s, %s)
    on conflict (dataset, kind, key) do update
    set detail = excluded.detail, run_id = excluded.run_id, done_at = null
"""


@dataclass(frozen=True)
class FollowUp:
    """One piece of owed work: `kind` says what, `key` which (a session, a symbol, a
    batch), `detail` what the retry needs. `attempts` and `last_error` say how it went."""

    kind: str
    key: str
    detail: dict[str, Any] = field(default_factory=dict)
    attempts: int = 0
    last_error: str | None = None


class FollowUpStore:
    """The follow-ups table, on SQLite or PostgreSQL."""

    def __init__(self, connection: StoreConnection) -> None:
        self._db = connection

    def add(self, dataset: str, items: Iterable[FollowUp], run_id: str) -> None:
        """Record work owed, pending until `complete`; call before the watermark that makes
        the work look done moves."""
        now = store_now()
        rows = [
            (dataset, item.kind, item.key, json.dumps(item.detail, sort_keys=True), now, run_id)
            for item in sorted(items, key=lambda item: (item.kind, item.key))
        ]
        if rows:
            with self._db.cursor() as cur:
                cur.executemany(self._db.sql(ADD_FOLLOWUP), rows)

    def pending(self, dataset: str, kind: str | None = None) -> list[FollowUp]:
        query = (
            "select kind, key, detail, attempts, last_error from ingestion_followups "
            "where dataset = %s and done_at is null"
        )
        params: tuple[Any, ...] = (dataset,)
        if kind is not None:
            query += " and kind = %s"
            params = (dataset, kind)
        with self._db.cursor() as cur:
            cur.execute(self._db.sql(query + " order by kind, key"), params)
            rows = cur.fetchall()
        return [
            FollowUp(kind, key, json.loads(detail), int(attempts), error)
            for kind, key, detail, attempts, error in rows
        ]

    def complete(self, dataset: str, item: FollowUp) -> None:
        self._update(dataset, item, "done_at = %s, last_error = null", (store_now(),))

    def fail(self, dataset: str, item: FollowUp, error: str) -> None:
        self._update(dataset, item, "attempts = attempts + 1, last_error = %s", (error[:1000],))

    def _update(
        self, dataset: str, item: FollowUp, assignments: str, values: tuple[Any, ...]
    ) -> None:
        with self._db.cursor() as cur:
            cur.execute(
                self._db.sql(
                    f"update ingestion_followups set {assignments} "
                    "where dataset = %s and kind = %s and key = %s"
                ),
                (*values, dataset, item.kind, item.key),
            )
