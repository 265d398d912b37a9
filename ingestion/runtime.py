"""Wiring: turn Settings into the source, lake, watermark store and calendar a job needs."""

from __future__ import annotations

import datetime as dt
import logging
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from core.errors import ExitCode, OperationalError
from core.lake import Lake
from core.settings import Settings
from ingestion.calendar import TradingCalendar, load_calendar
from ingestion.credentials import polygon_api_key, watermark_dsn
from ingestion.run_ledger import LockHolder
from ingestion.sources import MarketSource
from ingestion.stores import Stores

log = logging.getLogger(__name__)

# Polygon publishes the day's grouped bars shortly after the close.
PUBLISH_DELAY = dt.timedelta(minutes=30)
SOURCES = ("sample", "polygon")


@dataclass
class Runtime:
    settings: Settings
    calendar: TradingCalendar
    lake: Lake
    stores: Stores
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


def usable_lake(root: str, region: str | None) -> Lake:
    """The lake at `root`, checked before any work: a local root must be a directory this
    process can write (created if absent). An S3 root is checked by its first write."""
    lake = Lake.open(root, region)
    if not lake.is_local:
        return lake
    path = Path(lake.base)
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OperationalError(
            f"LAKE_ROOT {root}: cannot create the lake directory ({exc.strerror or exc}); "
            "point LAKE_ROOT at a writable directory",
            ExitCode.UNAVAILABLE,
        ) from None
    if not os.access(path, os.W_OK | os.X_OK):
        raise OperationalError(
            f"LAKE_ROOT {root}: the directory is not writable by this user; "
            "point LAKE_ROOT at a writable directory or fix its permissions",
            ExitCode.UNAVAILABLE,
        )
    return lake


@contextmanager
def exclusive_run(
    rt: Runtime,
    holder: str,
    *,
    wait: bool = False,
    on_wait: Callable[[LockHolder], None] | None = None,
) -> Iterator[list[str]]:
    """One run at a time per lake and store (ingest, import, daily, the fetch Lambdas): a
    second one raises RunLockBusyError (ExitCode.BUSY) naming the holder, or with `wait`
    queues behind it. Holding the lock, no other run can be alive, so any run the audit
    still shows `running` was killed: it is marked `abandoned`. Yields those run ids."""
    name = f"run {rt.lake.display(rt.lake.base)}"
    with rt.stores.ledger.run_lock(name, holder, wait=wait, on_wait=on_wait):
        abandoned = rt.stores.ledger.abandon_stale_runs()
        if abandoned:
            log.warning("stale runs marked abandoned", extra={"runs": abandoned})
        yield abandoned


@contextmanager
def runtime(settings: Settings | None = None, source: str | None = None) -> Iterator[Runtime]:
    settings = settings or Settings.from_env()
    calendar = load_calendar(settings.trading_calendar_path)
    lake = usable_lake(settings.lake_root, settings.aws_region)
    stores = Stores.connect(watermark_dsn(settings.watermark_dsn, settings.rds_secret_arn))
    try:
        yield Runtime(
            settings=settings,
            calendar=calendar,
            lake=lake,
            stores=stores,
            source=make_source(settings, calendar, source),
        )
    finally:
        stores.close()
