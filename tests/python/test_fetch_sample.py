"""fetch_ohlcv / fetch_tickers over the in-process sample market, local lake, SQLite."""

import datetime as dt

import pyarrow as pa
import pyarrow.dataset as ds
import pytest

from ingestion.fetch import OhlcvRequest, fetch_ohlcv, fetch_tickers
from ingestion.sample_market import SPLIT_DATE, SPLIT_RATIO, SPLIT_SYMBOL, SampleMarket


@pytest.fixture(scope="module")
def market(calendar):
    return SampleMarket(calendar)


def read_lake(lake_dir, dataset="raw_ohlcv") -> pa.Table:
    return ds.dataset(
        lake_dir / "bronze" / dataset, format="parquet", partitioning="hive"
    ).to_table()


def files(lake_dir):
    return sorted(lake_dir.glob("bronze/raw_ohlcv/ingest_date=*/*.parquet"))


def test_sample_market_shape(market, calendar):
    assert len(market.profiles) >= 50
    assert len(market.sessions) >= 3 * 252
    first_dates = {p.first for p in market.profiles.values()}
    assert len(first_dates) > 1  # listings inside the window
    assert any(p.delisted for p in market.profiles.values())
    rows = sum(
        market.ticker_range(s, market.sessions[0], market.last_session).num_rows
        for s in market.profiles
    )
    live = sum(len(calendar.sessions_between(p.first, p.last)) for p in market.profiles.values())
    assert rows < live  # missing days
    again = SampleMarket(calendar)
    day = dt.date(2024, 3, 1)
    assert again.grouped_daily(day).equals(market.grouped_daily(day))


def test_range_then_rerun_is_a_no_op(market, lake, lake_dir, sqlite_stores, calendar):
    request = OhlcvRequest(start=dt.date(2024, 1, 2), end=dt.date(2024, 1, 31))
    first = fetch_ohlcv(market, lake, sqlite_stores, calendar, request).to_dict()
    sessions = calendar.sessions_between(dt.date(2024, 1, 2), dt.date(2024, 1, 31))
    assert first["status"] == "succeeded"
    assert first["sessions_landed"] == len(sessions) == first["files_written"]
    assert sqlite_stores.watermarks.get("ohlcv") == dt.date(2024, 1, 31)
    landed = read_lake(lake_dir)
    assert landed.num_rows == first["rows_landed"]
    assert set(landed["date"].to_pylist()) == set(sessions)

    second = fetch_ohlcv(market, lake, sqlite_stores, calendar, request).to_dict()
    assert second["status"] == "succeeded" and second["files_written"] == 0
    assert len(files(lake_dir)) == first["files_written"]
    assert [run["status"] for run in sqlite_stores.ledger.runs("ohlcv")] == [
        "succeeded",
        "succeeded",
    ]


def test_missed_sessions_are_filled_and_closed_days_skipped(market, lake, sqlite_stores, calendar):
    fetch_ohlcv(market, lake, sqlite_stores, calendar, OhlcvRequest(end=dt.date(2024, 6, 28)))
    # Five sessions later (July 4th is a holiday, the weekend is not a gap).
    summary = fetch_ohlcv(
        market, lake, sqlite_stores, calendar, OhlcvRequest(end=dt.date(2024, 7, 8))
    ).to_dict()
    assert summary["first_session"] == "2024-07-01" and summary["last_session"] == "2024-07-08"
    assert summary["sessions_landed"] == 5
    assert sqlite_stores.watermarks.get("ohlcv") == dt.date(2024, 7, 8)
    # Per-symbol watermarks follow the symbols' own last bars.
    marks = sqlite_stores.watermarks.get_many("ohlcv", market.profiles)
    assert max(marks.values()) == dt.date(2024, 7, 8)


def test_unpublished_session_stops_the_fill_without_moving_the_watermark(
    market, lake, sqlite_stores, calendar
):
    end = market.last_session
    fetch_ohlcv(market, lake, sqlite_stores, calendar, OhlcvRequest(end=end))
    later = calendar.sessions_after(end, dt.date(2026, 1, 9))
    summary = fetch_ohlcv(
        market, lake, sqlite_stores, calendar, OhlcvRequest(end=later[-1])
    ).to_dict()
    assert summary["status"] == "partial"
    assert summary["empty_sessions"] == [later[0].isoformat()]
    assert sqlite_stores.watermarks.get("ohlcv") == end
    assert sqlite_stores.ledger.runs("ohlcv")[-1]["status"] == "partial"


def test_a_split_restates_the_symbols_history(market, lake, lake_dir, sqlite_stores, calendar):
    before = calendar.sessions_between(dt.date(2024, 6, 3), SPLIT_DATE)[-2]
    request = OhlcvRequest(
        start=dt.date(2024, 6, 3), end=SPLIT_DATE, history_start=dt.date(2024, 1, 2)
    )
    summary = fetch_ohlcv(market, lake, sqlite_stores, calendar, request).to_dict()
    assert summary["restated_symbols"] == [SPLIT_SYMBOL]
    rows = (
        read_lake(lake_dir)
        .filter((ds.field("symbol") == SPLIT_SYMBOL) & (ds.field("date") == before))
        .sort_by("ingested_at")
    )
    assert rows.num_rows == 2  # the session as first landed, then the restatement
    old, new = rows["close"].to_pylist()
    assert new == pytest.approx(old / SPLIT_RATIO, rel=1e-4)
    assert rows["volume"][1].as_py() == pytest.approx(
        rows["volume"][0].as_py() * SPLIT_RATIO, rel=1e-4
    )
    restated = read_lake(lake_dir).filter(ds.field("batch_id") == rows["batch_id"][1].as_py())
    assert min(restated["date"].to_pylist()) == dt.date(2024, 1, 2)


