"""One symbol's chart (`condvest chart SYMBOL [--from D --to D]`): its daily candles with
pattern markers over the 3d..34d bars, as a PNG and as an HTML page that embeds it, in
the lake at `reports/charts/<SYMBOL>_<from>_<to>.{png,html}`.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from core.errors import ExitCode, OperationalError
from core.lake import Lake
from core.layout import CHARTS_PREFIX
from reports import charts
from reports.daily import CHART_SESSIONS, RESAMPLE_BARS
from reports.html import cell, esc, page, png_figure, row, table
from reports.warehouse import (
    connect,
    daily_bars,
    known_symbol,
    resample_bars,
    sessions_before,
    symbol_events,
)


class UnknownSymbolError(OperationalError):
    exit_code = ExitCode.USAGE


@dataclass(frozen=True)
class SymbolChart:
    symbol: str
    start: dt.date
    end: dt.date
    bars: int
    png: bytes
    html: bytes

    @property
    def stem(self) -> str:
        return f"{CHARTS_PREFIX}/{self.symbol}_{self.start.isoformat()}_{self.end.isoformat()}"


def build_symbol_chart(
    warehouse_path: str, symbol: str, start: dt.date | None = None, end: dt.date | None = None
) -> SymbolChart:
    """The chart of `symbol` from `start` to `end` (default: its last CHART_SESSIONS bars)."""
    symbol = symbol.strip().upper()
    with connect(warehouse_path) as wh:
        if not known_symbol(wh, symbol):
            raise UnknownSymbolError(
                f"{symbol} has no bars in bronze.ohlcv_daily ({warehouse_path}); check the "
                "ticker, or ingest it with `condvest ingest --symbols`"
            )
        if end is None:
            found = wh.con.execute(
                "select max(date) from bronze.ohlcv_daily where symbol = ?", [symbol]
            ).fetchone()
            assert found is not None  # known_symbol: the symbol has bars
            end = found[0]
        if start is None:
            start = sessions_before(wh, symbol, end, CHART_SESSIONS)
        if start > end:
            raise UnknownSymbolError(f"--from {start} is after --to {end}")
        bars = daily_bars(wh, symbol, start, end)
        if not bars:
            raise UnknownSymbolError(f"{symbol} has no bars between {start} and {end}")
        events = symbol_events(wh, symbol, start, end)
        resamples = resample_bars(wh, symbol, end, RESAMPLE_BARS)
        png = charts.symbol_chart(symbol, bars, events, resamples)
    fired = [e for e in events if e.direction != "neutral"]
    listing = table(
        ["date", "pattern", "direction", "signal"],
        (
            row(
                [cell(e.date.isoformat()), cell(e.display_name), cell(e.direction), cell(e.signal)],
                direction=e.direction,
            )
            for e in fired
        ),
        "events",
        len(fired),
    )
    body = (
        f"<h1>{esc(symbol)}: {start.isoformat()} to {end.isoformat()}</h1>"
        + png_figure(png, f"{symbol} daily candles", f"{len(bars)} sessions", "chart-symbol")
        + f"<h2>Bullish and bearish patterns ({len(fired)})</h2>"
        + listing
    )
    return SymbolChart(symbol, start, end, len(bars), png, page(f"{symbol} chart", body))


def write_symbol_chart(lake: Lake, chart: SymbolChart) -> dict[str, str]:
    png, html = lake.path(f"{chart.stem}.png"), lake.path(f"{chart.stem}.html")
    lake.write_bytes(png, chart.png, content_type="image/png")
    lake.write_bytes(html, chart.html, content_type="text/html; charset=utf-8")
    return {"png": lake.display(png), "html": lake.display(html)}
