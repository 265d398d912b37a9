"""A deterministic sample market behind the same interface as the Polygon client.

Sixty invented tickers over 2022-01-03 .. 2025-12-31 (about 1,000 NYSE sessions) with
heavy-tailed returns, listings and delistings inside the window, randomly missing sessions
(one thinly traded name misses many), a 4-for-1 split, a 1-for-10 reverse split and three
bad prints (zero, missing and negative prices) that validation must quarantine. The
same symbol and date always give the same bar, whatever else was asked before.

Like Polygon, a grouped-daily answer for day D is what was known on D (split adjustments
only for splits executed on or before D), while a per-ticker range is adjusted for every
split executed up to its end date: so a split restates a symbol's history through a backfill.
"""

from __future__ import annotations

import datetime as dt
import zlib
from dataclasses import dataclass
from functools import cached_property

import numpy as np
import pyarrow as pa

from ingestion.bars import BAR_SCHEMA, TICKER_SCHEMA
from ingestion.calendar import TradingCalendar
from ingestion.symbols import require_symbol

SAMPLE_START = dt.date(2022, 1, 3)
SAMPLE_END = dt.date(2025, 12, 31)
SEED = 20240611

_TICKERS = (
    "ACRN AERO ALPN AMBR ARGO ATLS AURA AXOM BRCK BRZE CDRA CLRX CMTX CNDR CRST DLTA "
    "DRFT ECHO ELMR EMBR EQNX FJRD FLNT GLDR GRNT HALO HRBR IRON JADE KELP KRNL LMNL "
    "LNTR MAPL MRDN NBLA NVLX OAKR ONYX ORCA PEAK PLSM QRTZ RDGE RVNA SAGE SBLE SLTE "
    "SPRC STRM TDAL TERA TNDR UMBR VALR VRTA WLOW XENO YARR ZNTH"
).split()
SPLIT_SYMBOL, SPLIT_DATE, SPLIT_RATIO = "NVLX", dt.date(2024, 6, 10), 4.0
REVERSE_SPLIT_SYMBOL, REVERSE_SPLIT_DATE, REVERSE_SPLIT_RATIO = "PLSM", dt.date(2023, 9, 18), 0.1
THIN_SYMBOL = "KELP"
# Bad prints, as real feeds have them: landed with a reason and quarantined by dbt.
BAD_PRINTS: dict[tuple[str, dt.date], dict[str, float | None]] = {
    ("ECHO", dt.date(2023, 3, 14)): {"high": 0.0},  # high below low, zero price
    ("ORCA", dt.date(2024, 10, 1)): {"close": None},  # missing close
    ("TERA", dt.date(2025, 2, 3)): {"open": -1.0},  # negative open
}


@dataclass(frozen=True)
class _Profile:
    symbol: str
    first: dt.date
    last: dt.date  # last trading session (delisting happens after it)
    delisted: bool
    ticker_type: str
    exchange: str
    start_price: float


