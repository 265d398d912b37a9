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
# peer seconds over ours: 20 = ours 20x faster; 1 = ours no slower.
TARGETS: dict[str, dict[str, float]] = {
    "cli_help": {"max_seconds": 1},
    "first_build": {"max_seconds": 180},
    "daily": {"max_seconds": 20},
    "consolidation": {"min_ratio": 100},
    "silver_daily_update": {"min_ratio": 20},
    "resamples_full": {"min_ratio": 1},  # against polars
    "resamples_full_pandas": {"min_ratio": 1},
    "candlestick_patterns": {"min_ratio": 1},
}
PEAK_RSS_MIB = 8 * 1024  # every stage of ours
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


def _dbt(name: str, seconds: float | None, rows: int, run: dict[str, Any], timed: str) -> Side:
    """Ours, measured in one process `run` (whose peak RSS it carries)."""
    return Side(name, seconds, rows, run["peak_rss_mib"], timed)


def _peer(name: str, peer: dict[str, Any], timed: str) -> Side:
    return Side(name, peer["seconds"], peer["rows"], peer["peak_rss_mib"], timed)


def _day_build(stages: dict[str, Any]) -> dict[str, Any]:
    """The per-model timings of the day's `dbt build` (empty if its log had none)."""
    return stages["daily"].get("dbt_build") or {"model_seconds": {}, "model_spans": {}}


def _day_busy_seconds(stages: dict[str, Any], models: list[str]) -> float | None:
    build = _day_build(stages)
    if not all(model in build["model_spans"] for model in models):
        return None
    return busy_seconds(build, models)


def _ratio_note(peer: str, peer_seconds: float, ours: float | None) -> str:
    ratio = f"{peer_seconds / ours:.2f}" if ours else "-"
    return f"the full recompute in {peer}: {peer_seconds} s (ratio {ratio})"


