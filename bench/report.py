"""The benchmark's table: each stage, ours beside its peer, the ratio and the target.

Targets are data (TARGETS, PEAK_RSS_MIB); `table` turns the raw measurements of a run into
rows marked met / missed, `markdown` and `plot` render them. A number that was not
measured stays None and is shown as such, never filled in.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

RESAMPLES = [f"ohlcv_{n}d" for n in (3, 5, 8, 13, 21, 34)]
CANDLES = "candlestick_patterns"

# The targets on this 2-core machine at full size (10,000 x 2,520). Ratios are
# peer seconds over ours: 20 = ours 20x faster; 0.5 = ours at most 2x slower.
TARGETS: dict[str, dict[str, float]] = {
    "full_build": {"max_seconds": 300},
    "daily_incremental": {"max_seconds": 30},
    "silver_daily_update": {"min_ratio": 20},
    "resamples_full": {"min_ratio": 1},
    "candlestick_patterns": {"min_ratio": 0.5},
    "consolidation": {"min_ratio": 100},
}
PEAK_RSS_MIB = 12 * 1024  # every stage of ours
FULL_SIZE = {"symbols": 10_000, "sessions": 2_520}


@dataclass(frozen=True)
class Side:
    """One side of a comparison: what was timed, over how many rows."""

    name: str
    seconds: float | None
    rows: int | None
    peak_rss_mib: int | None
    timed: str

    @property
    def rows_per_second(self) -> int | None:
        if self.seconds is None or self.rows is None or self.seconds <= 0:
            return None
        return round(self.rows / self.seconds)


@dataclass(frozen=True)
class Row:
    stage: str
    label: str
    ours: Side | None  # None: skipped
    peer: Side | None  # None: no peer named by the issue
    note: str = ""

    @property
    def ratio(self) -> float | None:
        if self.ours is None or self.peer is None:
            return None
        if self.peer.seconds is None or not self.ours.seconds:
            return None
        return round(self.peer.seconds / self.ours.seconds, 2)

    @property
    def target(self) -> str:
        limits = TARGETS.get(self.stage, {})
        parts = [f"wall < {limits['max_seconds']:g} s"] if "max_seconds" in limits else []
        parts += [f"ratio >= {limits['min_ratio']:g}"] if "min_ratio" in limits else []
        return "; ".join([*parts, f"peak < {PEAK_RSS_MIB // 1024} GiB"])

    @property
    def met(self) -> bool | None:
        """True / False when every condition was measured; None if one was not."""
        if self.ours is None:
            return None
        limits = TARGETS.get(self.stage, {})
        checks = [_below(self.ours.peak_rss_mib, PEAK_RSS_MIB)]
        if "max_seconds" in limits:
            checks.append(_below(self.ours.seconds, limits["max_seconds"]))
        if "min_ratio" in limits:
            checks.append(None if self.ratio is None else self.ratio >= limits["min_ratio"])
        return None if None in checks else all(checks)

    def as_json(self) -> dict[str, Any]:
        sides = {
            name: side and {**asdict(side), "rows_per_second": side.rows_per_second}
            for name, side in (("ours", self.ours), ("peer", self.peer))
        }
        return {
            "stage": self.stage,
            "label": self.label,
            **sides,
            "ratio_peer_over_ours": self.ratio,
            "target": self.target,
            "met": self.met,
            "note": self.note,
        }


def _below(value: float | None, limit: float) -> bool | None:
    return None if value is None else value < limit


def busy_seconds(run: dict[str, Any], models: list[str]) -> float:
    """Wall seconds during which at least one of `models` was running in the dbt
    invocation `run`: the union of their spans. With one dbt thread that is the sum of
    their execution times (another model run in between is not counted); with more,
    overlapping executions count once."""
    spans = sorted(
        (dt.datetime.fromisoformat(start), dt.datetime.fromisoformat(end))
        for start, end in (run["model_spans"][model] for model in models)
    )
    busy = dt.timedelta()
    covered_until = spans[0][0]
    for start, end in spans:
        if end > covered_until:
            busy += end - max(start, covered_until)
            covered_until = end
    return round(busy.total_seconds(), 3)


def _dbt(name: str, seconds: float, rows: int, run: dict[str, Any], timed: str) -> Side:
    """Ours, measured in one dbt invocation `run` (whose process peak RSS it carries)."""
    return Side(name, seconds, rows, run["peak_rss_mib"], timed)


def _peer(name: str, peer: dict[str, Any], timed: str) -> Side:
    return Side(name, peer["seconds"], peer["rows"], peer["peak_rss_mib"], timed)


def market_rows(stages: dict[str, Any]) -> list[Row]:
    """The comparisons measured on one market (bench.__main__.market_stages)."""
    seed, full, daily = stages["seed"], stages["full_build"], stages["daily_incremental"]
    resamples, candles = stages["resamples_full"], stages["candles_full"]
    pandas, talib = stages["pandas_resample"], stages["talib_per_symbol"]
    files = stages["per_file_consolidation"]
    after_full = stages["rows_after_full"]
    landed = after_full["bronze.ohlcv_daily"] + after_full["bronze.ohlcv_rejected"]
    bars = stages["rows_after_daily"]["bronze.ohlcv_daily"]
    new_bars = daily["new_bars"]
    pandas_side = _peer(
        "pandas groupby", pandas, "Bronze read into pandas + six groupby().agg, own process"
    )
    files_side = Side(
        "per-symbol-day files (extrapolated)",
        round(files["ms_per_file"] * after_full["bronze.ohlcv_daily"] / 1000, 1),
        after_full["bronze.ohlcv_daily"],
        files["peak_rss_mib"],
        f"pd.read_parquet per file + pd.concat over {files['files']:,} files"
        f" ({files['ms_per_file']:.3f} ms/file), times one file per Bronze bar;"
        " peak RSS is the sample's, not extrapolated",
    )
    return [
        Row(
            "full_build",
            "full build from empty",
            Side(
                "dbt seed + run",
                round(seed["seconds"] + full["seconds"], 2),
                landed,
                max(seed["peak_rss_mib"], full["peak_rss_mib"]),
                "process wall of `dbt seed` + `dbt run` (start-up included)",
            ),
            None,
            note="no peer named for the whole build; see the consolidation row",
        ),
        Row(
            "consolidation",
            "Bronze consolidation, full history",
            _dbt(
                "dbt ohlcv_daily",
                full["model_seconds"]["ohlcv_daily"],
                landed,
                full,
                "bronze.ohlcv_daily's execution in the full build (it reads every landing"
                " file: staging is views); peak of the whole build",
            ),
            files_side,
        ),
        Row(
            "daily_incremental",
            "daily incremental (one session)",
            _dbt("dbt run", daily["seconds"], new_bars, daily, "process wall of the `dbt run`"),
            None,
        ),
        Row(
            "silver_daily_update",
            "daily Silver update (six resamples)",
            _dbt(
                "dbt, six models",
                busy_seconds(daily, RESAMPLES),
                new_bars,
                daily,
                "wall seconds during which any of the six resample models ran in the daily run"
                " (the union of their spans; other models of the run are not counted)",
            ),
            pandas_side,
            note="the peer recomputes in full: that is what pandas would do each day",
        ),
        Row(
            "candlestick_daily",
            "daily candlestick update",
            _dbt(
                "dbt candlestick_patterns",
                daily["model_seconds"][CANDLES],
                new_bars,
                daily,
                "the model's execution in the daily run",
            ),
            None,
        ),
        Row(
            "resamples_full",
            "six resamples in full",
            _dbt(
                "dbt, six models",
                busy_seconds(resamples, RESAMPLES),
                bars,
                resamples,
                "wall seconds of the six models with --full-refresh (the union of their spans;"
                " each reads Bronze and writes its table); the dbt process took"
                f" {resamples['seconds']} s",
            ),
            pandas_side,
            note=f"pandas: read {pandas['read_seconds']} s, compute {pandas['compute_seconds']} s",
        ),
        Row(
            "candlestick_patterns",
            "61 candlestick patterns in full",
            _dbt(
                "dbt candlestick_patterns",
                candles["model_seconds"][CANDLES],
                bars,
                candles,
                "the model's execution with --full-refresh; the dbt process took"
                f" {candles['seconds']} s",
            ),
            _peer("TA-Lib per symbol", talib, "Bronze read sorted + 61 functions per symbol"),
            note=f"TA-Lib: read {talib['read_seconds']} s, compute {talib['compute_seconds']} s",
        ),
    ]


NO_PEER = "no peer named by the issue"


def ml_rows(ml: dict[str, Any]) -> list[Row]:
    stages = {"ml_training": "ML training", "ml_prediction": "ML prediction, one day"}
    if "skipped" in ml:
        return [Row(stage, label, None, None, ml["skipped"]) for stage, label in stages.items()]
    training, prediction = ml["training"], ml["prediction"]
    market = f"bench_ml's own market, {ml['market']['symbols']:,} x {ml['market']['sessions']:,}"
    return [
        Row(
            "ml_training",
            stages["ml_training"],
            Side(
                "condvest train",
                training["seconds"],
                ml["labelled_rows"],
                training["peak_rss_mib_so_far"],
                f"train_from_store ({market}); peak of the ML process (dbt runs apart)",
            ),
            None,
            note=NO_PEER,
        ),
        Row(
            "ml_prediction",
            stages["ml_prediction"],
            Side(
                "condvest predict",
                prediction["seconds"],
                prediction["rows"],
                prediction["peak_rss_mib_so_far"],
                "predict_from_store, latest session; peak so far of the ML process",
            ),
            None,
            note=NO_PEER,
        ),
    ]


def ingestion_rows(ingestion: dict[str, Any]) -> list[Row]:
    stages = {"one_session": "ingestion, one session", "backfill": "ingestion, one year"}
    if "skipped" in ingestion:
        return [Row(f"ingestion_{key}", label, None, None, ingestion["skipped"])
                for key, label in stages.items()]  # fmt: skip
    rows = []
    for key, label in stages.items():
        scenario = ingestion["scenarios"][key]
        ours = Side(
            "fetch_ohlcv",
            scenario["wall_seconds"],
            scenario["rows"],
            round(scenario["peak_rss_bytes"] / 2**20),
            f"local Polygon server, {ingestion['symbols']:,} symbols; the client's own process",
        )
        rows.append(Row(f"ingestion_{key}", label, ours, None, note=NO_PEER))
    return rows


# The stages the plot follows across market sizes (the daily Silver update's peer is the
# full pandas recompute, already plotted as the six resamples' peer).
PLOTTED = ("full_build", "daily_incremental", "consolidation", "resamples_full",
           "candlestick_patterns")  # fmt: skip


def scaling_point(symbols: int, sessions: int, rows: list[Row]) -> dict[str, Any]:
    """Seconds of ours and of the peer per plotted stage, for the plot of cost against size."""
    return {
        "symbols": symbols,
        "sessions": sessions,
        "seconds": {
            row.label: {
                "ours": row.ours.seconds if row.ours else None,
                "peer": row.peer.seconds if row.peer else None,
                "peer_name": row.peer.name if row.peer else None,
            }
            for row in rows
            if row.stage in PLOTTED
        },
    }


def _cell(value: object) -> str:
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "**no**"
    if isinstance(value, float):
        return f"{value:,.2f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def markdown(result: dict[str, Any]) -> str:
    """The run's table (ratios to the peer) with what each number times, as markdown."""
    market = result["market"]
    header = ["stage", "ours wall s", "ours rows/s", "ours peak MiB", "peer", "peer wall s",
              "peer rows/s", "peer peak MiB", "ratio peer/ours", "target", "met?"]  # fmt: skip
    lines = [
        f"# Benchmark {market['symbols']:,} symbols x {result['size']['sessions']:,} sessions",
        "",
        f"{market['rows']:,} landed rows, {market['first_session']} .. {market['last_session']}"
        f" (the last session held back for the daily run); {result['machine']['cpus']} cores,"
        f" measured {result['measured_at']}.",
        "",
        *_size_caveat(result["size"]),
        "| " + " | ".join(header) + " |",
        "|" + "|".join("---" for _ in header) + "|",
    ]
    for row in result["table"]:
        ours, peer = row["ours"] or {}, row["peer"] or {}
        skipped = row["ours"] is None
        cells = [
            row["label"],
            "skipped" if skipped else _cell(ours["seconds"]),
            _cell(ours.get("rows_per_second")),
            _cell(ours.get("peak_rss_mib")),
            peer.get("name", "no peer"),
            _cell(peer.get("seconds")),
            _cell(peer.get("rows_per_second")),
            _cell(peer.get("peak_rss_mib")),
            _cell(row["ratio_peer_over_ours"]),
            row["target"],
            _cell(row["met"]),
        ]
        lines.append("| " + " | ".join(cells) + " |")
    lines += ["", "What is timed:", ""]
    for row in result["table"]:
        for side in ("ours", "peer"):
            if row[side]:
                lines.append(f"- {row['label']}, {row[side]['name']}: {row[side]['timed']}")
        if row["note"]:
            lines.append(f"- {row['label']}: {row['note']}")
    lines += ["", *agreement_lines(result["stages"]), "", *model_lines(result["stages"]), ""]
    return "\n".join(lines)


