"""reports/ on a small hand-made warehouse and lake: the numbers each section shows, the
model's verdict, the track record present or not, the files written, and the errors."""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path
from typing import Any

import duckdb
import pytest

from core.lake import Lake
from core.layout import MODELS_PREFIX, daily_report_file
from ml import registry
from reports import model as report_model
from reports.chart import UnknownSymbolError, build_symbol_chart, write_symbol_chart
from reports.daily import (
    DailyReport,
    RunInfo,
    RunStep,
    build_daily_report,
    write_daily_report,
)
from reports.model import ModelCard, model_card
from reports.warehouse import WarehouseError, breadth, connect, fired_patterns

DAY = dt.date(2025, 12, 31)
VERSION = "20251226T000000Z-0123abcd"
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def build(warehouse: Path, lake: Lake, day: dt.date, *args: Any, **kwargs: Any) -> DailyReport:
    """The report of `day` from the DuckDB warehouse file at `warehouse`."""
    with connect(str(warehouse)) as opened:
        return build_daily_report(opened, lake, day, *args, **kwargs)


def _bars(symbol: str, closes: list[float], end: dt.date = DAY) -> list[tuple]:
    start = end - dt.timedelta(days=len(closes) - 1)
    return [
        (symbol, start + dt.timedelta(days=i), c, c + 1, c - 1, c + 0.5, 1000)
        for i, c in enumerate(closes)
    ]


@pytest.fixture
def warehouse(tmp_path: Path) -> Path:
    path = tmp_path / "warehouse.duckdb"
    with duckdb.connect(str(path)) as con:
        for schema in ("bronze", "silver", "gold"):
            con.execute(f"create schema {schema}")
        con.execute(
            "create table bronze.ohlcv_daily (symbol varchar, date date, open double, "
            "high double, low double, close double, volume bigint)"
        )
        rows = (
            _bars("UPP", [10.0] * 40)  # close = open + 0.5 every day: last close equals prior
            + _bars("DWN", [12.0] * 39 + [11.0])
            + _bars("RSE", [12.0] * 39 + [13.0])
            + _bars("NEW", [5.0])
        )
        con.executemany("insert into bronze.ohlcv_daily values (?, ?, ?, ?, ?, ?, ?)", rows)
        con.execute(
            "create table silver.candlestick_events (symbol varchar, date date, pattern varchar,"
            " signal integer, display_name varchar, kind varchar, is_descriptor boolean,"
            " direction varchar)"
        )
        engulfing = ("cdlengulfing", "Engulfing Pattern", "reversal", False)
        con.executemany(
            "insert into silver.candlestick_events "
            "(symbol, date, signal, pattern, display_name, kind, is_descriptor, direction) "
            "values (?, ?, ?, ?, ?, ?, ?, ?)",
            [
                ("RSE", DAY, 100, *engulfing, "bullish"),
                ("DWN", DAY, -100, *engulfing, "bearish"),
                ("UPP", DAY, 100, *engulfing, "bullish"),
                ("UPP", DAY, 100, "cdldoji", "Doji", "indecision", True, "neutral"),
                ("DWN", DAY, -100, "cdlspinningtop", "Spinning Top", "indecision", True, "neutral"),
                ("RSE", DAY - dt.timedelta(days=3), 100, "cdlhammer", "Hammer", "reversal", False,
                 "bullish"),
            ],
        )  # fmt: skip
        for size in (3, 5, 8, 13, 21, 34):
            con.execute(
                f"create table silver.ohlcv_{size}d as select symbol, min(date) as bucket_start,"
                " max(date) as bucket_end, arg_min(open, date) as open, max(high) as high,"
                " min(low) as low, arg_max(close, date) as close, true as is_complete "
                f"from bronze.ohlcv_daily group by symbol, (date - date '2000-01-01') // {size}"
            )
        con.execute(
            "create table gold.predictions (symbol varchar, symbol_name varchar, date date, "
            "model_version varchar, probability_up double, rank_in_day integer)"
        )
        con.executemany(
            "insert into gold.predictions values (?, ?, ?, ?, ?, ?)",
            [
                ("RSE", "Rise Inc", DAY, VERSION, 0.61, 1),
                ("UPP", "Up Corp", DAY, VERSION, 0.55, 2),
                ("DWN", None, DAY, VERSION, 0.42, 3),
                ("DWN", None, DAY, "20200101T000000Z-00000000", 0.99, 1),  # an older model
            ],
        )
    return path


def _publish(lake: Lake, model: dict[str, float], momentum: dict[str, float]) -> None:
    metrics = {
        "version": VERSION,
        "model_type": "random_forest",
        "data": {"trained_through": "2025-12-19"},
        "validation": {"top_k": 10},
        "chosen": model,
        "baselines": {
            "prior": {"mean": {"auc": 0.5, "accuracy": 0.52, "precision_at_k": 0.51}},
            "momentum": {"mean": momentum},
        },
    }
    directory = lake.path(MODELS_PREFIX, VERSION)
    lake.write_bytes(f"{directory}/metrics.json", json.dumps(metrics).encode())
    lake.write_bytes(f"{directory}/_SUCCESS", b"")


def _field(page: str, field: str) -> list[str]:
    return re.findall(rf'data-field="{field}"[^>]*>([^<]*)<', page)


def test_the_registry_names_are_ml_registrys():
    assert report_model.METRICS_FILE == registry.METRICS_FILE
    assert report_model.SUCCESS_MARKER == registry.SUCCESS_MARKER
    assert MODELS_PREFIX == registry.MODELS_PREFIX


