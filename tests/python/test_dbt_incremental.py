"""dbt on the sample market: idempotent re-runs, and incremental == full refresh."""

import datetime as dt
import shutil

import duckdb
import pytest

from ingestion import landing_pipeline
from ingestion.fetch import OhlcvRequest, fetch_ohlcv, fetch_tickers
from ingestion.sample_market import SampleMarket
from tests.python.dbt_helpers import dbt, landed_at, snapshot

LAST = dt.date(2025, 12, 31)


@pytest.fixture(scope="module")
def built(tmp_path_factory, calendar):
    """A lake landed up to the day before LAST, built once, then LAST landed too."""
    from core.lake import Lake
    from ingestion.stores import Stores

    tmp = tmp_path_factory.mktemp("dbt")
    lake_dir, warehouse = tmp / "lake", tmp / "warehouse.duckdb"
    lake = Lake.open(str(lake_dir))
    stores = Stores.connect(f"sqlite:///{tmp / 'wm.sqlite'}")
    market = SampleMarket(calendar)
    before = calendar.sessions_between(dt.date(2025, 1, 2), LAST)[-2]
    # each session landed on its evening, as the daily pipeline lands it: the new day is
    # then past the models' cursor look-back, and the incremental run reads only its reach
    with pytest.MonkeyPatch.context() as clock:
        clock.setattr(landing_pipeline, "utcnow", lambda: landed_at(before))
        fetch_tickers(market, lake, stores, before)
        request = OhlcvRequest(start=dt.date(2024, 1, 2), end=before)
        fetch_ohlcv(market, lake, stores, calendar, request)
        dbt(tmp, lake_dir, warehouse, "build")
        first = snapshot(warehouse)
        dbt(tmp, lake_dir, warehouse, "build")
        second = snapshot(warehouse)
        clock.setattr(landing_pipeline, "utcnow", lambda: landed_at(LAST))
        fetch_ohlcv(market, lake, stores, calendar, OhlcvRequest(end=LAST))
    dbt(tmp, lake_dir, warehouse, "build")
    incremental = snapshot(warehouse)
    full_warehouse = tmp / "full.duckdb"
    dbt(tmp, lake_dir, full_warehouse, "build", "--full-refresh")
    return {
        "first": first,
        "second": second,
        "incremental": incremental,
        "full": snapshot(full_warehouse),
        "warehouse": warehouse,
        "lake": lake_dir,
    }


def test_building_twice_without_new_data_changes_nothing(built):
    assert built["second"] == built["first"]


def test_one_new_day_incrementally_equals_a_full_refresh(built):
    for table, rows in built["full"].items():
        assert built["incremental"][table] == rows, table
    assert built["incremental"]["bronze.ohlcv_daily"] != built["first"]["bronze.ohlcv_daily"]


def test_the_new_day_completes_bars_and_flags_the_last_one(built):
    with duckdb.connect(str(built["warehouse"]), read_only=True) as con:
        latest = con.execute("select max(date) from bronze.ohlcv_daily").fetchone()[0]
        assert latest == LAST
        open_bars = con.execute(
            "select count(*) from silver.ohlcv_34d where not is_complete and bucket_end <= ?",
            [LAST],
        ).fetchone()[0]
        assert open_bars == 0
        rejected = con.execute("select count(*) from bronze.ohlcv_rejected").fetchone()[0]
        assert rejected == 2  # the sample's bad prints of 2024 and 2025


def test_a_full_refresh_never_rebuilds_bronze_from_landing(built, tmp_path):
    # Bronze is the system of record (vacuum deletes old landing files), so --full-refresh
    # leaves it incremental: here landing loses all but its newest file and bronze keeps all.
    warehouse = tmp_path / "warehouse.duckdb"
    shutil.copyfile(built["warehouse"], warehouse)
    with duckdb.connect(str(warehouse), read_only=True) as con:
        before = con.execute("select count(*), min(date) from bronze.ohlcv_daily").fetchone()
    lake = tmp_path / "lake"
    shutil.copytree(built["lake"], lake)
    *vacuumed, _newest = sorted((lake / "bronze" / "raw_ohlcv").rglob("*.parquet"))
    for path in vacuumed:
        path.unlink()
    dbt(tmp_path, lake, warehouse, "run", "--full-refresh", "-s", "stg_landing__daily_bars+1")
    with duckdb.connect(str(warehouse), read_only=True) as con:
        after = con.execute("select count(*), min(date) from bronze.ohlcv_daily").fetchone()
    assert after == before
