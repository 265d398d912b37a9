"""The daily report: one self-contained HTML file per run date, in the lake at
`reports/daily/<date>.html` (core.layout.daily_report_file).

It shows the run (its states and their seconds, rows per layer), the market that day
(advancers and decliners, the patterns that fired grouped by the pattern catalog's
meaning), candlestick charts of the top predictions and of chosen symbols with their
pattern markers and 3d..34d bars, the model beside its baselines with a plain verdict,
and the realized track record from gold.prediction_performance when it exists.

`condvest daily` passes its own run (`RunInfo`); `condvest report` builds one from the
run records. Everything else is read from the warehouse and the lake.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from core.lake import Lake
from core.layout import daily_report_file
from reports import charts
from reports.html import cell, esc, number, page, percent, png_figure, row, table
from reports.model import ModelCard, model_card
from reports.warehouse import (
    Breadth,
    PatternCount,
    Performance,
    Prediction,
    Warehouse,
    breadth,
    daily_bars,
    fired_patterns,
    known_symbol,
    latest_date,
    performance,
    resample_bars,
    rows_per_layer,
    sessions_before,
    symbol_events,
    top_predictions,
)

TOP_CHARTS = 5
CHART_SESSIONS = 63  # about three months of daily candles
RESAMPLE_BARS = 12  # of each Fibonacci size
DIRECTION_ORDER = ("bullish", "bearish", "neutral")


@dataclass(frozen=True)
class RunStep:
    """One state of the run (or one recorded run), and its wall seconds when known."""

    name: str
    seconds: float | None = None
    status: str | None = None


@dataclass(frozen=True)
class RunInfo:
    """What the caller knows of the run the report is about."""

    status: str
    steps: tuple[RunStep, ...]
    origin: str  # where this came from: "this run" or "run records"
    execution: str | None = None
    rows_per_layer: Mapping[str, Mapping[str, int]] | None = None


@dataclass(frozen=True)
class DailyReport:
    day: dt.date
    html: bytes
    facts: dict[str, Any] = field(default_factory=dict)


def _run_section(run: RunInfo | None, layers: Mapping[str, Mapping[str, int]]) -> str:
    parts = ["<h2>The run</h2>"]
    if run is None:
        parts.append('<p class="muted" id="run-unknown">No run record for this date.</p>')
    elif not run.steps:  # on AWS the states and their seconds are the execution's history
        parts.append(
            f'<p>Status <strong id="run-status">{esc(run.status)}</strong>'
            + (f", execution <code>{esc(run.execution)}</code>" if run.execution else "")
            + f"; its states and their seconds are in {esc(run.origin)}'s history.</p>"
        )
    else:
        total = sum(step.seconds or 0 for step in run.steps)
        parts.append(
            f'<p>Status <strong id="run-status">{esc(run.status)}</strong>'
            + (f", execution <code>{esc(run.execution)}</code>" if run.execution else "")
            + f", {total:.1f} s in the steps (from {esc(run.origin)}).</p>"
        )
        parts.append(
            table(
                ["state", "status", "seconds"],
                (
                    row(
                        [
                            cell(step.name),
                            cell(step.status or ""),
                            cell(number(step.seconds, 2), "seconds", numeric=True),
                        ],
                        state=step.name,
                    )
                    for step in run.steps
                ),
                "run-states",
                len(run.steps),
            )
        )
    parts.append(
        table(
            ["layer", "table", "rows"],
            (
                row(
                    [cell(layer), cell(name), cell(f"{rows:,}", "rows", numeric=True)],
                    table=f"{layer}.{name}",
                    rows=rows,
                )
                for layer, tables in layers.items()
                for name, rows in tables.items()
            ),
            "rows-per-layer",
        )
    )
    return "".join(parts)


def _market_section(day: dt.date, market: Breadth, fired: Sequence[PatternCount]) -> str:
    parts = [
        "<h2>The market</h2>",
        table(
            ["advancers", "decliners", "unchanged", "first bar", "symbols"],
            [
                row(
                    [
                        cell(market.advancers, "advancers", True),
                        cell(market.decliners, "decliners", True),
                        cell(market.unchanged, "unchanged", True),
                        cell(market.first_bars, "first_bars", True),
                        cell(market.symbols, "symbols", True),
                    ]
                )
            ],
            "breadth",
        ),
        f"<p class='muted'>Closes of {day.isoformat()} against each symbol's previous bar.</p>",
        "<h2>Patterns that fired</h2>",
    ]
    if not fired:
        parts.append('<p id="patterns-none">No candlestick pattern fired on this date.</p>')
        return "".join(parts)
    totals = {d: sum(p.signals for p in fired if p.direction == d) for d in DIRECTION_ORDER}
    parts.append(
        '<p id="pattern-totals">'
        + ", ".join(
            f'<span class="{d}" data-direction="{d}" data-signals="{totals[d]}">'
            f"{totals[d]:,} {d}</span>"
            for d in DIRECTION_ORDER
        )
        + " signals. Neutral signals are single-candle descriptors (doji, spinning top, "
        "long or short line...): their sign is only the candle's colour.</p>"
    )
    for direction in DIRECTION_ORDER:
        group = [p for p in fired if p.direction == direction]
        if not group:
            continue
        parts.append(f'<h3 class="{direction}">{direction.capitalize()}</h3>')
        parts.append(
            table(
                ["pattern", "kind", "signals", "symbols"],
                (
                    row(
                        [
                            cell(f"{p.display_name} ({p.pattern})"),
                            cell(p.kind),
                            cell(p.signals, "signals", True),
                            cell(", ".join(p.symbols[:8]) + (" ..." if len(p.symbols) > 8 else "")),
                        ],
                        pattern=p.pattern,
                        direction=p.direction,
                        signals=p.signals,
                    )
                    for p in group
                ),
                f"patterns-{direction}",
                len(group),
            )
        )
    return "".join(parts)


def _symbol_chart(wh: Warehouse, symbol: str, day: dt.date, chart_id: str) -> str:
    start = sessions_before(wh, symbol, day, CHART_SESSIONS)
    bars = daily_bars(wh, symbol, start, day)
    if not bars:
        return f'<p class="muted" data-missing="{esc(symbol)}">{esc(symbol)}: no bars to draw.</p>'
    events = symbol_events(wh, symbol, start, day)
    png = charts.symbol_chart(symbol, bars, events, resample_bars(wh, symbol, day, RESAMPLE_BARS))
    shown = sum(1 for e in events if e.direction != "neutral")
    return png_figure(
        png,
        f"{symbol} daily candles {start} to {day}",
        f"{symbol}: {len(bars)} sessions to {day}; {shown} pattern markers "
        "(▲ bullish, ▼ bearish); below, the last 3d..34d bars (faint: still filling).",
        chart_id,
    )


def _predictions_section(wh: Warehouse, day: dt.date, top: Sequence[Prediction]) -> str:
    parts = ["<h2>Top predictions</h2>"]
    if not top:
        parts.append('<p id="predictions-none">No predictions for this date.</p>')
        return "".join(parts)
    parts.append(
        f"<p>Model <code>{esc(top[0].model_version)}</code>, the {len(top)} symbols ranked "
        "highest for an up move over the label horizon.</p>"
    )
    parts.append(
        table(
            ["rank", "symbol", "name", "probability up"],
            (
                row(
                    [
                        cell(p.rank_in_day, "rank", True),
                        cell(p.symbol),
                        cell(p.name or ""),
                        cell(f"{p.probability_up:.4f}", "probability_up", True),
                    ],
                    symbol=p.symbol,
                )
                for p in top
            ),
            "top-predictions",
            len(top),
        )
    )
    parts += [_symbol_chart(wh, p.symbol, day, f"chart-top-{p.symbol}") for p in top]
    return "".join(parts)


def _chosen_section(wh: Warehouse, day: dt.date, symbols: Sequence[str]) -> str:
    if not symbols:
        return ""
    parts = ["<h2>Chosen symbols</h2>"]
    for symbol in symbols:
        if not known_symbol(wh, symbol):
            parts.append(
                f'<p class="muted" data-missing="{esc(symbol)}">{esc(symbol)}: not in '
                "bronze.ohlcv_daily (unknown symbol?).</p>"
            )
            continue
        parts.append(_symbol_chart(wh, symbol, day, f"chart-symbol-{symbol}"))
    return "".join(parts)


def _model_section(card: ModelCard | None) -> str:
    parts = ["<h2>The model against its baselines</h2>"]
    if card is None:
        parts.append('<p id="model-none">No published model yet.</p>')
        return "".join(parts)
    edge, sentence = card.verdict()
    parts.append(
        f"<p>Model <code>{esc(card.version)}</code> ({esc(card.model_type)}), trained through "
        f"{esc(card.trained_through)}; walk-forward validation means"
        + (f", precision of the top {card.top_k} per day" if card.top_k else "")
        + ".</p>"
    )
    names = ["model", *card.baselines]
    metrics = {"model": card.model, **card.baselines}
    parts.append(
        table(
            ["", "AUC", "accuracy", "precision@k"],
            (
                row(
                    [
                        cell(name),
                        *(
                            cell(number(metrics[name].get(m), 4), m, True)
                            for m in ("auc", "accuracy", "precision_at_k")
                        ),
                    ],
                    scorer=name,
                )
                for name in names
            ),
            "model-metrics",
            len(names),
        )
    )
    parts.append(
        f'<p id="model-verdict" class="verdict{" edge" if edge else ""}" '
        f'data-edge="{str(edge).lower()}">{esc(sentence)}</p>'
    )
    return "".join(parts)


def _track_record_section(rows: Sequence[Performance]) -> str:
    parts = ["<h2>Track record</h2>"]
    if not rows:
        parts.append(
            '<p id="track-record-none">No track record yet: gold.prediction_performance is '
            "absent or empty (predictions need their label horizon to pass, and `condvest "
            "predict --from/--to` to score history).</p>"
        )
        return "".join(parts)
    parts.append(
        png_figure(
            charts.track_record_chart(rows),
            "hit rate and forward returns over time",
            f"{len(rows)} scored dates, {rows[0].date} to {rows[-1].date}.",
            "chart-track-record",
        )
    )
    recent = rows[-20:]
    parts.append(
        table(
            ["date", "model", "scored", "hit rate", "k", "top-k return", "market", "excess"],
            (
                row(
                    [
                        cell(r.date.isoformat()),
                        cell(r.model_version),
                        cell(r.symbols_scored, "symbols_scored", True),
                        cell(number(r.hit_rate), "hit_rate", True),
                        cell(r.top_k, "top_k", True),
                        cell(percent(r.top_k_forward_return), "top_k_forward_return", True),
                        cell(percent(r.market_forward_return), "market_forward_return", True),
                        cell(percent(r.top_k_excess_return), "top_k_excess_return", True),
                    ],
                    date=r.date.isoformat(),
                )
                for r in recent
            ),
            "track-record",
            len(recent),
        )
    )
    return "".join(parts)


def build_daily_report(
    warehouse: Warehouse,
    lake: Lake,
    day: dt.date | None = None,
    run: RunInfo | None = None,
    symbols: Sequence[str] = (),
    top_n: int = TOP_CHARTS,
    now: dt.datetime | None = None,
) -> DailyReport:
    """The report of `day` (default: the warehouse's last bar date), read from `warehouse`
    (reports.warehouse: the DuckDB file, or the Iceberg tables of an Athena build)."""
    wh = warehouse
    day = day or latest_date(wh)
    layers = run.rows_per_layer if run and run.rows_per_layer else rows_per_layer(wh)
    market = breadth(wh, day)
    fired = fired_patterns(wh, day)
    top = top_predictions(wh, day, top_n)
    record = performance(wh, day)
    generated = (now or dt.datetime.now(dt.UTC)).isoformat(timespec="seconds")
    body = [
        f"<h1>Condvest daily report: {day.isoformat()}</h1>",
        f'<p class="muted">Generated {esc(generated)} from {esc(wh.source)} and '
        f"{esc(lake.uri)}.</p>",
        _run_section(run, layers),
        _market_section(day, market, fired),
        _predictions_section(wh, day, top),
        _chosen_section(wh, day, [s.upper() for s in symbols]),
    ]
    card = model_card(lake, top[0].model_version if top else None)
    body += [_model_section(card), _track_record_section(record)]
    facts = {
        "date": day.isoformat(),
        "advancers": market.advancers,
        "decliners": market.decliners,
        "signals": {d: sum(p.signals for p in fired if p.direction == d) for d in DIRECTION_ORDER},
        "top_predictions": [p.symbol for p in top],
        "model_version": card.version if card else None,
        "model_has_edge": card.verdict()[0] if card else None,
        "track_record_dates": len(record),
    }
    return DailyReport(day, page(f"Condvest {day.isoformat()}", "".join(body)), facts)


def write_daily_report(lake: Lake, report: DailyReport) -> str:
    """Write the report to the lake (whole or not at all); returns where it is."""
    path = lake.path(daily_report_file(report.day))
    lake.write_bytes(path, report.html, content_type="text/html; charset=utf-8")
    return lake.display(path)
