"""Landing files dbt cannot read are quarantined before the build (issue 19, class 4):
moved out of every landing glob with their reason in a manifest, never lost; the rest of
the lake still reads. Locally, and by the CheckLanding Lambda on an S3 lake (moto)."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

from core.lake import Lake
from ingestion import quarantine
from ingestion.bars import BAR_SCHEMA
from ingestion.calendar import TradingCalendar
from ingestion.duckdb_lake import define_lake_macros
from ingestion.landing import land_bars
from ingestion.quarantine import check_landing
from orchestration.handlers import check_landing as check_landing_handler
from tests.python.fixtures.aws import AwsEnv

NOW = dt.datetime(2025, 12, 31, 22, tzinfo=dt.UTC)
DAY = dt.date(2025, 12, 30)


def _bars(*symbols: str) -> pa.Table:
    rows = [
        {"symbol": s, "date": DAY, "open": 10.0, "high": 11.0, "low": 9.0, "close": 10.5,
         "volume": 1000.0, "vwap": None, "transactions": 10}
        for s in symbols
    ]  # fmt: skip
    return pa.Table.from_pylist(rows, schema=BAR_SCHEMA)


def _landing_rows(lake_dir: Path) -> int:
    with duckdb.connect() as con:
        define_lake_macros(con, str(lake_dir))
        # Reading a price, as dbt does: a count alone would not read the data pages.
        query = "select count(*), sum(close) from landing_raw_ohlcv()"
        return int(con.execute(query).fetchone()[0])  # type: ignore[index]


def _sibling(good: Path, name: str) -> Path:
    return good.with_name(name)


def test_unreadable_drifted_and_incomplete_files_are_set_aside_with_their_reason(
    lake: Lake, lake_dir: Path, calendar: TradingCalendar
) -> None:
    good = Path(land_bars(lake, calendar, _bars("AAPL", "MSFT"), "sample", NOW).path)
    table = pq.read_table(good)
    bad = {
        "garbage.parquet": b"this is not parquet at all",
        "truncated.parquet": good.read_bytes()[:-40],
    }
    for name, content in bad.items():
        _sibling(good, name).write_bytes(content)
    drifted = table.set_column(
        table.schema.get_field_index("close"), "close", pc.cast(table["close"], pa.string())
    )
    pq.write_table(drifted, _sibling(good, "drifted.parquet"))
    pq.write_table(table.drop_columns(["close"]), _sibling(good, "no_close.parquet"))
    originals = {
        name: _sibling(good, name).read_bytes()
        for name in [*bad, "drifted.parquet", "no_close.parquet"]
    }
    with pytest.raises(duckdb.Error):  # what dbt met: one bad file fails the whole read
        _landing_rows(lake_dir)

    result = check_landing(lake, NOW)

    reasons = {Path(item.path).name: item.reason for item in result.quarantined}
    assert set(reasons) == set(originals)
    assert reasons["garbage.parquet"].startswith("unreadable parquet: ")
    assert reasons["truncated.parquet"].startswith("unreadable parquet: ")
    assert reasons["drifted.parquet"] == "column types drifted: close is string, expected double"
    assert reasons["no_close.parquet"] == "missing required column(s) close"
    assert result.checked == 5
    # Nothing lost: each file is in quarantine, byte for byte, and named by the manifest.
    for item in result.quarantined:
        assert not Path(item.path).exists()
        assert Path(item.moved_to).read_bytes() == originals[Path(item.path).name]
        assert "/bronze/quarantine/raw_ohlcv/ingest_date=" in item.moved_to
    assert result.manifest is not None
    manifest = json.loads(Path(result.manifest).read_text())
    assert {Path(q["path"]).name: q["reason"] for q in manifest["quarantined"]} == reasons
    # The rest of the lake reads; the file without a price put no row anywhere.
    assert good.exists() and _landing_rows(lake_dir) == 2
    # A second check finds nothing more to do.
    again = check_landing(lake, NOW)
    assert again.quarantined == [] and again.manifest is None and again.checked == 1


def test_a_lake_of_good_files_is_left_alone(lake: Lake, calendar: TradingCalendar) -> None:
    land_bars(lake, calendar, _bars("AAPL"), "sample", NOW)
    result = check_landing(lake, NOW)
    assert (result.checked, result.quarantined, result.manifest) == (1, [], None)


def _garbage_page(content: bytes, column: str) -> bytes:
    """A parquet file's bytes with the first page of `column` overwritten: the footer intact."""
    data = bytearray(content)
    meta = pq.ParquetFile(pa.BufferReader(content)).metadata.row_group(0)
    (chunk,) = [
        meta.column(i) for i in range(meta.num_columns) if meta.column(i).path_in_schema == column
    ]
    start = chunk.dictionary_page_offset or chunk.data_page_offset
    data[start : start + 24] = b"\xab" * 24
    return bytes(data)


