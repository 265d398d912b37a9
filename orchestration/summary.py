"""What a daily run reports and records: one summary, built from the run's document.

The document is the state machine's (and `condvest daily`'s) state: `run` (the plan),
`steps` (each step's result under its state name) and, after a failure, `error` (the
Catch's `{"Error", "Cause"}`). The same summary is recorded in the watermark store's run
audit (dataset `daily`), published to SNS and POSTed to the downstream API: `report_run`
does both, for the Notify Lambda and `condvest daily` alike.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Mapping
from typing import Any

import pyarrow.parquet as pq

from core.lake import Lake
from core.layout import PREDICTIONS_PREFIX
from ingestion.watermarks import RunRecord, WatermarkStore
from ml.predict import TOP_PREDICTIONS
from ml.registry import METRICS_FILE, MODELS_PREFIX
from ml.verdict import edge_verdict
from orchestration import asl
from orchestration.notify import NotifySettings, notify
from orchestration.vacuum import VacuumResult

DAILY = "daily"
SUCCEEDED, FAILED = "SUCCEEDED", "FAILED"


def _result(steps: Mapping[str, Any], name: str) -> dict[str, Any]:
    step = steps.get(name) or {}
    result = step.get("result", step)
    return result if isinstance(result, dict) else {}


def top_predictions(
    lake: Lake, version: str | None, day: str | None, n: int = TOP_PREDICTIONS
) -> list[dict[str, Any]]:
    """The day's best-ranked symbols from the latest prediction batch of (version, day)."""
    if not version or not day:
        return []
    files = lake.list_files(f"{PREDICTIONS_PREFIX}/model_version={version}/date={day}")
    if not files:
        return []
    # Batch ids sort by time: the last file is the batch the mart shows.
    table = pq.read_table(
        files[-1], filesystem=lake.fs, columns=["symbol", "probability_up", "rank_in_day"]
    )
    rows = sorted(table.to_pylist(), key=lambda row: row["rank_in_day"])[:n]
    return [
        {
            "symbol": row["symbol"],
            "probability_up": round(float(row["probability_up"]), 4),
            "rank_in_day": int(row["rank_in_day"]),
        }
        for row in rows
    ]


def model_metrics(lake: Lake, version: str | None) -> dict[str, Any] | None:
    """The chosen model's validation metrics from the registry, if the version exists."""
    if not version:
        return None
    path = lake.path(MODELS_PREFIX, version, METRICS_FILE)
    try:
        with lake.fs.open_input_stream(path) as stream:
            metrics = json.loads(stream.read())
    except (FileNotFoundError, OSError):
        return None
    return {
        "model_type": metrics.get("model_type"),
        "validation": metrics.get("chosen"),
        "against_baselines": edge_verdict(metrics) if metrics.get("baselines") else None,
    }


def last_completed_step(steps: Mapping[str, Any], order: list[str]) -> str | None:
    done = [name for name in order if name in steps]
    return done[-1] if done else None


def build_summary(
    status: str,
    document: Mapping[str, Any],
    *,
    lake: Lake,
    execution: str,
) -> dict[str, Any]:
    run = document.get("run") or {}
    steps = document.get("steps") or {}
    ohlcv = _result(steps, "FetchOhlcv")
    tickers = _result(steps, "FetchMetadata")
    version = run.get("model_version")
    summary: dict[str, Any] = {
        "status": status,
        "execution": execution,
        "date": run.get("date") or (document.get("input") or {}).get("date"),
        "is_session": run.get("is_session"),
        "ohlcv": {
            "status": ohlcv.get("status"),
            "sessions_landed": ohlcv.get("sessions_landed", 0),
            "rows_landed": ohlcv.get("rows_landed", 0),
            "invalid_rows": ohlcv.get("invalid_rows", 0),
            "malformed_records": ohlcv.get("malformed_records", []),
            "watermark": ohlcv.get("watermark"),
        },
        "tickers_landed": tickers.get("rows_landed", 0),
        # Landing files set aside before the build (CheckLanding), each named with its reason.
        "landing_check": _result(steps, "CheckLanding") or None,
        "build": _build_brief(_result(steps, "DbtBuild")),
        "model": {
            "version": version,
            "trained": bool(run.get("train")) and "PublishModel" in steps,
            "metrics": model_metrics(lake, version),
        },
        "top_predictions": top_predictions(lake, version, run.get("date"))
        if "Predict" in steps
        else [],
        "vacuum": _vacuum_brief(_result(steps, "Vacuum")),
        "last_completed_step": last_completed_step(steps, asl.happy_path_tasks()),
        "error": document.get("error"),
    }
    return summary


def _build_brief(result: Mapping[str, Any]) -> dict[str, Any] | None:
    """dbt's outcome: counts by status locally; in AWS the ECS task and dbt's exit code
    (the container's full description stays in the execution history)."""
    if not result:
        return None
    brief = {key: value for key, value in result.items() if key != "container"}
    if "container" in result:
        brief["exit_code"] = (result["container"] or {}).get("ExitCode")
    return brief


def _vacuum_brief(result: Mapping[str, Any]) -> dict[str, Any] | None:
    if not result:
        return None
    vacuumed = VacuumResult.from_dict(result)
    return {
        "deleted": len(vacuumed.deleted),
        "kept": len(vacuumed.kept),
        "manifest": vacuumed.manifest,
    }


def record_run(
    store: WatermarkStore,
    summary: Mapping[str, Any],
    source: str,
    record: RunRecord | None = None,
) -> str:
    """The run's outcome in the audit table (dataset `daily`), before anyone is notified, so
    a notification that cannot be delivered never loses the result. `record`: the row the
    run opened when it started (`condvest daily`), else one is opened now."""
    if record is None:
        day = dt.date.fromisoformat(summary["date"]) if summary.get("date") else None
        record = store.start_run(DAILY, source, day, day)
    ohlcv = summary.get("ohlcv") or {}
    store.finish_run(
        record,
        summary["status"].lower(),
        int(ohlcv.get("sessions_landed") or 0),
        int(ohlcv.get("rows_landed") or 0),
        0,
        dict(summary),
    )
    return record.run_id


def report_run(
    status: str,
    document: Mapping[str, Any],
    *,
    lake: Lake,
    store: WatermarkStore,
    source: str,
    execution: str,
    env: Mapping[str, str],
    now: Callable[[], dt.datetime] | None = None,
    record: RunRecord | None = None,
) -> dict[str, Any]:
    """The Notify step: summarise the run, record it, then notify as `env` configures.

    Recorded first, so a notification that cannot be delivered, or is misconfigured (the
    settings are read after), never loses the result. Returns notify's delivery result
    with the recorded run id and the summary.
    """
    summary = build_summary(status, document, lake=lake, execution=execution)
    run_id = record_run(store, summary, source, record)
    delivery = notify(summary, NotifySettings.from_env(env), now=now)
    return {**delivery, "recorded_run_id": run_id, "summary": summary}
