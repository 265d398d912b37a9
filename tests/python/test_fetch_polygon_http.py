"""fetch_ohlcv / fetch_tickers and the Lambda handler end to end over HTTP: PolygonClient
talking to the local Polygon stub, landing Bronze parquet, SQLite watermarks."""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

from core.layout import VACUUM_MANIFEST_PREFIX
from ingestion.bars import LANDING_OHLCV_SCHEMA, LANDING_TICKERS_SCHEMA
from ingestion.fetch import OhlcvRequest, fetch_ohlcv, fetch_tickers
from ingestion.handlers.daily_ohlcv_fetcher import lambda_handler
from ingestion.polygon import PolygonError
from ingestion.stores import Stores
from ingestion.watermarks import MARKET
from tests.python.fixtures.polygon_server import BadRow, Status

GROUPED = "/v2/aggs/grouped/locale/us/market/stocks/"
JUNE_28 = dt.date(2024, 6, 28)  # a Friday
# The five sessions after it: July 4th is a holiday, 6-7 a weekend.
AFTER_JUNE_28 = [dt.date(2024, 7, d) for d in (1, 2, 3, 5, 8)]
BATCH_FILE = re.compile(r"\d{8}T\d{12}Z-[0-9a-f]{12}\.parquet")


def landing_files(lake_dir: Path, dataset: str = "raw_ohlcv") -> list[Path]:
    return sorted((lake_dir / "bronze" / dataset).glob("ingest_date=*/*.parquet"))


def landed(lake_dir: Path, dataset: str = "raw_ohlcv") -> pa.Table:
    return pa.concat_tables(pq.read_table(f) for f in landing_files(lake_dir, dataset))


def grouped_dates(server) -> list[dt.date]:
    return [dt.date.fromisoformat(r.path.rsplit("/", 1)[1]) for r in server.requests_to(GROUPED)]


def an_earlier_run(lake, stores, marks: dict[str, dt.date]) -> None:
    """The state an earlier run left: watermarks, and a lake whose landing files vacuum
    has since deleted (its manifest stays), so only this test's files are landed."""
    stores.watermarks.advance("ohlcv", marks, "an-earlier-run")
    lake.write_bytes(lake.path(VACUUM_MANIFEST_PREFIX, "an-earlier-run.json"), b"{}")


def utc_today() -> dt.date:
    return dt.datetime.now(dt.UTC).date()


def test_one_session_lands_one_bronze_file(
    polygon_server, polygon_client, lake, lake_dir, sqlite_stores, calendar
):
    day = dt.date(2024, 7, 3)
    before = utc_today()
    summary = fetch_ohlcv(
        polygon_client, lake, sqlite_stores, calendar, OhlcvRequest(end=day, start=day)
    ).to_dict()
    after = utc_today()

    market = polygon_server.market
    assert summary["status"] == "succeeded" and summary["source"] == "polygon"
    assert (summary["sessions_landed"], summary["files_written"]) == (1, 1)
    assert summary["rows_landed"] == len(market.listed) and summary["invalid_rows"] == 0
    assert summary["watermark"] == "2024-07-03"

    [file] = landing_files(lake_dir)
    assert file.parent.name in {f"ingest_date={before}", f"ingest_date={after}"}
    assert BATCH_FILE.fullmatch(file.name)
    assert [p.name for p in lake_dir.rglob("*") if p.is_file()] == [file.name]  # no temp file
    table = pq.read_table(file)
    assert table.schema.remove_metadata().equals(LANDING_OHLCV_SCHEMA)
    assert set(table["batch_id"].to_pylist()) == {file.stem}
    assert set(table["source"].to_pylist()) == {"polygon"}
    assert table["invalid_reason"].null_count == table.num_rows
    expected = {row["T"]: row for row in market.grouped_rows(day)}
    for row in table.to_pylist():
        want = expected.pop(row["symbol"])
        assert row["date"] == day
        assert (row["open"], row["high"], row["low"], row["close"], row["volume"]) == (
            want["o"],
            want["h"],
            want["l"],
            want["c"],
            want["v"],
        )
        assert (row["vwap"], row["transactions"]) == (want["vw"], want.get("n"))
    assert expected == {}

    assert sqlite_stores.watermarks.get("ohlcv") == day
    assert set(sqlite_stores.watermarks.get_many("ohlcv", market.listed).values()) == {day}
    assert grouped_dates(polygon_server) == [day]
    [splits] = polygon_server.requests_to("/v3/reference/splits")
    assert splits.query["execution_date.gte"] == splits.query["execution_date.lte"] == [str(day)]