def model_lines(stages: dict[str, Any]) -> list[str]:
    """dbt's execution seconds per model in the full build and in the daily run."""
    full = stages["full_build"]["model_seconds"]
    daily = stages["daily_incremental"]["model_seconds"]
    lines = ["Per-model seconds (dbt's execution time):", "", "| model | full build | daily |",
             "|---|---:|---:|"]  # fmt: skip
    for model in sorted(full, key=full.get, reverse=True):
        lines.append(f"| {model} | {full[model]:.2f} | {_cell(daily.get(model))} |")
    return lines


def _size_caveat(size: dict[str, int]) -> list[str]:
    if size == FULL_SIZE:
        return []
    return [
        f"The targets are set for {FULL_SIZE['symbols']:,} x {FULL_SIZE['sessions']:,}; at this"
        " size fixed costs (dbt start-up, per-model overhead) dominate, so met / missed is"
        " indicative only.",
        "",
    ]


def agreement_lines(stages: dict[str, Any]) -> list[str]:
    resample, candles = stages["resample_agreement"], stages["candle_agreement"]
    sizes = resample["sizes"].values()
    return [
        "Same work on both sides:",
        "",
        f"- resamples: pandas {'equals' if resample['agree'] else '**differs from**'} dbt on"
        f" {sum(s['dbt_rows'] for s in sizes):,} rows of the six tables (every column exact,"
        f" vwap within rtol {resample['vwap_rtol']:g})",
        f"- patterns: {candles['differing_cells']} differing cells, {candles['ties']} of them"
        f" ties, {len(candles['not_ties'])} not ties, {candles['unmatched_rows']} unmatched rows",
    ]


