"""The end-of-run report of `condvest daily` on the dev target: what the day produced.

Rows per layer and the patterns found come from the DuckDB warehouse (read-only, after
the run has released it); the rest from the run's summary.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import duckdb

from reports.warehouse import DuckDBWarehouse, rows_per_layer

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


def format_report(result: Mapping[str, Any]) -> str:
    """A few lines a person reads after `make run`."""
    summary = result.get("summary") or {}
    lines = [
        f"condvest daily {summary.get('date')}: {result['status']} "
        f"(execution {summary.get('execution')})",
        "  states: " + " -> ".join(result["states"]),
    ]
    ohlcv = summary.get("ohlcv") or {}
    lines.append(
        f"  landed: {ohlcv.get('rows_landed', 0)} bars over {ohlcv.get('sessions_landed', 0)} "
        f"session(s), {summary.get('tickers_landed', 0)} tickers; watermark "
        f"{ohlcv.get('watermark')}"
    )
    build = summary.get("build") or {}
    for item in (build.get("landing_check") or {}).get("quarantined") or []:
        lines.append(
            f"  quarantined landing file: {item['path']} ({item['reason']}); "
            f"kept at {item['moved_to']}"
        )
    for record in ohlcv.get("malformed_records") or []:
        lines.append(f"  malformed vendor record, landed invalid: {record}")
    warehouse = result.get("warehouse") or {}
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
    model = summary.get("model") or {}
    metrics = (model.get("metrics") or {}).get("validation") or {}
    lines.append(
        f"  model: {model.get('version')} ({'trained today' if model.get('trained') else 'reused'})"
        + (
            f", validation AUC {metrics.get('auc')}, accuracy {metrics.get('accuracy')}, "
            f"precision@k {metrics.get('precision_at_k')}"
            if metrics
            else ""
        )
    )
    against = (model.get("metrics") or {}).get("against_baselines") or {}
    if against.get("verdict"):
        lines.append(f"  against the baselines: {against['verdict']}")
    top = summary.get("top_predictions") or []
    if top:
        lines.append(
            "  top predictions: "
            + ", ".join(f"{row['symbol']} {row['probability_up']:.3f}" for row in top)
        )
    seconds = result.get("state_seconds") or {}
    if seconds:
        slowest = sorted(seconds.items(), key=lambda item: -item[1])[:4]
        lines.append(
            f"  seconds: {sum(seconds.values()):.1f} in the steps; "
            + ", ".join(f"{name} {value:.1f}" for name, value in slowest)
        )
    if result.get("error"):
        error = (result.get("document") or {}).get("error") or result["error"]
        lines.append(f"  error: {error}")
    lines.append(f"  docs: {DOCS_HINT}")
    return "\n".join(lines)
