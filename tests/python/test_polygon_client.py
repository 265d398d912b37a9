"""PolygonClient against the local Polygon stub: recorded answers, the synthetic market,
retries, faults, pagination and keeping the API key secret."""

from __future__ import annotations

import datetime as dt
import email.utils
import json
import logging
import re
import time
from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest
import requests

from ingestion.bars import BAR_SCHEMA, SOURCE_PROBLEM
from ingestion.polygon import PolygonClient, PolygonError, PolygonHTTPError, PolygonPayloadError
from tests.python.fixtures.polygon_server import (
    NOT_FOUND,
    PRE_REBRAND_DIR,
    RECORDINGS_DIR,
    BadRow,
    Delay,
    Disconnect,
    Malformed,
    NextUrlLoop,
    PolygonStub,
    SleepRecorder,
    Status,
    Truncate,
)

DAY = dt.date(2024, 7, 3)  # a Wednesday session
GROUPED = "/v2/aggs/grouped/locale/us/market/stocks/"


def grouped_path(day: dt.date) -> str:
    return f"{GROUPED}{day.isoformat()}"


def make_client(server: PolygonStub, sleeps: SleepRecorder, **options) -> PolygonClient:
    return PolygonClient(server.api_key, server.base_url, sleep=sleeps, **options)


