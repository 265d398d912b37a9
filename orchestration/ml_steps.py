"""`condvest train` and `condvest predict`: the SageMaker steps, run in this process.

Training runs the functions the SageMaker job's entry point (ml.train.main) is a shell
around: the same hyperparameter checks, `prepare`, `fit_set` and `write_artifacts`, so a
model trained here and one trained in AWS come from identical code; the result is then
published to the lake's model registry.
"""

from __future__ import annotations

import datetime as dt
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from core.lake import Lake
from ml import train
from ml.features import FeatureError, FeatureStore
from ml.predict import predict_frame, summary, write_predictions
from ml.registry import latest_version, load, publish


def train_to_dir(
    store: FeatureStore,
    hyperparameters: Mapping[str, Any],
    now: dt.datetime,
    model_dir: str | Path,
) -> dict[str, Any]:
    """Train on every feature row of `store` into `model_dir` (what SageMaker would tar as
    model.tar.gz), not yet published; returns the version and the job's summary."""
    params = train.Hyperparameters.from_mapping(hyperparameters)
    trained = train.fit_set(train.prepare(store.read(None, None), params, now), params)
    with tempfile.TemporaryDirectory(prefix="condvest-train-") as scratch:
        train.write_artifacts(trained, Path(model_dir), Path(scratch) / "output")
    return {"version": trained.metrics["version"], "metrics": trained.summary()}


def train_from_store(
    store: FeatureStore, lake: Lake, hyperparameters: Mapping[str, Any], now: dt.datetime
) -> dict[str, Any]:
    """Train on every feature row of `store` and publish the model; returns its version."""
    with tempfile.TemporaryDirectory(prefix="condvest-model-") as scratch:
        result = train_to_dir(store, hyperparameters, now, Path(scratch) / "model")
        model_path = publish(lake, result["version"], Path(scratch) / "model")
    return {**result, "model_path": model_path}


def predict_from_store(
    store: FeatureStore,
    lake: Lake,
    *,
    now: dt.datetime,
    date: dt.date | None = None,
    version: str | None = None,
) -> dict[str, Any]:
    """Score one date (default: the store's latest) with one model (default: the latest)."""
    day = date or store.latest_date()
    if day is None:
        raise FeatureError("the feature table is empty: nothing to predict")
    bundle = load(lake, version or latest_version(lake))
    frame = store.read(day, day)
    if frame.empty:
        raise FeatureError(
            f"no feature rows for {day.isoformat()}; the latest feature date is "
            f"{store.latest_date()}"
        )
    predictions = predict_frame(bundle, frame)
    return summary(predictions, write_predictions(lake, predictions, now))
