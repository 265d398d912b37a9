"""The typed results of orchestration's steps and commands, and their JSON form.

Each crosses a JSON boundary (`--json`, a Lambda's payload, the run document of the state
machine and of `condvest daily`) as `to_dict()`, and is read back once, at that boundary,
with `from_dict` (every key required: a renamed key fails there, naming itself; both come
from `core.contracts.Contract`). Light on purpose (the standard library, core and
ml.results): the CLI's summaries import it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from core.contracts import Contract, json_key
from ml.results import TrainingSummary


@dataclass(frozen=True)
class TrainResult(Contract):
    """`condvest train`: the published model's version, its training summary and where the
    registry holds it."""

    version: str
    metrics: TrainingSummary
    model_path: str


@dataclass(frozen=True)
class TrainStepResult(Contract):
    """The daily run's Train step (locally): the model trained into `model_dir`, not yet
    published (PublishModel does that). In AWS the step is a SageMaker job instead."""

    version: str
    model_dir: str
    metrics: TrainingSummary


@dataclass(frozen=True)
class PublishedModel(Contract):
    """The PublishModel step (its Lambda, and locally): the version and its registry path."""

    version: str
    published: str


@dataclass(frozen=True)
class ModelSpan(Contract):
    """The dates of a range one model scored."""

    first_date: str
    last_date: str
    dates: int


@dataclass(frozen=True)
class PredictRangeResult(Contract):
    """`condvest predict --from --to`: each date scored by the model of its time."""

    # "from" and "to" in the JSON form (the options' names; `from` is a Python keyword)
    start: str = field(metadata=json_key("from"))
    end: str = field(metadata=json_key("to"))
    dates_scored: int
    rows: int
    files: int
    models: dict[str, ModelSpan]
    skipped_no_model_of_their_time: list[str]


@dataclass(frozen=True)
class TrainedAsOf(Contract):
    as_of: str
    version: str


@dataclass(frozen=True)
class FailedAsOf(Contract):
    """An as-of date with too little history for a model, and why."""

    as_of: str
    error: str


@dataclass(frozen=True)
class TrackRecordResult(Contract):
    """`condvest track-record`: the models trained, failed and reused, then the scoring."""

    trained: list[TrainedAsOf]
    failed: list[FailedAsOf]
    reused: int
    predictions: PredictRangeResult
