"""The landing pipeline: what happens to the bars a fetch got, in the order that makes a
run safe to repeat or interrupt.

Land a batch file (durably), record the work its landing owes (`ingestion.followups`),
then advance the watermark; the audit row records the run's outcome, failures included
(`audited_landing`). The vendor calls that feed it are `ingestion.fetch`'s; the owed work
is settled by `ingestion.settle`.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass

import pyarrow as pa

from core.clock import utcnow
from core.lake import Lake
from core.logs import progress
from ingestion.calendar import TradingCalendar
from ingestion.followups import SPLITS, SYMBOL_MARKS, SYMBOL_SPLITS, FollowUp
from ingestion.landing import LandedBatch, land_bars, land_tickers
from ingestion.results import FetchResult
from ingestion.runs import OHLCV, TICKERS, RunSummary, audited
from ingestion.stores import Stores
from ingestion.watermarks import MARKET

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class LandingPipeline:
    """One run's landing: the lake its files go to, the store its marks and owed work go
    to, and the summary that counts them (its source names the batches)."""

    lake: Lake
    stores: Stores
    summary: RunSummary

    def sessions(
        self,
        calendar: TradingCalendar,
        market: Iterable[tuple[dt.date, pa.Table]],
        total: int,
    ) -> None:
        """Land the whole market's bars session by session (of `total`), the market mark
        moving after every durable file.

        Per-symbol marks are collected and written once (10,000 upserts per session would
        dominate a backfill). What the market mark would hide once it moved (the session's
        splits check, the batch's per-symbol marks) is recorded as owed first, and settled
        by this run or a later one."""
        symbol_marks: dict[str, dt.date] = {}
        marks_owed: list[FollowUp] = []
        try:
            for done, (session, bars) in enumerate(market, 1):
                batch = self._land(calendar, bars)
                self.summary.sessions.append(session.isoformat())
                symbol_marks.update(batch.max_date_by_symbol)
                owed = FollowUp(SYMBOL_MARKS, batch.batch_id, {"file": batch.path})
                self.stores.followups.add(
                    OHLCV, [FollowUp(SPLITS, session.isoformat()), owed], self.summary.run_id
                )
                marks_owed.append(owed)
                self.stores.watermarks.advance(OHLCV, {MARKET: session}, self.summary.run_id)
                self.summary.watermark = session.isoformat()
                progress(log, "ohlcv sessions landed", done, total, session=session)
        finally:
            if symbol_marks:
                self.stores.watermarks.advance(OHLCV, symbol_marks, self.summary.run_id)
                for owed in marks_owed:
                    self.stores.followups.complete(OHLCV, owed)

    def symbol_range(
        self,
        calendar: TradingCalendar,
        symbol: str,
        start: dt.date,
        end: dt.date,
        bars: pa.Table,
    ) -> None:
        """Land one symbol's bars from `start` to `end` and move its mark.

        The range came adjusted for every split known now; bars landed before it were not:
        a split inside it owes a restatement. Recorded before the mark hides the range."""
        batch = self._land(calendar, bars)
        self.summary.symbols.append(symbol)
        span = {"symbol": symbol, "from": start.isoformat(), "through": end.isoformat()}
        owed = FollowUp(SYMBOL_SPLITS, f"{symbol} {span['from']}..{span['through']}", span)
        self.stores.followups.add(OHLCV, [owed], self.summary.run_id)
        self.stores.watermarks.advance(OHLCV, batch.max_date_by_symbol, self.summary.run_id)

    def restatement(self, calendar: TradingCalendar, symbol: str, bars: pa.Table) -> None:
        """Land a split symbol's refetched history as one batch and move its mark."""
        batch = self._land(calendar, bars)
        self.summary.restated_symbols.append(symbol)
        self.stores.watermarks.advance(OHLCV, batch.max_date_by_symbol, self.summary.run_id)

    def tickers(self, as_of: dt.date, tickers: pa.Table) -> None:
        """Land the ticker list as of a date, one batch, and move the tickers mark to it."""
        batch = land_tickers(self.lake, tickers, self.summary.source, utcnow())
        self.summary.add(batch)
        self.summary.sessions.append(as_of.isoformat())
        self.stores.watermarks.advance(TICKERS, {MARKET: as_of}, self.summary.run_id)
        self.summary.watermark = as_of.isoformat()

    def _land(self, calendar: TradingCalendar, bars: pa.Table) -> LandedBatch:
        batch = land_bars(self.lake, calendar, bars, self.summary.source, utcnow())
        self.summary.add(batch)
        return batch


def audited_landing(
    lake: Lake,
    stores: Stores,
    dataset: str,
    source: str,
    requested: tuple[dt.date | None, dt.date | None],
    body: Callable[[LandingPipeline], None],
) -> FetchResult:
    """Open the run's audit row, land through `body`, then record the outcome in the row,
    failures included."""
    run = stores.ledger.start_run(dataset, source, *requested)
    pipeline = LandingPipeline(lake, stores, RunSummary(run.run_id, dataset, source))
    return audited(stores.ledger, pipeline.summary, run, lambda: body(pipeline))
