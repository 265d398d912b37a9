"""The two ingestion jobs as plain functions: daily OHLCV and ticker metadata.

Lambda handlers and the CLI are thin wrappers over `fetch_ohlcv` and `fetch_tickers`.
This module asks the vendor (`MarketSource`: the Polygon client, or the sample market)
for what is owed since the watermark, the whole market session by session or each
symbol's range, and hands every answer to the landing pipeline
(`ingestion.landing_pipeline`: land, then advance the watermark, the run audited); an
OHLCV run then settles the follow-ups (`ingestion.settle`).
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterator
from dataclasses import dataclass

import pyarrow as pa

from core.errors import ExitCode, OperationalError
from core.lake import Lake
from core.layout import LANDING_PREFIXES, VACUUM_MANIFEST_PREFIX
from core.logs import progress
from ingestion.calendar import TradingCalendar
from ingestion.landing_pipeline import LandingPipeline, audited_landing
from ingestion.results import FetchResult
from ingestion.runs import OHLCV, TICKERS, RunSummary
from ingestion.settle import settle_followups
from ingestion.sources import MarketSource
from ingestion.stores import Stores
from ingestion.symbols import normalize_symbol
from ingestion.watermarks import MARKET

log = logging.getLogger(__name__)

DEFAULT_HISTORY_START = dt.date(2003, 9, 10)  # Polygon's daily history starts here


class NewLakeError(OperationalError):
    """The watermark store says data is landed, but the lake has none: a new lake paired
    with an old store. Fetching would skip everything and build an empty warehouse."""

    exit_code = ExitCode.USAGE


def _refuse_a_new_lake(lake: Lake, dataset: str, landed_through: dt.date | None) -> None:
    if landed_through is None or lake.list_files(LANDING_PREFIXES[dataset]):
        return
    # Vacuum deletes old landing files bronze's tables hold; it leaves manifests.
    if dataset == OHLCV and lake.list_files(VACUUM_MANIFEST_PREFIX, ".json"):
        return
    raise NewLakeError(
        f"the watermark store (WATERMARK_DSN) says {dataset} is landed through "
        f"{landed_through}, but LAKE_ROOT {lake.uri} holds no {dataset} landing files: point "
        "WATERMARK_DSN at this lake's store, or reset it (delete the SQLite file or the "
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

    def body(pipeline: LandingPipeline) -> None:
        if request.symbols is None:
            _fetch_market(source, calendar, request, pipeline)
        else:
            _fetch_symbols(source, calendar, request, pipeline)
        settle_followups(source, pipeline, calendar, request.history_start)
        if pipeline.summary.status == "running":
            pipeline.summary.status = "succeeded"

    requested = (request.start, request.end)
    return audited_landing(lake, stores, OHLCV, source.name, requested, body)


def _fetch_market(
    source: MarketSource,
    calendar: TradingCalendar,
    request: OhlcvRequest,
    pipeline: LandingPipeline,
) -> None:
    watermark = None if request.backfill else pipeline.stores.watermarks.get(OHLCV, MARKET)
    _refuse_a_new_lake(pipeline.lake, OHLCV, watermark)
    if watermark is not None:
        sessions = calendar.sessions_after(watermark, request.end)
    else:
        sessions = calendar.sessions_between(request.start or request.end, request.end)
    log.info("ohlcv market fetch", extra={"sessions": len(sessions), "watermark": watermark})
    pipeline.sessions(calendar, _grouped_daily(source, sessions, pipeline.summary), len(sessions))


def _grouped_daily(
    source: MarketSource, sessions: list[dt.date], summary: RunSummary
) -> Iterator[tuple[dt.date, pa.Table]]:
    """Each session's whole-market bars, asked for one session at a time as the pipeline
    lands them, up to the first session with none."""
    for session in sessions:
        bars = source.grouped_daily(session)
        if bars.num_rows == 0:
            # A session with no bars means "not published yet" (or an outage): stop
            # here so the watermark stays put and the next run asks again.
            summary.empty_sessions.append(session.isoformat())
            summary.status = "partial"
            return
        yield session, bars


def _fetch_symbols(
    source: MarketSource,
    calendar: TradingCalendar,
    request: OhlcvRequest,
    pipeline: LandingPipeline,
) -> None:
    assert request.symbols is not None
    marks = {} if request.backfill else pipeline.stores.watermarks.get_many(OHLCV, request.symbols)
    _refuse_a_new_lake(pipeline.lake, OHLCV, max(marks.values(), default=None))
    for done, symbol in enumerate(request.symbols, 1):
        _fetch_symbol(source, calendar, request, pipeline, symbol, marks.get(symbol))
        progress(log, "ohlcv symbols fetched", done, len(request.symbols), symbol=symbol)


def _fetch_symbol(
    source: MarketSource,
    calendar: TradingCalendar,
    request: OhlcvRequest,
    pipeline: LandingPipeline,
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
        pipeline.summary.empty_sessions.append(f"{symbol}:{start.isoformat()}..{request.end}")
        if watermark is None:
            # Never landed and nothing now: most likely a ticker the source does not know
            # (a typo, a delisted or renamed name), not a session still to be published.
            log.warning(
                f"unknown symbol {symbol}: {source.name} has no bars for it from {start} to "
                f"{request.end}; check the ticker",
                extra={"symbol": symbol},
            )
            pipeline.summary.unknown_symbols.append(symbol)
        return
    pipeline.symbol_range(calendar, symbol, start, request.end, bars)


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

    def body(pipeline: LandingPipeline) -> None:
        summary = pipeline.summary
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
        pipeline.tickers(as_of, tickers)
        summary.status = "succeeded"

    return audited_landing(lake, stores, TICKERS, source.name, (as_of, as_of), body)