def test_gap_fill_requests_exactly_the_missing_sessions(
    polygon_server, polygon_client, lake, lake_dir, sqlite_stores, calendar
):
    an_earlier_run(lake, sqlite_stores, {MARKET: JUNE_28})

    summary = fetch_ohlcv(
        polygon_client, lake, sqlite_stores, calendar, OhlcvRequest(end=dt.date(2024, 7, 8))
    ).to_dict()

    # Weekends and the July 4th holiday are never asked for.
    assert grouped_dates(polygon_server) == AFTER_JUNE_28
    assert summary["sessions_landed"] == summary["files_written"] == 5
    assert (summary["first_session"], summary["last_session"]) == ("2024-07-01", "2024-07-08")
    assert sqlite_stores.watermarks.get("ohlcv") == dt.date(2024, 7, 8)
    table = landed(lake_dir)
    assert sorted(set(table["date"].to_pylist())) == AFTER_JUNE_28
    assert table.num_rows == 5 * len(polygon_server.market.listed)


def test_server_error_mid_fill_fails_the_run_then_a_rerun_completes(
    polygon_server, polygon_client, lake, lake_dir, sqlite_stores, calendar
):
    an_earlier_run(lake, sqlite_stores, {MARKET: JUNE_28})
    polygon_server.inject(f"{GROUPED}2024-07-03", Status(500), times=None)
    request = OhlcvRequest(end=dt.date(2024, 7, 8))

    with pytest.raises(PolygonError, match="HTTP 500"):
        fetch_ohlcv(polygon_client, lake, sqlite_stores, calendar, request)

    [run] = sqlite_stores.ledger.runs("ohlcv")
    assert run["status"] == "failed"
    assert (run["sessions"], run["files_written"]) == (2, 2)
    assert "HTTP 500" in json.loads(run["detail"])["error"]
    # The watermark stays at the last session that landed whole.
    assert sqlite_stores.watermarks.get("ohlcv") == dt.date(2024, 7, 2)
    assert all(p.suffix == ".parquet" for p in (lake_dir / "bronze").rglob("*") if p.is_file())
    assert sorted(set(landed(lake_dir)["date"].to_pylist())) == AFTER_JUNE_28[:2]
    # Three attempts at the failing session (max_retries=2); nothing after it.
    assert grouped_dates(polygon_server) == AFTER_JUNE_28[:2] + [dt.date(2024, 7, 3)] * 3

    polygon_server.clear_faults()
    summary = fetch_ohlcv(polygon_client, lake, sqlite_stores, calendar, request).to_dict()

    assert summary["status"] == "succeeded"
    assert summary["sessions_landed"] == 3 and summary["first_session"] == "2024-07-03"
    assert [run["status"] for run in sqlite_stores.ledger.runs("ohlcv")] == ["failed", "succeeded"]
    assert sqlite_stores.watermarks.get("ohlcv") == dt.date(2024, 7, 8)
    table = landed(lake_dir)
    keys = list(zip(table["symbol"].to_pylist(), table["date"].to_pylist(), strict=True))
    assert len(keys) == len(set(keys)) == 5 * len(polygon_server.market.listed)


