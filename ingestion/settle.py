"""Settling follow-ups: the work fetches owe after their watermarks moved, done now.

Every OHLCV run does every pending follow-up, its own and those earlier runs could not
finish: a landed batch's per-symbol marks, the splits checks of landed sessions and of
per-symbol ranges, and each split symbol's restatement (its whole history refetched, as
one batch). One that fails stays pending with its error and leaves the run `partial` (its
sessions are landed; the owed work is not lost, the next run tries it again).
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from ingestion.calendar import TradingCalendar
from ingestion.followups import RESTATE, SPLITS, SYMBOL_MARKS, SYMBOL_SPLITS, FollowUp
from ingestion.landing import landed_marks
from ingestion.landing_pipeline import LandingPipeline
from ingestion.runs import OHLCV
from ingestion.sources import MarketSource
from ingestion.symbols import require_symbol

log = logging.getLogger(__name__)

# What a splits check covers: (the symbol, or None for every symbol; first day; last day).
Span = tuple[str | None, dt.date, dt.date]


def settle_followups(
    source: MarketSource,
    pipeline: LandingPipeline,
    calendar: TradingCalendar,
    history_start: dt.date,
) -> None:
    """Do every pending OHLCV follow-up; a restatement refetches from `history_start`."""
    stores, summary = pipeline.stores, pipeline.summary
    for item in stores.followups.pending(OHLCV, SYMBOL_MARKS):
        _attempt(
            pipeline,
            [item],
            lambda item=item: stores.watermarks.advance(
                OHLCV, landed_marks(pipeline.lake, item.detail["file"]), summary.run_id
            ),
        )
    checks = stores.followups.pending(OHLCV, SPLITS)
    if checks:
        sessions = [_day(c.key) for c in checks]
        span: Span = (None, min(sessions), max(sessions))
        _attempt(pipeline, checks, lambda: _check_splits(source, pipeline, [span]))
    # Per-symbol ranges: one call to the splits endpoint for all of them, not one each.
    ranges = stores.followups.pending(OHLCV, SYMBOL_SPLITS)
    if ranges:
        spans: list[Span] = [
            (r.detail["symbol"], _day(r.detail["from"]), _day(r.detail["through"])) for r in ranges
        ]
        _attempt(pipeline, ranges, lambda: _check_splits(source, pipeline, spans))
    for item in stores.followups.pending(OHLCV, RESTATE):
        _attempt(
            pipeline,
            [item],
            lambda item=item: _restate(source, pipeline, calendar, history_start, item),
        )


def _attempt(pipeline: LandingPipeline, items: list[FollowUp], work: Any) -> None:
    stores, summary = pipeline.stores, pipeline.summary
    try:
        work()
    except Exception as exc:  # any failure: the follow-up stays owed, the run goes on
        error = f"{type(exc).__name__}: {exc}"
        log.warning("follow-up failed", extra={"kind": items[0].kind, "error": error})
        for item in items:
            stores.followups.fail(OHLCV, item, error)
            summary.followups_pending.append(f"{item.kind} {item.key}: {error}")
        summary.status = "partial"
        return
    for item in items:
        stores.followups.complete(OHLCV, item)
        summary.followups_done.append(f"{item.kind} {item.key}")


def _day(value: str) -> dt.date:
    return dt.date.fromisoformat(value)


def _check_splits(source: MarketSource, pipeline: LandingPipeline, spans: list[Span]) -> None:
    """A split rewrites a symbol's adjusted history: each one found in a span (of its
    symbol, or of any) becomes an owed restatement through the span's last day, recorded
    before the check counts as done."""
    first, last = min(span[1] for span in spans), max(span[2] for span in spans)
    owed: dict[str, FollowUp] = {}
    for symbol, executed, _ratio in source.splits(first, last):
        try:
            symbol = require_symbol(symbol)
        except ValueError:
            log.warning("split for unusable symbol skipped", extra={"symbol": repr(symbol)})
            continue
        for wanted, start, through in spans:
            if wanted in (None, symbol) and start <= executed <= through:
                detail = {"through": through.isoformat(), "executed": executed.isoformat()}
                owed[symbol] = FollowUp(RESTATE, symbol, detail)
    pipeline.stores.followups.add(OHLCV, list(owed.values()), pipeline.summary.run_id)


def _restate(
    source: MarketSource,
    pipeline: LandingPipeline,
    calendar: TradingCalendar,
    history_start: dt.date,
    item: FollowUp,
) -> None:
    """Refetch a split symbol's whole history through the split's window, as one batch."""
    symbol = item.key
    bars = source.ticker_range(symbol, history_start, _day(item.detail["through"]))
    if bars.num_rows == 0:
        return
    pipeline.restatement(calendar, symbol, bars)
    log.info("split restated", extra={"symbol": symbol, "executed": item.detail["executed"]})
