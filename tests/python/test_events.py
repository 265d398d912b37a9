import datetime as dt

import pytest

from ingestion.events import EventError, parse_meta_event, parse_ohlcv_event

DEFAULT = dt.date(2024, 7, 8)


def test_empty_event_means_the_default_session():
    for event in (None, {}):
        request = parse_ohlcv_event(event, DEFAULT)
        assert (request.start, request.end, request.symbols, request.backfill) == (
            None, DEFAULT, None, False,
        )  # fmt: skip


def test_date_range_symbols_backfill():
    one = parse_ohlcv_event({"date": "2024-07-01"}, DEFAULT)
    assert one.start == one.end == dt.date(2024, 7, 1)
    ranged = parse_ohlcv_event(
        {"from": "2024-01-02", "to": "2024-02-01", "symbols": ["AAPL"], "backfill": True}, DEFAULT
    )
    assert ranged.start == dt.date(2024, 1, 2) and ranged.end == dt.date(2024, 2, 1)
    assert ranged.symbols == ("AAPL",) and ranged.backfill
    assert parse_ohlcv_event({"from": "2024-01-02"}, DEFAULT).end == DEFAULT


@pytest.mark.parametrize(
    ("event", "message"),
    [
        ({"symbol": ["AAPL"]}, "unknown event keys"),
        ({"date": "2024/07/01"}, "must be YYYY-MM-DD"),
        ({"date": "2024-07-01", "to": "2024-07-02"}, "either 'date' or"),
        ({"from": "2024-07-03", "to": "2024-07-02"}, "after end"),
        ({"symbols": "AAPL"}, "list of ticker strings"),
        ({"symbols": ["AAPL", "bad sym"]}, "invalid symbol"),
        ({"backfill": "yes"}, "true or false"),
        (["2024-07-01"], "JSON object"),
    ],
)
def test_bad_events_are_refused_clearly(event, message):
    with pytest.raises(EventError, match=message):
        parse_ohlcv_event(event, DEFAULT)


def test_meta_event():
    assert parse_meta_event({}, DEFAULT) == DEFAULT
    assert parse_meta_event({"date": "2024-01-02"}, DEFAULT) == dt.date(2024, 1, 2)
    with pytest.raises(EventError, match="unknown event keys"):
        parse_meta_event({"symbols": []}, DEFAULT)
