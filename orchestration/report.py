"""The end-of-run report of `condvest daily` on the dev target: what the day produced.

Rows per layer and the patterns found come from the DuckDB warehouse (read-only, after
the run has released it); the rest from the run's summary.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import duckdb

from ml.results import TopPrediction
from orchestration.summary import LandedBrief, ModelBrief
from reports.warehouse import DuckDBWarehouse, rows_per_layer

if TYPE_CHECKING:
    from orchestration.daily import DailyResult

DOCS_HINT = "make docs (dbt docs generate + serve on http://localhost:8080)"


def warehouse_counts(warehouse_path: str, run_date: str | None) -> dict[str, Any]:
    """Rows of every table per layer, and the candlestick signals of the run date; or,
    when the warehouse cannot be read, `{"unavailable": why}`.

    The report is printed after the run is recorded, on failures too: a warehouse the
    failed run left locked, half-built or still open in this process under another
    configuration must never turn the FAILED report into a traceback.
    """
    try:
        return _counts(warehouse_path, run_date)
    except duckdb.Error as exc:
        return {"unavailable": f"{type(exc).__name__}: {exc}".splitlines()[0]}


def _counts(warehouse_path: str, run_date: str | None) -> dict[str, Any]:
    # Views are not counted and the signals are the run date's only: counting the events
    # view, or its signals over all history, unpivots every pattern of every bar, which on
    # a 10,000-symbol market takes longer than the whole daily build.
    with duckdb.connect(warehouse_path, read_only=True) as conn:
        layers = rows_per_layer(DuckDBWarehouse(conn, warehouse_path))
        rejected: list[dict[str, Any]] = []
        if "ohlcv_rejected" in layers["bronze"]:
            # Every quarantined bar by reason, with a few of them named: one bad row is
            # visible in the day's report, whichever path landed it.
            rejected = [
                {"reason": reason, "rows": int(rows), "examples": list(examples)}
                for reason, rows, examples in conn.execute(
                    "select invalid_reason, count(*), "
                    "list(symbol || ' ' || cast(date as varchar) order by date desc, symbol)[1:3] "
                    "from bronze.ohlcv_rejected group by invalid_reason order by 2 desc, 1"
                ).fetchall()
            ]
        patterns: dict[str, Any] = {}
        if "candlestick_patterns" in layers["silver"]:
            # the date filter reaches the patterns table through the view's unpivot
            fired = conn.execute(
                "select pattern, count(*) as signals from silver.candlestick_events "
                "where date = ? group by pattern order by signals desc, pattern",
                [run_date],
            ).fetchall()
            patterns = {
                "signals_on_run_date": sum(int(n) for _, n in fired),
                "most_frequent_on_run_date": [
                    {"pattern": p, "signals": int(n)} for p, n in fired[:5]
                ],
            }
    return {"rows_per_layer": layers, "patterns": patterns, "rejected": rejected}


def format_report(run: DailyResult, warehouse: Mapping[str, Any] | None) -> str:
    """A few lines a person reads after `make run`: the run, and `warehouse_counts`."""
    summary = run.summary
    lines = [
        f"condvest daily {summary.date if summary else None}: {run.status} "
        f"(execution {summary.execution if summary else None})",
        "  states: " + " -> ".join(run.states),
    ]
    # No summary (the Notify step failed): what a run that landed and trained nothing says.
    ohlcv = summary.ohlcv if summary else LandedBrief.of(None)
    lines.append(
        f"  landed: {ohlcv.rows_landed} bars over {ohlcv.sessions_landed} "
        f"session(s), {summary.tickers_landed if summary else 0} tickers; watermark "
        f"{ohlcv.watermark}"
    )
    for item in summary.landing_check.quarantined if summary and summary.landing_check else []:
        lines.append(
            f"  quarantined landing file: {item.path} ({item.reason}); kept at {item.moved_to}"
        )
    for record in ohlcv.malformed_records:
        lines.append(f"  malformed vendor record, landed invalid: {record}")
    warehouse = warehouse or {}
    if warehouse.get("unavailable"):
        lines.append(f"  warehouse: not read ({warehouse['unavailable']})")
    for layer, tables in (warehouse.get("rows_per_layer") or {}).items():
        listed = ", ".join(f"{name} {rows:,}" for name, rows in tables.items())
        lines.append(f"  {layer}: {listed or '(none)'}")
    rejected = warehouse.get("rejected") or []
    if rejected:
        lines.append(
            "  rejected bars: "
            + "; ".join(
                f"{item['reason']} {item['rows']:,} (e.g. {', '.join(item['examples'])})"
                for item in rejected
            )
        )
    patterns = warehouse.get("patterns") or {}
    if patterns:
        frequent = ", ".join(
            f"{p['pattern']} {p['signals']:,}" for p in patterns["most_frequent_on_run_date"]
        )
        lines.append(
            f"  patterns: {patterns['signals_on_run_date']:,} signals on the run date; "
            f"most frequent: {frequent or '(none)'}"
        )
    lines += _model_lines(
        summary.model if summary else ModelBrief(None, False, None),
        summary.top_predictions if summary else [],
    )
    seconds = run.state_seconds
    if seconds:
        slowest = sorted(seconds.items(), key=lambda item: -item[1])[:4]
        lines.append(
            f"  seconds: {sum(seconds.values()):.1f} in the steps; "
            + ", ".join(f"{name} {value:.1f}" for name, value in slowest)
        )
    if run.error:
        lines.append(f"  error: {run.document.get('error') or run.error}")
    lines.append(f"  docs: {DOCS_HINT}")
    return "\n".join(lines)


def _model_lines(model: ModelBrief, top: list[TopPrediction]) -> list[str]:
    metrics = (model.metrics or {}).get("validation") or {}
    lines = [
        f"  model: {model.version} ({'trained today' if model.trained else 'reused'})"
        + (
            f", validation AUC {metrics.get('auc')}, accuracy {metrics.get('accuracy')}, "
            f"precision@k {metrics.get('precision_at_k')}"
            if metrics
            else ""
        )
    ]
    against = (model.metrics or {}).get("against_baselines") or {}
    if against.get("verdict"):
        lines.append(f"  against the baselines: {against['verdict']}")
    if top:
        lines.append(
            "  top predictions: "
            + ", ".join(f"{row.symbol} {row.probability_up:.3f}" for row in top)
        )
    return lines
