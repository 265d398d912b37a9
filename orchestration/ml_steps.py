"""`condvest train`, `condvest predict` and `condvest track-record`: the SageMaker steps, run in
this process.

Training runs the functions the SageMaker job's entry point (ml.train.main) is a shell
around: the same hyperparameter checks, `prepare`, `fit_set` and `write_artifacts`, so a
model trained here and one trained in AWS come from identical code; the result is then
published to the lake's model registry.

Out of sample, always: a date is scored only by a model that learned nothing after it
(`ml.registry.model_for_date`). `train_from_store(as_of=D)` trains the model that could have
been trained at D's close, so `walk_forward_track_record` can rebuild a track record of
history: train as of the start of each period, then score every date with the model of its
time.
"""

from __future__ import annotations

import datetime as dt
import logging
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from core.lake import Lake
from ml import train
from ml.features import FeatureError, FeatureStore
from ml.predict import predict_frame, summary, write_predictions
from ml.registry import (
    ModelNotFoundError,
    check_not_ahead,
    load,
    model_for_date,
    model_timeline,
    publish,
)
from ml.results import PredictionSummary, TrainingSummary
from orchestration.periods import DEFAULT_PERIOD, training_dates
from orchestration.results import (
    FailedAsOf,
    ModelSpan,
    PredictRangeResult,
    TrackRecordResult,
    TrainedAsOf,
    TrainResult,
)

log = logging.getLogger(__name__)

# Calendar days of feature rows read at once when scoring a range: bounds memory at full
# scale (10,000 symbols x 31 days is ~300,000 rows).
READ_WINDOW_DAYS = 31


def train_to_dir(
    store: FeatureStore,
    hyperparameters: Mapping[str, Any],
    now: dt.datetime,
    model_dir: str | Path,
    as_of: dt.date | None = None,
) -> TrainingSummary:
    """Train on the feature rows of `store` (those known at `as_of`'s close, when given) into
    `model_dir` (what SageMaker would tar as model.tar.gz), not yet published; returns the
    job's summary (its version among it)."""
    params = train.Hyperparameters.from_mapping(hyperparameters)
    frame = store.read(None, as_of)
    trained = train.fit_set(train.prepare(frame, params, now, as_of), params)
    with tempfile.TemporaryDirectory(prefix="condvest-train-") as scratch:
        train.write_artifacts(trained, Path(model_dir), Path(scratch) / "output")
    return trained.summary()


def train_from_store(
    store: FeatureStore,
    lake: Lake,
    hyperparameters: Mapping[str, Any],
    now: dt.datetime,
    as_of: dt.date | None = None,
) -> TrainResult:
    """Train on the feature rows of `store` (known at `as_of`, when given) and publish the
    model; returns its version."""
    with tempfile.TemporaryDirectory(prefix="condvest-model-") as scratch:
        trained = train_to_dir(store, hyperparameters, now, Path(scratch) / "model", as_of)
        model_path = publish(lake, trained.version, Path(scratch) / "model")
    return TrainResult(trained.version, trained, model_path)


def predict_from_store(
    store: FeatureStore,
    lake: Lake,
    *,
    now: dt.datetime,
    date: dt.date | None = None,
    version: str | None = None,
) -> PredictionSummary:
    """Score one date (default: the store's latest) with one model: `version`, which must
    have learned nothing after the date, else the model of the date."""
    day = date or store.latest_date()
    if day is None:
        raise FeatureError("the feature table is empty: nothing to predict")
    frame = store.read(day, day)
    if frame.empty:
        raise FeatureError(
            f"no feature rows for {day.isoformat()}; the latest feature date is "
            f"{store.latest_date()}"
        )
    if version is None:
        version = model_for_date(model_timeline(lake), day)
        if version is None:
            raise ModelNotFoundError(_no_model_message(lake, day))
    else:
        check_not_ahead(lake, version, day)
    bundle = load(lake, version)
    predictions = predict_frame(bundle, frame)
    return summary(predictions, write_predictions(lake, predictions, now))


