"""Stub results of the daily run's steps, shaped by the steps' typed results (every key
present, as the real steps return them): for tests that stand a step in for the real one."""

from __future__ import annotations

from typing import Any

from ingestion.results import FetchResult
from ml.results import PredictionSummary, TrainingSummary
from orchestration.dbt import DbtBuildResult
from orchestration.results import PublishedModel, TrainStepResult


def fetched(dataset: str, rows_landed: int, sessions_landed: int = 0, **values: Any) -> dict:
    """A fetch Lambda's (or step's) payload: `values` overrides the fields named."""
    result = FetchResult(
        run_id="stub",
        dataset=dataset,
        source="sample",
        status="succeeded",
        sessions_landed=sessions_landed,
        first_session=None,
        last_session=None,
        symbols_fetched=[],
        empty_sessions=[],
        files_written=sessions_landed,
        rows_landed=rows_landed,
        invalid_rows=0,
        invalid_reasons={},
        restated_symbols=[],
        unknown_symbols=[],
        malformed_records=[],
        followups_done=[],
        followups_pending=[],
        watermark=None,
        error=None,
    ).to_dict()
    return {**result, **values}


def built() -> dict:
    return DbtBuildResult(results={}, elapsed_seconds=0.0, stats=None, warned=[]).to_dict()


def trained(version: str, model_dir: str) -> dict:
    summary = TrainingSummary(version, "random_forest", "2025-12-23", 0, {}, {})
    return TrainStepResult(version, model_dir, summary).to_dict()


def published(version: str, path: str) -> dict:
    return PublishedModel(version, path).to_dict()


def predicted(version: str, date: str, rows: int = 0) -> dict:
    return PredictionSummary(version, date, rows, [], []).to_dict()
