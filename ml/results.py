"""The typed results of the ML jobs (a training job, a prediction run) and their JSON form.

Light on purpose (the standard library and core only): the CLI's summaries and the daily
run's state lines read these without loading pandas or scikit-learn.
"""

from __future__ import annotations

from dataclasses import dataclass

from core.contracts import Contract


@dataclass(frozen=True)
class TrainingSummary(Contract):
    """A training job's short result: the model, what it learned from, its validation
    metrics and the baselines' (each a metrics dict: auc, accuracy, precision_at_k)."""

    version: str
    model_type: str
    trained_through: str
    training_rows: int
    validation: dict[str, float]
    baselines: dict[str, dict[str, float]]


@dataclass(frozen=True)
class TopPrediction(Contract):
    symbol: str
    probability_up: float
    rank_in_day: int


@dataclass(frozen=True)
class PredictionSummary(Contract):
    """What a prediction run reports: the model, the date, how many symbols it scored,
    the files written and the day's top picks (`condvest predict`, the Predict step)."""

    version: str
    date: str
    rows: int
    files: list[str]
    top: list[TopPrediction]
