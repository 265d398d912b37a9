"""Charts as PNG bytes, drawn with matplotlib's Agg backend (no display, no browser): a
symbol's daily candles with its pattern markers above the last bars of each Fibonacci
size, and the model's track record. The HTML pages embed them as data URIs, so a page
opens offline with no script at all.
"""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence

import matplotlib

matplotlib.use("Agg")  # before pyplot: never look for a display

import matplotlib.pyplot as plt
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle

from reports.warehouse import Bar, Event, Performance

# The colours the browser tests look for in the screenshots.
UP = "#26a69a"
DOWN = "#ef5350"
NEUTRAL = "#9e9e9e"
DPI = 90
CANDLE_WIDTH = 0.6


def _png(figure: Figure) -> bytes:
    buffer = io.BytesIO()
    # Fixed metadata: the same data give the same bytes.
    figure.savefig(buffer, format="png", dpi=DPI, metadata={"Software": None})
    plt.close(figure)
    return buffer.getvalue()


def _candles(axes: Axes, bars: Sequence[Bar]) -> None:
    """One candle per bar at x = its position (no gaps for weekends and holidays)."""
    for x, bar in enumerate(bars):
        colour = UP if bar.close >= bar.open else DOWN
        alpha = 1.0 if bar.complete else 0.45  # a bar still filling is drawn faint
        axes.vlines(x, bar.low, bar.high, color=colour, linewidth=1, alpha=alpha)
        bottom, height = min(bar.open, bar.close), abs(bar.close - bar.open)
        axes.add_patch(
            Rectangle(
                (x - CANDLE_WIDTH / 2, bottom),
                CANDLE_WIDTH,
                max(height, (bar.high - bar.low) * 0.01),
                facecolor=colour,
                edgecolor=colour,
                alpha=alpha,
            )
        )
    axes.set_xlim(-1, len(bars))
    if bars:
        low, high = min(b.low for b in bars), max(b.high for b in bars)
        pad = (high - low) * 0.08 or 1.0
        axes.set_ylim(low - pad, high + pad)
    axes.grid(True, alpha=0.25)


def _date_ticks(axes: Axes, bars: Sequence[Bar], count: int, fmt: str) -> None:
    if not bars:
        return
    step = max(1, len(bars) // count)
    ticks = list(range(0, len(bars), step))
    axes.set_xticks(ticks, [bars[i].start.strftime(fmt) for i in ticks], fontsize=7)


def symbol_chart(
    symbol: str,
    bars: Sequence[Bar],
    events: Sequence[Event],
    resamples: Mapping[int, Sequence[Bar]],
    title: str | None = None,
) -> bytes:
    """Daily candles with a marker per bullish or bearish pattern (descriptors, whose sign
    is only the candle's colour, are not marked), above one panel per Fibonacci size."""
    figure = plt.figure(figsize=(10, 6.6))
    grid = figure.add_gridspec(
        2,
        max(len(resamples), 1),
        height_ratios=(2.4, 1),
        hspace=0.3,
        wspace=0.45,
        left=0.07,
        right=0.98,
        top=0.95,
        bottom=0.06,
    )
    daily = figure.add_subplot(grid[0, :])
    _candles(daily, bars)
    _date_ticks(daily, bars, 8, "%Y-%m-%d")
    position = {bar.start: x for x, bar in enumerate(bars)}
    spread = (max(b.high for b in bars) - min(b.low for b in bars)) * 0.03 if bars else 0
    marked = {"bullish": 0, "bearish": 0}
    for event in events:
        x = position.get(event.date)
        if x is None or event.direction not in marked:
            continue
        bar = bars[x]
        if event.direction == "bullish":
            daily.plot(x, bar.low - spread, marker="^", color=UP, markersize=7, alpha=0.9)
        else:
            daily.plot(x, bar.high + spread, marker="v", color=DOWN, markersize=7, alpha=0.9)
        marked[event.direction] += 1
    daily.set_title(
        title
        or f"{symbol}: {len(bars)} sessions, {marked['bullish']} bullish / "
        f"{marked['bearish']} bearish pattern signals",
        fontsize=10,
    )
    daily.set_ylabel("price")
    for column, (size, sized) in enumerate(sorted(resamples.items())):
        panel = figure.add_subplot(grid[1, column])
        _candles(panel, sized)
        _date_ticks(panel, sized, 2, "%y-%m")
        panel.set_title(f"{size}d bars", fontsize=8)
        panel.tick_params(labelsize=6)
    return _png(figure)


def track_record_chart(rows: Sequence[Performance]) -> bytes:
    """Hit rate of the top-k, and the top-k's forward return against the market's."""
    figure, (hits, returns) = plt.subplots(2, 1, figsize=(10, 4.8), sharex=True)
    x = list(range(len(rows)))
    hits.plot(x, [r.hit_rate for r in rows], color=UP, marker=".", label="hit rate")
    hits.axhline(0.5, color=NEUTRAL, linestyle="--", linewidth=1, label="coin flip")
    hits.set_ylabel("hit rate")
    hits.legend(fontsize=7, loc="upper left")
    hits.grid(True, alpha=0.25)
    returns.plot(x, [r.top_k_forward_return for r in rows], color=UP, label="top-k forward return")
    returns.plot(x, [r.market_forward_return for r in rows], color=NEUTRAL, label="market")
    returns.plot(x, [r.top_k_excess_return for r in rows], color=DOWN, label="excess")
    returns.axhline(0, color="black", linewidth=0.6)
    returns.set_ylabel("forward return")
    returns.legend(fontsize=7, loc="upper left")
    returns.grid(True, alpha=0.25)
    step = max(1, len(rows) // 8)
    ticks = x[::step]
    returns.set_xticks(ticks, [rows[i].date.isoformat() for i in ticks], fontsize=7)
    figure.tight_layout()
    return _png(figure)
