"""The daily report on AWS: drawn from the Iceberg tables an Athena build wrote, its numbers
equal the report drawn from the DuckDB warehouse of the same lake.

The sample market lands once (four months, and a batch of predictions: a scored date
whose outcome is known, and the last date's top symbols); `dbt build --target trino` on
a real Trino 476 (the engine under Athena) and `dbt build` on DuckDB both build it, as in
test_trino_build.py. The Trino build's tables are then registered in Glue (moto's) as
Athena's catalog holds them: each with the `table_type` and the `metadata_location` that
Trino's Hive metastore committed. reports.aws_report, the Report state's program, finds
them there, reads them with DuckDB's iceberg extension and writes the report into the
lake. Every query of the report, and the report's key figures, equal the DuckDB
warehouse's.

Needs `scripts/trino/install.sh` (`make trino`) once; run alone with `pytest -m trino`.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import math
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pandas as pd
import pytest

from core.lake import Lake
from core.layout import daily_report_file
from core.settings import Settings
from ingestion import landing_pipeline
from ingestion.fetch import OhlcvRequest, fetch_ohlcv, fetch_tickers
from ingestion.sample_market import SampleMarket
from ingestion.stores import Stores
from ml.predict import write_predictions
from reports import warehouse as queries
from reports.aws_report import glue_source, iceberg_warehouse, report
from reports.daily import build_daily_report
from reports.iceberg import glue_metadata_locations
from reports.warehouse import LAYERS, Warehouse, connect
from tests.python.dbt_helpers import dbt
from tests.python.fixtures.aws import REGION
from tests.python.trino_helpers import create_landing_tables, dbt_environment, dbt_trino

# Two builds of four months of the sample market: minutes on 2 shared cores.
pytestmark = [pytest.mark.trino, pytest.mark.timeout(1800)]

START, END = dt.date(2024, 6, 3), dt.date(2024, 10, 4)
SCORED = dt.date(2024, 9, 3)  # its 5-session outcome is known by END
MODEL = "20240830T000000Z-0123abcd"
TOP = 5
RELATIVE_TOLERANCE = 1e-9


def _predictions(lake: Lake, symbols: list[str], now: dt.datetime) -> None:
    """A batch as `condvest predict` writes it: every symbol ranked on SCORED and on END."""
    rows = [
        {
            "symbol": symbol,
            "date": pd.Timestamp(day),
            "model_version": MODEL,
            "probability_up": round(0.9 - rank * 0.01 - offset, 4),
            "predicted_up": int(rank < len(symbols) // 2),
            "rank_in_day": rank + 1,
        }
        for offset, day in ((0.0, SCORED), (0.005, END))
        for rank, symbol in enumerate(symbols)
    ]
    write_predictions(lake, pd.DataFrame(rows), now)


def _register_in_glue(glue: Any, lake_root: Path, prefix: str) -> int:
    """Trino's Hive metastore (`<lake>/warehouse/<schema>/<table>/.trinoSchema`) into Glue,
    as Athena's catalog holds the tables: type and parameters. Returns how many."""
    registered = 0
    for layer in LAYERS:
        database = prefix + layer
        glue.create_database(DatabaseInput={"Name": database})
        for entry in sorted((lake_root / "warehouse" / database).glob("*/.trinoSchema")):
            table = json.loads(entry.read_text())
            glue.create_table(
                DatabaseName=database,
                TableInput={
                    "Name": entry.parent.name,
                    "TableType": table["tableType"],
                    "Parameters": table["parameters"],
                },
            )
            registered += 1
    return registered


