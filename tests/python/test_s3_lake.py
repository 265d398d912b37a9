"""The lake on S3 end to end: pyarrow writes to a moto server, boto3 and pyarrow read back.

The Lambda handlers run as in AWS: LAKE_ROOT=s3://..., the watermark store on a real
PostgreSQL server, reached either through WATERMARK_DSN or through an RDS-style secret.
"""

from __future__ import annotations

import datetime as dt
import re

import pyarrow as pa
import pyarrow.dataset as pads
import pyarrow.parquet as pq
import pytest
from psycopg.conninfo import conninfo_to_dict

from core.lake import Lake
from ingestion.calendar import TradingCalendar
from ingestion.fetch import OhlcvRequest, fetch_ohlcv, fetch_tickers
from ingestion.handlers import daily_meta_fetcher, daily_ohlcv_fetcher
from ingestion.runs import OHLCV, TICKERS
from ingestion.sample_market import SPLIT_SYMBOL, SampleMarket
from ingestion.stores import Stores
from tests.python.fixtures.aws import AwsEnv
from tests.python.fixtures.postgres import PostgresServer

BUCKET = "condvest-lake"
LAKE_ROOT = f"s3://{BUCKET}/lake"
LANDING_KEY = re.compile(
    r"lake/bronze/(?P<dataset>raw_ohlcv|raw_tickers)/"
    r"ingest_date=(?P<ingest_date>\d{4}-\d{2}-\d{2})/(?P<batch_id>[^/]+)\.parquet"
)


def _keys(aws_env: AwsEnv, prefix: str = "lake/") -> list[str]:
    listing = aws_env.client("s3").list_objects_v2(Bucket=BUCKET, Prefix=prefix)
    assert not listing["IsTruncated"]
    return sorted(item["Key"] for item in listing.get("Contents", []))


def _parquet_keys(aws_env: AwsEnv) -> list[str]:
    keys = _keys(aws_env)
    # Besides the batch files, only pyarrow's zero-byte directory markers: no temp objects.
    assert [key for key in keys if not key.endswith((".parquet", "/"))] == []
    return [key for key in keys if key.endswith(".parquet")]


def _read_with_boto3(aws_env: AwsEnv, key: str) -> pa.Table:
    body = aws_env.client("s3").get_object(Bucket=BUCKET, Key=key)["Body"].read()
    return pq.read_table(pa.BufferReader(body))


def _landing_dataset(key: str) -> str:
    match = LANDING_KEY.fullmatch(key)
    assert match is not None, key
    return match["dataset"]


def _check_landing_file(aws_env: AwsEnv, lake: Lake, key: str, dataset: str) -> pa.Table:
    """The key follows the landing layout, and its contents agree with its name."""
    match = LANDING_KEY.fullmatch(key)
    assert match is not None, key
    assert match["dataset"] == dataset
    table = _read_with_boto3(aws_env, key)
    assert table.equals(pq.read_table(f"{BUCKET}/{key}", filesystem=lake.fs))
    assert set(table["batch_id"].to_pylist()) == {match["batch_id"]}
    ingested = {ts.astimezone(dt.UTC).date() for ts in table["ingested_at"].to_pylist()}
    assert ingested == {dt.date.fromisoformat(match["ingest_date"])}
    return table


@pytest.fixture
def s3_lake(aws_env: AwsEnv) -> Lake:
    aws_env.create_bucket(BUCKET)
    return Lake.open(LAKE_ROOT)


def test_fetch_ohlcv_lands_batches_on_s3(
    aws_env: AwsEnv, s3_lake: Lake, sqlite_stores: Stores, calendar: TradingCalendar
) -> None:
    # 2024-06-07 .. 2024-06-11: three sessions, and a split on the 10th restates NVLX.
    request = OhlcvRequest(start=dt.date(2024, 6, 7), end=dt.date(2024, 6, 11))

    summary = fetch_ohlcv(
        SampleMarket(calendar), s3_lake, sqlite_stores, calendar, request
    ).to_dict()

    assert summary["status"] == "succeeded"
    assert summary["sessions_landed"] == 3
    assert summary["restated_symbols"] == [SPLIT_SYMBOL]
    keys = _parquet_keys(aws_env)
    assert len(keys) == summary["files_written"] == 4
    rows = sum(_check_landing_file(aws_env, s3_lake, key, "raw_ohlcv").num_rows for key in keys)
    assert rows == summary["rows_landed"]
    # Readers see one hive-partitioned dataset, directory markers and all.
    dataset = pads.dataset(
        f"{BUCKET}/lake/bronze/raw_ohlcv", filesystem=s3_lake.fs, partitioning="hive"
    )
    assert dataset.count_rows() == rows
    assert s3_lake.list_files("bronze/raw_ohlcv") == [f"{BUCKET}/{key}" for key in keys]
    assert sqlite_stores.watermarks.get(OHLCV) == dt.date(2024, 6, 11)


def test_fetch_tickers_lands_one_batch_on_s3(
    aws_env: AwsEnv, s3_lake: Lake, sqlite_stores: Stores, calendar: TradingCalendar
) -> None:
    as_of = dt.date(2024, 6, 10)

    summary = fetch_tickers(SampleMarket(calendar), s3_lake, sqlite_stores, as_of).to_dict()

    assert summary["status"] == "succeeded"
    assert summary["files_written"] == 1
    (key,) = _parquet_keys(aws_env)
    table = _check_landing_file(aws_env, s3_lake, key, "raw_tickers")
    assert table.num_rows == summary["rows_landed"] > 0
    assert set(table["as_of_date"].to_pylist()) == {as_of}
    assert s3_lake.list_files("bronze/raw_tickers") == [f"{BUCKET}/{key}"]
    assert s3_lake.list_files("bronze/raw_ohlcv") == []
    assert sqlite_stores.watermarks.get(TICKERS) == as_of