def test_split_in_the_window_restates_the_symbol_through_paginated_ranges(
    polygon_server, polygon_client, lake, lake_dir, sqlite_stores, calendar
):
    symbol = polygon_server.market.listed[3]
    polygon_server.add_split(symbol, dt.date(2024, 7, 2), 1, 2)
    polygon_server.add_split(polygon_server.market.listed[4], dt.date(2024, 6, 3), 1, 2)
    polygon_server.range_page_limit = 2000
    start, end = dt.date(2024, 7, 1), dt.date(2024, 7, 3)

    summary = fetch_ohlcv(
        polygon_client, lake, sqlite_stores, calendar, OhlcvRequest(end=end, start=start)
    ).to_dict()

    assert summary["restated_symbols"] == [symbol]  # the June split is outside the window
    assert summary["files_written"] == 3 + 1
    history = calendar.sessions_between(OhlcvRequest(end=end).history_start, end)
    ranges = polygon_server.requests_to(f"/v2/aggs/ticker/{symbol}/range/1/day/")
    assert ranges[0].path.endswith(f"/2003-09-10/{end}")
    assert len(ranges) == -(-len(history) // 2000)
    tables = [pq.read_table(f) for f in landing_files(lake_dir)]
    [restated] = [t for t in tables if set(t["symbol"].to_pylist()) == {symbol}]
    assert restated["date"].to_pylist() == history


def test_symbols_mode_fetches_ranges_since_each_watermark(
    polygon_server, polygon_client, lake, lake_dir, sqlite_stores, calendar
):
    first, second, third = polygon_server.market.listed[:3]
    an_earlier_run(lake, sqlite_stores, {first: JUNE_28})
    polygon_server.range_page_limit = 10
    end = dt.date(2024, 7, 8)
    request = OhlcvRequest(end=end, start=dt.date(2024, 6, 3), symbols=(first, second, third))

    summary = fetch_ohlcv(polygon_client, lake, sqlite_stores, calendar, request).to_dict()

    assert summary["status"] == "succeeded"
    assert summary["symbols_fetched"] == [first, second, third]
    assert polygon_server.requests_to(GROUPED) == []
    ranges = polygon_server.requests_to("/v2/aggs/ticker/")
    assert [r.path for r in ranges if "cursor" not in r.query] == [
        f"/v2/aggs/ticker/{first}/range/1/day/2024-07-01/2024-07-08",
        f"/v2/aggs/ticker/{second}/range/1/day/2024-06-03/2024-07-08",
        f"/v2/aggs/ticker/{third}/range/1/day/2024-06-03/2024-07-08",
    ]
    table = landed(lake_dir)
    june = calendar.sessions_between(dt.date(2024, 6, 3), end)
    by_symbol = {
        symbol: sorted(table.filter(pc.equal(table["symbol"], symbol))["date"].to_pylist())
        for symbol in (first, second, third)
    }
    assert by_symbol == {first: AFTER_JUNE_28, second: june, third: june}
    assert sqlite_stores.watermarks.get_many("ohlcv", [first, second, third]) == dict.fromkeys(
        by_symbol, end
    )

    polygon_server.reset()
    again = fetch_ohlcv(polygon_client, lake, sqlite_stores, calendar, request).to_dict()
    assert again["files_written"] == 0 and polygon_server.requests == []


def test_fetch_tickers_lands_every_page(
    polygon_server, polygon_client, lake, lake_dir, sqlite_stores
):
    polygon_server.list_page_limit = 15
    market = polygon_server.market
    as_of = dt.date(2024, 7, 3)

    summary = fetch_tickers(polygon_client, lake, sqlite_stores, as_of).to_dict()

    assert summary["status"] == "succeeded"
    assert summary["rows_landed"] == len(market.listed) + len(market.delisted)
    [file] = landing_files(lake_dir, "raw_tickers")
    table = pq.read_table(file)
    assert table.schema.remove_metadata().equals(LANDING_TICKERS_SCHEMA)
    active = table.filter(table["active"])
    assert sorted(active["symbol"].to_pylist()) == sorted(market.listed)
    assert sorted(table.filter(pc.invert(table["active"]))["symbol"].to_pylist()) == (
        sorted(market.delisted)
    )
    assert set(table["as_of_date"].to_pylist()) == {as_of}
    assert sqlite_stores.watermarks.get("tickers") == as_of

    requests = polygon_server.requests_to("/v3/reference/tickers")
    pages = -(-len(market.listed) // 15) + -(-len(market.delisted) // 15)
    assert len(requests) == pages
    firsts = [r.query for r in requests if "cursor" not in r.query]
    assert [q["active"] for q in firsts] == [["true"], ["false"]]
    assert all(q["date"] == [str(as_of)] and q["market"] == ["stocks"] for q in firsts)


def test_lambda_handler_over_http(polygon_server, monkeypatch, tmp_path):
    dsn = f"sqlite:///{tmp_path / 'wm.sqlite'}"
    for name in ("POLYGON_API_KEY_SECRET_ARN", "RDS_SECRET_ARN", "TRADING_CALENDAR_PATH"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("MARKET_SOURCE", "polygon")
    monkeypatch.setenv("POLYGON_BASE_URL", polygon_server.base_url)
    monkeypatch.setenv("POLYGON_API_KEY", polygon_server.api_key)
    monkeypatch.setenv("LAKE_ROOT", str(tmp_path / "lake"))
    monkeypatch.setenv("WATERMARK_DSN", dsn)

    first = lambda_handler({"date": "2024-07-03"}, None)
    # A later event fills the sessions between (July 4th is a holiday).
    second = lambda_handler({"date": "2024-07-08"}, None)

    rows = len(polygon_server.market.listed)
    assert {k: first[k] for k in ("status", "sessions_landed", "rows_landed", "watermark")} == {
        "status": "succeeded",
        "sessions_landed": 1,
        "rows_landed": rows,
        "watermark": "2024-07-03",
    }
    assert second["status"] == "succeeded" and second["error"] is None
    assert (second["first_session"], second["last_session"]) == ("2024-07-05", "2024-07-08")
    assert second["files_written"] == 2 and second["rows_landed"] == 2 * rows
    assert polygon_server.api_key not in json.dumps([first, second])
    assert len(landing_files(tmp_path / "lake")) == 3
    stores = Stores.connect(dsn)
    try:
        assert stores.watermarks.get("ohlcv") == dt.date(2024, 7, 8)
        assert [r["status"] for r in stores.ledger.runs("ohlcv")] == ["succeeded", "succeeded"]
    finally:
        stores.close()
    assert {r.auth for r in polygon_server.requests} == {"bearer"}


def test_a_malformed_vendor_record_lands_invalid_and_the_session_lands(
    polygon_server, polygon_client, lake, lake_dir, sqlite_stores, calendar
):
    day = dt.date(2024, 7, 3)
    polygon_server.inject(GROUPED, BadRow("c", "95.5", index=2), times=None)
    request = OhlcvRequest(end=day, start=day)
    summary = fetch_ohlcv(polygon_client, lake, sqlite_stores, calendar, request).to_dict()

    market = polygon_server.market
    bad_symbol = landed(lake_dir)["symbol"][2].as_py()
    assert summary["status"] == "succeeded" and summary["sessions_landed"] == 1
    assert summary["rows_landed"] == len(market.listed)
    assert summary["invalid_rows"] == 1 and summary["invalid_reasons"]["malformed_record"] == 1
    (record,) = summary["malformed_records"]
    assert record.startswith(f"{bad_symbol} 2024-07-03: ") and "c='95.5' is not a number" in record
    table = landed(lake_dir)
    assert table.schema == LANDING_OHLCV_SCHEMA  # the problem column is not landed
    symbols, codes = table["symbol"].to_pylist(), table["invalid_reason"].to_pylist()
    reasons = dict(zip(symbols, codes, strict=True))
    assert reasons.pop(bad_symbol).startswith("malformed_record")
    assert set(reasons.values()) == {None}
    # The session is done: the watermark moved, the next run asks for nothing again.
    assert sqlite_stores.watermarks.get("ohlcv", MARKET) == day