def test_symbols_mode_fetches_each_symbol_since_its_own_watermark(
    market, lake, lake_dir, sqlite_stores, calendar
):
    request = OhlcvRequest(
        start=dt.date(2024, 1, 2), end=dt.date(2024, 1, 31), symbols=("ACRN", "AERO")
    )
    first = fetch_ohlcv(market, lake, sqlite_stores, calendar, request).to_dict()
    assert first["files_written"] == 2 and first["symbols_fetched"] == ["ACRN", "AERO"]
    marks = sqlite_stores.watermarks.get_many("ohlcv", ["ACRN", "AERO"])
    assert marks == {"ACRN": dt.date(2024, 1, 31), "AERO": dt.date(2024, 1, 31)}
    assert sqlite_stores.watermarks.get("ohlcv") is None  # the market watermark is separate

    later = OhlcvRequest(end=dt.date(2024, 2, 7), symbols=("ACRN",))
    second = fetch_ohlcv(market, lake, sqlite_stores, calendar, later).to_dict()
    new_batch = read_lake(lake_dir).filter(ds.field("source") == "sample").sort_by("ingested_at")
    latest_dates = new_batch.filter(ds.field("batch_id") == new_batch["batch_id"][-1].as_py())[
        "date"
    ]
    assert min(latest_dates.to_pylist()) == dt.date(2024, 2, 1)
    assert second["rows_landed"] == 5


def test_backfill_refetches_but_never_moves_the_watermark_back(
    market, lake, lake_dir, sqlite_stores, calendar
):
    fetch_ohlcv(market, lake, sqlite_stores, calendar, OhlcvRequest(end=dt.date(2024, 3, 8)))
    summary = fetch_ohlcv(
        market, lake, sqlite_stores, calendar,
        OhlcvRequest(start=dt.date(2024, 3, 4), end=dt.date(2024, 3, 5), backfill=True),
    ).to_dict()  # fmt: skip
    assert summary["sessions_landed"] == 2
    assert sqlite_stores.watermarks.get("ohlcv") == dt.date(2024, 3, 8)


class FailingMarket:
    """The sample market, except that one session's request fails."""

    def __init__(self, market, bad_day):
        self._market, self._bad_day, self.name = market, bad_day, market.name

    def grouped_daily(self, day):
        if day == self._bad_day:
            raise ConnectionError("upstream reset")
        return self._market.grouped_daily(day)

    def splits(self, start, end):
        return self._market.splits(start, end)


def test_a_failure_mid_fill_keeps_landed_sessions_and_records_the_error(
    market, lake, lake_dir, sqlite_stores, calendar
):
    sessions = calendar.sessions_between(dt.date(2024, 2, 1), dt.date(2024, 2, 7))
    source = FailingMarket(market, sessions[3])
    with pytest.raises(ConnectionError):
        fetch_ohlcv(
            source, lake, sqlite_stores, calendar, OhlcvRequest(start=sessions[0], end=sessions[-1])
        )
    assert sqlite_stores.watermarks.get("ohlcv") == sessions[2]
    assert len(files(lake_dir)) == 3
    run = sqlite_stores.ledger.runs("ohlcv")[-1]
    assert run["status"] == "failed" and "upstream reset" in run["detail"]
    # The next run picks up exactly where the failed one stopped.
    resumed = fetch_ohlcv(
        market, lake, sqlite_stores, calendar, OhlcvRequest(end=sessions[-1])
    ).to_dict()
    assert resumed["first_session"] == sessions[3].isoformat()


def test_tickers_snapshot_includes_delisted_names(market, lake, lake_dir, sqlite_stores):
    as_of = market.last_session
    summary = fetch_tickers(market, lake, sqlite_stores, as_of).to_dict()
    assert summary["status"] == "succeeded"
    table = read_lake(lake_dir, "raw_tickers")
    assert table.num_rows == len(market.profiles)
    inactive = table.filter(ds.field("active") == False)  # noqa: E712
    assert inactive.num_rows >= 1
    assert all(d is not None for d in inactive["delisted_date"].to_pylist())
    assert sqlite_stores.watermarks.get("tickers") == as_of
    # The same day again lands nothing; a refresh lands a new snapshot.
    again = fetch_tickers(market, lake, sqlite_stores, as_of).to_dict()
    assert again["files_written"] == 0 and again["status"] == "succeeded"
    refreshed = fetch_tickers(market, lake, sqlite_stores, as_of, refresh=True).to_dict()
    assert refreshed["files_written"] == 1


def test_request_validation():
    with pytest.raises(ValueError, match="after end"):
        OhlcvRequest(start=dt.date(2024, 2, 2), end=dt.date(2024, 2, 1))
    with pytest.raises(ValueError, match="invalid symbol"):
        OhlcvRequest(end=dt.date(2024, 2, 1), symbols=("AAPL", "../x"))


def test_bad_prints_are_landed_with_their_reasons(market, lake, lake_dir, sqlite_stores, calendar):
    day = dt.date(2023, 3, 14)
    summary = fetch_ohlcv(market, lake, sqlite_stores, calendar, OhlcvRequest(end=day)).to_dict()
    assert summary["invalid_rows"] == 1
    bad = read_lake(lake_dir).filter(ds.field("invalid_reason").is_valid())
    assert bad["symbol"].to_pylist() == ["ECHO"]
    assert bad["invalid_reason"].to_pylist() == [
        "non_positive_price;high_below_low;open_outside_range;close_outside_range;"
        "vwap_outside_range"
    ]