def test_breadth_compares_with_each_symbols_previous_bar(warehouse):
    with connect(str(warehouse)) as con:
        market = breadth(con, DAY)
    assert (market.advancers, market.decliners, market.unchanged, market.first_bars) == (1, 1, 1, 1)


def test_descriptors_are_neutral_and_patterns_grouped_by_direction(warehouse):
    with connect(str(warehouse)) as con:
        fired = {(p.pattern, p.direction): (p.signals, p.symbols) for p in fired_patterns(con, DAY)}
    assert fired == {
        ("cdlengulfing", "bullish"): (2, ("RSE", "UPP")),
        ("cdlengulfing", "bearish"): (1, ("DWN",)),
        ("cdldoji", "neutral"): (1, ("UPP",)),
        ("cdlspinningtop", "neutral"): (1, ("DWN",)),
    }


def test_the_report_shows_the_days_numbers_and_says_when_the_model_has_no_edge(warehouse, lake):
    _publish(lake, {"auc": 0.505, "accuracy": 0.51, "precision_at_k": 0.52},
             {"auc": 0.51, "accuracy": 0.5, "precision_at_k": 0.5})  # fmt: skip
    run = RunInfo(
        "SUCCEEDED",
        (RunStep("ResolveRunDate", 0.1), RunStep("IsTradingSession"), RunStep("DbtBuild", 12.5)),
        "this run",
        execution="local-1",
        rows_per_layer={"bronze": {"ohlcv_daily": 121}},
    )
    report = build(warehouse, lake, DAY, run, symbols=["rse", "ZZZ"])
    page = report.html.decode()
    assert _field(page, "advancers") == ["1"] and _field(page, "decliners") == ["1"]
    assert 'data-direction="bullish" data-signals="2"' in page
    assert 'data-direction="neutral" data-signals="2"' in page
    # the newest model that scored the day, in rank order
    assert re.findall(r'<tr data-symbol="(\w+)">', page) == ["RSE", "UPP", "DWN"]
    assert _field(page, "probability_up") == ["0.6100", "0.5500", "0.4200"]
    assert page.count('<figure class="chart"') == 4  # three top predictions and RSE
    assert 'data-missing="ZZZ"' in page
    assert _field(page, "seconds") == ["0.10", "\u2013", "12.50"]
    assert 'data-table="bronze.ohlcv_daily" data-rows="121"' in page
    assert 'data-edge="false"' in page and "no edge over its baselines" in page
    assert "No track record yet" in page
    assert report.facts["model_has_edge"] is False
    path = write_daily_report(lake, report)
    assert path == lake.path(daily_report_file(DAY))
    assert Path(path).read_bytes() == report.html


def test_a_model_that_beats_its_baselines_is_said_to(lake):
    _publish(lake, {"auc": 0.58, "accuracy": 0.56, "precision_at_k": 0.6},
             {"auc": 0.52, "accuracy": 0.5, "precision_at_k": 0.53})  # fmt: skip
    card = model_card(lake, None)
    assert isinstance(card, ModelCard) and card.version == VERSION
    edge, sentence = card.verdict()
    assert edge and sentence.startswith("The model beats its baselines")
    assert model_card(lake, "20990101T000000Z-ffffffff") is None


def test_the_track_record_is_drawn_when_the_mart_has_rows(warehouse, lake):
    with duckdb.connect(str(warehouse)) as con:
        con.execute(
            "create table gold.prediction_performance (date date, model_version varchar, "
            "symbols_scored integer, hit_rate double, top_k integer, top_k_forward_return "
            "double, market_forward_return double, top_k_excess_return double)"
        )
    empty = build(warehouse, lake, DAY).html.decode()
    assert "No track record yet" in empty
    with duckdb.connect(str(warehouse)) as con:
        con.executemany(
            "insert into gold.prediction_performance values (?, ?, ?, ?, ?, ?, ?, ?)",
            [
                (DAY - dt.timedelta(days=d), VERSION, 60, 0.5 + d / 100, 10, 0.01, 0.004, 0.006)
                for d in range(12, 0, -1)
            ],
        )
    page = build(warehouse, lake, DAY).html.decode()
    assert "No track record yet" not in page
    assert 'id="chart-track-record"' in page
    assert _field(page, "hit_rate")[-1] == "0.5100"
    assert _field(page, "top_k_excess_return")[0] == "0.60%"


def test_a_symbol_chart_is_a_png_and_a_page_in_the_lake(warehouse, lake):
    chart = build_symbol_chart(str(warehouse), "rse", end=DAY)
    assert chart.symbol == "RSE" and chart.bars == 40 and chart.png.startswith(PNG_SIGNATURE)
    written = write_symbol_chart(lake, chart)
    assert written["png"].endswith(f"reports/charts/RSE_{chart.start}_{DAY}.png")
    assert Path(written["html"]).read_bytes() == chart.html
    assert 'data-direction="bullish"' in chart.html.decode()  # the hammer 3 days earlier
    with pytest.raises(UnknownSymbolError, match=r"ZZZ has no bars in bronze\.ohlcv_daily"):
        build_symbol_chart(str(warehouse), "zzz")
    with pytest.raises(UnknownSymbolError, match="is after"):
        build_symbol_chart(str(warehouse), "RSE", start=DAY, end=DAY - dt.timedelta(days=1))


def test_a_missing_warehouse_is_one_clear_error(tmp_path, lake):
    with pytest.raises(WarehouseError, match=r"no warehouse at .*\(WAREHOUSE_PATH\)"):
        build(tmp_path / "none.duckdb", lake, DAY)
