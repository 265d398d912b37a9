"""`condvest train` and `condvest predict`: the SageMaker steps, run in this process.

Training goes through the same entry point as a SageMaker job (ml.train.main with the SM_*
contract pointing at temporary directories), so a model trained here and one trained in AWS
come from identical code; the result is then published to the lake's model registry.
"""

from __future__ import annotations

import datetime as dt
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from core.lake import Lake
from ml import train
from ml.features import FeatureError, FeatureStore
from ml.predict import predict_frame, summary, write_predictions
from ml.registry import fingerprint, latest_version, load, new_version, publish


def train_to_dir(
    store: FeatureStore,
    hyperparameters: Mapping[str, Any],
    now: dt.datetime,
    model_dir: str | Path,
) -> dict[str, Any]:
    """Train on every feature row of `store` into `model_dir` (what SageMaker would tar as
    model.tar.gz), not yet published; returns the version and the metrics."""
    frame = store.read(None, None)
    params = train.parse_hyperparameters(train.hyperparameter_args(hyperparameters))
    version = params.version or new_version(now, fingerprint(frame, params.identity()))
    argv = train.hyperparameter_args({**hyperparameters, "version": version})
    with tempfile.TemporaryDirectory(prefix="condvest-train-") as scratch:
        root = Path(scratch)
        channel = root / "train"
        channel.mkdir()
        pq.write_table(
            pa.Table.from_pandas(frame, preserve_index=False), channel / "features.parquet"
        )
        env = {
            train.CHANNEL_ENV: str(channel),
            train.MODEL_DIR_ENV: str(model_dir),
            train.OUTPUT_DIR_ENV: str(root / "output"),
        }
        metrics = train.main(argv, env=env)
    return {"version": version, "metrics": metrics}


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
