"""The lake's layout: every prefix the project writes under LAKE_ROOT, and the batch ids
that name its files. Readers (dbt's sources, Athena's DDL, vacuum) and writers take their
paths from here.
"""

from __future__ import annotations

import datetime as dt
import uuid

import pyarrow as pa

from core.clock import UTC

# The landing area: the raw files ingestion writes (dbt's `landing` schema reads them).
# Its persisted prefix is "bronze", kept as written by every deployed lake; it is not the
# consolidated layer, which is dbt's `bronze` schema.
LANDING_PREFIX = "bronze"
# Landing files: <prefix>/ingest_date=YYYY-MM-DD/<batch_id>.parquet, by dataset.
LANDING_PREFIXES = {
    "ohlcv": f"{LANDING_PREFIX}/raw_ohlcv",
    "tickers": f"{LANDING_PREFIX}/raw_tickers",
}

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

# Model versions: <prefix>/<version>/{model.joblib, metrics.json, model_card.md, _SUCCESS}.
MODELS_PREFIX = "ml/models"

# What each vacuum run deleted or kept, and why: <prefix>/<UTC stamp>-<8 hex>.json.
VACUUM_MANIFEST_PREFIX = "_manifests/vacuum"

# The day's self-contained HTML report (`condvest report`, the end of `condvest daily`):
# <prefix>/YYYY-MM-DD.html, rewritten by a later report of the same day.
DAILY_REPORTS_PREFIX = "reports/daily"
# One symbol's chart (`condvest chart`): <prefix>/<SYMBOL>_<from>_<to>.{png,html}.
CHARTS_PREFIX = "reports/charts"


def new_batch_id(now: dt.datetime) -> str:
    """Sortable by time, unique across concurrent writers."""
    return f"{now.astimezone(UTC):%Y%m%dT%H%M%S%fZ}-{uuid.uuid4().hex[:12]}"


def landing_file(dataset: str, ingest_date: dt.date, batch_id: str) -> str:
    """A landing file's path relative to the lake root."""
    return f"{LANDING_PREFIXES[dataset]}/ingest_date={ingest_date.isoformat()}/{batch_id}.parquet"


def daily_report_file(day: dt.date) -> str:
    """The day's report's path relative to the lake root."""
    return f"{DAILY_REPORTS_PREFIX}/{day.isoformat()}.html"