class SampleMarket:
    """In-process market data source; see the module docstring."""

    name = "sample"

    def __init__(self, calendar: TradingCalendar) -> None:
        self._calendar = calendar
        self.sessions = calendar.sessions_between(SAMPLE_START, SAMPLE_END)
        self.last_session: dt.date = self.sessions[-1]
        self.first_session: dt.date = self.sessions[0]
        self._session_pos = {day: i for i, day in enumerate(self.sessions)}

    @cached_property
    def profiles(self) -> dict[str, _Profile]:
        rng = np.random.default_rng(SEED)
        n = len(self.sessions)
        profiles = {}
        for i, symbol in enumerate(_TICKERS):
            first, last, delisted = 0, n - 1, False
            if i % 10 == 3:  # six listings inside the window
                first = int(rng.integers(60, n // 2))
            if i % 15 == 7:  # four delistings inside the window
                last, delisted = int(rng.integers(n // 2, n - 60)), True
            profiles[symbol] = _Profile(
                symbol=symbol,
                first=self.sessions[first],
                last=self.sessions[last],
                delisted=delisted,
                ticker_type="ETF" if i % 12 == 5 else "CS",
                exchange="XNAS" if i % 2 else "XNYS",
                start_price=float(np.round(rng.uniform(8, 400), 2)),
            )
        return profiles

    @cached_property
    def _raw(self) -> dict[str, dict[str, np.ndarray]]:
        """Unadjusted (as traded) bars per symbol over the whole window."""
        out = {}
        n = len(self.sessions)
        for symbol, profile in self.profiles.items():
            rng = np.random.default_rng([SEED, zlib.crc32(symbol.encode())])
            vol = rng.uniform(0.01, 0.035)
            drift = rng.normal(0.0003, 0.0004)
            # Student-t shocks: fat tails like real daily returns.
            shocks = rng.standard_t(df=4, size=n) / np.sqrt(2.0)
            log_close = np.log(profile.start_price) + np.cumsum(drift + vol * shocks)
            close = np.exp(log_close)
            gap = rng.normal(0, vol / 3, size=n)
            open_ = np.r_[profile.start_price, close[:-1]] * np.exp(gap)
            wick = np.abs(rng.normal(0, vol / 2, size=(2, n)))
            high = np.maximum(open_, close) * np.exp(wick[0])
            low = np.minimum(open_, close) * np.exp(-wick[1])
            volume = np.round(rng.lognormal(13, 0.6, size=n))
            traded = np.ones(n, dtype=bool)
            traded[rng.random(n) < (0.12 if symbol == THIN_SYMBOL else 0.004)] = False
            pos = np.arange(n)
            first, last = self._session_pos[profile.first], self._session_pos[profile.last]
            traded &= (pos >= first) & (pos <= last)
            traded[[first, last]] = True
            factor = np.ones(n)  # raw price = economic price x factor
            for split_symbol, split_date, ratio in self._splits:
                if split_symbol == symbol:
                    factor[pos >= self._session_pos[split_date]] /= ratio
            out[symbol] = {
                "open": np.round(open_ * factor, 4),
                "high": np.round(high * factor, 4),
                "low": np.round(low * factor, 4),
                "close": np.round(close * factor, 4),
                "volume": np.round(volume / factor),
                "traded": traded,
            }
        return out

    @property
    def _splits(self) -> list[tuple[str, dt.date, float]]:
        return [
            (SPLIT_SYMBOL, SPLIT_DATE, SPLIT_RATIO),
            (REVERSE_SPLIT_SYMBOL, REVERSE_SPLIT_DATE, REVERSE_SPLIT_RATIO),
        ]

    def _adjustment(self, symbol: str, day: dt.date, known_on: dt.date) -> float:
        """Price multiplier for `day` given splits executed on or before `known_on`."""
        factor = 1.0
        for split_symbol, split_date, ratio in self._splits:
            if split_symbol == symbol and day < split_date <= known_on:
                factor /= ratio
        return factor

    def _rows(self, symbol: str, days: list[dt.date], known_on: dt.date) -> list[dict]:
        raw = self._raw[symbol]
        rows = []
        for day in days:
            pos = self._session_pos.get(day)
            if pos is None or not raw["traded"][pos]:
                continue
            adj = self._adjustment(symbol, day, known_on)
            o, h, lo, c = (
                round(float(raw[k][pos]) * adj, 4) for k in ("open", "high", "low", "close")
            )
            volume = float(round(raw["volume"][pos] / adj))
            rows.append(
                {
                    "symbol": symbol,
                    "date": day,
                    "open": o,
                    "high": h,
                    "low": lo,
                    "close": c,
                    "volume": volume,
                    "vwap": round((h + lo + c) / 3, 4),
                    "transactions": int(volume // 97) + 1,
                }
                | BAD_PRINTS.get((symbol, day), {})
            )
        return rows

    def grouped_daily(self, day: dt.date) -> pa.Table:
        rows = []
        for symbol in self.profiles:
            rows.extend(self._rows(symbol, [day], known_on=day))
        return pa.Table.from_pylist(rows, schema=BAR_SCHEMA)

    def ticker_range(self, symbol: str, start: dt.date, end: dt.date) -> pa.Table:
        symbol = require_symbol(symbol)
        if symbol not in self.profiles:
            return BAR_SCHEMA.empty_table()
        days = [d for d in self.sessions if start <= d <= end]
        return pa.Table.from_pylist(self._rows(symbol, days, known_on=end), schema=BAR_SCHEMA)

    def tickers(self, as_of: dt.date, active: bool) -> pa.Table:
        rows = []
        for i, profile in enumerate(self.profiles.values()):
            if profile.first > as_of:
                continue
            is_delisted = profile.delisted and profile.last < as_of
            if is_delisted == active:
                continue
            rows.append(
                {
                    "symbol": profile.symbol,
                    "name": f"{profile.symbol.title()} Sample Holdings {i + 1}",
                    "market": "stocks",
                    "locale": "us",
                    "primary_exchange": profile.exchange,
                    "type": profile.ticker_type,
                    "active": not is_delisted,
                    "currency_name": "usd",
                    "cik": f"{1000000 + i:010d}",
                    "composite_figi": f"BBGSAMPLE{i:03d}",
                    "share_class_figi": f"BBGSAMPLS{i:03d}",
                    "list_date": profile.first,
                    "delisted_date": self._calendar.sessions_after(profile.last, SAMPLE_END)[0]
                    if is_delisted
                    else None,
                    "last_updated_utc": dt.datetime.combine(as_of, dt.time(6), tzinfo=dt.UTC),
                    "as_of_date": as_of,
                }
            )
        return pa.Table.from_pylist(rows, schema=TICKER_SCHEMA)

    def splits(self, start: dt.date, end: dt.date) -> list[tuple[str, dt.date, float]]:
        return [split for split in self._splits if start <= split[1] <= end]
