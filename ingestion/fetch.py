"""The two ingestion jobs as plain functions: daily OHLCV and ticker metadata.

Lambda handlers and the CLI are thin wrappers over `fetch_ohlcv` and `fetch_tickers`.
Order of operations is what makes a run safe to repeat or interrupt: land a batch file
(durably), then advance the watermark, then move on; the audit row records the outcome,
failures included.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass
from typing import Any

import pyarrow as pa

from core.clock import utcnow
from core.errors import ExitCode, OperationalError
from core.lake import Lake
from core.layout import LANDING_PREFIXES, VACUUM_MANIFEST_PREFIX
from core.logs import progress
from ingestion.calendar import TradingCalendar
from ingestion.followups import RESTATE, SPLITS, SYMBOL_MARKS, SYMBOL_SPLITS, FollowUp
from ingestion.landing import land_bars, land_tickers, landed_marks
from ingestion.results import FetchResult
from ingestion.runs import OHLCV, TICKERS, RunSummary, audited
from ingestion.sources import MarketSource
from ingestion.stores import Stores
from ingestion.symbols import normalize_symbol, require_symbol
from ingestion.watermarks import MARKET

log = logging.getLogger(__name__)

DEFAULT_HISTORY_START = dt.date(2003, 9, 10)  # Polygon's daily history starts here

# What a splits check covers: (the symbol, or None for every symbol; first day; last day).
Span = tuple[str | None, dt.date, dt.date]


class NewLakeError(OperationalError):
    """The watermark store says data is landed, but the lake has none: a new lake paired
    with an old store. Fetching would skip everything and build an empty warehouse."""

    exit_code = ExitCode.USAGE


def _refuse_a_new_lake(lake: Lake, dataset: str, landed_through: dt.date | None) -> None:
    if landed_through is None or lake.list_files(LANDING_PREFIXES[dataset]):
        return
    # Vacuum deletes old landing files of a lake whose bronze holds them; it leaves manifests.
    if dataset == OHLCV and lake.list_files(VACUUM_MANIFEST_PREFIX, ".json"):
        return
    raise NewLakeError(
        f"the watermark store (WATERMARK_DSN) says {dataset} is landed through "
        f"{landed_through}, but LAKE_ROOT {lake.uri} holds no {dataset} landing files: point "
        "WATERMARK_DSN at this lake's stores, or reset it (delete the SQLite file or the "
        "PostgreSQL watermarks table) to fetch into this lake from scratch"
    )


@dataclass(frozen=True)
class OhlcvRequest:
    """What to fetch.

    end: the last session wanted. start: the first, when there is no watermark (or with
    backfill). symbols: fetch these through the per-ticker endpoint instead of the whole
    market. backfill: refetch start..end even if already landed (restates history).
    """

    end: dt.date
    start: dt.date | None = None
    symbols: tuple[str, ...] | None = None
    backfill: bool = False
    history_start: dt.date = DEFAULT_HISTORY_START

    def __post_init__(self) -> None:
        if self.start is not None and self.start > self.end:
            raise ValueError(f"start {self.start} is after end {self.end}")
        if self.symbols is not None:
            # Upper-casing may make two entries one ("aapl,AAPL"): fetch it once.
            symbols = dict.fromkeys(normalize_symbol(s) for s in self.symbols)
            object.__setattr__(self, "symbols", tuple(symbols))


def fetch_ohlcv(
    source: MarketSource,
    lake: Lake,
    stores: Stores,
    calendar: TradingCalendar,
    request: OhlcvRequest,
) -> FetchResult:
    """Land OHLCV for the request, filling every session missed since the watermark."""
    run = stores.ledger.start_run(OHLCV, source.name, request.start, request.end)
    summary = RunSummary(run.run_id, OHLCV, source.name)

    def body() -> None:
        if request.symbols is None:
            _fetch_market(source, lake, stores, calendar, request, summary)
        else:
            _fetch_symbols(source, lake, stores, calendar, request, summary)
        if summary.status == "running":
            summary.status = "succeeded"

    return audited(stores.ledger, summary, run, body)


def _fetch_market(
    source: MarketSource,
    lake: Lake,
    stores: Stores,
    calendar: TradingCalendar,
    request: OhlcvRequest,
    summary: RunSummary,
) -> None:
    watermark = None if request.backfill else stores.watermarks.get(OHLCV, MARKET)
    _refuse_a_new_lake(lake, OHLCV, watermark)
    if watermark is not None:
        sessions = calendar.sessions_after(watermark, request.end)
    else:
        sessions = calendar.sessions_between(request.start or request.end, request.end)
    log.info("ohlcv market fetch", extra={"sessions": len(sessions), "watermark": watermark})
    # Per-symbol marks are collected and written once (10,000 upserts per session would
    # dominate a backfill); the market mark moves after every durable file. What the
    # market mark would hide once it moved (the session's splits check, the batch's
    # per-symbol marks) is recorded as owed first, and settled below or by a later run.
    symbol_marks: dict[str, dt.date] = {}
    marks_owed: list[FollowUp] = []
    try:
        for done, session in enumerate(sessions, 1):
            bars = source.grouped_daily(session)
            if bars.num_rows == 0:
                # A session with no bars means "not published yet" (or an outage): stop
                # here so the watermark stays put and the next run asks again.
                summary.empty_sessions.append(session.isoformat())
                summary.status = "partial"
                break
            batch = land_bars(lake, calendar, bars, source.name, utcnow())
            summary.add(batch)
            summary.sessions.append(session.isoformat())
            symbol_marks.update(batch.max_date_by_symbol)
            owed = FollowUp(SYMBOL_MARKS, batch.batch_id, {"file": batch.path})
            stores.followups.add(
                OHLCV, [FollowUp(SPLITS, session.isoformat()), owed], summary.run_id
            )
            marks_owed.append(owed)
            stores.watermarks.advance(OHLCV, {MARKET: session}, summary.run_id)
            summary.watermark = session.isoformat()
            progress(log, "ohlcv sessions landed", done, len(sessions), session=session)
    finally:
        if symbol_marks:
            stores.watermarks.advance(OHLCV, symbol_marks, summary.run_id)
            for owed in marks_owed:
                stores.followups.complete(OHLCV, owed)
    _settle_followups(source, lake, stores, request, summary, calendar)


def _settle_followups(
    source: MarketSource,
    lake: Lake,
    stores: Stores,
    request: OhlcvRequest,
    summary: RunSummary,
    calendar: TradingCalendar,
) -> None:
    """Do every pending follow-up, this run's and those earlier runs could not finish.

    One that fails stays pending with its error and leaves the run `partial` (its sessions
    are landed; the owed work is not lost, the next run tries it again)."""
    for item in stores.followups.pending(OHLCV, SYMBOL_MARKS):
        _attempt(
            stores,
            summary,
            [item],
            lambda item=item: stores.watermarks.advance(
                OHLCV, landed_marks(lake, item.detail["file"]), summary.run_id
            ),
        )
    checks = stores.followups.pending(OHLCV, SPLITS)
    if checks:
        sessions = [_day(c.key) for c in checks]
        span: Span = (None, min(sessions), max(sessions))
        _attempt(stores, summary, checks, lambda: _check_splits(source, stores, summary, [span]))
    # Per-symbol ranges: one call to the splits endpoint for all of them, not one each.
    ranges = stores.followups.pending(OHLCV, SYMBOL_SPLITS)
    if ranges:
        spans: list[Span] = [
            (r.detail["symbol"], _day(r.detail["from"]), _day(r.detail["through"])) for r in ranges
        ]
        _attempt(stores, summary, ranges, lambda: _check_splits(source, stores, summary, spans))
    for item in stores.followups.pending(OHLCV, RESTATE):
        _attempt(
            stores,
            summary,
            [item],
            lambda item=item: _restate(source, lake, stores, calendar, request, summary, item),
        )


def _attempt(stores: Stores, summary: RunSummary, items: list[FollowUp], work: Any) -> None:
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


def _check_splits(
    source: MarketSource, stores: Stores, summary: RunSummary, spans: list[Span]
) -> None:
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
    stores.followups.add(OHLCV, list(owed.values()), summary.run_id)


def _restate(
    source: MarketSource,
    lake: Lake,
    stores: Stores,
    calendar: TradingCalendar,
    request: OhlcvRequest,
    summary: RunSummary,
    item: FollowUp,
) -> None:
    """Refetch a split symbol's whole history through the split's window, as one batch."""
    symbol = item.key
    bars = source.ticker_range(symbol, request.history_start, _day(item.detail["through"]))
    if bars.num_rows == 0:
        return
    batch = land_bars(lake, calendar, bars, source.name, utcnow())
    summary.add(batch)
    summary.restated_symbols.append(symbol)
    stores.watermarks.advance(OHLCV, batch.max_date_by_symbol, summary.run_id)
    log.info("split restated", extra={"symbol": symbol, "executed": item.detail["executed"]})


def _fetch_symbols(
    source: MarketSource,
    lake: Lake,
    stores: Stores,
    calendar: TradingCalendar,
    request: OhlcvRequest,
    summary: RunSummary,
) -> None:
    assert request.symbols is not None
    marks = {} if request.backfill else stores.watermarks.get_many(OHLCV, request.symbols)
    _refuse_a_new_lake(lake, OHLCV, max(marks.values(), default=None))
    for done, symbol in enumerate(request.symbols, 1):
        _fetch_symbol(source, lake, stores, calendar, request, summary, symbol, marks.get(symbol))
        progress(log, "ohlcv symbols fetched", done, len(request.symbols), symbol=symbol)
    _settle_followups(source, lake, stores, request, summary, calendar)


def _fetch_symbol(
    source: MarketSource,
    lake: Lake,
    stores: Stores,
    calendar: TradingCalendar,
    request: OhlcvRequest,
    summary: RunSummary,
    symbol: str,
    watermark: dt.date | None,
) -> None:
    if watermark is not None:
        pending = calendar.sessions_after(watermark, request.end)
        if not pending:
            return
        start = pending[0]
    else:
        start = request.start or request.end
    bars: pa.Table = source.ticker_range(symbol, start, request.end)
    if bars.num_rows == 0:
        summary.empty_sessions.append(f"{symbol}:{start.isoformat()}..{request.end}")
        if watermark is None:
            # Never landed and nothing now: most likely a ticker the source does not know
            # (a typo, a delisted or renamed name), not a session still to be published.
            log.warning(
                f"unknown symbol {symbol}: {source.name} has no bars for it from {start} to "
                f"{request.end}; check the ticker",
                extra={"symbol": symbol},
            )
            summary.unknown_symbols.append(symbol)
        return
    batch = land_bars(lake, calendar, bars, source.name, utcnow())
    summary.add(batch)
    summary.symbols.append(symbol)
    # The range came adjusted for every split known now; bars landed before it were not:
    # a split inside it owes a restatement. Recorded before the mark hides the range.
    span = {"symbol": symbol, "from": start.isoformat(), "through": request.end.isoformat()}
    owed = FollowUp(SYMBOL_SPLITS, f"{symbol} {span['from']}..{span['through']}", span)
    stores.followups.add(OHLCV, [owed], summary.run_id)
    stores.watermarks.advance(OHLCV, batch.max_date_by_symbol, summary.run_id)


def fetch_tickers(
    source: MarketSource,
    lake: Lake,
    stores: Stores,
    as_of: dt.date,
    refresh: bool = False,
) -> FetchResult:
    """Land the ticker list as of a date: active and delisted names, one batch.

    A snapshot already landed for that date (or a later one) is not fetched again unless
    `refresh` is set, so re-running a day lands nothing new.
    """
    run = stores.ledger.start_run(TICKERS, source.name, as_of, as_of)
    summary = RunSummary(run.run_id, TICKERS, source.name)

    def body() -> None:
        watermark = stores.watermarks.get(TICKERS, MARKET)
        _refuse_a_new_lake(lake, TICKERS, None if refresh else watermark)
        if watermark is not None and watermark >= as_of and not refresh:
            summary.watermark = watermark.isoformat()
            summary.status = "succeeded"
            return
        tables = [source.tickers(as_of, active=True), source.tickers(as_of, active=False)]
        tickers = pa.concat_tables(tables)
        if tickers.num_rows == 0:
            raise RuntimeError(f"the source returned no tickers as of {as_of}")
        batch = land_tickers(lake, tickers, source.name, utcnow())
        summary.add(batch)
        summary.sessions.append(as_of.isoformat())
        stores.watermarks.advance(TICKERS, {MARKET: as_of}, summary.run_id)
        summary.watermark = as_of.isoformat()
        summary.status = "succeeded"

    return audited(stores.ledger, summary, run, body)
