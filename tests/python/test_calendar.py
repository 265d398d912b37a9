import datetime as dt

import pytest

from ingestion.calendar import NEW_YORK


def test_seed_covers_design_range(calendar):
    assert calendar.first == dt.date(1990, 1, 2)
    assert calendar.last == dt.date(2035, 12, 31)
    assert calendar.sessions.index(dt.date(1990, 1, 2)) == 0


def test_weekends_and_holidays_are_not_sessions(calendar):
    # 2024-07-04 Independence Day (Thu), 2024-07-06/07 weekend, 2024-03-29 Good Friday.
    week = calendar.sessions_between(dt.date(2024, 7, 1), dt.date(2024, 7, 8))
    assert week == [dt.date(2024, 7, d) for d in (1, 2, 3, 5, 8)]
    assert not calendar.is_session(dt.date(2024, 3, 29))
    assert calendar.is_session(dt.date(2024, 11, 29))  # early close is still a session


def test_sessions_after_watermark_excludes_the_watermark(calendar):
    after = calendar.sessions_after(dt.date(2024, 7, 3), dt.date(2024, 7, 8))
    assert after == [dt.date(2024, 7, 5), dt.date(2024, 7, 8)]
    assert calendar.sessions_after(dt.date(2024, 7, 8), dt.date(2024, 7, 8)) == []


def test_latest_closed_session_waits_for_publication(calendar):
    settle = dt.timedelta(minutes=30)
    # Monday 2024-07-08 at 16:10 New York: the day has closed but is not yet published.
    before = dt.datetime(2024, 7, 8, 16, 10, tzinfo=NEW_YORK)
    assert calendar.latest_closed_session(before, settle) == dt.date(2024, 7, 5)
    after = dt.datetime(2024, 7, 8, 16, 31, tzinfo=NEW_YORK)
    assert calendar.latest_closed_session(after, settle) == dt.date(2024, 7, 8)
    # Early close (13:00) on 2024-11-29 is published by 13:30.
    early = dt.datetime(2024, 11, 29, 13, 31, tzinfo=NEW_YORK)
    assert calendar.latest_closed_session(early, settle) == dt.date(2024, 11, 29)
    # Saturday: Friday's session.
    saturday = dt.datetime(2024, 7, 6, 9, 0, tzinfo=NEW_YORK)
    assert calendar.latest_closed_session(saturday, settle) == dt.date(2024, 7, 5)


def test_out_of_range_dates_are_refused(calendar):
    with pytest.raises(ValueError, match="outside the trading calendar"):
        calendar.sessions_between(dt.date(1989, 12, 1), dt.date(1990, 1, 5))
    with pytest.raises(ValueError, match="timezone-aware"):
        calendar.latest_closed_session(dt.datetime(2024, 1, 1), dt.timedelta(0))
