"""The daily report and the chart pages in a real headless browser (Debian's chromium),
on the sample market as `condvest daily` builds it: the pages load without a console
error, every chart renders, a screenshot shows candles in both colours, and every number
on the page equals the warehouse, computed here independently of reports/. Also the
README's pattern table against the sample warehouse it describes.
"""

from __future__ import annotations

import csv
import json
import subprocess
from pathlib import Path
from typing import Any

import duckdb
import pytest

from core.paths import REPO_ROOT
from reports.catalog import CATALOG_PATH
from reports.pattern_table import README, replace_block, table_for
from tests.python import browser
from tests.python.test_daily_local import CONDVEST, RUN_DATE, daily_env
from tests.python.test_daily_local import condvest as run_condvest

# The module's first test waits for a whole `condvest daily` (training included): 1-2
# minutes on a quiet machine, over ten when the two cores are shared.
pytestmark = pytest.mark.timeout(1800)
needs_browser = pytest.mark.skipif(
    not browser.available(), reason="no /usr/bin/chromium (.ci/run installs it)"
)
CHART_SIZE = (900, 594)  # reports.charts: 10 x 6.6 inches at 90 dpi
EDGE_MARGIN = 0.01


def condvest(root: Path, *args: str) -> dict[str, Any]:
    # a whole `condvest daily` with training, on cores other tests may share
    return dict(run_condvest(root, *args, timeout=1500))


@pytest.fixture(scope="module")
def sample(tmp_path_factory) -> tuple[Path, dict[str, Any]]:
    root = tmp_path_factory.mktemp("report")
    return root, condvest(root, "daily", "--json", "--date", RUN_DATE)


def _query(root: Path, sql: str, *params: Any) -> list[tuple]:
    with duckdb.connect(str(root / "warehouse.duckdb"), read_only=True) as con:
        return con.execute(sql, list(params)).fetchall()


def _texts(driver: Any, selector: str) -> list[str]:
    return list(
        driver.execute_script(
            "return Array.from(document.querySelectorAll(arguments[0]), e => e.textContent)",
            selector,
        )
    )


def _attributes(driver: Any, selector: str, name: str) -> list[str]:
    return list(
        driver.execute_script(
            "return Array.from(document.querySelectorAll(arguments[0]), "
            "e => e.getAttribute(arguments[1]))",
            selector,
            name,
        )
    )


@pytest.mark.slow
def test_the_readme_pattern_table_is_the_sample_markets(sample):
    root, _ = sample
    readme = README.read_text()
    assert replace_block(readme, table_for(str(root / "warehouse.duckdb"))) == readme


@pytest.mark.slow
@needs_browser
def test_the_daily_report_loads_renders_and_shows_the_warehouses_numbers(sample):
    root, output = sample
    (run,) = output["runs"]
    page = root / "lake" / "reports" / "daily" / f"{RUN_DATE}.html"
    assert output["report"] == str(page)
    assert page.stat().st_size < 2_000_000  # five charts inline, no script

    # independent answers from the warehouse and the lake
    advancers, decliners = _query(
        root,
        "select count(*) filter (where close > previous), count(*) filter (where close < previous)"
        " from (select date, close, lag(close) over (partition by symbol order by date)"
        " as previous from bronze.ohlcv_daily) where date = ?",
        RUN_DATE,
    )[0]
    with CATALOG_PATH.open() as handle:
        descriptors = {r["pattern"] for r in csv.DictReader(handle) if r["is_descriptor"] == "true"}
    columns = _query(
        root,
        "select column_name from information_schema.columns "
        "where table_name = 'candlestick_patterns' and column_name like 'cdl%'",
    )
    patterns = [column for (column,) in columns]
    values = _query(
        root,
        f"select {', '.join(patterns)} from silver.candlestick_patterns where date = ?",
        RUN_DATE,
    )
    expected_signals = {"bullish": 0, "bearish": 0, "neutral": 0}
    for row in values:
        for pattern, value in zip(patterns, row, strict=True):
            if value:
                direction = "neutral" if pattern in descriptors else "bullish"
                if direction == "bullish" and value < 0:
                    direction = "bearish"
                expected_signals[direction] += 1
    top = _query(
        root,
        "select symbol, probability_up from gold.predictions where date = ? "
        "order by rank_in_day limit 5",
        RUN_DATE,
    )
    version = run["summary"]["model"]["version"]
    metrics = json.loads((root / "lake" / "ml" / "models" / version / "metrics.json").read_text())
    baselines = [summary["mean"] for summary in metrics["baselines"].values()]
    edge = all(
        metrics["chosen"][m] - max(b[m] for b in baselines) >= EDGE_MARGIN
        for m in ("auc", "precision_at_k")
    )

    with browser.chromium() as driver:
        console = browser.open_page(driver, page)
        assert console == []
        images = browser.loaded_images(driver, "figure.chart img")
        assert [(i["width"], i["height"]) for i in images] == [CHART_SIZE] * 5
        assert all(i["complete"] for i in images)
        assert _texts(driver, 'td[data-field="advancers"]') == [str(advancers)]
        assert _texts(driver, 'td[data-field="decliners"]') == [str(decliners)]
        shown = dict(
            zip(
                _attributes(driver, "#pattern-totals span", "data-direction"),
                map(int, _attributes(driver, "#pattern-totals span", "data-signals")),
                strict=True,
            )
        )
        assert shown == expected_signals
        assert _attributes(driver, "#top-predictions tr[data-symbol]", "data-symbol") == [
            symbol for symbol, _ in top
        ]
        assert _texts(driver, 'td[data-field="probability_up"]') == [f"{p:.4f}" for _, p in top]
        assert _attributes(driver, "#run-states tr[data-state]", "data-state") == run["states"]
        layer_rows = dict(
            zip(
                _attributes(driver, "#rows-per-layer tr[data-table]", "data-table"),
                map(int, _attributes(driver, "#rows-per-layer tr[data-table]", "data-rows")),
                strict=True,
            )
        )
        assert layer_rows and all(
            _query(root, f"select count(*) from {table}")[0][0] == rows
            for table, rows in layer_rows.items()
        )
        assert _attributes(driver, "#model-verdict", "data-edge") == [str(edge).lower()]
        performance = _query(
            root,
            "select count(*) from information_schema.tables where table_schema = 'gold' "
            "and table_name = 'prediction_performance'",
        )[0][0]
        scored = 0
        if performance:  # the ML mart, once it exists, has its own rows
            scored = _query(root, "select count(*) from gold.prediction_performance")[0][0]
        if scored:
            assert _attributes(driver, "#track-record", "data-rows") == [str(min(scored, 20))]
        else:
            assert _texts(driver, "#track-record-none")[0].startswith("No track record yet")
        screenshot = browser.full_screenshot(driver)
    assert screenshot.startswith(b"\x89PNG")
    pixels = browser.colours(screenshot)
    total = sum(pixels.values())
    assert total >= 1200 * 3000  # the whole page, five charts tall
    assert pixels.get((255, 255, 255), 0) < 0.95 * total and len(pixels) > 200  # not blank
    # both candle colours drawn (reports.charts.UP #26a69a, DOWN #ef5350)
    assert pixels.get((0x26, 0xA6, 0x9A), 0) > 2000
    assert pixels.get((0xEF, 0x53, 0x50), 0) > 2000


