"""Turn a source table into a landing file: lineage columns, validity, atomic write."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from core.clock import to_millisecond
from core.lake import Lake
from core.layout import new_batch_id
from ingestion.bars import (
    BAR_SCHEMA,
    LANDING_OHLCV_SCHEMA,
    LANDING_TICKERS_SCHEMA,
    SOURCE_PROBLEM,
    invalid_reasons,
    ticker_invalid_reasons,
)
from ingestion.calendar import NEW_YORK, TradingCalendar


@dataclass
class LandedBatch:
    batch_id: str
    path: str
    rows: int
    invalid_rows: int
    reasons: dict[str, int] = field(default_factory=dict)
    max_date_by_symbol: dict[str, dt.date] = field(default_factory=dict)
    # Records the source could not read as they came, each naming its ticker and date.
    malformed: list[str] = field(default_factory=list)


def _repeated(value: str, n: int) -> pa.Array:
    # One value n times, without building n Python strings.
    indices = pa.array(np.zeros(n, dtype=np.int32))
    return pa.DictionaryArray.from_arrays(indices, pa.array([value])).cast(pa.string())


def _lineage(table: pa.Table, source: str, now: dt.datetime, batch_id: str) -> pa.Table:
    n = table.num_rows
    stamp = np.full(n, np.datetime64(now.astimezone(dt.UTC).replace(tzinfo=None), "us"))
    return (
        table.append_column("source", _repeated(source, n))
        .append_column("ingested_at", pa.array(stamp).cast(pa.timestamp("us", tz="UTC")))
        .append_column("batch_id", _repeated(batch_id, n))
        .append_column("batch_row", pa.array(np.arange(n, dtype=np.int32)))
    )


def _latest_dates(bars: pa.Table) -> dict[str, dt.date]:
    """Each symbol's last date in the batch."""
    if bars.num_rows == 0:
        return {}
    bounds = pc.min_max(bars["date"])
    if bounds["min"] == bounds["max"]:  # one session (grouped daily): no grouping needed
        return dict.fromkeys(bars["symbol"].to_pylist(), bounds["max"].as_py())
    latest = bars.group_by("symbol").aggregate([("date", "max")])
    return dict(zip(latest["symbol"].to_pylist(), latest["date_max"].to_pylist(), strict=True))


def _reason_counts(reasons: pa.Array) -> dict[str, int]:
    counts: Counter[str] = Counter()
    for value in reasons.drop_null().to_pylist():
        counts.update(value.split(";"))
    return dict(sorted(counts.items()))


def _land(
    lake: Lake,
    dataset: str,
    rows: pa.Table,
    reasons: pa.Array,
    schema: pa.Schema,
    source: str,
    now: dt.datetime,
) -> LandedBatch:
    """Add lineage and reasons, write the batch atomically, describe what landed. The
    batch is stamped at `now` truncated to the millisecond, whoever's clock it comes from:
    every engine reads such a stamp the same (core/clock.py)."""
    now = to_millisecond(now)
    batch_id = new_batch_id(now)
    table = _lineage(rows, source, now, batch_id).append_column("invalid_reason", reasons)
    path = lake.landing_path(dataset, now.astimezone(dt.UTC).date(), batch_id)
    lake.write_parquet(table.cast(schema), path)
    return LandedBatch(
        batch_id=batch_id,
        path=lake.display(path),
        rows=table.num_rows,
        invalid_rows=table.num_rows - reasons.null_count,
        reasons=_reason_counts(reasons),
    )


def _malformed(bars: pa.Table) -> list[str]:
    if SOURCE_PROBLEM not in bars.column_names:
        return []
    rows = bars.filter(pc.is_valid(bars[SOURCE_PROBLEM]))
    return [
        f"{row['symbol'] or '(no ticker)'} {row['date']}: {row[SOURCE_PROBLEM]}"
        for row in rows.select(["symbol", "date", SOURCE_PROBLEM]).to_pylist()
    ]


def land_bars(
    lake: Lake, calendar: TradingCalendar, bars: pa.Table, source: str, now: dt.datetime
) -> LandedBatch:
    """Validate and write one OHLCV batch; nothing is dropped, bad rows carry a reason.
    A bar dated after today in New York is invalid (`future_date`), and no watermark is
    taken from one."""
    reasons = invalid_reasons(bars, calendar, now.astimezone(NEW_YORK).date())
    malformed = _malformed(bars)
    bars = bars.select(BAR_SCHEMA.names)
    batch = _land(lake, "ohlcv", bars, reasons, LANDING_OHLCV_SCHEMA, source, now)
    batch.malformed = malformed
    future = pc.fill_null(pc.match_substring(reasons, "future_date"), False)
    batch.max_date_by_symbol = _latest_dates(bars.filter(pc.invert(future)))
    return batch


def landed_marks(lake: Lake, path: str) -> dict[str, dt.date]:
    """Each symbol's last date in a landed OHLCV batch (`LandedBatch.path`), future-dated
    rows left out as `land_bars` leaves them: the marks that batch owes, read back."""
    table = pq.read_table(
        path.removeprefix("s3://"), filesystem=lake.fs, columns=["symbol", "date", "invalid_reason"]
    )
    future = pc.fill_null(pc.match_substring(table["invalid_reason"], "future_date"), False)
    return _latest_dates(table.filter(pc.invert(future)))


def land_tickers(lake: Lake, tickers: pa.Table, source: str, now: dt.datetime) -> LandedBatch:
    """Write one ticker snapshot batch; unusable symbols carry a reason."""
    reasons = ticker_invalid_reasons(tickers)
    return _land(lake, "tickers", tickers, reasons, LANDING_TICKERS_SCHEMA, source, now)
