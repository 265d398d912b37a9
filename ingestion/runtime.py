"""Wiring: turn Settings into the source, lake, watermark store and calendar a job needs."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from core.lake import Lake
from core.settings import Settings
from ingestion.calendar import TradingCalendar, load_calendar
from ingestion.credentials import polygon_api_key, watermark_dsn
from ingestion.sources import MarketSource
from ingestion.watermarks import WatermarkStore

# Polygon publishes the day's grouped bars shortly after the close.
PUBLISH_DELAY = dt.timedelta(minutes=30)
SOURCES = ("sample", "polygon")


@dataclass
class Runtime:
    settings: Settings
    calendar: TradingCalendar
    lake: Lake
    store: WatermarkStore
    source: MarketSource

    def default_date(self, now: dt.datetime | None = None) -> dt.date:
        """The latest session whose data should be published by now."""
        now = now or dt.datetime.now(dt.UTC)
        latest = self.calendar.latest_closed_session(now, PUBLISH_DELAY)
        end = self.source.last_session
        return latest if end is None else min(latest, end)


def make_source(
    settings: Settings, calendar: TradingCalendar, name: str | None = None
) -> MarketSource:
    name = name or settings.market_source
    if name == "sample":
        from ingestion.sample_market import SampleMarket

        return SampleMarket(calendar)
    if name == "polygon":
        from ingestion.polygon import PolygonClient

        return PolygonClient(
            polygon_api_key(),
            settings.polygon_base_url,
            timeout=settings.http_timeout_seconds,
            max_retries=settings.http_max_retries,
            max_requests_per_minute=settings.polygon_max_requests_per_minute,
            rate_limit_wait=settings.polygon_rate_limit_wait_seconds,
        )
    raise ValueError(f"unknown market source {name!r}; choose one of {', '.join(SOURCES)}")


@contextmanager
def runtime(settings: Settings | None = None, source: str | None = None) -> Iterator[Runtime]:
    settings = settings or Settings.from_env()
    calendar = load_calendar(settings.trading_calendar_path)
    store = WatermarkStore.connect(watermark_dsn(settings.watermark_dsn, settings.rds_secret_arn))
    try:
        yield Runtime(
            settings=settings,
            calendar=calendar,
            lake=Lake.open(settings.lake_root, settings.aws_region),
            store=store,
            source=make_source(settings, calendar, source),
        )
    finally:
        store.close()
