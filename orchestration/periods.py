"""The periods a walk-forward track record retrains by (`condvest track-record --every`),
and the as-of dates they give. Standard library only: the CLI imports it for its option's
choices without loading the ML modules (tests/python/test_cli_startup.py)."""

from __future__ import annotations

import datetime as dt

PERIODS = ("month", "week")
DEFAULT_PERIOD = "month"


def training_dates(start: dt.date, end: dt.date, every: str) -> list[dt.date]:
    """The as-of dates of a walk-forward track record over `start .. end`: the day before
    `start`, then the day before each later month (or Monday) start up to `end`. Each model
    scores its period's dates; none is trained on a date it then scores from before."""
    if every not in PERIODS:
        raise ValueError(f"--every must be one of {', '.join(PERIODS)}, got {every!r}")
    if start > end:
        raise ValueError(f"--from {start} is after --to {end}")
    dates = [start - dt.timedelta(days=1)]
    day = start + dt.timedelta(days=1)
    while day <= end:
        if (every == "month" and day.day == 1) or (every == "week" and day.weekday() == 0):
            dates.append(day - dt.timedelta(days=1))
        day += dt.timedelta(days=1)
    return dates
