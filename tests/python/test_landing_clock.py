"""Landing stamps are at millisecond precision, so that every engine reads the same time:
Athena's and Trino's Hive readers keep milliseconds, DuckDB microseconds (core/clock.py)."""

from __future__ import annotations

import datetime as dt

import duckdb
import pyarrow as pa
import pyarrow.dataset as ds

from core.clock import UTC, to_millisecond, utcnow
from core.lake import Lake
from ingestion.bars import BAR_SCHEMA
from ingestion.calendar import TradingCalendar
from ingestion.landing import land_bars

DAY = dt.date(2024, 3, 1)
MILLISECOND = dt.datetime(2024, 3, 1, 21, 30, 0, 123_000, tzinfo=UTC)


def _bar(close: float) -> pa.Table:
    return pa.table(
        {
            "symbol": ["AAPL"],
            "date": [DAY],
            "open": [10.0],
            "high": [12.0],
            "low": [9.0],
            "close": [close],
            "volume": [100.0],
            "vwap": [10.5],
            "transactions": [5],
        },
        schema=BAR_SCHEMA,
    )


def test_the_clock_and_its_truncation_keep_milliseconds_only() -> None:
    assert utcnow().microsecond % 1000 == 0
    assert utcnow().tzinfo == UTC
    late = dt.datetime(2024, 3, 1, 23, 59, 59, 999_999, tzinfo=dt.timezone(dt.timedelta(hours=-5)))
    assert to_millisecond(late) == dt.datetime(2024, 3, 2, 4, 59, 59, 999_000, tzinfo=UTC)


def test_two_batches_in_one_millisecond_rank_the_same_on_every_engine(
    lake: Lake, lake_dir, calendar: TradingCalendar
) -> None:
    """Landed 0.1 ms and 0.9 ms into the same millisecond (a caller's clock may carry
    microseconds): both stamps are that millisecond, so a reader at milliseconds sees what
    DuckDB sees, and the latest landing is decided by batch_id on both."""
    first = land_bars(lake, calendar, _bar(11.0), "a", MILLISECOND + dt.timedelta(microseconds=900))
    second = land_bars(
        lake, calendar, _bar(11.5), "b", MILLISECOND + dt.timedelta(microseconds=100)
    )
    landed = ds.dataset(lake_dir / "bronze" / "raw_ohlcv", partitioning="hive").to_table()
    # a safe cast to milliseconds fails if it would drop digits: a Hive reader loses nothing
    as_hive_reads = landed["ingested_at"].cast(pa.timestamp("ms", tz="UTC"), safe=True)
    assert set(as_hive_reads.to_pylist()) == {MILLISECOND}
    assert set(landed["ingested_at"].to_pylist()) == {MILLISECOND}
    assert first.batch_id[:22] == second.batch_id[:22] == "20240301T213000123000Z"

    latest = "order by ingested_at desc, batch_id desc limit 1"  # staging's ranking
    with duckdb.connect() as con:
        con.register("landed", landed)
        micro = con.execute(f"select batch_id from landed {latest}").fetchone()
        milli = con.execute(
            "select batch_id from (select cast(ingested_at as timestamp_ms) as ingested_at, "
            f"batch_id from landed) {latest}"
        ).fetchone()
    assert micro == milli == (max(first.batch_id, second.batch_id),)
