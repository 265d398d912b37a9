"""Runtime settings of the ingestion jobs, from environment variables with defaults.

One place reads the environment so every command, Lambda handler and test agrees on what
`LAKE_ROOT` or `WATERMARK_DSN` mean (WAREHOUSE_PATH is dbt's, read by profiles.yml).
Secrets are never stored here: `ingestion.credentials` fetches them when needed.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]

DEFAULT_LAKE_ROOT = "./data/lake"
DEFAULT_WATERMARK_DSN = "sqlite:///./data/watermarks.sqlite"
DEFAULT_POLYGON_BASE_URL = "https://api.polygon.io"


@dataclass(frozen=True)
class Settings:
    """Where things live. Build it with `Settings.from_env()`; override fields in tests."""

    lake_root: str
    watermark_dsn: str
    polygon_base_url: str
    market_source: str
    rds_secret_arn: str | None
    trading_calendar_path: Path
    http_timeout_seconds: float
    http_max_retries: int

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> Settings:
        env = dict(os.environ if env is None else env)
        return cls(
            lake_root=env.get("LAKE_ROOT", DEFAULT_LAKE_ROOT),
            watermark_dsn=env.get("WATERMARK_DSN", DEFAULT_WATERMARK_DSN),
            polygon_base_url=env.get("POLYGON_BASE_URL", DEFAULT_POLYGON_BASE_URL).rstrip("/"),
            market_source=env.get("MARKET_SOURCE", "sample"),
            rds_secret_arn=env.get("RDS_SECRET_ARN") or None,
            trading_calendar_path=Path(
                env.get("TRADING_CALENDAR_PATH", REPO_ROOT / "seeds" / "trading_calendar.csv")
            ),
            http_timeout_seconds=float(env.get("POLYGON_HTTP_TIMEOUT", "30")),
            http_max_retries=int(env.get("POLYGON_HTTP_MAX_RETRIES", "5")),
        )