def plot(scaling: list[dict[str, Any]], path: Path) -> None:
    """Wall seconds against the number of symbols, log-log: ours solid, peers dashed."""
    import matplotlib

    matplotlib.use("Agg")  # files only, no display
    import matplotlib.pyplot as plt
    import matplotlib.ticker

    points = sorted(scaling, key=lambda point: point["symbols"])
    symbols = [point["symbols"] for point in points]
    figure, axes = plt.subplots(figsize=(12, 6))
    for index, label in enumerate(points[-1]["seconds"]):
        colour = f"C{index}"
        stage = [point["seconds"][label] for point in points]
        axes.plot(symbols, [s["ours"] for s in stage], "o-", color=colour, label=f"{label}: ours")
        if stage[-1]["peer"] is not None:
            axes.plot(symbols, [s["peer"] for s in stage], "s--", color=colour,
                      label=f"{label}: {stage[-1]['peer_name']}")  # fmt: skip
    axes.set(xscale="log", yscale="log", xlabel="symbols (market size)", ylabel="wall seconds")
    axes.set_xticks(symbols, [f"{s:,}" for s in symbols])
    axes.xaxis.set_minor_formatter(matplotlib.ticker.NullFormatter())
    axes.set_title(f"Cost against market size ({points[-1]['sessions']:,} sessions)")
    axes.grid(True, which="both", alpha=0.3)
    axes.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1))
    figure.tight_layout()
    figure.savefig(path, dpi=120)
    plt.close(figure)