@pytest.mark.slow
@needs_browser
def test_report_on_its_own_draws_chosen_symbols_and_the_run_records(sample):
    root, _ = sample
    first, second = (
        s for (s,) in _query(root, "select symbol from gold.dim_symbol order by 1 limit 2")
    )
    result = condvest(root, "report", "--symbols", f"{first.lower()},{second},NOPE")
    assert result["date"] == RUN_DATE
    page = Path(result["path"])
    with browser.chromium() as driver:
        assert browser.open_page(driver, page) == []
        charts = _attributes(driver, "figure.chart", "id")
        assert charts[-2:] == [f"chart-symbol-{first}", f"chart-symbol-{second}"]
        assert all(i["width"] == CHART_SIZE[0] for i in browser.loaded_images(driver, "img"))
        assert _attributes(driver, "[data-missing]", "data-missing") == ["NOPE"]
        # without the walk, the steps are the date's recorded runs, by start: the daily
        # run is recorded when it starts, its fetches inside it
        assert _attributes(driver, "#run-states tr[data-state]", "data-state") == [
            "daily (sample)",
            "tickers (sample)",
            "ohlcv (sample)",
        ]
        assert _texts(driver, "#run-status") == ["SUCCEEDED"]


@pytest.mark.slow
@needs_browser
def test_chart_writes_a_png_and_a_page_with_the_symbols_patterns(sample):
    root, _ = sample
    (symbol,) = _query(root, "select min(symbol) from gold.dim_symbol")[0]
    result = condvest(root, "chart", symbol, "--from", "2025-09-01", "--to", RUN_DATE)
    png, page = Path(result["png"]), Path(result["html"])
    assert png.read_bytes().startswith(b"\x89PNG") and page.exists()
    expected = _query(
        root,
        "select count(*) from silver.candlestick_events where symbol = ? and date between ? "
        "and ? and direction != 'neutral'",
        symbol,
        "2025-09-01",
        RUN_DATE,
    )[0][0]
    (bars,) = _query(
        root,
        "select count(*) from bronze.ohlcv_daily where symbol = ? and date between ? and ?",
        symbol,
        "2025-09-01",
        RUN_DATE,
    )[0]
    assert result["bars"] == bars
    with browser.chromium() as driver:
        assert browser.open_page(driver, page) == []
        assert [(i["width"], i["height"]) for i in browser.loaded_images(driver, "img")] == [
            CHART_SIZE
        ]
        assert _attributes(driver, "#events", "data-rows") == [str(expected)]


@pytest.mark.slow
def test_chart_of_an_unknown_symbol_is_one_line_and_a_usage_exit(sample):
    root, _ = sample
    result = subprocess.run(
        [CONDVEST, "chart", "NOPE"],
        env=daily_env(root),
        capture_output=True,
        text=True,
        check=False,
        cwd=REPO_ROOT,
    )
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        f"error: NOPE has no bars in bronze.ohlcv_daily ({root / 'warehouse.duckdb'}); check "
        "the ticker, or ingest it with `condvest ingest --symbols`"
    ]
