"""Work a fetch owes after its watermark moved (issue 19, class 1): the splits check of
landed sessions, a split's restatement and per-symbol marks are recorded before the
watermark moves, and retried by every later run until done. SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pyarrow.dataset as ds
import pytest

from core.lake import Lake
from ingestion.calendar import TradingCalendar
from ingestion.fetch import OhlcvRequest, fetch_ohlcv
from ingestion.sample_market import SPLIT_DATE, SPLIT_SYMBOL, SampleMarket
from ingestion.stores import Stores
from ingestion.watermarks import MARKET

START = dt.date(2024, 6, 3)
REQUEST = OhlcvRequest(start=START, end=SPLIT_DATE, history_start=dt.date(2024, 1, 2))


class FlakyMarket(SampleMarket):
    """The sample market whose calls named in `failing` fail until removed from it."""

    failing: set[str]

    def splits(self, start: dt.date, end: dt.date) -> list[tuple[str, dt.date, float]]:
        if "splits" in self.failing:
            raise ConnectionError("splits endpoint unreachable")
        return super().splits(start, end)

    def ticker_range(self, symbol: str, start: dt.date, end: dt.date) -> Any:
        if "ticker_range" in self.failing:
            raise ConnectionError(f"range endpoint unreachable for {symbol}")
        return super().ticker_range(symbol, start, end)


@pytest.fixture(params=["sqlite", "postgresql"])
def stores(request: pytest.FixtureRequest) -> Stores:
    return request.getfixturevalue("sqlite_stores" if request.param == "sqlite" else "pg_stores")


@pytest.fixture
def market(calendar: TradingCalendar) -> FlakyMarket:
    market = FlakyMarket(calendar)
    market.failing = set()
    return market


def restated_rows(lake_dir: Path) -> int:
    table = ds.dataset(lake_dir / "bronze" / "raw_ohlcv", format="parquet").to_table()
    return table.filter(ds.field("date") < START).num_rows


def bars_before_split(lake_dir: Path) -> int:
    table = ds.dataset(lake_dir / "bronze" / "raw_ohlcv", format="parquet").to_table()
    return table.filter(
        (ds.field("date") < SPLIT_DATE) & (ds.field("symbol") == SPLIT_SYMBOL)
    ).num_rows


def test_a_failed_splits_check_is_retried_by_the_next_run(
    market: FlakyMarket, lake: Lake, lake_dir: Path, stores: Stores, calendar
) -> None:
    market.failing = {"splits"}
    first = fetch_ohlcv(market, lake, stores, calendar, REQUEST).to_dict()
    sessions = calendar.sessions_between(START, SPLIT_DATE)
    # The sessions landed and the watermark moved; the check is owed, and the run says so.
    assert first["status"] == "partial" and first["sessions_landed"] == len(sessions)
    assert stores.watermarks.get("ohlcv", MARKET) == SPLIT_DATE
    assert first["restated_symbols"] == [] and restated_rows(lake_dir) == 0
    assert len(first["followups_pending"]) == len(sessions)
    assert all(
        "ConnectionError: splits endpoint unreachable" in p for p in first["followups_pending"]
    )
    owed = stores.followups.pending("ohlcv")
    assert {(item.kind, item.attempts) for item in owed} == {("splits", 1)}
    assert sorted(item.key for item in owed) == [s.isoformat() for s in sessions]
    # The per-symbol marks were written: nothing of that kind is owed.
    assert stores.watermarks.get("ohlcv", SPLIT_SYMBOL) == SPLIT_DATE

    # Still failing: still owed, one more attempt each, nothing lost.
    again = fetch_ohlcv(market, lake, stores, calendar, REQUEST).to_dict()
    assert again["status"] == "partial" and again["sessions_landed"] == 0
    assert {item.attempts for item in stores.followups.pending("ohlcv")} == {2}

    market.failing = set()
    healed = fetch_ohlcv(market, lake, stores, calendar, REQUEST).to_dict()
    assert healed["status"] == "succeeded" and healed["sessions_landed"] == 0
    assert healed["restated_symbols"] == [SPLIT_SYMBOL] and restated_rows(lake_dir) > 0
    assert healed["followups_pending"] == []
    assert f"restate {SPLIT_SYMBOL}" in healed["followups_done"]
    assert stores.followups.pending("ohlcv") == []

    # Done means done: a later run owes nothing and restates nothing again.
    later = fetch_ohlcv(market, lake, stores, calendar, REQUEST).to_dict()
    assert later["status"] == "succeeded" and later["followups_done"] == []
    assert later["restated_symbols"] == []


def test_a_failed_restatement_is_retried_alone(
    market: FlakyMarket, lake: Lake, lake_dir: Path, stores: Stores, calendar
) -> None:
    market.failing = {"ticker_range"}
    first = fetch_ohlcv(market, lake, stores, calendar, REQUEST).to_dict()
    assert first["status"] == "partial"
    (pending,) = first["followups_pending"]
    assert pending.startswith(f"restate {SPLIT_SYMBOL}: ConnectionError")
    assert [(item.kind, item.key) for item in stores.followups.pending("ohlcv")] == [
        ("restate", SPLIT_SYMBOL)
    ]
    market.failing = set()
    healed = fetch_ohlcv(market, lake, stores, calendar, REQUEST).to_dict()
    assert healed["status"] == "succeeded" and healed["restated_symbols"] == [SPLIT_SYMBOL]
    assert healed["followups_done"] == [f"restate {SPLIT_SYMBOL}"]
    assert stores.followups.pending("ohlcv") == []


def test_per_symbol_marks_owed_by_a_landed_batch_are_written_by_the_next_run(
    market: FlakyMarket, lake: Lake, stores: Stores, calendar, monkeypatch
) -> None:
    # The process dies between the market mark and the per-symbol marks: the batch is
    # landed and the market mark moved, the symbols' marks are owed.
    day = dt.date(2024, 6, 3)
    real_advance = stores.watermarks.advance

    def dies_on_symbol_marks(dataset: str, marks: dict[str, dt.date], run_id: str) -> None:
        if MARKET not in marks:
            raise SystemExit("killed")
        real_advance(dataset, marks, run_id)

    monkeypatch.setattr(stores.watermarks, "advance", dies_on_symbol_marks)
    with pytest.raises(SystemExit):
        fetch_ohlcv(market, lake, stores, calendar, OhlcvRequest(start=day, end=day))
    monkeypatch.undo()
    assert (
        stores.watermarks.get("ohlcv", MARKET) == day
        and stores.watermarks.get("ohlcv", SPLIT_SYMBOL) is None
    )
    (owed,) = stores.followups.pending("ohlcv", "symbol_marks")

    healed = fetch_ohlcv(market, lake, stores, calendar, OhlcvRequest(start=day, end=day)).to_dict()
    assert f"symbol_marks {owed.key}" in healed["followups_done"]
    assert stores.watermarks.get("ohlcv", SPLIT_SYMBOL) == day
    assert stores.followups.pending("ohlcv", "symbol_marks") == []


def test_a_per_symbol_fetch_owes_the_splits_check_of_its_range_until_done(
    market: FlakyMarket, lake: Lake, lake_dir: Path, stores: Stores, calendar
) -> None:
    # The symbol's history up to the session before its split, through the per-ticker path.
    before = calendar.sessions_between(START, SPLIT_DATE)[-2]
    symbols = (SPLIT_SYMBOL,)
    first = fetch_ohlcv(
        market, lake, stores, calendar, OhlcvRequest(start=START, end=before, symbols=symbols)
    )
    assert first.status == "succeeded" and first.restated_symbols == []
    assert stores.followups.pending("ohlcv") == []
    # The range over the split lands while the splits endpoint is down: the mark moves,
    # the check is owed, and the run says so.
    market.failing = {"splits"}
    gap = OhlcvRequest(end=SPLIT_DATE, symbols=symbols, history_start=REQUEST.history_start)
    partial = fetch_ohlcv(market, lake, stores, calendar, gap)
    assert partial.status == "partial" and partial.rows_landed == 1
    assert stores.watermarks.get("ohlcv", SPLIT_SYMBOL) == SPLIT_DATE
    (pending,) = partial.followups_pending
    span = f"{SPLIT_SYMBOL} {calendar.sessions_after(before, SPLIT_DATE)[0]}..{SPLIT_DATE}"
    assert pending.startswith(f"symbol_splits {span}: ConnectionError")
    assert bars_before_split(lake_dir) == first.rows_landed  # the old bars, not restated
    # The next run, with nothing new to fetch, does the check and the restatement it finds.
    market.failing = set()
    healed = fetch_ohlcv(market, lake, stores, calendar, gap)
    assert healed.status == "succeeded" and healed.restated_symbols == [SPLIT_SYMBOL]
    assert healed.followups_done == [f"symbol_splits {span}", f"restate {SPLIT_SYMBOL}"]
    # The restatement: the symbol's whole history through the split day, as one batch.
    assert healed.rows_landed > 100
    assert bars_before_split(lake_dir) == first.rows_landed + healed.rows_landed - 1
    assert stores.followups.pending("ohlcv") == []
