"""NYSE sessions from the committed seed (seeds/trading_calendar.csv).

Ingestion uses the same calendar as dbt, so "the sessions between the watermark and the
requested date" means exactly the sessions dbt will bucket: weekends and exchange holidays
are never gaps.
"""

from __future__ import annotations

import bisect
import csv
import datetime as dt
from functools import cached_property, lru_cache
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np

NEW_YORK = ZoneInfo("America/New_York")


class TradingCalendar:
    """Ordered NYSE sessions with their UTC close times."""

    def __init__(self, sessions: list[dt.date], closes_utc: list[dt.datetime]) -> None:
        if not sessions:
            raise ValueError("trading calendar is empty")
        self.sessions = sessions
        self._closes_utc = closes_utc

    @classmethod
    def from_csv(cls, path: Path) -> TradingCalendar:
        sessions: list[dt.date] = []
        closes: list[dt.datetime] = []
        with path.open(newline="") as handle:
            for row in csv.DictReader(handle):
                sessions.append(dt.date.fromisoformat(row["session_date"]))
                closes.append(dt.datetime.fromisoformat(row["close_at_utc"]).replace(tzinfo=dt.UTC))
        return cls(sessions, closes)

    @cached_property
    def session_array(self) -> np.ndarray:
        """Sessions as datetime64[D], for vectorised membership tests."""
        return np.array(self.sessions, dtype="datetime64[D]")

    @property
    def first(self) -> dt.date:
        return self.sessions[0]

    @property
    def last(self) -> dt.date:
        return self.sessions[-1]

    def _check_range(self, day: dt.date) -> None:
        if not self.first <= day <= self.last:
            raise ValueError(
                f"{day} is outside the trading calendar ({self.first} to {self.last}); "
                "extend it with seeds/generate_trading_calendar.py"
            )

    def is_session(self, day: dt.date) -> bool:
        index = bisect.bisect_left(self.sessions, day)
        return index < len(self.sessions) and self.sessions[index] == day

    def sessions_between(self, start: dt.date, end: dt.date) -> list[dt.date]:
        """Sessions with start <= session <= end (both inclusive)."""
        if end < start:
            return []
        self._check_range(start)
        self._check_range(end)
        lo = bisect.bisect_left(self.sessions, start)
        hi = bisect.bisect_right(self.sessions, end)
        return self.sessions[lo:hi]

    def sessions_after(self, watermark: dt.date, end: dt.date) -> list[dt.date]:
        """Sessions strictly after the watermark, up to and including end."""
        return self.sessions_between(watermark + dt.timedelta(days=1), end)

    def session_on_or_before(self, day: dt.date) -> dt.date:
        self._check_range(day)
        return self.sessions[bisect.bisect_right(self.sessions, day) - 1]

    def latest_closed_session(self, now: dt.datetime, settle: dt.timedelta) -> dt.date:
        """The newest session whose close was at least `settle` before `now`.

        Polygon publishes a day's bars a little after the close; asking earlier gives an
        empty or 403 answer, so "today" only counts once it has settled.
        """
        if now.tzinfo is None:
            raise ValueError("now must be timezone-aware")
        today_ny = now.astimezone(NEW_YORK).date()
        index = bisect.bisect_right(self.sessions, today_ny) - 1
        while index >= 0 and self._closes_utc[index] + settle > now:
            index -= 1
        if index < 0:
            raise ValueError(f"no closed session on or before {now.isoformat()}")
        return self.sessions[index]


@lru_cache(maxsize=4)
def load_calendar(path: Path) -> TradingCalendar:
    return TradingCalendar.from_csv(path)
