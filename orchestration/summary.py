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
from dataclasses import dataclass, field
from typing import Any

import pyarrow.parquet as pq

from core.contracts import OMITTED_WHEN_NONE, OPTIONAL, Contract
from core.lake import Lake
from core.layout import PREDICTIONS_PREFIX
from ingestion.results import FetchResult, LandingCheck
from ingestion.run_ledger import RunLedger, RunRecord
from ml.predict import TOP_PREDICTIONS
from ml.registry import METRICS_FILE, MODELS_PREFIX
from ml.results import TopPrediction
from ml.verdict import edge_verdict
from orchestration import asl
from orchestration.notify import NotifySettings, notify
from orchestration.plan import RunPlan
from orchestration.vacuum import VacuumResult

DAILY = "daily"
SUCCEEDED, FAILED = "SUCCEEDED", "FAILED"


def _result(steps: Mapping[str, Any], name: str) -> dict[str, Any]:
    step = steps.get(name) or {}
    result = step.get("result", step)
    return result if isinstance(result, dict) else {}


def top_predictions(
    lake: Lake, version: str | None, day: str | None, n: int = TOP_PREDICTIONS
) -> list[TopPrediction]:
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
        TopPrediction(
            symbol=row["symbol"],
            probability_up=round(float(row["probability_up"]), 4),
            rank_in_day=int(row["rank_in_day"]),
        )
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


@dataclass(frozen=True)
class LandedBrief(Contract):
    """The day's OHLCV fetch in the summary (zeros when the run fetched nothing)."""

    status: str | None
    sessions_landed: int
    rows_landed: int
    invalid_rows: int
    malformed_records: list[str]
    watermark: str | None

    @classmethod
    def of(cls, fetched: FetchResult | None) -> LandedBrief:
        if fetched is None:
            return cls(None, 0, 0, 0, [], None)
        return cls(
            fetched.status,
            fetched.sessions_landed,
            fetched.rows_landed,
            fetched.invalid_rows,
            list(fetched.malformed_records),
            fetched.watermark,
        )


@dataclass(frozen=True)
class ModelBrief(Contract):
    """The model the day was scored with; `metrics` is `model_metrics`' (or None)."""

    version: str | None
    trained: bool
    metrics: dict[str, Any] | None


@dataclass(frozen=True)
class LocalBuildBrief(Contract):
    """dbt's outcome in `condvest daily`'s summary: the DbtBuild step's result
    (`DbtBuildResult`'s JSON) without its ECS-shaped container, whose exit code it keeps."""

    status: str
    results: dict[str, int]
    elapsed_seconds: float
    stats: str | None
    warned: list[str]
    log_file: str | None = field(metadata=OMITTED_WHEN_NONE)
    exit_code: int | None


@dataclass(frozen=True)
class EcsBuildBrief(Contract):
    """dbt's outcome in the AWS run's summary: the ECS task and dbt's exit code (the
    container's full description stays in the execution history)."""

    task_arn: str
    exit_code: int | None


@dataclass(frozen=True)
class VacuumBrief(Contract):
    deleted: int
    kept: int
    manifest: str | None


@dataclass(frozen=True)
class DailySummary(Contract):
    """What a daily run reports: recorded in the audit, published to SNS, POSTed to the API,
    printed by `condvest daily`. `build` is dbt's outcome, in the shape of where it ran
    (`LocalBuildBrief`: dbt's counts; `EcsBuildBrief`: the ECS task's exit code in AWS);
    `error` the Catch's error."""

    status: str
    execution: str
    date: str | None
    is_session: bool | None
    ohlcv: LandedBrief
    tickers_landed: int
    # optional when read: newer than the summaries some audits hold
    landing_check: LandingCheck | None = field(metadata=OPTIONAL)
    build: LocalBuildBrief | EcsBuildBrief | None
    model: ModelBrief
    top_predictions: list[TopPrediction]
    vacuum: VacuumBrief | None
    last_completed_step: str | None
    error: dict[str, Any] | None


def _fetched(steps: Mapping[str, Any], name: str) -> FetchResult | None:
    result = _result(steps, name)
    return FetchResult.from_dict(result) if result else None


def build_summary(
    status: str,
    document: Mapping[str, Any],
    *,
    lake: Lake,
    execution: str,
) -> DailySummary:
    steps = document.get("steps") or {}
    plan = RunPlan.from_dict(document["run"]) if document.get("run") else None
    version = plan.model_version if plan else None
    day = plan.date.isoformat() if plan else (document.get("input") or {}).get("date")
    tickers = _fetched(steps, "FetchMetadata")
    checked = _result(steps, "CheckLanding")
    return DailySummary(
        status=status,
        execution=execution,
        date=day,
        is_session=plan.is_session if plan else None,
        ohlcv=LandedBrief.of(_fetched(steps, "FetchOhlcv")),
        tickers_landed=tickers.rows_landed if tickers else 0,
        # Landing files set aside before the build (CheckLanding), each named with its reason.
        landing_check=LandingCheck.from_dict(checked) if checked else None,
        build=_build_brief(_result(steps, "DbtBuild")),
        model=ModelBrief(
            version=version,
            trained=bool(plan and plan.train) and "PublishModel" in steps,
            metrics=model_metrics(lake, version),
        ),
        top_predictions=top_predictions(lake, version, day) if "Predict" in steps else [],
        vacuum=_vacuum_brief(_result(steps, "Vacuum")),
        last_completed_step=last_completed_step(steps, asl.happy_path_tasks()),
        error=document.get("error"),
    )


def _build_brief(result: Mapping[str, Any]) -> LocalBuildBrief | EcsBuildBrief | None:
    """The DbtBuild step's result with its container reduced to the exit code: the ECS
    task's in AWS (`task_arn`), dbt's counts locally."""
    if not result:
        return None
    brief = {key: value for key, value in result.items() if key != "container"}
    if "container" in result:
        brief["exit_code"] = (result["container"] or {}).get("ExitCode")
    return (EcsBuildBrief if "task_arn" in brief else LocalBuildBrief).from_dict(brief)


def _vacuum_brief(result: Mapping[str, Any]) -> VacuumBrief | None:
    if not result:
        return None
    vacuumed = VacuumResult.from_dict(result)
    return VacuumBrief(len(vacuumed.deleted), len(vacuumed.kept), vacuumed.manifest)


def record_run(
    ledger: RunLedger,
    summary: DailySummary,
    source: str,
    record: RunRecord | None = None,
) -> str:
    """The run's outcome in the audit table (dataset `daily`), before anyone is notified, so
    a notification that cannot be delivered never loses the result. `record`: the row the
    run opened when it started (`condvest daily`), else one is opened now."""
    if record is None:
        day = dt.date.fromisoformat(summary.date) if summary.date else None
        record = ledger.start_run(DAILY, source, day, day)
    ledger.finish_run(
        record,
        summary.status.lower(),
        summary.ohlcv.sessions_landed,
        summary.ohlcv.rows_landed,
        0,
        summary.to_dict(),
    )
    return record.run_id


def report_run(
    status: str,
    document: Mapping[str, Any],
    *,
    lake: Lake,
    ledger: RunLedger,
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
    run_id = record_run(ledger, summary, source, record)
    delivery = notify(summary.to_dict(), NotifySettings.from_env(env), now=now)
    return {**delivery, "recorded_run_id": run_id, "summary": summary.to_dict()}