def test_list_files_on_s3_keeps_to_the_prefix_and_suffix(aws_env: AwsEnv, s3_lake: Lake) -> None:
    s3 = aws_env.client("s3")
    for key in (
        "lake/bronze/raw_ohlcv/ingest_date=2024-06-10/b1.parquet",
        "lake/bronze/raw_ohlcv/ingest_date=2024-06-11/b2.parquet",
        "lake/bronze/raw_ohlcv/ingest_date=2024-06-11/b3.parquet.0a1b2c.tmp",
        "lake/bronze/raw_ohlcv/_SUCCESS",
        "lake/bronze/raw_ohlcv_old/ingest_date=2024-06-10/b0.parquet",  # a look-alike prefix
        "lake/bronze/raw_tickers/ingest_date=2024-06-10/t1.parquet",
    ):
        s3.put_object(Bucket=BUCKET, Key=key, Body=b"x")

    assert s3_lake.list_files("bronze/raw_ohlcv") == [
        f"{BUCKET}/lake/bronze/raw_ohlcv/ingest_date=2024-06-10/b1.parquet",
        f"{BUCKET}/lake/bronze/raw_ohlcv/ingest_date=2024-06-11/b2.parquet",
    ]
    assert s3_lake.list_files("bronze/raw_ohlcv", suffix=".tmp") == [
        f"{BUCKET}/lake/bronze/raw_ohlcv/ingest_date=2024-06-11/b3.parquet.0a1b2c.tmp"
    ]
    assert s3_lake.list_files("silver") == []


# -- the Lambda handlers: S3 lake + PostgreSQL watermarks -----------------------------------


@pytest.fixture
def lambda_env(aws_env: AwsEnv, s3_lake: Lake, monkeypatch: pytest.MonkeyPatch) -> AwsEnv:
    monkeypatch.setenv("LAKE_ROOT", LAKE_ROOT)
    monkeypatch.setenv("MARKET_SOURCE", "sample")
    for name in ("RDS_SECRET_ARN", "POLYGON_API_KEY", "POLYGON_API_KEY_SECRET_ARN"):
        monkeypatch.delenv(name, raising=False)
    return aws_env


def test_ohlcv_handler_resumes_from_the_postgres_watermark(
    lambda_env: AwsEnv, pg_database: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("WATERMARK_DSN", pg_database)

    first = daily_ohlcv_fetcher.lambda_handler({"from": "2024-06-05", "to": "2024-06-07"}, None)
    first_keys = _parquet_keys(lambda_env)
    # No start date: the second run picks up after the watermark the first one stored.
    second = daily_ohlcv_fetcher.lambda_handler({"to": "2024-06-11"}, None)

    assert (first["status"], first["first_session"], first["last_session"]) == (
        "succeeded",
        "2024-06-05",
        "2024-06-07",
    )
    assert (second["status"], second["first_session"], second["last_session"]) == (
        "succeeded",
        "2024-06-10",
        "2024-06-11",
    )
    assert second["restated_symbols"] == [SPLIT_SYMBOL]
    assert len(first_keys) == first["files_written"] == 3
    keys = _parquet_keys(lambda_env)
    assert set(first_keys) < set(keys)
    assert len(keys) == 3 + second["files_written"] == 6  # + 2 sessions and 1 restatement
    stores = Stores.connect(pg_database)
    try:
        assert stores.watermarks.get(OHLCV) == dt.date(2024, 6, 11)
        assert stores.watermarks.get(OHLCV, SPLIT_SYMBOL) == dt.date(2024, 6, 11)
        runs = stores.ledger.runs(OHLCV)
    finally:
        stores.close()
    assert [(r["run_id"], r["status"], r["files_written"]) for r in runs] == [
        (first["run_id"], "succeeded", 3),
        (second["run_id"], "succeeded", 3),
    ]


def test_handlers_reach_postgres_through_an_rds_secret(
    lambda_env: AwsEnv,
    postgres_server: PostgresServer,
    pg_database: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    arn = lambda_env.create_secret(
        "rds/watermarks",
        {
            "engine": "postgres",
            "host": postgres_server.host,
            "port": postgres_server.port,
            "username": postgres_server.user,
            "password": postgres_server.password,  # quotes, backslash, space: quoting matters
            "dbname": conninfo_to_dict(pg_database)["dbname"],
            "sslmode": "disable",
        },
    )
    monkeypatch.setenv("RDS_SECRET_ARN", arn)
    # Nothing listens on port 1: a handler that ignored the secret would fail to connect.
    monkeypatch.setenv("WATERMARK_DSN", "postgresql://nobody@127.0.0.1:1/unused")

    tickers = daily_meta_fetcher.lambda_handler({"date": "2024-06-10"}, None)
    bars = daily_ohlcv_fetcher.lambda_handler({"date": "2024-06-07"}, None)

    assert tickers["status"] == bars["status"] == "succeeded"
    keys = _parquet_keys(lambda_env)
    assert [_landing_dataset(key) for key in keys] == ["raw_ohlcv", "raw_tickers"]
    stores = Stores.connect(pg_database)
    try:
        assert stores.watermarks.get(TICKERS) == dt.date(2024, 6, 10)
        assert stores.watermarks.get(OHLCV) == dt.date(2024, 6, 7)
        runs = stores.ledger.runs()
    finally:
        stores.close()
    assert [(r["run_id"], r["dataset"], r["status"]) for r in runs] == [
        (tickers["run_id"], TICKERS, "succeeded"),
        (bars["run_id"], OHLCV, "succeeded"),
    ]
