"""The documented Lambda / Step Functions events of the two fetchers.

daily_ohlcv_fetcher event (every key optional):
    {"date": "2024-06-10"}                      one session (default: latest published)
    {"from": "2024-01-02", "to": "2024-06-10"}  a range (first run, or with backfill)
    {"symbols": ["AAPL", "MSFT"]}               per-ticker fetch instead of the whole market
    {"backfill": true}                          refetch even if already landed
daily_meta_fetcher event:
    {"date": "2024-06-10"}                      tickers as of that date (default: latest)

Unknown keys are refused so that a typo ("symbol") cannot silently fetch the whole market.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from ingestion.fetch import OhlcvRequest

OHLCV_KEYS = frozenset({"date", "from", "to", "symbols", "backfill"})
META_KEYS = frozenset({"date"})


class EventError(ValueError):
    """The event does not match the documented shape."""


def _date(event: dict[str, Any], key: str) -> dt.date | None:
    value = event.get(key)
    if value is None:
        return None
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError:
        raise EventError(f"'{key}' must be YYYY-MM-DD, got {value!r}") from None


def _check_keys(event: Any, allowed: frozenset[str]) -> dict[str, Any]:
    if event is None:
        return {}
    if not isinstance(event, dict):
        raise EventError(f"the event must be a JSON object, got {type(event).__name__}")
    unknown = sorted(set(event) - allowed)
    if unknown:
        raise EventError(f"unknown event keys {unknown}; allowed: {sorted(allowed)}")
    return event


def parse_ohlcv_event(event: Any, default_date: dt.date) -> OhlcvRequest:
    event = _check_keys(event, OHLCV_KEYS)
    day, start, end = _date(event, "date"), _date(event, "from"), _date(event, "to")
    if day and (start or end):
        raise EventError("give either 'date' or 'from'/'to', not both")
    symbols = event.get("symbols")
    if symbols is not None and (
        not isinstance(symbols, list) or not all(isinstance(s, str) for s in symbols)
    ):
        raise EventError("'symbols' must be a list of ticker strings")
    backfill = event.get("backfill", False)
    if not isinstance(backfill, bool):
        raise EventError("'backfill' must be true or false")
    try:
        return OhlcvRequest(
            end=day or end or default_date,
            start=day or start,
            symbols=tuple(symbols) if symbols is not None else None,
            backfill=backfill,
        )
    except ValueError as exc:
        raise EventError(str(exc)) from None


def parse_meta_event(event: Any, default_date: dt.date) -> dt.date:
    event = _check_keys(event, META_KEYS)
    return _date(event, "date") or default_date
