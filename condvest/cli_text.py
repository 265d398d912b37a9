"""The short human summaries `condvest` prints (`--json` prints the full results instead).

Pure functions of the commands' typed results. The result types are light (standard
library and core) but the run plan's and vacuum's modules are not: those two are imported
inside the function that reads them, so the CLI's start-up stays light.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from ingestion.results import FetchResult, LandingCheck
from ml.results import PredictionSummary
from orchestration.dbt import DbtBuildResult
from orchestration.results import (
    PredictRangeResult,
    PublishedModel,
    TrackRecordResult,
    TrainResult,
    TrainStepResult,
)

if TYPE_CHECKING:
    from orchestration.vacuum import VacuumResult

# The result keys of a metrics dict, in the order people read them.
_METRICS = (("auc", "AUC"), ("accuracy", "accuracy"), ("precision_at_k", "precision@k"))


def _metrics(values: Mapping[str, Any]) -> str:
    return ", ".join(f"{label} {values[key]:.4f}" for key, label in _METRICS if key in values)


def _fetch_line(name: str, part: FetchResult) -> str:
    sessions = part.sessions_landed
    span = (
        f" {part.first_session}..{part.last_session}"
        if sessions and part.first_session != part.last_session
        else f" {part.first_session}"
        if sessions
        else ""
    )
    line = (
        f"{name}: {part.status}, {part.rows_landed:,} rows landed "
        f"({part.invalid_rows:,} invalid) over {sessions} session(s){span} in "
        f"{part.files_written} file(s); watermark {part.watermark}"
    )
    notes = []
    if part.empty_sessions:
        notes.append(f"no data yet: {', '.join(part.empty_sessions[:5])}")
    if part.unknown_symbols:
        notes.append(f"unknown symbols: {', '.join(part.unknown_symbols)}")
    if part.restated_symbols:
        notes.append(f"restated after splits: {', '.join(part.restated_symbols)}")
    return "\n".join([line, *(f"  {note}" for note in notes)])


def ingest_text(results: Mapping[str, FetchResult]) -> str:
    """`condvest ingest` / `ingest-file`: one line per dataset."""
    return "\n".join(_fetch_line(name, part) for name, part in results.items())


def train_text(result: TrainResult) -> str:
    metrics = result.metrics
    lines = [
        f"model {result.version}: {metrics.model_type}, trained through "
        f"{metrics.trained_through} on {metrics.training_rows:,} rows",
        f"  validation: {_metrics(metrics.validation)}",
    ]
    for name, values in metrics.baselines.items():
        lines.append(f"  baseline {name}: {_metrics(values)}")
    if result.model_path:
        lines.append(f"  published: {result.model_path}")
    return "\n".join(lines)


def predict_text(result: PredictionSummary) -> str:
    top = ", ".join(f"{row.symbol} {row.probability_up:.3f}" for row in result.top)
    return "\n".join(
        [
            f"predictions {result.date}: {result.rows:,} symbols scored by model {result.version}",
            f"  top: {top or '(none)'}",
            *(f"  written: {file}" for file in result.files[:3]),
        ]
    )


def predict_range_text(result: PredictRangeResult) -> str:
    skipped = result.skipped_no_model_of_their_time
    lines = [
        f"predictions {result.start} .. {result.end}: {result.dates_scored} date(s), "
        f"{result.rows:,} rows, each scored by the model of its time",
        *(
            f"  {version}: {span.dates} date(s) {span.first_date} .. {span.last_date}"
            for version, span in result.models.items()
        ),
    ]
    if skipped:
        lines.append(f"  skipped {len(skipped)} date(s) with no model of their time")
    return "\n".join(lines)


def track_record_text(result: TrackRecordResult) -> str:
    lines = [
        f"track record: {len(result.trained)} model(s) trained, {result.reused} reused, "
        f"{len(result.failed)} as-of date(s) with too little history",
        *(f"  no model as of {failed.as_of}: {failed.error}" for failed in result.failed),
        predict_range_text(result.predictions),
    ]
    return "\n".join(lines)


def vacuum_text(result: VacuumResult) -> str:
    verb = "would delete" if result.dry_run else "deleted"
    lines = [
        f"vacuum (retention {result.retention_days} days, cutoff {result.cutoff}): "
        f"{verb} {len(result.deleted)} of {result.candidates} old landing file(s), "
        f"{result.rows_deleted:,} rows, {result.bytes_deleted:,} bytes",
    ]
    if result.kept:
        first = result.kept[0]
        lines.append(f"  kept {len(result.kept)}: first {first.file} ({first.reason})")
    if result.ignored:
        lines.append(f"  ignored {len(result.ignored)} unreadable file(s)")
    if result.manifest:
        lines.append(f"  manifest: {result.manifest}")
    return "\n".join(lines)


def _state_detail(name: str, result: Mapping[str, Any]) -> str:
    """What one Task state of the daily run did, in a few words: its result (the run
    document's JSON) read back into the step's type."""
    from orchestration.plan import RunPlan
    from orchestration.vacuum import VacuumResult

    if name == "ResolveRunDate":
        plan = RunPlan.from_dict(result)
        return (
            f"{plan.date}: session {plan.is_session}, "
            f"train {plan.train}, model {plan.model_version}"
        )
    if name in ("FetchMetadata", "FetchOhlcv"):
        fetched = FetchResult.from_dict(result)
        detail = f"{fetched.rows_landed:,} rows over {fetched.sessions_landed}"
        return f"{detail} session(s), watermark {fetched.watermark}"
    if name == "CheckLanding":
        check = LandingCheck.from_dict(result)
        return f"{check.checked} landing file(s), {check.read} read" + "".join(
            f"; quarantined {item.path} ({item.reason})" for item in check.quarantined
        )
    if name in ("DbtBuild", "DbtBuildPredictions"):
        build = DbtBuildResult.from_dict(result)
        detail = build.stats or ", ".join(
            f"{status} {count}" for status, count in build.results.items()
        )
        if build.warned:
            detail += f"; warned: {', '.join(build.warned)}"
        if build.log_file:
            detail += f" (log: {build.log_file})"
        return detail
    if name == "Train":
        trained = TrainStepResult.from_dict(result)
        return f"model {trained.version}: {_metrics(trained.metrics.validation)}"
    if name == "PublishModel":
        return PublishedModel.from_dict(result).published
    if name == "Predict":
        predicted = PredictionSummary.from_dict(result)
        return f"{predicted.rows:,} symbols scored for {predicted.date}"
    if name == "Vacuum":
        vacuumed = VacuumResult.from_dict(result)
        return f"{len(vacuumed.deleted)} landing file(s) deleted, {len(vacuumed.kept)} kept"
    if name == "ExportFeatures":
        return str(result["skipped"])
    return ""


def state_line(
    name: str, seconds: float, result: Mapping[str, Any] | None, error: Exception | None
) -> str:
    """One line per Task state of `condvest daily`: its name, wall seconds and outcome."""
    if error is not None:
        detail = f"FAILED {type(error).__name__}: {error}"
    else:
        detail = _state_detail(name, result or {})
    return f"  {name:<24} {seconds:6.1f} s  {detail}".rstrip()
