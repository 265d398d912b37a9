"""The silent traps of a first real fetch, refused out loud: a new lake paired with a
watermark store that says everything is landed, a ticker the source does not know, and
tickers typed in lower case. Over HTTP against the local Polygon server."""

from __future__ import annotations

import datetime as dt
import logging

import pytest
from click.testing import CliRunner

from condvest.cli import main
from core.errors import ExitCode
from ingestion.fetch import NewLakeError, OhlcvRequest, fetch_ohlcv, fetch_tickers
from ingestion.watermarks import MARKET

DAY = dt.date(2024, 7, 3)


def test_a_new_lake_with_a_store_that_says_everything_is_landed_is_refused(
    polygon_server, polygon_client, lake, lake_dir, sqlite_stores, calendar
):
    sqlite_stores.watermarks.advance("ohlcv", {MARKET: DAY}, "a-run-into-another-lake")
    sqlite_stores.watermarks.advance("tickers", {MARKET: DAY}, "a-run-into-another-lake")

    for fetch in (
        lambda: fetch_ohlcv(polygon_client, lake, sqlite_stores, calendar, OhlcvRequest(end=DAY)),
        lambda: fetch_tickers(polygon_client, lake, sqlite_stores, DAY),
    ):
        with pytest.raises(NewLakeError) as caught:
            fetch()
        message = str(caught.value)
        assert caught.value.exit_code == ExitCode.USAGE
        assert "\n" not in message
        assert "WATERMARK_DSN" in message and str(lake_dir) in message and str(DAY) in message
        assert "reset" in message
    # nothing was fetched, and both attempts are on the record as failed
    assert polygon_server.requests == []
    assert {run["status"] for run in sqlite_stores.ledger.runs()} == {"failed"}
    # a backfill or a refresh asks for the data again, so it may go ahead
    request = OhlcvRequest(end=DAY, start=DAY, backfill=True)
    assert (
        fetch_ohlcv(polygon_client, lake, sqlite_stores, calendar, request).to_dict()["rows_landed"]
        > 0
    )
    assert fetch_tickers(polygon_client, lake, sqlite_stores, DAY, refresh=True).to_dict()[
        "rows_landed"
    ]


def test_the_cli_refuses_a_new_lake_with_the_usage_exit_code(tmp_path, monkeypatch):
    monkeypatch.setenv("LAKE_ROOT", str(tmp_path / "first"))
    monkeypatch.setenv("WATERMARK_DSN", f"sqlite:///{tmp_path / 'wm.sqlite'}")
    monkeypatch.setenv("MARKET_SOURCE", "sample")
    args = ["ingest", "--from", "2025-12-01", "--to", "2025-12-02", "--json"]
    assert CliRunner().invoke(main, args).exit_code == 0
    monkeypatch.setenv("LAKE_ROOT", str(tmp_path / "second"))  # same store, new lake

    result = CliRunner().invoke(main, args)

    assert result.exit_code == NewLakeError.exit_code == ExitCode.USAGE
    (line,) = result.stderr.strip().splitlines()
    assert line.startswith("error: the watermark store (WATERMARK_DSN) says ")
    assert " is landed through 2025-12-02, but LAKE_ROOT " in line
    assert "LAKE_ROOT" in line and "reset it" in line
    assert not (tmp_path / "second" / "bronze").exists()


def test_an_unknown_symbol_is_named_in_a_warning_and_the_rest_land(
    polygon_server, polygon_client, lake, sqlite_stores, calendar, caplog
):
    known = polygon_server.market.listed[0]
    request = OhlcvRequest(end=DAY, start=dt.date(2024, 7, 1), symbols=(known, "ZZZZZ"))

    with caplog.at_level(logging.WARNING):
        summary = fetch_ohlcv(polygon_client, lake, sqlite_stores, calendar, request).to_dict()

    assert summary["status"] == "succeeded"
    assert summary["symbols_fetched"] == [known] and summary["unknown_symbols"] == ["ZZZZZ"]
    [warning] = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert warning.getMessage().startswith("unknown symbol ZZZZZ: polygon has no bars for it")
    # a known symbol with nothing new (already landed through DAY) is not "unknown"
    caplog.clear()
    again = fetch_ohlcv(polygon_client, lake, sqlite_stores, calendar, request).to_dict()
    assert again["unknown_symbols"] == ["ZZZZZ"]
    assert [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING] == [
        warning.getMessage()
    ]


def test_lower_case_symbols_are_upper_cased_once(
    polygon_server, polygon_client, lake, sqlite_stores, calendar, caplog
):
    known = polygon_server.market.listed[1]
    request = OhlcvRequest(end=DAY, start=DAY, symbols=(known.lower(), known))

    with caplog.at_level(logging.WARNING):
        summary = fetch_ohlcv(polygon_client, lake, sqlite_stores, calendar, request).to_dict()

    assert request.symbols == (known,)
    assert summary["symbols_fetched"] == [known] and summary["unknown_symbols"] == []
    [ranges] = [r.path for r in polygon_server.requests_to("/v2/aggs/ticker/")]
    assert ranges.startswith(f"/v2/aggs/ticker/{known}/")
    assert any(f"upper-cased to {known}" in r.getMessage() for r in caplog.records)
    # mixed case is Polygon's share-class spelling and stays as typed
    assert OhlcvRequest(end=DAY, symbols=("BACpB",)).symbols == ("BACpB",)
