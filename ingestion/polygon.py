"""Polygon (Massive) REST client for daily bars, tickers and splits.

Polygon renamed itself Massive (2025-10-30): api.massive.com is the default host and
api.polygon.io still answers; both take the same keys and paths.

Contract notes: auth by `Authorization: Bearer` so the key never sits in a URL; `t` is epoch
ms whose America/New_York date is the trading date (grouped bars stamp 16:00 ET, range bars
00:00 ET); closed days answer 200 without `results`; `next_url` omits the key and may name
another host, so only its path and query are followed.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import logging
import math
import random
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import urlsplit

import pyarrow as pa
import pyarrow.compute as pc
import requests

from ingestion.bars import BAR_SCHEMA, SOURCE_PROBLEM, TICKER_SCHEMA
from ingestion.symbols import require_symbol

log = logging.getLogger(__name__)

DEFAULT_BASE_URL = "https://api.massive.com"
RATE_LIMITED = 429
RETRY_STATUSES = frozenset({500, 502, 503, 504})
# A 429 without a usable Retry-After waits twice as long each time, up to the quota window
# (plans count requests per minute): waiting longer cannot help, shorter wastes requests.
RATE_LIMIT_BACKOFF_CAP = 60.0
OK_STATUSES = frozenset({"OK", "DELAYED"})
BAR_KEYS = ("o", "h", "l", "c", "v", "t")


class PolygonError(RuntimeError):
    """Any failure talking to Polygon. Messages never contain the API key."""


class PolygonHTTPError(PolygonError):
    def __init__(self, status: int, path: str, detail: str) -> None:
        super().__init__(f"Polygon answered HTTP {status} for {path}: {detail}")
        self.status = status


class PolygonPayloadError(PolygonError):
    """The body is not what the endpoint promises (bad JSON, missing keys, wrong types)."""


class RateLimiter:
    """At most `max_requests` requests start in any `window` seconds (a sliding window).

    Paces the client under a plan's quota (the free plan: 5 a minute) instead of running
    into 429s. `clock` and `sleep` are injectable so tests drive time themselves.
    """

    def __init__(
        self,
        max_requests: int,
        window: float = 60.0,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if max_requests < 1 or window <= 0:
            raise ValueError(
                f"a rate limit needs max_requests >= 1 and window > 0, got "
                f"{max_requests} per {window} s"
            )
        self.max_requests = max_requests
        self.window = window
        self._clock = clock
        self._sleep = sleep
        self._starts: deque[float] = deque()
        # Held while waiting: concurrent callers queue for the next free slot in order.
        self._lock = threading.Lock()

    def acquire(self) -> float:
        """Wait for a free slot and take it; returns the seconds waited."""
        waited = 0.0
        with self._lock:
            while True:
                now = self._clock()
                while self._starts and self._starts[0] <= now - self.window:
                    self._starts.popleft()
                if len(self._starts) < self.max_requests:
                    self._starts.append(now)
                    return waited
                delay = self._starts[0] + self.window - now
                if waited == 0.0:
                    log.info(
                        "polygon rate limit pause",
                        extra={"limit": f"{self.max_requests}/{self.window:g}s", "delay": delay},
                    )
                self._sleep(delay)
                waited += delay


def _retry_after_seconds(value: str | None, now: float) -> float | None:
    """Retry-After as seconds (delay-seconds or HTTP-date); None when absent or unusable."""
    if not value:
        return None
    try:
        seconds = float(value)
    except ValueError:
        pass
    else:
        # "inf" or "nan" would break time.sleep; fall back to our own backoff instead.
        return seconds if math.isfinite(seconds) and seconds >= 0 else None
    try:
        parsed = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None  # garbage must not abort the retry loop
    if parsed.tzinfo is None:
        # "-0000" means UTC (RFC 5322); a naive datetime would be read as local time.
        parsed = parsed.replace(tzinfo=dt.UTC)
    return max(0.0, parsed.timestamp() - now)


def _error_detail(response: requests.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return response.text[:200] or response.reason
    if isinstance(body, dict):
        return str(body.get("error") or body.get("message") or body.get("status") or body)[:300]
    return str(body)[:300]


def _ny_dates(epoch_ms: list[int]) -> pa.Array:
    utc = pa.array(epoch_ms, pa.int64()).cast(pa.timestamp("ms", tz="UTC"))
    local = pc.local_timestamp(utc.cast(pa.timestamp("ms", tz="America/New_York")))
    return local.cast(pa.date32())


def _number(row: dict[str, Any], key: str, problems: list[str]) -> float | None:
    """The value as a number (None when absent); anything else is a problem and None."""
    value = row.get(key)
    if value is None or (isinstance(value, int | float) and not isinstance(value, bool)):
        return value
    problems.append(f"{key}={value!r} is not a number")
    return None


class _IrregularColumnError(Exception):
    """A column the vectorised parser does not take as is; the checked parser explains it."""


_STRING: frozenset[type] = frozenset({str})
_STAMP: frozenset[type] = frozenset({int})
_COUNT: frozenset[type] = frozenset({int, type(None)})
_NUMBER: frozenset[type] = frozenset({int, float, type(None)})


def _column(
    rows: list[dict[str, Any]], key: str, types: frozenset[type], required: bool
) -> list[Any]:
    # Exact types, not isinstance: bool is an int subclass and must not pass as a number.
    values = [row[key] for row in rows] if required else [row.get(key) for row in rows]
    if not set(map(type, values)) <= types:
        raise _IrregularColumnError(key)
    return values


def _regular_bars(rows: list[dict[str, Any]], symbol: str | None) -> pa.Table:
    """Column at a time: about 4x faster than row by row on a 10,000-row grouped answer.

    Raises KeyError, _IrregularColumnError or ArrowInvalid for anything but plain rows.
    """

    def floats(key: str, required: bool = True) -> pa.Array:
        return pa.array(_column(rows, key, _NUMBER, required), pa.float64())

    tickers = [symbol] * len(rows) if symbol is not None else _column(rows, "T", _STRING, True)
    columns = {
        "symbol": pa.array(tickers, pa.string()),
        "date": _ny_dates(_column(rows, "t", _STAMP, True)),
        "open": floats("o"),
        "high": floats("h"),
        "low": floats("l"),
        "close": floats("c"),
        "volume": floats("v"),
        "vwap": floats("vw", required=False),
        "transactions": pa.array(_column(rows, "n", _COUNT, False), pa.int64()),
    }
    return pa.table(columns, schema=BAR_SCHEMA)


def _checked_bars(
    rows: list[dict[str, Any]], symbol: str | None, path: str, fallback: dt.date
) -> pa.Table:
    """Row by row, for answers the vectorised parser refuses: every record becomes a bar,
    and one that is malformed (a key missing, a value of the wrong type) keeps what can be
    read, nulls for the rest, and says why in the SOURCE_PROBLEM column. Landing marks it
    invalid (`malformed_record`), so one bad record never refuses the session.
    `fallback` dates a record whose `t` is unusable (grouped: the session asked for)."""
    columns: dict[str, list[Any]] = {name: [] for name in BAR_SCHEMA.names}
    stamps: list[int | None] = []
    problems: list[str | None] = []
    for index, row in enumerate(rows):
        found: list[str] = []
        missing = [key for key in BAR_KEYS if key not in row]
        if symbol is None and "T" not in row:
            missing.append("T")
        if missing:
            found.append(f"lacks {', '.join(missing)}")
        ticker = row.get("T") if symbol is None else symbol
        if "T" in row and symbol is None and not isinstance(ticker, str):
            found.append(f"T={ticker!r} is not a string")
        stamp = row.get("t")
        if "t" in row and (not isinstance(stamp, int) or isinstance(stamp, bool)):
            found.append(f"t={stamp!r} is not epoch ms")
        values: dict[str, float | None] = {}
        for column, key in _NUMBER_KEYS:
            values[column] = _number(row, key, found)
        transactions = _number(row, "n", found)
        if transactions is not None and not math.isfinite(transactions):
            found.append(f"n={transactions!r} is not a count")
            transactions = None
        stamps.append(stamp if isinstance(stamp, int) and not isinstance(stamp, bool) else None)
        # An unusable ticker lands as "" (invalid_symbol too): the row is kept, never guessed.
        columns["symbol"].append(ticker if isinstance(ticker, str) else "")
        for column, value in values.items():
            columns[column].append(value)
        columns["transactions"].append(None if transactions is None else int(transactions))
        problems.append(f"{path}: result {index}: {'; '.join(found)}" if found else None)
    read = _ny_dates([0 if stamp is None else stamp for stamp in stamps]).to_pylist()
    dates = [fallback if stamp is None else day for stamp, day in zip(stamps, read, strict=True)]
    table = pa.table({**columns, "date": pa.array(dates, pa.date32())}, schema=BAR_SCHEMA)
    if all(problem is None for problem in problems):
        return table  # irregular (floats for counts) but well-formed: plain bars
    return table.append_column(SOURCE_PROBLEM, pa.array(problems, pa.string()))


_NUMBER_KEYS = (
    ("open", "o"),
    ("high", "h"),
    ("low", "l"),
    ("close", "c"),
    ("volume", "v"),
    ("vwap", "vw"),
)


class PolygonClient:
    """Grouped daily bars, per-ticker ranges, the tickers list and splits."""

    name = "polygon"
    last_session = None  # live: new sessions keep coming
    # 20+ years of history is a backfill to ask for (`--from`), not a daily run's default.
    first_session = None

    def __init__(
        self,
        api_key: str,
        base_url: str = DEFAULT_BASE_URL,
        *,
        timeout: float = 30.0,
        max_retries: int = 5,
        backoff_base: float = 0.5,
        backoff_cap: float = 30.0,
        max_requests_per_minute: int | None = None,
        rate_limit_wait: float = 300.0,
        include_otc: bool = False,
        session: requests.Session | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        """max_retries: retries of 5xx answers, timeouts and broken bodies. 429 answers are
        not counted there: they are waited out (Retry-After honoured) for up to
        `rate_limit_wait` seconds in total per request. max_requests_per_minute paces the
        client under a plan's quota (None: unpaced)."""
        if not api_key:
            raise PolygonError("an API key is required")
        self._api_key = api_key
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self.max_retries = max_retries
        self.backoff_base = backoff_base
        self.backoff_cap = backoff_cap
        self.rate_limit_wait = rate_limit_wait
        self.include_otc = include_otc
        self._sleep = sleep
        self._limiter = (
            RateLimiter(max_requests_per_minute, 60.0, clock=clock, sleep=sleep)
            if max_requests_per_minute
            else None
        )
        self._session = session or requests.Session()
        self._session.headers.update(
            {
                "Authorization": f"Bearer {api_key}",
                "Accept": "application/json",
                "Accept-Encoding": "gzip",
                "User-Agent": "condvest-lakehouse/0.1",
            }
        )

    # -- HTTP -----------------------------------------------------------------

    def _redact(self, text: str) -> str:
        return text.replace(self._api_key, "***")

    def _backoff(self, attempt: int) -> float:
        # Full jitter: spreads retries of concurrent fetchers apart.
        return random.uniform(0, min(self.backoff_cap, self.backoff_base * 2**attempt))

    def _rate_limit_backoff(self, answers: int) -> float:
        # "Equal jitter": at least half the step, so a wait is never wasted on a quota that
        # has certainly not reset yet.
        step = min(RATE_LIMIT_BACKOFF_CAP, self.backoff_base * 2**answers)
        return step / 2 + random.uniform(0, step / 2)

    def _get(self, path: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
        url = self.base_url + path
        last_problem = ""
        attempt = 0  # failed attempts other than 429s
        rate_limited = 0  # 429 answers to this request
        rate_limit_waited = 0.0
        while True:
            wait: float | None = None
            if self._limiter is not None:
                self._limiter.acquire()
            try:
                response = self._session.get(url, params=params, timeout=self.timeout)
            except (
                requests.ConnectionError,
                requests.Timeout,
                # The connection broke mid-body (fewer bytes than Content-Length).
                requests.exceptions.ChunkedEncodingError,
            ) as exc:
                last_problem = f"{type(exc).__name__}"
            else:
                if response.status_code == 200:
                    try:
                        body = response.json()
                    except ValueError:
                        # A body cut off mid-transfer; the next try usually completes.
                        last_problem = "truncated or invalid JSON"
                    else:
                        if not isinstance(body, dict):
                            raise PolygonPayloadError(
                                f"{path}: expected a JSON object, got {type(body).__name__}"
                            )
                        return body
                elif response.status_code == RATE_LIMITED:
                    problem = self._redact(f"HTTP 429: {_error_detail(response)}")
                    wait = _retry_after_seconds(response.headers.get("Retry-After"), time.time())
                    if wait is None:
                        wait = self._rate_limit_backoff(rate_limited)
                    rate_limited += 1
                    if rate_limit_waited + wait > self.rate_limit_wait:
                        raise PolygonError(
                            f"{path}: rate limited for {wait:.0f} s more after "
                            f"{rate_limit_waited:.0f} s of waiting ({problem}); "
                            "raise POLYGON_RATE_LIMIT_WAIT_SECONDS, or set "
                            "POLYGON_MAX_REQUESTS_PER_MINUTE to your plan's limit"
                        )
                    rate_limit_waited += wait
                    self._pause(path, rate_limited, problem, wait)
                    continue
                elif response.status_code in RETRY_STATUSES:
                    # Redacted here: the retry log below carries it, not only the exception.
                    last_problem = self._redact(
                        f"HTTP {response.status_code}: {_error_detail(response)}"
                    )
                    wait = _retry_after_seconds(response.headers.get("Retry-After"), time.time())
                    if wait is not None and wait > self.rate_limit_wait:
                        # Waiting out a long outage would outlive a Lambda; retry next run.
                        raise PolygonError(f"{path}: asked to wait {wait:.0f} s ({last_problem})")
                else:
                    raise PolygonHTTPError(
                        response.status_code, path, self._redact(_error_detail(response))
                    )
            if attempt == self.max_retries:
                break
            attempt += 1
            self._pause(path, attempt, last_problem, max(wait or 0.0, self._backoff(attempt - 1)))
        message = f"{path}: gave up after {self.max_retries + 1} attempts ({last_problem})"
        if last_problem.startswith("truncated"):
            raise PolygonPayloadError(self._redact(message))
        raise PolygonError(self._redact(message))

    def _pause(self, path: str, attempt: int, problem: str, delay: float) -> None:
        log.warning(
            "polygon retry",
            extra={"path": path, "attempt": attempt, "problem": problem, "delay": round(delay, 2)},
        )
        self._sleep(delay)

    def _paginate(self, path: str, params: dict[str, Any]) -> Iterator[dict[str, Any]]:
        seen: set[str] = set()
        body = self._get(path, params)
        while True:
            yield body
            next_url = body.get("next_url")
            if not next_url:
                return
            parts = urlsplit(next_url)
            follow = parts.path + (f"?{parts.query}" if parts.query else "")
            if follow in seen:
                raise PolygonPayloadError(f"{path}: next_url repeats itself ({parts.path})")
            seen.add(follow)
            body = self._get(follow)

    @staticmethod
    def _results(body: dict[str, Any], path: str) -> list[dict[str, Any]]:
        status = body.get("status")
        if status not in OK_STATUSES:
            raise PolygonPayloadError(f"{path}: unexpected status {status!r}")
        results = body.get("results")
        if results is None:
            return []  # closed day / nothing traded: the key is absent or null
        if not isinstance(results, list) or not all(isinstance(r, dict) for r in results):
            raise PolygonPayloadError(f"{path}: `results` is not a list of objects")
        return results

    # -- parsing --------------------------------------------------------------

    @staticmethod
    def _bars(
        rows: list[dict[str, Any]], symbol: str | None, path: str, fallback: dt.date
    ) -> pa.Table:
        try:
            return _regular_bars(rows, symbol)
        except (KeyError, _IrregularColumnError, pa.ArrowInvalid):
            # Rare: the slow parser reads every record, naming what is wrong with each.
            bars = _checked_bars(rows, symbol, path, fallback)
            if SOURCE_PROBLEM not in bars.column_names:
                return bars
            for problem in bars[SOURCE_PROBLEM].drop_null().to_pylist():
                log.warning("malformed record landed invalid", extra={"problem": problem})
            return bars

    # -- endpoints ------------------------------------------------------------

    def grouped_daily(self, day: dt.date) -> pa.Table:
        """Every US stock's bar for one session (empty on a closed day)."""
        path = f"/v2/aggs/grouped/locale/us/market/stocks/{day.isoformat()}"
        params = {"adjusted": "true", "include_otc": str(self.include_otc).lower()}
        body = self._get(path, params)
        return self._bars(self._results(body, path), None, path, day)

    def ticker_range(self, symbol: str, start: dt.date, end: dt.date) -> pa.Table:
        """One symbol's daily bars, adjusted for splits known today, start..end inclusive."""
        symbol = require_symbol(symbol)
        path = f"/v2/aggs/ticker/{symbol}/range/1/day/{start.isoformat()}/{end.isoformat()}"
        params = {"adjusted": "true", "sort": "asc", "limit": 50000}
        tables = [
            self._bars(self._results(body, path), symbol, path, start)
            for body in self._paginate(path, params)
        ]
        # Pages parsed row by row carry SOURCE_PROBLEM; the others get it as nulls.
        return (
            pa.concat_tables(tables, promote_options="default")
            if tables
            else BAR_SCHEMA.empty_table()
        )

    def tickers(self, as_of: dt.date, active: bool) -> pa.Table:
        """The stock tickers list (active or delisted), all pages."""
        path = "/v3/reference/tickers"
        params = {
            "market": "stocks",
            "active": str(active).lower(),
            "date": as_of.isoformat(),
            "limit": 1000,
            "sort": "ticker",
            "order": "asc",
        }
        rows: list[dict[str, Any]] = []
        for body in self._paginate(path, params):
            rows.extend(self._results(body, path))
        return tickers_table(rows, as_of, path)

    def splits(self, start: dt.date, end: dt.date) -> list[tuple[str, dt.date, float]]:
        """(symbol, execution_date, split_to / split_from) for splits executed start..end."""
        path = "/v3/reference/splits"
        params = {
            "execution_date.gte": start.isoformat(),
            "execution_date.lte": end.isoformat(),
            "limit": 1000,
        }
        out = []
        for body in self._paginate(path, params):
            for index, row in enumerate(self._results(body, path)):
                try:
                    ratio = float(row["split_to"]) / float(row["split_from"])
                    out.append((row["ticker"], dt.date.fromisoformat(row["execution_date"]), ratio))
                except (KeyError, TypeError, ValueError, ZeroDivisionError) as exc:
                    raise PolygonPayloadError(
                        f"{path}: result {index} is malformed ({exc})"
                    ) from exc
        return out


def _parse_date(value: Any) -> dt.date | None:
    if not value:
        return None
    return dt.date.fromisoformat(str(value)[:10])


def _parse_timestamp(value: Any) -> dt.datetime | None:
    if not value:
        return None
    return dt.datetime.fromisoformat(str(value).replace("Z", "+00:00")).astimezone(dt.UTC)


def tickers_table(rows: list[dict[str, Any]], as_of: dt.date, path: str) -> pa.Table:
    """Ticker rows (list or details shape) as TICKER_SCHEMA."""
    text_fields = (
        "name", "market", "locale", "primary_exchange", "type",
        "currency_name", "cik", "composite_figi", "share_class_figi",
    )  # fmt: skip
    columns: dict[str, list[Any]] = {name: [] for name in TICKER_SCHEMA.names}
    for index, row in enumerate(rows):
        ticker = row.get("ticker")
        if not isinstance(ticker, str):
            raise PolygonPayloadError(f"{path}: result {index} has no ticker")
        try:
            columns["symbol"].append(ticker)
            for name in text_fields:
                value = row.get(name)
                columns[name].append(None if value is None else str(value))
            columns["active"].append(row.get("active"))
            columns["list_date"].append(_parse_date(row.get("list_date")))
            columns["delisted_date"].append(_parse_date(row.get("delisted_utc")))
            columns["last_updated_utc"].append(_parse_timestamp(row.get("last_updated_utc")))
            columns["as_of_date"].append(as_of)
        except ValueError as exc:
            raise PolygonPayloadError(f"{path}: result {index} ({ticker}): {exc}") from exc
    return pa.table(columns, schema=TICKER_SCHEMA)
