"""The Trino server of tests/python/fixtures/trino.py behaves like Athena where the dbt
project relies on it: Iceberg tables with MERGE in `awsdatacatalog`, Hive external tables
over the landing parquet files in the same catalog, and the 100-partition write limit.

Needs `scripts/trino/install.sh` (`make trino`) once; run alone with `pytest -m trino`.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import TYPE_CHECKING

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from trino.exceptions import TrinoUserError

if TYPE_CHECKING:  # a real import would load the plugin before pytest rewrites its asserts
    from tests.python.fixtures.trino import TrinoServer

pytestmark = pytest.mark.trino


def _run(server: TrinoServer, *statements: str, schema: str | None = None) -> list[list]:
    """Runs each statement in turn; the rows of the last one."""
    rows: list[list] = []
    with server.connect(schema) as conn:
        cursor = conn.cursor()
        for statement in statements:
            cursor.execute(statement)
            rows = cursor.fetchall()
    return rows


def test_iceberg_partitioned_table_insert_merge_select(trino_server, trino_schema):
    _run(
        trino_server,
        "create table prices (symbol varchar, date date, close double) "
        "with (partitioning = ARRAY['month(date)'])",
        "insert into prices values ('AAPL', date '2025-01-02', 10.0), "
        "('AAPL', date '2025-02-03', 11.0), ('MSFT', date '2025-01-02', 20.0)",
        schema=trino_schema,
    )
    merged = _run(
        trino_server,
        """
        merge into prices t
        using (values ('AAPL', date '2025-02-03', 11.5), ('MSFT', date '2025-03-03', 21.0))
            as s (symbol, date, close)
        on t.symbol = s.symbol and t.date = s.date
        when matched then update set close = s.close
        when not matched then insert (symbol, date, close) values (s.symbol, s.date, s.close)
        """,
        schema=trino_schema,
    )
    assert merged == [[2]]

    rows = _run(
        trino_server, "select symbol, date, close from prices order by 1, 2", schema=trino_schema
    )
    assert rows == [
        ["AAPL", dt.date(2025, 1, 2), 10.0],
        ["AAPL", dt.date(2025, 2, 3), 11.5],
        ["MSFT", dt.date(2025, 1, 2), 20.0],
        ["MSFT", dt.date(2025, 3, 3), 21.0],
    ]
    # A real Iceberg table: month partitions, parquet data files in the warehouse.
    partitions = _run(
        trino_server,
        'select partition.date_month from "prices$partitions" order by 1',
        schema=trino_schema,
    )
    # Iceberg's month transform counts months since 1970-01.
    assert [f"{1970 + m // 12}-{m % 12 + 1:02d}" for (m,) in partitions] == [
        "2025-01",
        "2025-02",
        "2025-03",
    ]
    table_dir = next((trino_server.warehouse / trino_schema).glob("prices-*"))
    assert (table_dir / "metadata").is_dir()
    folders = {p.parent.name for p in table_dir.glob("data/*/*.parquet")}
    assert folders == {"date_month=2025-01", "date_month=2025-02", "date_month=2025-03"}
    paths = _run(trino_server, 'select distinct "$path" from prices', schema=trino_schema)
    assert all(path.startswith(f"local:///warehouse/{trino_schema}/prices-") for (path,) in paths)


def _land(lake_dir: Path, day: str, rows: dict[str, list]) -> None:
    """One landing file as the ingestion writes them: <dataset>/ingest_date=D/<batch>.parquet."""
    folder = lake_dir / f"ingest_date={day}"
    folder.mkdir(parents=True)
    table = pa.table(
        {
            "symbol": pa.array(rows["symbol"], pa.string()),
            "close": pa.array(rows["close"], pa.float64()),
            "ingested_at": pa.array(rows["ingested_at"], pa.timestamp("us", tz="UTC")),
        }
    )
    pq.write_table(table, folder / "x.parquet")


COLUMNS = "symbol varchar, close double, ingested_at timestamp(3)"
AT = dt.datetime(2025, 1, 2, 21, 5, 1, 123456)


def test_hive_external_table_is_read_through_awsdatacatalog(trino_server, trino_schema):
    dataset = trino_server.lake_root / trino_schema / "bronze" / "ohlcv"
    _land(
        dataset,
        "2025-01-02",
        {"symbol": ["AAPL", "MSFT"], "close": [1.5, 2.5], "ingested_at": [AT, AT]},
    )
    hive = f"{trino_server.hive_catalog}.{trino_schema}"
    _run(
        trino_server,
        f"create table {hive}.ohlcv ({COLUMNS}, ingest_date varchar) with ("
        f"external_location = '{trino_server.location(dataset)}', format = 'PARQUET', "
        "partitioned_by = ARRAY['ingest_date'])",
        f"call {trino_server.hive_catalog}.system.sync_partition_metadata("
        f"'{trino_schema}', 'ohlcv', 'FULL')",
    )
    # Read through awsdatacatalog: the Iceberg catalog redirects to the hive one. Hive
    # timestamps are read at millisecond precision, as Athena reads them.
    rows = _run(
        trino_server,
        "select symbol, close, ingested_at, ingest_date from ohlcv order by symbol",
        schema=trino_schema,
    )
    at_ms = AT.replace(microsecond=123000)
    assert rows == [
        ["AAPL", 1.5, at_ms, "2025-01-02"],
        ["MSFT", 2.5, at_ms, "2025-01-02"],
    ]
    listed = _run(trino_server, f"show tables from {trino_server.catalog}.{trino_schema}")
    assert listed == [["ohlcv"]]


def test_hive_table_with_athena_partition_projection_sees_new_days(trino_server, trino_schema):
    """The landing tables' Athena DDL (ingestion/athena_ddl.py) uses partition projection:
    no partition is ever registered, a day's files are read as soon as they land."""
    dataset = trino_server.lake_root / trino_schema / "bronze" / "raw_ohlcv"
    location = trino_server.location(dataset)
    _run(
        trino_server,
        f"create table {trino_server.hive_catalog}.{trino_schema}.raw_ohlcv ({COLUMNS}, "
        "ingest_date varchar with (partition_projection_type = 'date', "
        "partition_projection_format = 'yyyy-MM-dd', "
        "partition_projection_range = ARRAY['2024-12-01', 'NOW'], "
        "partition_projection_interval = 1, partition_projection_interval_unit = 'DAYS')) "
        f"with (external_location = '{location}', format = 'PARQUET', "
        "partitioned_by = ARRAY['ingest_date'], partition_projection_enabled = true, "
        f"partition_projection_location_template = '{location}/ingest_date=${{ingest_date}}/')",
    )
    count = "select ingest_date, count(*) from raw_ohlcv group by 1 order by 1"
    assert _run(trino_server, count, schema=trino_schema) == []
    _land(dataset, "2025-01-02", {"symbol": ["AAPL"], "close": [1.0], "ingested_at": [AT]})
    _land(
        dataset,
        "2025-01-03",
        {"symbol": ["AAPL", "MSFT"], "close": [1.0, 2.0], "ingested_at": [AT, AT]},
    )
    assert _run(trino_server, count, schema=trino_schema) == [["2025-01-02", 1], ["2025-01-03", 2]]
    pruned = "select count(*) from raw_ohlcv where ingest_date >= '2025-01-03'"
    assert _run(trino_server, pruned, schema=trino_schema) == [[2]]


@pytest.mark.parametrize(
    ("catalog", "partitioning", "error"),
    [
        ("awsdatacatalog", "partitioning = ARRAY['k']", "ICEBERG_TOO_MANY_OPEN_PARTITIONS"),
        ("hive", "partitioned_by = ARRAY['k']", "HIVE_TOO_MANY_OPEN_PARTITIONS"),
    ],
)
def test_a_write_of_more_than_100_partitions_fails_as_on_athena(
    trino_server, trino_schema, catalog, partitioning, error
):
    table = f"{catalog}.{trino_schema}.wide"
    _run(trino_server, f"create table {table} (v integer, k integer) with ({partitioning})")
    with pytest.raises(TrinoUserError) as failure:
        _run(trino_server, f"insert into {table} select x, x from unnest(sequence(1, 101)) t(x)")
    assert failure.value.error_name == error
    assert "Exceeded limit of 100 open writers" in failure.value.message
    assert _run(trino_server, f"select count(*) from {table}") == [[0]]

    inserted = _run(
        trino_server, f"insert into {table} select x, x from unnest(sequence(1, 100)) t(x)"
    )
    assert inserted == [[100]]
    assert _run(trino_server, f"select count(distinct k), count(*) from {table}") == [[100, 100]]
