"""The typed results of the ML jobs (a training job, a prediction run) and their JSON form.

Light on purpose (the standard library and core only): the CLI's summaries and the daily
run's state lines read these without loading pandas or scikit-learn.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

from core.contracts import from_fields, require_keys


@dataclass(frozen=True)
class TrainingSummary:
    """A training job's short result: the model, what it learned from, its validation
    metrics and the baselines' (each a metrics dict: auc, accuracy, precision_at_k)."""

    version: str
    model_type: str
    trained_through: str
    training_rows: int
    validation: dict[str, float]
    baselines: dict[str, dict[str, float]]

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> TrainingSummary:
        return from_fields("a training summary", cls, data)


@dataclass(frozen=True)
class TopPrediction:
    symbol: str
    probability_up: float
    rank_in_day: int


@dataclass(frozen=True)
class PredictionSummary:
    """What a prediction run reports: the model, the date, how many symbols it scored,
    the files written and the day's top picks (`condvest predict`, the Predict step)."""

    version: str
    date: str
    rows: int
    files: list[str]
    top: list[TopPrediction]

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> PredictionSummary:
        require_keys("a prediction summary", cls, data)
        return cls(
            version=str(data["version"]),
            date=str(data["date"]),
            rows=int(data["rows"]),
            files=[str(file) for file in data["files"]],
            top=[TopPrediction(**row) for row in data["top"]],
        )
