"""The landing schemas and the row-level validity rules.

Validation never drops a row: every problem becomes a reason code in `invalid_reason`
(codes joined by ';'), and dbt routes such rows to `bronze.ohlcv_rejected`. The rules live
here, once; dbt trusts the reason and guards the consolidated table with its own tests.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ingestion.calendar import TradingCalendar
from ingestion.symbols import SYMBOL_PATTERN

# What a source returns for OHLCV: one row per (symbol, trading date).
BAR_FIELDS = [
    pa.field("symbol", pa.string(), nullable=False),
    pa.field("date", pa.date32(), nullable=False),
    pa.field("open", pa.float64()),
    pa.field("high", pa.float64()),
    pa.field("low", pa.float64()),
    pa.field("close", pa.float64()),
    # Polygon's `v` is a double (fractional share volume exists); keep it exact.
    pa.field("volume", pa.float64()),
    pa.field("vwap", pa.float64()),
    pa.field("transactions", pa.int64()),
]
BAR_SCHEMA = pa.schema(BAR_FIELDS)
# A source may add this string column: why a record could not be read as it came (a key
# missing, a value of the wrong type), naming the record. Such a row is kept with what could
# be read and lands invalid (`malformed_record`); the column itself is not landed.
SOURCE_PROBLEM = "source_problem"

# Columns ingestion adds to every landing row.
LINEAGE_FIELDS = [
    pa.field("source", pa.string(), nullable=False),
    pa.field("ingested_at", pa.timestamp("us", tz="UTC"), nullable=False),
    pa.field("batch_id", pa.string(), nullable=False),
    # Position in the batch: with batch_id it names every landing row, duplicates included.
    pa.field("batch_row", pa.int32(), nullable=False),
    pa.field("invalid_reason", pa.string()),
]
LANDING_OHLCV_SCHEMA = pa.schema(BAR_FIELDS + LINEAGE_FIELDS)

TICKER_FIELDS = [
    pa.field("symbol", pa.string(), nullable=False),
    pa.field("name", pa.string()),
    pa.field("market", pa.string()),
    pa.field("locale", pa.string()),
    pa.field("primary_exchange", pa.string()),
    pa.field("type", pa.string()),
    pa.field("active", pa.bool_()),
    pa.field("currency_name", pa.string()),
    pa.field("cik", pa.string()),
    pa.field("composite_figi", pa.string()),
    pa.field("share_class_figi", pa.string()),
    pa.field("list_date", pa.date32()),
    pa.field("delisted_date", pa.date32()),
    pa.field("last_updated_utc", pa.timestamp("us", tz="UTC")),
    pa.field("as_of_date", pa.date32(), nullable=False),
]
TICKER_SCHEMA = pa.schema(TICKER_FIELDS)
LANDING_TICKERS_SCHEMA = pa.schema(TICKER_FIELDS + LINEAGE_FIELDS)


# The valid range of each number of a bar, beyond the rules' signs and orderings: what every
# downstream type can hold (the resamples sum in decimal(38, 6), up to 1e32, over at most
# 34 sessions) with room to spare, and far above any real US equity (the highest price ever
# quoted is under $1M a share; the busiest sessions trade a few billion shares).
MAX_PRICE = 1e9
MAX_VOLUME = 1e15
MAX_TRANSACTIONS = 1e12


def empty_bars() -> pa.Table:
    return BAR_SCHEMA.empty_table()


def _symbol_mask(symbols: pa.ChunkedArray) -> np.ndarray:
    valid = pc.match_substring_regex(symbols, SYMBOL_PATTERN.pattern)
    return ~pc.fill_null(valid, False).to_numpy(zero_copy_only=False)


def _duplicate_masks(table: pa.Table, malformed: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(rows of a bar the batch holds in different versions, later copies of a row the
    batch repeats exactly). A conflict quarantines every version: the batch does not say
    which is right. An exact copy is harmless: the first lands, the copies are kept aside.
    A malformed record is left out: its date may be a stand-in, and it is invalid anyway."""
    n = table.num_rows
    conflicting, repeated = np.zeros(n, dtype=bool), np.zeros(n, dtype=bool)
    keys = table.select(["symbol", "date"]).append_column("row", pa.array(np.arange(n)))
    if malformed.any():
        keys = keys.filter(pa.array(~malformed))
    counts = keys.group_by(["symbol", "date"]).aggregate([("row", "count")])
    dupes = counts.filter(pc.greater(counts["row_count"], 1))
    if dupes.num_rows == 0:
        return conflicting, repeated
    rows = np.sort(keys.join(dupes, ["symbol", "date"], join_type="inner")["row"].to_numpy())
    frame = table.select(BAR_SCHEMA.names).take(pa.array(rows)).to_pandas()
    frame["row"] = rows
    for _, versions in frame.groupby(["symbol", "date"], sort=False):
        values = versions.drop(columns="row")
        if len(values.drop_duplicates()) == 1:
            repeated[versions["row"].to_numpy()[1:]] = True
        else:
            conflicting[versions["row"].to_numpy()] = True
    return conflicting, repeated


