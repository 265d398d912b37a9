"""One `condvest daily` against every kind of poison at once (issue 19's proof): the vendor
serves one malformed record, the lake holds one corrupt landing file and one future-dated
bar. The day succeeds for everything else, the report names all three, nothing is lost."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
from pathlib import Path

import duckdb
import pytest

from ingestion.calendar import NEW_YORK, TradingCalendar
from tests.python.fixtures.polygon_server import BadRow, PolygonStub
from tests.python.test_daily_local import CONDVEST, daily_env

RUN_DATE = "2025-12-31"
GROUPED = f"/v2/aggs/grouped/locale/us/market/stocks/{RUN_DATE}"
HISTORY_START = "2025-01-02"  # a year: enough to train on, quick to fetch


@pytest.mark.slow
@pytest.mark.timeout(1800)  # dbt, training and prediction of a whole day, on a busy machine
def test_one_bad_record_file_and_bar_do_not_stop_the_day(
    polygon_server: PolygonStub, calendar: TradingCalendar, tmp_path: Path
) -> None:
    env = {
        **daily_env(tmp_path),
        "MARKET_SOURCE": "polygon",
        "POLYGON_BASE_URL": polygon_server.base_url,
        "POLYGON_API_KEY": polygon_server.api_key,
        "DAILY_HISTORY_START": HISTORY_START,
    }
    lake = tmp_path / "lake"
    # 1. A future-dated bar on a real session, imported by a user.
    today = dt.datetime.now(NEW_YORK).date()
    future = calendar.sessions_after(today, today + dt.timedelta(days=30))[0]
    bars = tmp_path / "future.csv"
    bars.write_text(f"symbol,date,open,high,low,close,volume\nFUTR,{future},10,11,9,10.5,100\n")
    imported = subprocess.run(
        [CONDVEST, "ingest-file", str(bars)], env=env, capture_output=True, text=True, timeout=300
    )
    assert imported.returncode == 0, imported.stderr[-3000:]
    # 2. A corrupt landing file.
    corrupt = lake / "bronze" / "raw_ohlcv" / "ingest_date=2025-12-01" / "corrupt.parquet"
    corrupt.parent.mkdir(parents=True, exist_ok=True)
    corrupt.write_bytes(b"PAR1" + b"\0" * 64)
    # 3. The vendor's answer for the run date has one malformed record.
    polygon_server.inject(GROUPED, BadRow("c", "95.5", index=2), times=None)
    bad_symbol = polygon_server.market.listed[2]

    run = subprocess.run(
        [CONDVEST, "daily", "--date", RUN_DATE],
        env=env,
        capture_output=True,
        text=True,
        timeout=1700,
    )

    report = run.stdout
    assert run.returncode == 0, report + run.stderr[-4000:]
    assert f"\ncondvest daily {RUN_DATE}: SUCCEEDED" in report  # after the state lines
    assert f"quarantined landing file: {corrupt} (unreadable parquet: " in report
    assert f"malformed vendor record, landed invalid: {bad_symbol} {RUN_DATE}: " in report
    assert "c='95.5' is not a number" in report
    (rejected,) = [line for line in report.splitlines() if line.startswith("  rejected bars: ")]
    assert f"future_date 1 (e.g. FUTR {future})" in rejected
    assert f"malformed_record;missing_value 1 (e.g. {bad_symbol} {RUN_DATE})" in rejected

    # Nothing lost: the corrupt file is kept in quarantine and named by its manifest; every
    # landing row is in bronze or rejected (the build's reconciliation test passed).
    quarantined = lake / "bronze" / "quarantine" / "raw_ohlcv" / "ingest_date=2025-12-01"
    assert (quarantined / "corrupt.parquet").read_bytes() == b"PAR1" + b"\0" * 64
    (manifest,) = (lake / "_manifests" / "quarantine").glob("*.json")
    assert json.loads(manifest.read_text())["quarantined"][0]["path"] == str(corrupt)
    with duckdb.connect(str(tmp_path / "warehouse.duckdb"), read_only=True) as con:
        landing = con.execute(
            "select count(*) from read_parquet(?)", [str(lake / "bronze/raw_ohlcv/*/*.parquet")]
        ).fetchone()
        valid = con.execute("select count(*) from bronze.ohlcv_daily").fetchone()
        invalid = con.execute("select count(*) from bronze.ohlcv_rejected").fetchone()
        latest = con.execute("select max(date) from bronze.ohlcv_daily").fetchone()
    assert landing and valid and invalid and latest
    # One valid bar per (symbol, date): landing holds no other duplicates in this lake.
    assert landing[0] == valid[0] + invalid[0]
    assert latest[0] == dt.date.fromisoformat(RUN_DATE)  # the future bar is not "latest"
