import datetime as dt
import math

import pyarrow as pa
import pytest

from core.lake import Lake
from ingestion.bars import BAR_SCHEMA, invalid_reasons, ticker_invalid_reasons
from ingestion.landing import land_bars
from ingestion.symbols import InvalidSymbolError, is_valid_symbol, require_symbol

DAY = dt.date(2024, 7, 8)


def bar(symbol="AAPL", date=DAY, o=10.0, h=12.0, lo=9.0, c=11.0, v=100.0, vw=10.5, n=5):
    return {
        "symbol": symbol,
        "date": date,
        "open": o,
        "high": h,
        "low": lo,
        "close": c,
        "volume": v,
        "vwap": vw,
        "transactions": n,
    }


def reasons(calendar, *rows):
    return invalid_reasons(
        pa.Table.from_pylist(list(rows), schema=BAR_SCHEMA), calendar
    ).to_pylist()


@pytest.mark.parametrize(
    ("row", "expected"),
    [
        (bar(), None),
        (bar(vw=None, n=None), None),  # optional fields may be absent
        (bar(o=0.0, lo=0.0), "non_positive_price"),
        (bar(lo=-1.0), "non_positive_price"),
        (
            bar(h=8.0, o=8.0, c=8.5),
            "high_below_low;open_outside_range;close_outside_range;vwap_outside_range",
        ),
        (bar(o=12.5), "open_outside_range"),
        (bar(c=8.0), "close_outside_range"),
        (bar(c=math.nan), "missing_value"),
        (bar(h=None), "missing_value"),
        (bar(v=math.nan), "missing_value"),
        (bar(v=-1.0), "negative_volume"),
        (bar(vw=0.0), "non_positive_vwap;vwap_outside_range"),
        (bar(vw=12.5), "vwap_outside_range"),
        (bar(vw=9.0), None),  # at the low: inside
        (bar(h=math.inf), "non_finite_value;value_out_of_range"),
        (bar(v=-math.inf), "non_finite_value;negative_volume"),
        (bar(vw=math.inf), "non_finite_value;value_out_of_range;vwap_outside_range"),
        (bar(o=2e9, h=2e9), "value_out_of_range"),
        (bar(v=1e16), "value_out_of_range"),
        (bar(n=-1), "value_out_of_range"),
        (bar(date=dt.date(2024, 7, 6)), "not_a_session"),
        (bar(symbol="\x00HTLB"), "invalid_symbol"),
        (bar(symbol="AAPL; drop table x"), "invalid_symbol"),
    ],
)
def test_each_rule(calendar, row, expected):
    assert reasons(calendar, row) == [expected]


def test_duplicates_in_one_batch_flag_every_copy(calendar):
    out = reasons(calendar, bar(), bar(c=11.5), bar(symbol="MSFT"), bar(date=dt.date(2024, 7, 5)))
    assert out == ["duplicate_in_batch", "duplicate_in_batch", None, None]


def test_an_exact_copy_lands_once_and_the_copies_are_kept_aside(calendar):
    out = reasons(calendar, bar(), bar(symbol="MSFT"), bar(), bar(), bar(vw=None), bar(vw=None))
    # AAPL: three versions, two of them without a vwap: the batch does not say which is right
    assert out == ["duplicate_in_batch", None] + ["duplicate_in_batch"] * 4
    out = reasons(calendar, bar(), bar(symbol="MSFT"), bar(), bar(symbol="MSFT"), bar())
    assert out == [None, None, "repeated_row", "repeated_row", "repeated_row"]


def test_a_bar_after_today_in_new_york_is_future_dated(calendar):
    rows = [bar(date=dt.date(2024, 7, 8)), bar(symbol="MSFT", date=dt.date(2024, 7, 9))]
    table = pa.Table.from_pylist(rows, schema=BAR_SCHEMA)
    assert invalid_reasons(table, calendar, today=dt.date(2024, 7, 8)).to_pylist() == [
        None,
        "future_date",
    ]
    assert invalid_reasons(table, calendar).to_pylist() == [None, None]  # no clock: unchecked


def test_several_reasons_are_joined_in_a_stable_order(calendar):
    row = bar(symbol="bad sym", o=-1.0, h=1.0, lo=2.0, c=math.nan)
    assert reasons(calendar, row) == [
        "invalid_symbol;missing_value;non_positive_price;high_below_low;open_outside_range;"
        "vwap_outside_range"
    ]


def test_empty_table(calendar):
    assert reasons(calendar) == []


@pytest.mark.parametrize("symbol", ["AAPL", "BRK.A", "BF-B", "ZZZ.WS.A", "BACpB", "X", "GOOGL"])
def test_valid_symbols(symbol):
    assert require_symbol(symbol) == symbol


@pytest.mark.parametrize(
    "symbol", ["", "aapl", "AGM/A", "A B", "A..B", "../etc", "AAPL'--", "\x00HTLB", None, 7]
)
def test_invalid_symbols(symbol):
    assert not is_valid_symbol(symbol)
    with pytest.raises(InvalidSymbolError, match="invalid symbol"):
        require_symbol(symbol)


def test_ticker_rows_only_fail_on_the_symbol():
    table = pa.table({"symbol": ["AAPL", "AAPL", "no/pe"]})
    assert ticker_invalid_reasons(table).to_pylist() == [None, None, "invalid_symbol"]


def test_a_future_bar_lands_quarantined_and_moves_no_watermark(calendar, tmp_path):
    # 21:00 UTC on 2024-07-08 is still the 8th in New York; the 9th is tomorrow there.
    now = dt.datetime(2024, 7, 8, 21, 0, tzinfo=dt.UTC)
    rows = [bar(), bar(date=dt.date(2024, 7, 9)), bar(symbol="MSFT", date=dt.date(2024, 7, 9))]
    batch = land_bars(
        Lake.open(str(tmp_path)), calendar, pa.Table.from_pylist(rows, schema=BAR_SCHEMA), "t", now
    )
    assert (batch.rows, batch.invalid_rows, batch.reasons) == (3, 2, {"future_date": 2})
    assert batch.max_date_by_symbol == {"AAPL": DAY}  # not the 9th; MSFT has no bar yet
