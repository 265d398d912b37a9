"""The lake layout `ml/` writes and the rest of the project reads, in one leaf module.

SageMaker jobs ship the `ml` package alone (no `ingestion`, Python 3.10), so what both
sides must agree on lives here and `ingestion` imports it: the predictions prefix and
schema (the dbt source over the files reads exactly these columns) and the batch ids that
name every file the project writes.
"""

from __future__ import annotations

import datetime as dt
import uuid

import pyarrow as pa

# <prefix>/model_version=<v>/date=YYYY-MM-DD/<batch_id>.parquet; every file carries all of
# these columns (the partition values included), so readers need no hive partitioning.
PREDICTIONS_PREFIX = "gold/predictions"
PREDICTIONS_SCHEMA = pa.schema(
    [
        ("symbol", pa.string()),
        ("date", pa.date32()),
        ("model_version", pa.string()),
        ("probability_up", pa.float64()),
        ("predicted_up", pa.int32()),
        ("rank_in_day", pa.int32()),
        ("predicted_at", pa.timestamp("us", tz="UTC")),
        ("batch_id", pa.string()),
    ]
)

# How many of a day's best-ranked symbols a prediction run and the daily summary report.
TOP_PREDICTIONS = 5


def new_batch_id(now: dt.datetime) -> str:
    """Sortable by time, unique across concurrent writers."""
    return f"{now.astimezone(dt.timezone.utc):%Y%m%dT%H%M%S%fZ}-{uuid.uuid4().hex[:12]}"  # noqa: UP017 (Python 3.10 in SageMaker)
