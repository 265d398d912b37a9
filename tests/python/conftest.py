"""Shared fixtures. Servers (PostgreSQL, the Polygon stub, moto) live in their own modules
under tests/python/fixtures/ and are registered here as pytest plugins."""

from __future__ import annotations

from pathlib import Path

import pytest

from core.lake import Lake
from core.paths import REPO_ROOT
from ingestion.calendar import TradingCalendar, load_calendar
from ingestion.stores import Stores

pytest_plugins = [
    "tests.python.fixtures.postgres",
    "tests.python.fixtures.polygon_server",
    "tests.python.fixtures.aws",
    "tests.python.fixtures.trino",
]


@pytest.fixture(scope="session")
def calendar() -> TradingCalendar:
    return load_calendar(REPO_ROOT / "seeds" / "trading_calendar.csv")


@pytest.fixture
def lake_dir(tmp_path: Path) -> Path:
    return tmp_path / "lake"


@pytest.fixture
def lake(lake_dir: Path) -> Lake:
    return Lake.open(str(lake_dir))


@pytest.fixture
def sqlite_stores(tmp_path: Path):
    stores = Stores.connect(f"sqlite:///{tmp_path / 'watermarks.sqlite'}")
    yield stores
    stores.close()


@pytest.fixture
def cli_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A `condvest` run in-process on the sample market, with its lake, warehouse, store
    and token cache under tmp_path; the settings that would send it elsewhere unset."""
    monkeypatch.setenv("LAKE_ROOT", str(tmp_path / "lake"))
    monkeypatch.setenv("WAREHOUSE_PATH", str(tmp_path / "warehouse.duckdb"))
    monkeypatch.setenv("WATERMARK_DSN", f"sqlite:///{tmp_path / 'wm.sqlite'}")
    monkeypatch.setenv("NOTIFY_TOKEN_CACHE", f"sqlite:///{tmp_path / 'tokens.sqlite'}")
    monkeypatch.setenv("MARKET_SOURCE", "sample")
    for name in ("DBT_TARGET", "SNS_TOPIC_ARN", "NOTIFY_API_URL", "TRAINING_WEEKDAY"):
        monkeypatch.delenv(name, raising=False)
    return tmp_path