@pytest.fixture(scope="module")
def built(trino_server, tmp_path_factory, calendar, moto_server) -> Iterator[dict[str, Any]]:
    tmp = tmp_path_factory.mktemp("report_iceberg")
    prefix = f"report{uuid.uuid4().hex[:8]}_"
    lake_dir = trino_server.lake_root / prefix.rstrip("_")
    lake = Lake.open(str(lake_dir))
    warehouse = tmp / "warehouse.duckdb"
    stores = Stores.connect(f"sqlite:///{tmp / 'wm.sqlite'}")
    market = SampleMarket(calendar)
    landed_at = dt.datetime.combine(END, dt.time(21, 30), tzinfo=dt.UTC)
    clock = pytest.MonkeyPatch()
    try:
        clock.setattr(landing_pipeline, "utcnow", lambda: landed_at)
        fetch_tickers(market, lake, stores, END)
        fetch_ohlcv(market, lake, stores, calendar, OhlcvRequest(start=START, end=END))
    finally:
        clock.undo()
        stores.close()
    symbols = sorted(market.grouped_daily(END).column("symbol").to_pylist())
    _predictions(lake, symbols, landed_at + dt.timedelta(minutes=30))
    create_landing_tables(trino_server, lake_dir, f"{prefix}landing")
    dbt_trino(tmp / "trino", dbt_environment(trino_server, prefix, lake_dir), "build")
    dbt(tmp / "duckdb", lake_dir, warehouse, "build")
    glue = boto3.client(
        "glue",
        region_name=REGION,
        endpoint_url=moto_server,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    registered = _register_in_glue(glue, trino_server.lake_root, prefix)
    try:
        yield {
            "prefix": prefix,
            "lake": lake,
            "warehouse": warehouse,
            "glue": glue,
            "registered": registered,
            "locate": lambda uri: str(trino_server.lake_root / uri.removeprefix("local:///")),
        }
    finally:
        for layer in LAYERS:
            glue.delete_database(Name=prefix + layer)


@pytest.fixture(scope="module")
def iceberg(built) -> Iterator[Warehouse]:
    locations = glue_metadata_locations(built["glue"], built["prefix"])
    readable = {key: built["locate"](uri) for key, uri in locations.items()}
    with iceberg_warehouse(readable, glue_source(built["prefix"])) as warehouse:
        yield warehouse


@pytest.fixture(scope="module")
def duck(built) -> Iterator[Warehouse]:
    with connect(str(built["warehouse"])) as warehouse:
        yield warehouse


def _same(trino: Any, duck: Any) -> bool:
    """Equal, doubles to RELATIVE_TOLERANCE (the engines round differently), recursively."""
    if type(trino) is not type(duck):
        return False
    if dataclasses.is_dataclass(trino) and not isinstance(trino, type):
        return _same(dataclasses.astuple(trino), dataclasses.astuple(duck))
    if isinstance(trino, dict):
        return trino.keys() == duck.keys() and all(_same(trino[k], duck[k]) for k in trino)
    if isinstance(trino, list | tuple):
        pairs = list(zip(trino, duck, strict=False))
        return len(trino) == len(duck) and all(_same(a, b) for a, b in pairs)
    if isinstance(trino, float):
        return math.isclose(trino, duck, rel_tol=RELATIVE_TOLERANCE)
    return bool(trino == duck)


def test_glue_lists_the_iceberg_tables_and_not_the_views(built):
    locations = glue_metadata_locations(built["glue"], built["prefix"])
    names = {f"{layer}.{name}" for layer, name in locations}
    assert {
        "bronze.ohlcv_daily",
        "silver.ohlcv_34d",
        "silver.candlestick_patterns",
        "gold.predictions",
        "gold.prediction_performance",
    } <= names
    # views are in Glue too (Athena stores them as engine SQL), never read as tables
    assert "silver.candlestick_events" not in names
    assert len(locations) < built["registered"]
    assert all(uri.endswith(".metadata.json") for uri in locations.values())


def test_the_layers_hold_the_same_tables_and_rows(iceberg, duck):
    assert queries.rows_per_layer(iceberg) == queries.rows_per_layer(duck)
    assert sum(queries.rows_per_layer(duck)["bronze"].values()) > 1000


def test_every_query_of_the_report_answers_the_same(iceberg, duck):
    assert queries.latest_date(iceberg) == queries.latest_date(duck) == END
    for day in (SCORED, END):
        assert queries.breadth(iceberg, day) == queries.breadth(duck, day)
        assert queries.fired_patterns(iceberg, day) == queries.fired_patterns(duck, day)
        top = queries.top_predictions(duck, day, TOP)
        assert _same(queries.top_predictions(iceberg, day, TOP), top)
    assert queries.fired_patterns(duck, END)  # the sample fires patterns every day
    performance = queries.performance(duck, END)
    assert [p.date for p in performance] == [SCORED]  # END's outcome is still pending
    assert _same(queries.performance(iceberg, END), performance)
    for prediction in queries.top_predictions(duck, END, TOP):
        symbol = prediction.symbol
        start = queries.sessions_before(duck, symbol, END, 63)
        assert queries.sessions_before(iceberg, symbol, END, 63) == start
        bars = queries.daily_bars(duck, symbol, start, END)
        assert _same(queries.daily_bars(iceberg, symbol, start, END), bars)
        resamples = queries.resample_bars(duck, symbol, END, 12)
        assert _same(queries.resample_bars(iceberg, symbol, END, 12), resamples)
        assert queries.symbol_events(iceberg, symbol, start, END) == queries.symbol_events(
            duck, symbol, start, END
        )
        assert queries.known_symbol(iceberg, symbol)
    assert not queries.known_symbol(iceberg, "NOPE")


def test_the_report_state_writes_the_report_of_the_duckdb_warehouse(built, duck):
    """reports.aws_report end to end, on the Glue catalog: the report in the lake, and its
    figures those of the report drawn from the DuckDB warehouse."""
    settings = Settings(lake_root=built["lake"].uri, dbt_schema_prefix=built["prefix"])
    now = dt.datetime(2024, 10, 4, 22, tzinfo=dt.UTC)
    result = report(settings, built["glue"], END, "daily-1", now, locate=built["locate"])
    expected = build_daily_report(duck, built["lake"], END, None, now=now)
    assert {k: v for k, v in result.items() if k != "path"} == expected.facts
    assert expected.facts["top_predictions"] and expected.facts["track_record_dates"] == 1
    assert result["path"] == built["lake"].display(built["lake"].path(daily_report_file(END)))
    page = Path(result["path"]).read_text()
    assert "execution <code>daily-1</code>" in page
    assert f"{built['prefix']}{{staging,bronze,silver,gold}}" in page
    assert page.count("<img") == expected.html.decode().count("<img") == TOP + 1