@pytest.fixture
def pacific_local_time() -> Iterator[None]:
    """Run with the process in Los Angeles time: any date taken from `t` in local time
    (instead of New York) lands a day early, and naive datetimes are misread."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("TZ", "America/Los_Angeles")
        time.tzset()
        yield
    time.tzset()


# -- recorded answers -------------------------------------------------------------------------


def test_grouped_recording_row_keeps_its_true_new_york_date(polygon_server, polygon_client):
    polygon_server.use_recordings()
    table = polygon_client.grouped_daily(dt.date(2005, 4, 4))
    # The recording is filed under 2005-04-04 but holds a 2020-10-14 bar (t = 16:00 ET):
    # the date comes from `t`, not from the URL.
    assert table.schema == BAR_SCHEMA
    assert table.to_pylist() == [
        {
            "symbol": "GIK",
            "date": dt.date(2020, 10, 14),
            "open": 9.99,
            "high": 10.02,
            "low": 9.9,
            "close": 10.02,
            "volume": 895345.0,
            "vwap": 9.9979,
            "transactions": 96,
        }
    ]


def test_range_recording_dates_from_new_york_midnight_across_dst(
    polygon_server, polygon_client, pacific_local_time
):
    polygon_server.use_recordings()
    table = polygon_client.ticker_range("AAPL", dt.date(2005, 4, 1), dt.date(2005, 4, 4))
    # t = 05:00Z (EST) then 04:00Z (EDT, after the 2005-04-03 switch): both NY midnight.
    assert table["date"].to_pylist() == [dt.date(2005, 4, 1), dt.date(2005, 4, 4)]
    assert table["symbol"].to_pylist() == ["AAPL", "AAPL"]
    assert table["close"].to_pylist() == [1.4604, 1.4675]
    assert table["transactions"].to_pylist() == [82132, 65543]


@pytest.mark.parametrize(
    ("pre_rebrand", "next_host"), [(False, "api.massive.com"), (True, "api.polygon.io")]
)
def test_tickers_recording_pages_follow_only_path_and_query(
    polygon_server, polygon_client, pre_rebrand, next_host
):
    polygon_server.use_recordings(pre_rebrand=pre_rebrand)
    directory = PRE_REBRAND_DIR if pre_rebrand else RECORDINGS_DIR
    next_url = json.loads((directory / "v3__reference__tickers.json").read_text())["next_url"]
    assert urlsplit(next_url).netloc == next_host  # a host the client must not call

    table = polygon_client.tickers(dt.date(2022, 4, 27), active=True)

    assert table["symbol"].to_pylist() == ["A", "AA", "AAA", "AAAU"]
    assert table["cik"].to_pylist() == ["0001090872", "0001675149", None, "0001708646"]
    assert set(table["as_of_date"].to_pylist()) == {dt.date(2022, 4, 27)}
    first, second = polygon_server.requests
    assert first.query["active"] == ["true"] and first.query["limit"] == ["1000"]
    # The follow-up is next_url's path and query on our host, with nothing added.
    assert second.url == urlsplit(next_url).path + "?" + urlsplit(next_url).query
    assert second.query == {"cursor": [urlsplit(next_url).query.removeprefix("cursor=")]}


def test_splits_recording_ratios(polygon_server, polygon_client):
    polygon_server.use_recordings()
    splits = polygon_client.splits(dt.date(2022, 1, 1), dt.date(2022, 12, 31))
    assert len(splits) == 10
    assert splits[0] == ("GOOGL", dt.date(2022, 7, 18), 20.0)
    assert ("BRW", dt.date(2022, 5, 20), 0.5) in splits  # a 2-to-1 reverse split
    [request] = polygon_server.requests
    assert request.query["execution_date.gte"] == ["2022-01-01"]
    assert request.query["execution_date.lte"] == ["2022-12-31"]


# -- the synthetic market ---------------------------------------------------------------------


def test_grouped_daily_returns_the_market_without_otc(polygon_server, polygon_client):
    table = polygon_client.grouped_daily(DAY)
    expected = {row["T"]: row for row in polygon_server.market.grouped_rows(DAY)}
    assert table.num_rows == len(polygon_server.market.listed) == len(expected)
    assert set(table["date"].to_pylist()) == {DAY}
    for row in table.to_pylist():
        want = expected[row["symbol"]]
        assert (row["open"], row["high"], row["low"], row["close"]) == (
            want["o"],
            want["h"],
            want["l"],
            want["c"],
        )
        assert (row["volume"], row["vwap"]) == (want["v"], want["vw"])
        assert row["transactions"] == want.get("n")  # `n` is optional: absent -> null
    assert table["transactions"].null_count > 0
    [request] = polygon_server.requests
    assert request.query == {"adjusted": ["true"], "include_otc": ["false"]}


def test_include_otc_is_opt_in(polygon_server, recorded_sleeps):
    client = make_client(polygon_server, recorded_sleeps, include_otc=True)
    symbols = set(client.grouped_daily(DAY)["symbol"].to_pylist())
    assert set(polygon_server.market.otc) <= symbols
    assert polygon_server.requests[0].query["include_otc"] == ["true"]


@pytest.mark.parametrize("day", [dt.date(2024, 7, 4), dt.date(2024, 7, 6)], ids=["holiday", "sat"])
def test_closed_day_answers_200_without_results(polygon_server, polygon_client, day):
    raw = requests.get(
        polygon_server.base_url + grouped_path(day),
        headers={"Authorization": f"Bearer {polygon_server.api_key}"},
        timeout=5,
    )
    assert raw.status_code == 200
    body = raw.json()
    assert body["status"] == "OK" and body["resultsCount"] == 0 and "results" not in body

    table = polygon_client.grouped_daily(day)
    assert table.num_rows == 0 and table.schema == BAR_SCHEMA


def test_range_over_a_weekend_is_empty(polygon_client):
    table = polygon_client.ticker_range("AAAA", dt.date(2024, 7, 6), dt.date(2024, 7, 7))
    assert table.num_rows == 0 and table.schema == BAR_SCHEMA


def test_range_follows_next_url_pages(polygon_server, polygon_client, calendar):
    polygon_server.range_page_limit = 4
    start, end = dt.date(2024, 6, 3), dt.date(2024, 7, 10)
    table = polygon_client.ticker_range("AAAB", start, end)

    sessions = calendar.sessions_between(start, end)
    assert table["date"].to_pylist() == sessions
    assert set(table["symbol"].to_pylist()) == {"AAAB"}
    first, *rest = polygon_server.requests
    assert len(rest) == (len(sessions) - 1) // 4
    assert first.query == {"adjusted": ["true"], "sort": ["asc"], "limit": ["50000"]}
    for request in rest:
        # The API rewrites `from` to the next bar's epoch ms and carries the rest in a cursor.
        assert re.fullmatch(r"/v2/aggs/ticker/AAAB/range/1/day/\d{13}/2024-07-10", request.path)
        assert list(request.query) == ["cursor"]


def test_tickers_pages_and_delisted_names(polygon_server, polygon_client):
    polygon_server.list_page_limit = 7
    market = polygon_server.market
    active = polygon_client.tickers(DAY, active=True)
    assert active["symbol"].to_pylist() == sorted(market.listed)
    assert set(active["active"].to_pylist()) == {True}
    assert active["delisted_date"].null_count == active.num_rows

    delisted = polygon_client.tickers(DAY, active=False)
    assert delisted["symbol"].to_pylist() == market.delisted
    assert set(delisted["delisted_date"].to_pylist()) == {dt.date(2023, 3, 15)}

    pages = -(-len(market.listed) // 7) + -(-len(market.delisted) // 7)
    assert len(polygon_server.requests) == pages
    follow_ups = [r for r in polygon_server.requests if "cursor" in r.query]
    assert len(follow_ups) == pages - 2
    assert all(list(r.query) == ["cursor"] for r in follow_ups)


def test_splits_are_filtered_by_execution_date(polygon_server, polygon_client):
    polygon_server.list_page_limit = 1  # two splits in the window: two pages
    polygon_server.add_split("AAAC", dt.date(2024, 6, 28), 1, 2)
    polygon_server.add_split("AAAD", dt.date(2024, 7, 2), 10, 1)
    polygon_server.add_split("AAAE", dt.date(2024, 7, 9), 1, 4)

    splits = polygon_client.splits(dt.date(2024, 7, 1), dt.date(2024, 7, 8))

    assert splits == [("AAAD", dt.date(2024, 7, 2), 0.1)]
    polygon_server.add_split("AAAF", dt.date(2024, 7, 1), 1, 3)
    splits = polygon_client.splits(dt.date(2024, 7, 1), dt.date(2024, 7, 8))
    assert sorted(splits) == [
        ("AAAD", dt.date(2024, 7, 2), 0.1),
        ("AAAF", dt.date(2024, 7, 1), 3.0),
    ]
    assert len(polygon_server.requests_to("/v3/reference/splits")) == 1 + 2


# -- retries ----------------------------------------------------------------------------------


def http_date(seconds_ahead: int, naive: bool) -> str:
    when = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=seconds_ahead)
    if naive:
        # A naive datetime is formatted with the "-0000" zone: UTC, origin unknown.
        return email.utils.format_datetime(when.replace(tzinfo=None))
    return email.utils.format_datetime(when, usegmt=True)


@pytest.mark.parametrize("form", ["seconds", "http-date", "http-date -0000"])
def test_429_waits_at_least_retry_after(
    polygon_server, polygon_client, recorded_sleeps, pacific_local_time, form
):
    header = {
        "seconds": "7",
        "http-date": http_date(30, naive=False),
        "http-date -0000": http_date(30, naive=True),
    }[form]
    minimum = 7 if form == "seconds" else 28  # an HTTP-date has whole seconds
    polygon_server.inject(GROUPED, Status(429, retry_after=header))

    table = polygon_client.grouped_daily(DAY)

    assert table.num_rows == len(polygon_server.market.listed)
    [delay] = recorded_sleeps.delays
    assert minimum <= delay <= 30
    assert [r.status for r in polygon_server.requests] == [429, 200]


@pytest.mark.parametrize("header", [None, "soon", "inf"])
def test_429_without_a_usable_retry_after_backs_off(
    polygon_server, polygon_client, recorded_sleeps, header
):
    polygon_server.inject(GROUPED, Status(429, retry_after=header))
    assert polygon_client.grouped_daily(DAY).num_rows > 0
    [delay] = recorded_sleeps.delays
    assert 0 <= delay <= polygon_client.backoff_base  # first back-off step, full jitter


def test_a_retry_after_longer_than_the_cap_fails_at_once(
    polygon_server, polygon_client, recorded_sleeps
):
    polygon_server.inject(GROUPED, Status(429, retry_after="3600"))
    with pytest.raises(PolygonError, match="rate limited for 3600 s"):
        polygon_client.grouped_daily(DAY)
    assert recorded_sleeps.delays == []
    assert len(polygon_server.requests) == 1


@pytest.mark.parametrize("code", [500, 502, 503, 504])
def test_server_error_then_success(polygon_server, polygon_client, recorded_sleeps, code):
    polygon_server.inject(GROUPED, Status(code))
    assert polygon_client.grouped_daily(DAY).num_rows == len(polygon_server.market.listed)
    assert [r.status for r in polygon_server.requests] == [code, 200]
    assert len(recorded_sleeps.delays) == 1


def test_persistent_server_error_gives_up_after_the_retries(
    polygon_server, polygon_client, recorded_sleeps
):
    polygon_server.inject(GROUPED, Status(502), times=None)  # a gateway's HTML page
    with pytest.raises(PolygonError, match=r"gave up after 3 attempts \(HTTP 502: <html>") as exc:
        polygon_client.grouped_daily(DAY)
    assert not isinstance(exc.value, PolygonHTTPError | PolygonPayloadError)
    assert len(polygon_server.requests) == 3
    assert len(recorded_sleeps.delays) == 2


def test_timeout_is_retried(polygon_server, recorded_sleeps):
    # 0.5 s: short, yet ample for the retry's answer on a busy machine.
    client = make_client(polygon_server, recorded_sleeps, timeout=0.5)
    polygon_server.inject(GROUPED, Delay(5.0))
    assert client.grouped_daily(DAY).num_rows == len(polygon_server.market.listed)
    assert len(polygon_server.requests) == 2 and len(recorded_sleeps.delays) == 1


def test_timeouts_exhaust_the_retries(polygon_server, recorded_sleeps):
    client = make_client(polygon_server, recorded_sleeps, timeout=0.2, max_retries=1)
    polygon_server.inject(GROUPED, Delay(5.0), times=None)
    with pytest.raises(PolygonError, match=r"gave up after 2 attempts \(ReadTimeout\)"):
        client.grouped_daily(DAY)
    assert len(polygon_server.requests) == 2


def test_truncated_json_is_retried(polygon_server, polygon_client):
    polygon_server.inject(GROUPED, Truncate())
    assert polygon_client.grouped_daily(DAY).num_rows == len(polygon_server.market.listed)
    assert [r.fault for r in polygon_server.requests] == ["Truncate", None]


def test_truncated_json_every_time_is_a_payload_error(polygon_server, polygon_client):
    polygon_server.inject(GROUPED, Truncate(), times=None)
    with pytest.raises(
        PolygonPayloadError, match=r"gave up after 3 attempts \(truncated or invalid JSON\)"
    ):
        polygon_client.grouped_daily(DAY)
    assert len(polygon_server.requests) == 3


def test_connection_dropped_mid_body_is_retried(polygon_server, polygon_client):
    polygon_server.inject(GROUPED, Disconnect())
    assert polygon_client.grouped_daily(DAY).num_rows == len(polygon_server.market.listed)
    assert [r.fault for r in polygon_server.requests] == ["Disconnect", None]


def test_connection_dropped_every_time_gives_up(polygon_server, polygon_client):
    polygon_server.inject(GROUPED, Disconnect(), times=None)
    with pytest.raises(PolygonError, match=r"3 attempts \(ChunkedEncodingError\)"):
        polygon_client.grouped_daily(DAY)


# -- payloads and client errors: no retry -----------------------------------------------------


@pytest.mark.parametrize(
    ("fault", "message"),
    [
        (Malformed("results_not_list"), r"`results` is not a list of objects"),
        (Malformed("not_an_object"), r"expected a JSON object, got list"),
        (Malformed("status_error"), r"unexpected status 'ERROR'"),
    ],
    ids=lambda value: getattr(value, "kind", None) or getattr(value, "key", None),
)
def test_malformed_payload_is_a_payload_error(
    polygon_server, polygon_client, recorded_sleeps, fault, message
):
    polygon_server.inject(GROUPED, fault)
    with pytest.raises(PolygonPayloadError, match=re.escape(grouped_path(DAY)) + ": " + message):
        polygon_client.grouped_daily(DAY)
    assert len(polygon_server.requests) == 1 and recorded_sleeps.delays == []


@pytest.mark.parametrize(
    ("fault", "problem", "symbol_known"),
    [
        (BadRow("c"), r"result 0: lacks c$", True),
        (BadRow("T", index=3), r"result 3: lacks T$", False),
        (BadRow("c", "95.5", index=7), r"result 7: c='95.5' is not a number$", True),
        # bool is an int in Python; a price of True must not land as 1.0.
        (BadRow("h", True, index=2), r"result 2: h=True is not a number$", True),
        (BadRow("T", 42), r"result 0: T=42 is not a string$", False),
        (BadRow("t", 1720036800000.0), r"result 0: t=1720036800000.0 is not epoch ms$", True),
        (BadRow("t", "2024-07-03"), r"result 0: t='2024-07-03' is not epoch ms$", True),
    ],
    ids=lambda value: getattr(value, "key", None),
)
def test_a_malformed_record_is_kept_with_its_problem_and_the_rest_of_the_session_lands(
    polygon_server, polygon_client, recorded_sleeps, fault, problem, symbol_known
):
    polygon_server.inject(GROUPED, fault)
    bars = polygon_client.grouped_daily(DAY)
    assert bars.num_rows == len(polygon_server.market.listed)
    problems = bars[SOURCE_PROBLEM].to_pylist()
    flagged = [i for i, value in enumerate(problems) if value is not None]
    assert flagged == [fault.index]
    assert re.search(re.escape(grouped_path(DAY)) + ": " + problem, problems[fault.index])
    row = bars.slice(fault.index, 1).to_pylist()[0]
    assert row["date"] == DAY  # the session asked for, when `t` cannot say
    assert bool(row["symbol"]) == symbol_known
    assert len(polygon_server.requests) == 1 and recorded_sleeps.delays == []


def test_a_malformed_range_row_is_kept_with_its_problem(polygon_server, polygon_client):
    polygon_server.inject("/v2/aggs/ticker/AAAA/", BadRow("c"))
    bars = polygon_client.ticker_range("AAAA", DAY, DAY)
    (row,) = bars.to_pylist()
    assert row["symbol"] == "AAAA" and row["close"] is None
    assert row[SOURCE_PROBLEM].endswith("result 0: lacks c")


def test_optional_and_float_counts_are_accepted(polygon_server, polygon_client):
    # `vw` and `n` are optional, and `n` has been seen as a float: still valid bars.
    polygon_server.inject(GROUPED, BadRow("n", 12.0, index=1))
    polygon_server.inject(GROUPED, BadRow("vw", None, index=1))
    polygon_server.inject(GROUPED, BadRow("vw"))
    first, second, third = (polygon_client.grouped_daily(DAY).slice(0, 2) for _ in range(3))
    assert first["transactions"][1].as_py() == 12
    assert second["vwap"].to_pylist()[1] is None
    assert third["vwap"].to_pylist()[0] is None
    assert first.schema == second.schema == third.schema == BAR_SCHEMA


def test_wrong_key_is_401_without_retry(polygon_server, recorded_sleeps):
    client = PolygonClient("not-the-key", polygon_server.base_url, sleep=recorded_sleeps)
    with pytest.raises(PolygonHTTPError, match=r"HTTP 401 .*Unknown API Key") as exc:
        client.grouped_daily(DAY)
    assert exc.value.status == 401
    assert len(polygon_server.requests) == 1 and recorded_sleeps.delays == []


@pytest.mark.parametrize(
    ("fault", "status", "message"),
    [
        (Status(403), 403, "You are not entitled to this data"),
        (NOT_FOUND, 404, "Ticker not found."),
        (Status(400, body={"status": "ERROR", "error": "bad date"}), 400, "bad date"),
    ],
)
def test_client_errors_are_not_retried(
    polygon_server, polygon_client, recorded_sleeps, fault, status, message
):
    polygon_server.inject("/v2/aggs/ticker/", fault)
    with pytest.raises(PolygonHTTPError, match=re.escape(message)) as exc:
        polygon_client.ticker_range("AAAA", DAY, DAY)
    assert exc.value.status == status
    assert len(polygon_server.requests) == 1 and recorded_sleeps.delays == []


def test_a_key_is_required():
    with pytest.raises(PolygonError, match="an API key is required"):
        PolygonClient("")


def test_stub_takes_the_key_as_bearer_or_query_only(polygon_server):
    url = polygon_server.base_url + grouped_path(DAY)
    missing = requests.get(url, timeout=5)
    assert missing.status_code == 400 and missing.json()["error"] == "API Key was not provided"
    by_query = requests.get(url, params={"apiKey": polygon_server.api_key}, timeout=5)
    assert by_query.status_code == 200 and by_query.json()["resultsCount"] > 0
    wrong = requests.get(url, headers={"Authorization": "Bearer nope"}, timeout=5)
    assert wrong.status_code == 401
    assert wrong.json() == {
        "status": "ERROR",
        "error": "Unknown API Key",
        "request_id": wrong.headers["X-Request-Id"],
    }
    assert [r.auth for r in polygon_server.requests] == [None, "query", "bearer"]


def test_next_url_loop_is_detected(polygon_server, polygon_client):
    polygon_server.inject("/v3/reference/tickers", NextUrlLoop(), times=None)
    with pytest.raises(PolygonPayloadError, match="next_url repeats itself"):
        polygon_client.tickers(DAY, active=True)
    assert len(polygon_server.requests) == 2


# -- the key stays secret ---------------------------------------------------------------------


def test_api_key_never_leaks(polygon_server, recorded_sleeps, caplog):
    caplog.set_level(logging.DEBUG)  # urllib3 logs every URL at DEBUG
    key = polygon_server.api_key
    client = make_client(polygon_server, recorded_sleeps, timeout=0.2, max_retries=1)
    # A misbehaving gateway that echoes the request's Authorization header back.
    echo = {"status": "ERROR", "error": f"upstream refused Authorization: Bearer {key}"}
    errors: list[Exception] = []

    def attempt(fault, *, endpoint: str = "grouped") -> None:
        polygon_server.clear_faults()
        if fault is not None:
            polygon_server.inject("/v", fault, times=None)
        try:
            if endpoint == "grouped":
                client.grouped_daily(DAY)
            elif endpoint == "range":
                client.ticker_range("AAAA", dt.date(2024, 1, 2), DAY)
            else:
                client.tickers(DAY, active=True)
        except PolygonError as exc:
            errors.append(exc)

    for fault in (
        Status(503, body=echo),
        Status(400, body=echo),
        Status(403),
        Delay(5.0),
        Truncate(),
        Disconnect(),
        BadRow("c", "95.5"),
    ):
        attempt(fault)
    polygon_server.range_page_limit = polygon_server.list_page_limit = 25
    attempt(None, endpoint="range")
    attempt(None, endpoint="tickers")
    attempt(NextUrlLoop(), endpoint="tickers")

    # Every fault but the malformed row raises; that row is logged (checked key-free below).
    assert len(errors) == 7
    assert any(
        record.getMessage() == "malformed record landed invalid" for record in caplog.records
    )
    assert any("***" in str(error) for error in errors)  # the echoed key was redacted
    assert all(key not in str(error) for error in errors)
    assert key not in caplog.text
    for record in caplog.records:  # extras too: structured log handlers emit them
        assert key not in json.dumps(record.__dict__, default=str)
    assert any(record.getMessage() == "polygon retry" for record in caplog.records)
    for request in polygon_server.requests:
        assert request.auth == "bearer"
        assert key not in request.url and key not in json.dumps(request.headers)
