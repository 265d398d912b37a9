"""What the fetchers need from a market-data source: Polygon or the sample market."""

from __future__ import annotations

import datetime as dt
from typing import Protocol

import pyarrow as pa


class MarketSource(Protocol):
    """Tables come back in `ingestion.bars.BAR_SCHEMA` / `TICKER_SCHEMA`."""

    name: str

    # Read-only (properties): the fetchers only read the two sessions, and a settable
    # protocol attribute would be invariant, so a source whose value is always None (or
    # always a date) would not conform.
    @property
    def last_session(self) -> dt.date | None:
        """The last session the source has data for, when it has an end (the sample
        market); None for a live source. The default fetch date never goes past it."""
        ...

    @property
    def first_session(self) -> dt.date | None:
        """Where a first fetch starts when nothing is landed yet, if the source has a
        natural start (the sample market's first session); None: only the requested
        session."""
        ...

    def grouped_daily(self, day: dt.date) -> pa.Table:
        """Every symbol's bar for one session; empty when nothing is published (yet)."""
        ...

    def ticker_range(self, symbol: str, start: dt.date, end: dt.date) -> pa.Table:
        """One symbol's bars start..end, adjusted for every split known now."""
        ...

    def tickers(self, as_of: dt.date, active: bool) -> pa.Table:
        """Active (or delisted) tickers as of a date."""
        ...

    def splits(self, start: dt.date, end: dt.date) -> list[tuple[str, dt.date, float]]:
        """(symbol, execution_date, ratio = split_to / split_from) executed start..end."""
        ...