def _flags(checks: dict[str, np.ndarray], n: int) -> pa.Array:
    """Join the codes of the checks a row fails, in the order of `checks`."""
    out: list[str | None] = [None] * n
    flagged = np.zeros(n, dtype=bool)
    for mask in checks.values():
        flagged |= mask
    for i in np.flatnonzero(flagged):
        out[i] = ";".join(code for code, mask in checks.items() if mask[i])
    return pa.array(out, pa.string())


def _values(table: pa.Table, column: str) -> np.ndarray:
    # Nulls become NaN so one isnan() covers "absent" and "NaN" alike.
    return table[column].to_numpy(zero_copy_only=False).astype("float64")


def invalid_reasons(
    table: pa.Table, calendar: TradingCalendar, today: dt.date | None = None
) -> pa.Array:
    """One reason string per row (null when the row is valid). `today` (America/New_York)
    is the last date a bar may have; None leaves the date unchecked against the clock.

    Codes, in reporting order, are the keys of `checks` below; models/staging documents them.
    """
    n = table.num_rows
    o, h, lo, c = (_values(table, name) for name in ("open", "high", "low", "close"))
    volume = _values(table, "volume")
    vwap = _values(table, "vwap")
    transactions = _values(table, "transactions")
    dates = table["date"].to_numpy(zero_copy_only=False).astype("datetime64[D]")
    malformed = np.zeros(n, dtype=bool)
    if SOURCE_PROBLEM in table.column_names:
        malformed = table[SOURCE_PROBLEM].is_valid().to_numpy(zero_copy_only=False)
    conflicting, repeated = _duplicate_masks(table, malformed)
    with np.errstate(invalid="ignore"):
        prices = np.vstack([o, h, lo, c])
        numbers = np.vstack([prices, volume, vwap, transactions])
        checks = {
            "malformed_record": malformed,
            "invalid_symbol": _symbol_mask(table["symbol"]),
            "not_a_session": ~np.isin(dates, calendar.session_array),
            "future_date": (
                dates > np.datetime64(today, "D") if today else np.zeros(n, dtype=bool)
            ),
            "missing_value": np.isnan(prices).any(axis=0) | np.isnan(volume),
            "non_finite_value": np.isinf(numbers).any(axis=0),
            "non_positive_price": (prices <= 0).any(axis=0),
            "value_out_of_range": (
                (prices > MAX_PRICE).any(axis=0)
                | (vwap > MAX_PRICE)
                | (volume > MAX_VOLUME)
                | (transactions < 0)
                | (transactions > MAX_TRANSACTIONS)
            ),
            "high_below_low": h < lo,
            "open_outside_range": (o < lo) | (o > h),
            "close_outside_range": (c < lo) | (c > h),
            "negative_volume": volume < 0,
            "non_positive_vwap": vwap <= 0,
            "vwap_outside_range": (vwap < lo) | (vwap > h),
            "duplicate_in_batch": conflicting,
            "repeated_row": repeated,
        }
    return _flags(checks, n)


def ticker_invalid_reasons(table: pa.Table) -> pa.Array:
    """Tickers: only a symbol we cannot use is invalid.

    The same ticker legitimately appears more than once (a delisted company whose ticker was
    reused, Polygon's duplicate list rows); staging picks one row per symbol.
    """
    return _flags({"invalid_symbol": _symbol_mask(table["symbol"])}, table.num_rows)
