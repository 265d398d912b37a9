"""The short human summaries `condvest` prints (`--json` prints the full results instead).

Pure functions of the commands' JSON results: no imports beyond the standard library, so
the CLI's start-up stays light.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

# The result keys of a metrics dict, in the order people read them.
_METRICS = (("auc", "AUC"), ("accuracy", "accuracy"), ("precision_at_k", "precision@k"))


def _metrics(values: Mapping[str, Any]) -> str:
    return ", ".join(f"{label} {values[key]:.4f}" for key, label in _METRICS if key in values)


def _fetch_line(name: str, part: Mapping[str, Any]) -> str:
    sessions = part.get("sessions_landed", 0)
    span = (
        f" {part['first_session']}..{part['last_session']}"
        if sessions and part.get("first_session") != part.get("last_session")
        else f" {part['first_session']}"
        if sessions
        else ""
    )
    line = (
        f"{name}: {part['status']}, {part.get('rows_landed', 0):,} rows landed "
        f"({part.get('invalid_rows', 0):,} invalid) over {sessions} session(s){span} in "
        f"{part.get('files_written', 0)} file(s); watermark {part.get('watermark')}"
    )
    notes = []
    if part.get("empty_sessions"):
        notes.append(f"no data yet: {', '.join(part['empty_sessions'][:5])}")
    if part.get("unknown_symbols"):
        notes.append(f"unknown symbols: {', '.join(part['unknown_symbols'])}")
    if part.get("restated_symbols"):
        notes.append(f"restated after splits: {', '.join(part['restated_symbols'])}")
    return "\n".join([line, *(f"  {note}" for note in notes)])


def ingest_text(result: Mapping[str, Any]) -> str:
    """`condvest ingest` / `ingest-file`: one line per dataset."""
    if "dataset" in result:  # ingest-file: one run summary
        return _fetch_line(str(result["dataset"]), result)
    return "\n".join(_fetch_line(name, part) for name, part in result.items())


def train_text(result: Mapping[str, Any]) -> str:
    metrics = result.get("metrics") or {}
    lines = [
        f"model {result.get('version')}: {metrics.get('model_type')}, trained through "
        f"{metrics.get('trained_through')} on {metrics.get('training_rows', 0):,} rows",
        f"  validation: {_metrics(metrics.get('validation') or {})}",
    ]
    for name, values in (metrics.get("baselines") or {}).items():
        lines.append(f"  baseline {name}: {_metrics(values)}")
    if result.get("model_path"):
        lines.append(f"  published: {result['model_path']}")
    return "\n".join(lines)


def predict_text(result: Mapping[str, Any]) -> str:
    top = ", ".join(f"{row['symbol']} {row['probability_up']:.3f}" for row in result.get("top", []))
    files = result.get("files") or []
    return "\n".join(
        [
            f"predictions {result.get('date')}: {result.get('rows', 0):,} symbols scored by "
            f"model {result.get('version')}",
            f"  top: {top or '(none)'}",
            *(f"  written: {file}" for file in files[:3]),
        ]
    )


def predict_range_text(result: Mapping[str, Any]) -> str:
    skipped = result["skipped_no_model_of_their_time"]
    lines = [
        f"predictions {result['from']} .. {result['to']}: {result['dates_scored']} date(s), "
        f"{result['rows']:,} rows, each scored by the model of its time",
        *(
            f"  {version}: {span['dates']} date(s) {span['first_date']} .. {span['last_date']}"
            for version, span in result["models"].items()
        ),
    ]
    if skipped:
        lines.append(f"  skipped {len(skipped)} date(s) with no model of their time")
    return "\n".join(lines)


def track_record_text(result: Mapping[str, Any]) -> str:
    lines = [
        f"track record: {len(result['trained'])} model(s) trained, {result['reused']} reused, "
        f"{len(result['failed'])} as-of date(s) with too little history",
        *(f"  no model as of {failed['as_of']}: {failed['error']}" for failed in result["failed"]),
        predict_range_text(result["predictions"]),
    ]
    return "\n".join(lines)


def vacuum_text(result: Mapping[str, Any]) -> str:
    verb = "would delete" if result.get("dry_run") else "deleted"
    deleted = result.get("deleted") or []
    lines = [
        f"vacuum (retention {result.get('retention_days')} days, cutoff {result.get('cutoff')}): "
        f"{verb} {len(deleted)} of {result.get('candidates', 0)} old landing file(s), "
        f"{result.get('rows_deleted', 0):,} rows, {result.get('bytes_deleted', 0):,} bytes",
    ]
    kept = result.get("kept") or []
    if kept:
        lines.append(f"  kept {len(kept)}: first {kept[0]['file']} ({kept[0]['reason']})")
    if result.get("ignored"):
        lines.append(f"  ignored {len(result['ignored'])} unreadable file(s)")
    if result.get("manifest"):
        lines.append(f"  manifest: {result['manifest']}")
    return "\n".join(lines)


def _state_detail(name: str, result: Mapping[str, Any]) -> str:
    """What one Task state of the daily run did, in a few words."""
    if name == "ResolveRunDate":
        return (
            f"{result.get('date')}: session {result.get('is_session')}, "
            f"train {result.get('train')}, model {result.get('model_version')}"
        )
    if name in ("FetchMetadata", "FetchOhlcv"):
        detail = f"{result.get('rows_landed', 0):,} rows over {result.get('sessions_landed', 0)}"
        return f"{detail} session(s), watermark {result.get('watermark')}"
    if name == "CheckLanding":
        quarantined = result.get("quarantined") or []
        return (
            f"{result.get('checked', 0)} landing file(s), {result.get('read', 0)} read"
            + "".join(f"; quarantined {item['path']} ({item['reason']})" for item in quarantined)
        )
    if name in ("DbtBuild", "DbtBuildPredictions"):
        detail = result.get("stats") or ", ".join(
            f"{status} {count}" for status, count in (result.get("results") or {}).items()
        )
        if result.get("warned"):
            detail += f"; warned: {', '.join(result['warned'])}"
        if result.get("log_file"):
            detail += f" (log: {result['log_file']})"
        return detail
    if name == "Train":
        validation = (result.get("metrics") or {}).get("validation") or {}
        return f"model {result.get('version')}: {_metrics(validation)}"
    if name == "PublishModel":
        return str(result.get("published", ""))
    if name == "Predict":
        return f"{result.get('rows', 0):,} symbols scored for {result.get('date')}"
    if name == "Vacuum":
        return (
            f"{len(result.get('deleted') or [])} landing file(s) deleted, "
            f"{len(result.get('kept') or [])} kept"
        )
    return str(result.get("skipped", ""))


def state_line(
    name: str, seconds: float, result: Mapping[str, Any] | None, error: Exception | None
) -> str:
    """One line per Task state of `condvest daily`: its name, wall seconds and outcome."""
    if error is not None:
        detail = f"FAILED {type(error).__name__}: {error}"
    else:
        detail = _state_detail(name, result or {})
    return f"  {name:<24} {seconds:6.1f} s  {detail}".rstrip()
