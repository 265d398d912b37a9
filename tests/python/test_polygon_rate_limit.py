"""A plan's request quota: the client paces itself under POLYGON_MAX_REQUESTS_PER_MINUTE,
and without pacing it waits 429s out within POLYGON_RATE_LIMIT_WAIT_SECONDS. Against the
local Polygon server with a 5-a-minute quota (the free plan's), on a fake clock that the
client's sleeps advance: a minute's window costs no real time."""

from __future__ import annotations

import datetime as dt

import pytest

from ingestion.fetch import OhlcvRequest, fetch_ohlcv
from ingestion.polygon import DEFAULT_BASE_URL, PolygonClient, PolygonError, RateLimiter
from ingestion.watermarks import MARKET
from tests.python.fixtures.polygon_server import PolygonStub, Quota

GROUPED = "/v2/aggs/grouped/locale/us/market/stocks/"
START, END = dt.date(2024, 6, 3), dt.date(2024, 6, 18)  # 12 sessions


class FakeClock:
    """Monotonic seconds that move only when someone sleeps."""

    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        assert seconds >= 0
        self.sleeps.append(seconds)
        self.now += seconds


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


def free_plan(server: PolygonStub, clock: FakeClock, retry_after: bool = True) -> None:
    server.quota = Quota(max_requests=5, window=60.0, clock=clock, retry_after=retry_after)


def client(server: PolygonStub, clock: FakeClock, **options) -> PolygonClient:
    return PolygonClient(server.api_key, server.base_url, sleep=clock.sleep, clock=clock, **options)


def backfill(source, lake, stores, calendar) -> dict:
    return fetch_ohlcv(source, lake, stores, calendar, OhlcvRequest(end=END, start=START)).to_dict()


def test_the_limiter_never_starts_more_than_its_limit_in_any_window(clock):
    limiter = RateLimiter(5, 60.0, clock=clock, sleep=clock.sleep)
    starts = []
    for _ in range(23):
        limiter.acquire()
        starts.append(clock.now)
        clock.now += 1.5  # each request takes a while; the window slides with them
    assert all(b - a >= 60.0 for a, b in zip(starts, starts[5:], strict=False))
    # and it waits no longer than it must: the sixth start is exactly a window after the first
    assert starts[5] == starts[0] + 60.0


@pytest.mark.parametrize(("max_requests", "window"), [(0, 60.0), (5, 0.0)])
def test_a_limiter_without_room_is_refused(max_requests, window):
    with pytest.raises(ValueError, match="max_requests >= 1 and window > 0"):
        RateLimiter(max_requests, window)


def test_a_paced_backfill_never_meets_a_429(
    polygon_server, clock, lake, lake_dir, sqlite_stores, calendar
):
    free_plan(polygon_server, clock)
    source = client(polygon_server, clock, max_requests_per_minute=5)

    summary = backfill(source, lake, sqlite_stores, calendar)

    sessions = calendar.sessions_between(START, END)
    assert summary["status"] == "succeeded"
    assert summary["sessions_landed"] == len(sessions) == 12
    assert [r.status for r in polygon_server.requests] == [200] * 13  # 12 sessions + splits
    # 13 requests at 5 a minute: three windows, the last one opened after two minutes
    assert clock.now == pytest.approx(120.0)
    assert sqlite_stores.watermarks.get("ohlcv", MARKET) == END


@pytest.mark.parametrize("retry_after", [True, False], ids=["retry-after", "no-retry-after"])
def test_an_unpaced_backfill_waits_out_the_quota_and_finishes(
    polygon_server, clock, lake, lake_dir, sqlite_stores, calendar, retry_after
):
    free_plan(polygon_server, clock, retry_after=retry_after)
    source = client(polygon_server, clock, max_retries=0)  # 429s are not "retries"

    summary = backfill(source, lake, sqlite_stores, calendar)

    assert summary["status"] == "succeeded" and summary["sessions_landed"] == 12
    statuses = [r.status for r in polygon_server.requests]
    assert statuses.count(200) == 13 and statuses.count(429) >= 2
    if retry_after:
        # Retry-After is the wait until a slot frees: each wait is exactly one answer's
        assert statuses.count(429) == len(clock.sleeps) == 2
        assert clock.now == pytest.approx(120.0)
    else:
        assert len(clock.sleeps) == statuses.count(429)
        assert clock.now >= 120.0
    assert sqlite_stores.watermarks.get("ohlcv", MARKET) == END


def test_a_quota_outlasting_the_wait_budget_fails_naming_both_settings(polygon_server, clock):
    free_plan(polygon_server, clock)
    source = client(polygon_server, clock, rate_limit_wait=30.0)
    for day in calendar_days(5):
        source.grouped_daily(day)
    with pytest.raises(PolygonError) as caught:
        source.grouped_daily(dt.date(2024, 6, 10))
    message = str(caught.value)
    assert "rate limited for 60 s" in message
    assert "POLYGON_RATE_LIMIT_WAIT_SECONDS" in message
    assert "POLYGON_MAX_REQUESTS_PER_MINUTE" in message
    assert polygon_server.api_key not in message
    assert clock.sleeps == []  # it did not wait for an answer it knew would come too late


def calendar_days(n: int) -> list[dt.date]:
    return [dt.date(2024, 6, 3) + dt.timedelta(days=i) for i in range(n)]


def test_the_massive_host_is_the_default_and_both_hosts_are_accepted():
    assert PolygonClient("key").base_url == DEFAULT_BASE_URL == "https://api.massive.com"
    assert PolygonClient("key", "https://api.polygon.io/").base_url == "https://api.polygon.io"