def test_a_file_whose_footer_reads_but_a_data_page_is_garbage_is_set_aside(
    lake: Lake, lake_dir: Path, calendar: TradingCalendar
) -> None:
    good = Path(land_bars(lake, calendar, _bars("AAPL", "MSFT"), "sample", NOW).path)
    corrupt = _sibling(good, "bad_page.parquet")
    corrupt.write_bytes(_garbage_page(good.read_bytes(), "close"))
    assert pq.ParquetFile(corrupt).schema_arrow == pq.ParquetFile(good).schema_arrow
    with pytest.raises(duckdb.Error):  # the footer is fine; reading the page is not
        _landing_rows(lake_dir)

    result = check_landing(lake, NOW)

    (item,) = result.quarantined
    assert item.path == str(corrupt)
    assert item.reason.startswith("corrupt data in row group 0: ")
    assert not corrupt.exists() and Path(item.moved_to).exists()
    assert _landing_rows(lake_dir) == 2


def test_only_new_or_changed_files_are_read_again(
    lake: Lake, calendar: TradingCalendar, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = Path(land_bars(lake, calendar, _bars("AAPL"), "sample", NOW).path)
    assert (check_landing(lake, NOW).checked, check_landing(lake, NOW).read) == (1, 0)
    read: list[str] = []
    real = quarantine.landing_problem

    def reading(lake: Lake, path: str, dataset: str) -> str | None:
        read.append(Path(path).name)
        return real(lake, path, dataset)

    monkeypatch.setattr(quarantine, "landing_problem", reading)
    second = Path(land_bars(lake, calendar, _bars("MSFT"), "sample", NOW).path)
    result = check_landing(lake, NOW)
    assert (result.checked, result.read, read) == (2, 1, [second.name])
    # A file rewritten in place (same size, another time) is read again, and its page checked.
    first.write_bytes(_garbage_page(first.read_bytes(), "close"))
    result = check_landing(lake, NOW)
    assert read == [second.name, first.name]
    assert [Path(item.path).name for item in result.quarantined] == [first.name]
    assert check_landing(lake, NOW).read == 0


def test_the_lambda_moves_bad_files_on_an_s3_lake_and_loses_none(
    aws_env: AwsEnv, calendar: TradingCalendar, monkeypatch: pytest.MonkeyPatch
) -> None:
    s3 = aws_env.client("s3")
    s3.create_bucket(Bucket="condvest-lake")
    monkeypatch.setenv("LAKE_ROOT", "s3://condvest-lake/lake")
    lake = Lake.open("s3://condvest-lake/lake")
    good = land_bars(lake, calendar, _bars("AAPL", "MSFT"), "sample", NOW).path
    good_key = good.removeprefix("s3://condvest-lake/")
    bad_page_key = good_key.rsplit("/", 1)[0] + "/bad_page.parquet"
    body = s3.get_object(Bucket="condvest-lake", Key=good_key)["Body"].read()
    bad_page = _garbage_page(body, "close")
    garbage_key = "lake/bronze/raw_tickers/ingest_date=2025-12-31/garbage.parquet"
    s3.put_object(Bucket="condvest-lake", Key=bad_page_key, Body=bad_page)
    s3.put_object(Bucket="condvest-lake", Key=garbage_key, Body=b"not parquet")

    def keys(prefix: str) -> list[str]:
        listing = s3.list_objects_v2(Bucket="condvest-lake", Prefix=f"lake/{prefix}")
        return sorted(item["Key"] for item in listing.get("Contents", []))

    # The manifest cannot be written: nothing leaves landing (the copies may stay behind).
    def refused(*args: object) -> str:
        raise OSError("AWS Error ACCESS_DENIED during PutObject")

    write_manifest = quarantine._write_manifest
    monkeypatch.setattr(quarantine, "_write_manifest", refused)
    with pytest.raises(OSError, match="ACCESS_DENIED"):
        check_landing_handler.lambda_handler({}, None)
    assert {bad_page_key, garbage_key} <= set(keys("bronze/raw_"))
    monkeypatch.setattr(quarantine, "_write_manifest", write_manifest)

    result = check_landing_handler.lambda_handler({}, None)

    reasons = {item["path"]: item["reason"] for item in result["quarantined"]}
    assert set(reasons) == {
        f"s3://condvest-lake/{bad_page_key}",
        f"s3://condvest-lake/{garbage_key}",
    }
    assert reasons[f"s3://condvest-lake/{bad_page_key}"].startswith("corrupt data in row group 0")
    assert reasons[f"s3://condvest-lake/{garbage_key}"].startswith("unreadable parquet: ")
    assert keys("bronze/raw_") == [good_key]
    moved = {key.replace("bronze/quarantine/", "bronze/") for key in keys("bronze/quarantine/")}
    assert moved == {bad_page_key, garbage_key}
    for original, content in ((bad_page_key, bad_page), (garbage_key, b"not parquet")):
        kept = original.replace("lake/bronze/", "lake/bronze/quarantine/")
        assert s3.get_object(Bucket="condvest-lake", Key=kept)["Body"].read() == content
    manifest_key = result["manifest"].removeprefix("s3://condvest-lake/")
    manifest = json.loads(s3.get_object(Bucket="condvest-lake", Key=manifest_key)["Body"].read())
    assert {item["path"] for item in manifest["quarantined"]} == set(reasons)
    # The good file was read once; the next run reads nothing.
    again = check_landing_handler.lambda_handler(None, None)
    assert (again["checked"], again["read"], again["quarantined"]) == (1, 0, [])
