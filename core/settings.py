"""The process's settings: every environment variable the project reads, read once.

`Settings.from_env()` reads and checks them all when a command, Lambda or job starts; a bad
value fails there with the variable's name and what it must be, never later in a step.
Each value has one owner (this module) and one default; profiles.yml repeats the dbt
ones for dbt (a test keeps the two equal). Secrets are not settings: `ingestion.credentials`
fetches them when needed, and the notification channel (`orchestration.notify`) checks its
own block of variables the same way.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from core.errors import ExitCode, OperationalError
from core.paths import REPO_ROOT

MARKET_SOURCES = ("sample", "polygon")
DBT_TARGETS = ("dev", "athena", "trino")
WEEKDAYS = ("MON", "TUE", "WED", "THU", "FRI", "SAT", "SUN")

_T = TypeVar("_T")


class SettingsError(OperationalError, ValueError):
    """An environment variable holds a value the project cannot use."""

    exit_code = ExitCode.USAGE


@dataclass(frozen=True)
class Settings:
    """Every setting of a run. Build it with `Settings.from_env()`; override in tests with
    `dataclasses.replace`."""

    # Where things live
    lake_root: str = "./data/lake"
    warehouse_path: str = "./data/warehouse.duckdb"
    watermark_dsn: str = "sqlite:///./data/watermarks.sqlite"
    rds_secret_arn: str | None = None
    trading_calendar_path: Path = REPO_ROOT / "seeds" / "trading_calendar.csv"
    # The market vendor
    market_source: str = "sample"
    # Polygon renamed itself Massive (2025-10-30); api.polygon.io still answers.
    polygon_base_url: str = "https://api.massive.com"
    http_timeout_seconds: float = 30.0
    http_max_retries: int = 5
    # Client-side pacing: the free plan allows 5 requests a minute; None = unpaced (paid).
    polygon_max_requests_per_minute: int | None = None
    # The longest one request waits out 429 answers in total before the fetch fails: more
    # than a minute, so a per-minute quota is outlasted.
    polygon_rate_limit_wait_seconds: float = 300.0
    # dbt and the warehouse engine
    dbt_target: str = "dev"
    dbt_schema_prefix: str = ""
    aws_region: str = "us-east-1"
    athena_s3_staging_dir: str = "s3://condvest-athena-results/dbt/"
    athena_workgroup: str = "primary"
    athena_catalog: str = "awsdatacatalog"
    # The day's plan
    training_weekday: str = "FRI"
    daily_history_start: dt.date | None = None
    vacuum_retention_days: int = 30

    def schema(self, layer: str) -> str:
        """The warehouse schema of a layer (`landing`, `bronze`, `gold`...), as dbt names it."""
        return self.dbt_schema_prefix + layer

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        import os

        read = _Reader(os.environ if env is None else env)
        default = cls()
        return cls(
            lake_root=read.text("LAKE_ROOT", default.lake_root),
            warehouse_path=read.text("WAREHOUSE_PATH", default.warehouse_path),
            watermark_dsn=read.text("WATERMARK_DSN", default.watermark_dsn),
            rds_secret_arn=read.optional("RDS_SECRET_ARN"),
            trading_calendar_path=Path(
                read.text("TRADING_CALENDAR_PATH", str(default.trading_calendar_path))
            ),
            market_source=read.choice("MARKET_SOURCE", default.market_source, MARKET_SOURCES),
            polygon_base_url=read.url("POLYGON_BASE_URL", default.polygon_base_url),
            http_timeout_seconds=read.number(
                "POLYGON_HTTP_TIMEOUT", default.http_timeout_seconds, float, minimum=0.001
            ),
            http_max_retries=read.number(
                "POLYGON_HTTP_MAX_RETRIES", default.http_max_retries, int, minimum=0
            ),
            polygon_max_requests_per_minute=read.optional_number(
                "POLYGON_MAX_REQUESTS_PER_MINUTE", int, minimum=1
            ),
            polygon_rate_limit_wait_seconds=read.number(
                "POLYGON_RATE_LIMIT_WAIT_SECONDS",
                default.polygon_rate_limit_wait_seconds,
                float,
                minimum=0,
            ),
            dbt_target=read.choice("DBT_TARGET", default.dbt_target, DBT_TARGETS),
            dbt_schema_prefix=read.optional("DBT_SCHEMA_PREFIX") or "",
            # AWS_REGION is what Lambda and the SDKs set; AWS_DEFAULT_REGION the CLI's.
            aws_region=read.optional("AWS_REGION")
            or read.text("AWS_DEFAULT_REGION", default.aws_region),
            athena_s3_staging_dir=read.s3_uri(
                "ATHENA_S3_STAGING_DIR", default.athena_s3_staging_dir
            ),
            athena_workgroup=read.text("ATHENA_WORKGROUP", default.athena_workgroup),
            athena_catalog=read.text("ATHENA_CATALOG", default.athena_catalog),
            training_weekday=read.choice(
                "TRAINING_WEEKDAY",
                default.training_weekday,
                WEEKDAYS,
                transform=lambda value: value.upper()[:3],
            ),
            daily_history_start=read.date("DAILY_HISTORY_START"),
            vacuum_retention_days=read.number(
                "VACUUM_RETENTION_DAYS", default.vacuum_retention_days, int, minimum=1
            ),
        )


@dataclass(frozen=True)
class _Reader:
    """Typed reads of the environment; an empty variable counts as unset."""

    env: Mapping[str, str]

    def optional(self, name: str) -> str | None:
        value = self.env.get(name, "").strip()
        return value or None

    def text(self, name: str, default: str) -> str:
        return self.optional(name) or default

    def choice(
        self,
        name: str,
        default: str,
        choices: tuple[str, ...],
        transform: Callable[[str], str] = str,
    ) -> str:
        raw = self.text(name, default)
        value = transform(raw)
        if value not in choices:
            raise SettingsError(f"{name} must be one of {', '.join(choices)}, got {raw!r}")
        return value

    def number(self, name: str, default: _T, kind: Callable[[str], _T], *, minimum: float) -> _T:
        value = self.optional_number(name, kind, minimum=minimum)
        return default if value is None else value

    def optional_number(self, name: str, kind: Callable[[str], _T], *, minimum: float) -> _T | None:
        """None when unset (or empty): for a setting whose default is "no limit"."""
        raw = self.optional(name)
        if raw is None:
            return None
        noun = "an integer" if kind is int else "a number"
        try:
            value = kind(raw)
        except ValueError:
            raise SettingsError(f"{name} must be {noun} >= {minimum:g}, got {raw!r}") from None
        if not value >= minimum:  # type: ignore[operator]  # int or float; nan fails too
            raise SettingsError(f"{name} must be {noun} >= {minimum:g}, got {raw!r}")
        return value

    def url(self, name: str, default: str) -> str:
        value = self.text(name, default).rstrip("/")
        if not value.startswith(("http://", "https://")):
            raise SettingsError(f"{name} must be an http(s):// URL, got {value!r}")
        return value

    def s3_uri(self, name: str, default: str) -> str:
        value = self.text(name, default)
        if not value.startswith("s3://"):
            raise SettingsError(f"{name} must be an s3:// URI, got {value!r}")
        return value

    def date(self, name: str) -> dt.date | None:
        raw = self.optional(name)
        if raw is None:
            return None
        try:
            return dt.date.fromisoformat(raw)
        except ValueError:
            raise SettingsError(f"{name} must be a date YYYY-MM-DD, got {raw!r}") from None
