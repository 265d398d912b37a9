"""The typed results of orchestration's steps and commands, and their JSON form.

Each crosses a JSON boundary (`--json`, a Lambda's payload, the run document of the state
machine and of `condvest daily`) as `to_dict()`, and is read back once, at that boundary,
with `from_dict` (every key required: a renamed key fails there, naming itself). Light on
purpose (the standard library, core and ml.results): the CLI's summaries import it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

from core.contracts import require_keys
from ml.results import TrainingSummary


@dataclass(frozen=True)
class TrainResult:
    """`condvest train`: the published model's version, its training summary and where the
    registry holds it."""

    version: str
    metrics: TrainingSummary
    model_path: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "version": self.version,
            "metrics": self.metrics.to_dict(),
            "model_path": self.model_path,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> TrainResult:
        require_keys("a train result", cls, data)
        return cls(
            str(data["version"]), TrainingSummary.from_dict(data["metrics"]), data["model_path"]
        )


@dataclass(frozen=True)
class TrainStepResult:
    """The daily run's Train step (locally): the model trained into `model_dir`, not yet
    published (PublishModel does that). In AWS the step is a SageMaker job instead."""

    version: str
    model_dir: str
    metrics: TrainingSummary

    def to_dict(self) -> dict[str, Any]:
        return {
            "version": self.version,
            "model_dir": self.model_dir,
            "metrics": self.metrics.to_dict(),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> TrainStepResult:
        require_keys("a Train step result", cls, data)
        return cls(
            str(data["version"]), str(data["model_dir"]), TrainingSummary.from_dict(data["metrics"])
        )


@dataclass(frozen=True)
class PublishedModel:
    """The PublishModel step (its Lambda, and locally): the version and its registry path."""

    version: str
    published: str

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> PublishedModel:
        require_keys("a published model", cls, data)
        return cls(str(data["version"]), str(data["published"]))


@dataclass(frozen=True)
class ModelSpan:
    """The dates of a range one model scored."""

    first_date: str
    last_date: str
    dates: int


@dataclass(frozen=True)
class PredictRangeResult:
    """`condvest predict --from --to`: each date scored by the model of its time."""

    start: str
    end: str
    dates_scored: int
    rows: int
    files: int
    models: dict[str, ModelSpan]
    skipped_no_model_of_their_time: list[str]

    def to_dict(self) -> dict[str, Any]:
        return {
            "from": self.start,
            "to": self.end,
            "dates_scored": self.dates_scored,
            "rows": self.rows,
            "files": self.files,
            "models": {version: asdict(span) for version, span in self.models.items()},
            "skipped_no_model_of_their_time": list(self.skipped_no_model_of_their_time),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> PredictRangeResult:
        keys = {"from": "start", "to": "end"}
        require_keys(
            "a scored range", cls, {keys.get(key, key): value for key, value in data.items()}
        )
        return cls(
            start=str(data["from"]),
            end=str(data["to"]),
            dates_scored=int(data["dates_scored"]),
            rows=int(data["rows"]),
            files=int(data["files"]),
            models={version: ModelSpan(**span) for version, span in data["models"].items()},
            skipped_no_model_of_their_time=list(data["skipped_no_model_of_their_time"]),
        )


@dataclass(frozen=True)
class TrainedAsOf:
    as_of: str
    version: str


@dataclass(frozen=True)
class FailedAsOf:
    """An as-of date with too little history for a model, and why."""

    as_of: str
    error: str


@dataclass(frozen=True)
class TrackRecordResult:
    """`condvest track-record`: the models trained, failed and reused, then the scoring."""

    trained: list[TrainedAsOf]
    failed: list[FailedAsOf]
    reused: int
    predictions: PredictRangeResult

    def to_dict(self) -> dict[str, Any]:
        return {
            "trained": [asdict(item) for item in self.trained],
            "failed": [asdict(item) for item in self.failed],
            "reused": self.reused,
            "predictions": self.predictions.to_dict(),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> TrackRecordResult:
        require_keys("a track record", cls, data)
        return cls(
            trained=[TrainedAsOf(**item) for item in data["trained"]],
            failed=[FailedAsOf(**item) for item in data["failed"]],
            reused=int(data["reused"]),
            predictions=PredictRangeResult.from_dict(data["predictions"]),
        )
