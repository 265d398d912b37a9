import datetime as dt
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from ingestion.file_import import FileImportError, ingest_file, read_bars_file

HEADER = "symbol,date,open,high,low,close,volume,vwap,transactions\n"


def write(tmp_path: Path, text: str, name: str = "bars.csv") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def landed(lake_dir: Path) -> pa.Table:
    files = sorted(lake_dir.glob("bronze/raw_ohlcv/ingest_date=*/*.parquet"))
    assert len(files) == 1
    return pq.read_table(files[0])


def test_valid_csv_lands_one_batch_with_lineage(tmp_path, lake, lake_dir, sqlite_stores, calendar):
    path = write(
        tmp_path,
        HEADER + "AAPL,2024-07-08,10,12,9,11,1000,10.5,12\nMSFT,2024-07-08,20,21,19,20.5,500,,\n",
    )
    summary = ingest_file(path, lake, sqlite_stores.ledger, calendar).to_dict()
    assert summary["status"] == "succeeded"
    assert summary["rows_landed"] == 2 and summary["invalid_rows"] == 0
    table = landed(lake_dir)
    assert table.column("source").to_pylist() == ["file:bars.csv"] * 2
    assert table.column("date").to_pylist() == [dt.date(2024, 7, 8)] * 2
    assert table.column("vwap").to_pylist() == [10.5, None]
    assert table.column("transactions").to_pylist() == [12, None]
    run = sqlite_stores.ledger.runs("ohlcv")[-1]
    assert run["status"] == "succeeded" and run["rows_landed"] == 2
    # Importing a file never moves the fetchers' watermarks.
    assert sqlite_stores.watermarks.get("ohlcv") is None


def test_rule_breaking_rows_are_landed_with_reasons(
    tmp_path, lake, lake_dir, sqlite_stores, calendar
):
    rows = [
        "AAPL,2024-07-08,0,12,0,11,1000,,",  # zero price
        "MSFT,2024-07-08,10,9,11,10,1000,,",  # high < low
        "IBM,2024-07-08,13,12,9,11,1000,,",  # open above high
        "ORCL,2024-07-08,10,12,9,NaN,1000,,",  # NaN
        "AMD,2024-07-05,10,12,9,11,1000,,",  # duplicate pair
        "AMD,2024-07-05,10,12,9,11.5,1000,,",
        "SAT,2024-07-06,10,12,9,11,1000,,",  # a Saturday
    ]
    summary = ingest_file(
        write(tmp_path, HEADER + "\n".join(rows) + "\n"), lake, sqlite_stores.ledger, calendar
    ).to_dict()
    assert summary["rows_landed"] == 7 and summary["invalid_rows"] == 7
    reasons = dict(
        zip(
            landed(lake_dir)["symbol"].to_pylist(),
            landed(lake_dir)["invalid_reason"].to_pylist(),
            strict=False,
        )
    )
    assert reasons["AAPL"] == "non_positive_price"
    assert reasons["MSFT"] == "high_below_low;open_outside_range;close_outside_range"
    assert reasons["IBM"] == "open_outside_range"
    assert reasons["ORCL"] == "missing_value"
    assert reasons["AMD"] == "duplicate_in_batch"
    assert reasons["SAT"] == "not_a_session"
    assert summary["invalid_reasons"]["duplicate_in_batch"] == 2


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (HEADER.replace("vwap", "vwapp"), r"unknown columns \['vwapp'\]"),
        ("symbol,date,open,high,low,close\n", r"missing required columns \['volume'\]"),
        (HEADER + "AAPL,07/08/2024,10,12,9,11,1,,\n", r"not a date: row 2: '07/08/2024'"),
        (HEADER + "AAPL,2024-02-30,10,12,9,11,1,,\n", r"not a date: row 2: '2024-02-30'"),
        (HEADER + "AAPL,2024-07-08,ten,12,9,11,1,,\n", r"'open' is not a number: row 2: 'ten'"),
        (HEADER + "AAPL,2024-07-08,10,12,9,11,1,,2.5\n", r"'transactions' must be whole numbers"),
        (HEADER + ",2024-07-08,10,12,9,11,1,,\n", r"rows without a symbol"),
        (HEADER, r"no rows"),
    ],
)
def test_unrepresentable_input_refuses_the_file(
    tmp_path, lake, lake_dir, sqlite_stores, calendar, text, message
):
    with pytest.raises(FileImportError, match=message):
        ingest_file(write(tmp_path, text), lake, sqlite_stores.ledger, calendar)
    assert not list(lake_dir.glob("**/*.parquet"))
    run = sqlite_stores.ledger.runs("ohlcv")[-1]
    assert run["status"] == "failed" and "FileImportError" in run["detail"]


def test_many_bad_dates_are_summarised(tmp_path):
    rows = "".join(f"AAPL,bad{i},10,12,9,11,1,,\n" for i in range(8))
    with pytest.raises(FileImportError, match="and 3 more"):
        read_bars_file(write(tmp_path, HEADER + rows))


def test_parquet_with_native_types(tmp_path, lake, lake_dir, sqlite_stores, calendar):
    table = pa.table(
        {
            "Symbol": ["AAPL", "AAPL"],
            "Date": pa.array(
                [dt.datetime(2024, 7, 5), dt.datetime(2024, 7, 8)], pa.timestamp("ns")
            ),
            "open": [10.0, 11.0],
            "high": [12.0, 12.0],
            "low": [9.0, 10.0],
            "close": [11.0, 11.5],
            "volume": pa.array([100, 200], pa.int64()),
        }
    )
    path = tmp_path / "bars.parquet"
    pq.write_table(table, path)
    summary = ingest_file(path, lake, sqlite_stores.ledger, calendar).to_dict()
    assert summary["rows_landed"] == 2 and summary["invalid_rows"] == 0
    out = landed(lake_dir)
    assert out["volume"].type == pa.float64()
    assert out["date"].to_pylist() == [dt.date(2024, 7, 5), dt.date(2024, 7, 8)]


def test_parquet_timestamps_with_a_time_of_day_are_refused(tmp_path):
    table = pa.table(
        {
            "symbol": ["AAPL"],
            "date": pa.array([dt.datetime(2024, 7, 8, 16, 0)], pa.timestamp("us")),
            "open": [1.0], "high": [1.0], "low": [1.0], "close": [1.0], "volume": [1.0],
        }
    )  # fmt: skip
    path = tmp_path / "bars.parquet"
    pq.write_table(table, path)
    with pytest.raises(FileImportError, match="time of day"):
        read_bars_file(path)


def test_other_extensions_are_refused(tmp_path):
    with pytest.raises(FileImportError, match=r"expected a \.csv or \.parquet"):
        read_bars_file(write(tmp_path, HEADER, "bars.json"))