def market_rows(stages: dict[str, Any]) -> list[Row]:
    """The comparisons measured on one market (bench.__main__.market_stages)."""
    first, daily = stages["first_build"], stages["daily"]
    resamples, candles = stages["resamples_full"], stages["candles_full"]
    pandas, polars = stages["pandas_resample"], stages["polars_resample"]
    talib, files = stages["talib_per_symbol"], stages["per_file_consolidation"]
    bronze = stages["rows_after_first_build"]["bronze.ohlcv_daily"]
    bars = stages["rows_after_daily"]["bronze.ohlcv_daily"]
    pandas_side = _peer(
        "pandas groupby", pandas, "Bronze read into pandas + six groupby().agg, own process"
    )
    polars_side = _peer(
        "polars group_by",
        polars,
        "Bronze read into polars + six lazy group_by().agg collected together, own process",
    )
    files_side = Side(
        "per-symbol-day files (extrapolated)",
        round(files["ms_per_file"] * bronze / 1000, 1),
        bronze,
        files["peak_rss_mib"],
        f"pd.read_parquet per file + pd.concat over {files['files']:,} files"
        f" ({files['ms_per_file']:.3f} ms/file), times one file per Bronze bar;"
        " peak RSS is the sample's, not extrapolated",
    )
    silver_daily = _day_busy_seconds(stages, RESAMPLES)
    six_full = busy_seconds(resamples, RESAMPLES)
    return [
        Row(
            "first_build",
            "dbt build from empty (tests included)",
            _dbt(
                "dbt build",
                first["seconds"],
                first["rows_landed"],
                first,
                "process wall of `dbt build`, the default selection, into an empty warehouse"
                f" (start-up included): {_nodes(first['nodes'])}",
            ),
            None,
            note="no peer named for the whole build; see the consolidation row",
        ),
        Row(
            "consolidation",
            "Bronze consolidation, full history",
            _dbt(
                "dbt ohlcv_daily",
                first["model_seconds"]["ohlcv_daily"],
                first["rows_landed"],
                first,
                "bronze.ohlcv_daily's execution in the first build (it reads every landing"
                " file: staging is views); peak of the whole build",
            ),
            files_side,
        ),
        Row(
            "daily",
            "condvest daily, one session (no training)",
            _dbt(
                "condvest daily",
                daily["seconds"],
                daily["rows_fetched"],
                daily,
                "process wall of `condvest daily` (start-up included): the session fetched"
                " from the local Polygon server, `dbt build` (default selection), predict,"
                " the predictions mart, vacuum, notify; per state below",
            ),
            None,
            note=NO_PEER,
        ),
        Row(
            "silver_daily_update",
            "daily Silver update (six resamples)",
            _dbt(
                "dbt, six models",
                silver_daily,
                daily["new_bars"],
                daily,
                "wall seconds during which any of the six resample models ran in the day's"
                " `dbt build` (the union of their spans, from dbt's log; other nodes are not"
                " counted); peak of the whole `condvest daily`",
            ),
            pandas_side,
            note="the peer recomputes in full: that is what pandas would do each day; "
            + _ratio_note("polars", polars["seconds"], silver_daily),
        ),
        Row(
            "candlestick_daily",
            "daily candlestick update",
            _dbt(
                "dbt candlestick_patterns",
                _day_build(stages)["model_seconds"].get(CANDLES),
                daily["new_bars"],
                daily,
                "the model's execution in the day's `dbt build`; peak of the whole"
                " `condvest daily`",
            ),
            None,
        ),
        Row(
            "resamples_full",
            "six resamples in full, against polars",
            _dbt(
                "dbt, six models",
                six_full,
                bars,
                resamples,
                "wall seconds of the six models with --full-refresh (the union of their spans;"
                " each reads Bronze and writes its table); the dbt process took"
                f" {resamples['seconds']} s",
            ),
            polars_side,
            note=f"polars: read {polars['read_seconds']} s, compute {polars['compute_seconds']} s",
        ),
        Row(
            "resamples_full_pandas",
            "six resamples in full, against pandas",
            _dbt("dbt, six models", six_full, bars, resamples, "as above"),
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


def _nodes(counts: dict[str, int]) -> str:
    """`{"model success": 18, "test pass": 380}` as "18 model success, 380 test pass"."""
    return ", ".join(f"{count:,} {kind}" for kind, count in counts.items())


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


def cli_rows(cli: dict[str, Any]) -> list[Row]:
    """`condvest --help`: the median of fresh processes (bench.bench_cli)."""
    timing = cli["timings"][0]
    ours = Side(
        timing["command"],
        timing["median_seconds"],
        None,
        timing["peak_rss_mib"],
        f"median of {timing['runs']} fresh processes after a warm-up "
        f"(min {timing['min_seconds']} s, max {timing['max_seconds']} s)",
    )
    return [Row("cli_help", "`condvest --help`", ours, None, note=NO_PEER)]


# The stages the plot follows across market sizes (the six resamples against polars; the
# pandas row has the same ours).
PLOTTED = ("first_build", "daily", "consolidation", "resamples_full", "candlestick_patterns")


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
        f" (the last session held back, then served by the local Polygon server to"
        f" `condvest daily`); {result['machine']['cpus']} cores, measured"
        f" {result['measured_at']}.",
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
    lines += ["", *daily_lines(result["stages"]), "", *agreement_lines(result["stages"]), ""]
    lines += [*model_lines(result["stages"]), ""]
    return "\n".join(lines)


def model_lines(stages: dict[str, Any]) -> list[str]:
    """dbt's execution seconds per model in the first build and in the day's build."""
    first = stages["first_build"]["model_seconds"]
    daily = _day_build(stages)["model_seconds"]
    lines = ["Per-model seconds (dbt's execution time):", "",
             "| model | first build | condvest daily's build |", "|---|---:|---:|"]  # fmt: skip
    for model in sorted(first, key=first.get, reverse=True):
        lines.append(f"| {model} | {first[model]:.2f} | {_cell(daily.get(model))} |")
    return lines


def daily_lines(stages: dict[str, Any]) -> list[str]:
    """How the day was set up and where its seconds went, state by state."""
    daily, setup = stages["daily"], stages["setup"]
    states = daily["state_seconds"] or {"(not found in the -v log)": None}
    model = setup["model"]
    return [
        f"`condvest daily --date {daily['date']}` (TRAINING_WEEKDAY={daily['training_weekday']}):"
        f" {daily['status']}, {daily['rows_fetched']:,} bars fetched,"
        f" {daily['tickers_landed']:,} tickers, {daily['predictions']} top predictions"
        f" reported. Set up untimed: the ticker snapshot and watermarks of the session"
        f" before ({setup['watermarks']['market']}), that day's vacuum"
        f" ({setup['vacuum']['deleted']:,} landing files past retention deleted), a"
        f" {model['model_type']} model published ({model['seconds']} s).",
        "",
        "| state | seconds |",
        "|---|---:|",
        *(f"| {name} | {_cell(seconds)} |" for name, seconds in states.items()),
    ]


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
    candles = stages["candle_agreement"]
    lines = ["Same work on both sides:", ""]
    for resample in stages["resample_agreement"].values():
        sizes = resample["sizes"].values()
        lines.append(
            f"- resamples: {resample['peer']}"
            f" {'equals' if resample['agree'] else '**differs from**'} dbt on"
            f" {sum(s['dbt_rows'] for s in sizes):,} rows of the six tables (every column exact,"
            f" vwap within rtol {resample['vwap_rtol']:g})"
        )
    lines.append(
        f"- patterns: {candles['differing_cells']} differing cells, {candles['ties']} of them"
        f" ties, {len(candles['not_ties'])} not ties, {candles['unmatched_rows']} unmatched rows"
    )
    return lines


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
