"""The one clock: every timestamp the project writes is timezone-aware UTC, at millisecond
precision.

Why milliseconds: the lake's timestamps are read by engines of different precision. The
Hive readers of Athena and Trino read a landing file's `ingested_at` as timestamp(3)
(they drop the microseconds); DuckDB keeps them. Staging keeps the latest landing of a bar
by `ingested_at`, then `batch_id`: two batches landed within the same millisecond but
different microseconds would tie on Athena (batch_id decides) and not on DuckDB (the
microseconds decide), and the incremental cursors (`max(ingested_at)`) would differ by a
fraction of a millisecond. A time every engine reads the same is one with no digits below
the millisecond.
"""

from __future__ import annotations

import datetime as dt

# dt.UTC is Python 3.11+; the SageMaker scikit-learn container runs 3.10.
UTC = dt.timezone.utc  # noqa: UP017


def to_millisecond(moment: dt.datetime) -> dt.datetime:
    """`moment` in UTC, truncated to the millisecond (never rounded up: a stamp must not
    be later than the moment it records)."""
    utc = moment.astimezone(UTC)
    return utc.replace(microsecond=utc.microsecond - utc.microsecond % 1000)


def utcnow() -> dt.datetime:
    return to_millisecond(dt.datetime.now(UTC))