def predict_range(
    store: FeatureStore, lake: Lake, *, now: dt.datetime, start: dt.date, end: dt.date
) -> PredictRangeResult:
    """Score every feature date in `start .. end`, each with the model of its time (the one
    that learned the most without learning anything after it). A date no model existed for
    is skipped and reported, not scored with a later model."""
    if start > end:
        raise FeatureError(f"--from {start} is after --to {end}")
    timeline = model_timeline(lake)
    if not timeline:
        raise ModelNotFoundError(_no_model_message(lake, end))
    bundles: dict[str, dict[str, Any]] = {}
    scored: dict[str, list[str]] = {}
    skipped: list[str] = []
    files = rows = 0
    window = start
    while window <= end:
        window_end = min(window + dt.timedelta(days=READ_WINDOW_DAYS - 1), end)
        frame = store.read(window, window_end)
        for day, rows_of_day in frame.groupby("date", sort=True):
            day_date = pd.Timestamp(day).date()
            version = model_for_date(timeline, day_date)
            if version is None:
                skipped.append(day_date.isoformat())
                continue
            if version not in bundles:
                bundles[version] = load(lake, version)
            predictions = predict_frame(bundles[version], rows_of_day)
            files += len(write_predictions(lake, predictions, now))
            rows += len(predictions)
            scored.setdefault(version, []).append(day_date.isoformat())
            log.info(
                "scored %s with %s",
                day_date,
                version,
                extra={"date": day_date.isoformat(), "model_version": version},
            )
        window = window_end + dt.timedelta(days=1)
    if not scored:
        reason = (
            f"{len(skipped)} feature date(s), none with a model of its time: "
            + _no_model_message(lake, start)
            if skipped
            else "the feature table has no rows in the range"
        )
        raise ModelNotFoundError(f"no date of {start} .. {end} was scored: {reason}")
    return PredictRangeResult(
        start=start.isoformat(),
        end=end.isoformat(),
        dates_scored=sum(len(days) for days in scored.values()),
        rows=rows,
        files=files,
        models={
            version: ModelSpan(first_date=days[0], last_date=days[-1], dates=len(days))
            for version, days in scored.items()
        },
        skipped_no_model_of_their_time=skipped,
    )


def walk_forward_track_record(
    store: FeatureStore,
    lake: Lake,
    hyperparameters: Mapping[str, Any],
    *,
    now: dt.datetime,
    start: dt.date,
    end: dt.date,
    every: str = DEFAULT_PERIOD,
) -> TrackRecordResult:
    """Rebuild an out-of-sample track record of `start .. end`: train (and publish) a model
    as of the eve of each period that no published model already covers, then score every
    date with the model of its time. Rerunning it reuses the models already trained."""
    known = {knew for knew, _ in model_timeline(lake)}
    trained: list[TrainedAsOf] = []
    failed: list[FailedAsOf] = []
    as_of_dates = training_dates(start, end, every)
    for number, as_of in enumerate(as_of_dates, start=1):
        if as_of in known:
            continue
        log.info(
            "training as of %s (%d/%d)",
            as_of,
            number,
            len(as_of_dates),
            extra={"as_of": as_of.isoformat(), "model": f"{number}/{len(as_of_dates)}"},
        )
        try:
            result = train_from_store(store, lake, hyperparameters, now, as_of=as_of)
        except ValueError as error:
            # Too little history before an early as-of date (folds, one class): that period
            # is not scored by a model of its time; the later ones still are.
            failed.append(FailedAsOf(as_of.isoformat(), str(error)))
            log.warning("no model as of %s: %s", as_of, error, extra={"as_of": str(as_of)})
            continue
        trained.append(TrainedAsOf(as_of.isoformat(), result.version))
    return TrackRecordResult(
        trained=trained,
        failed=failed,
        reused=len(as_of_dates) - len(trained) - len(failed),
        predictions=predict_range(store, lake, now=now, start=start, end=end),
    )


def _no_model_message(lake: Lake, day: dt.date) -> str:
    timeline = model_timeline(lake)
    if not timeline:
        return "no published model; train one first (condvest train)"
    return (
        f"no published model learned only from data up to {day.isoformat()} (the earliest "
        f"knew through {timeline[0][0].isoformat()}); train one with "
        f"`condvest train --as-of {day.isoformat()}` or earlier"
    )
