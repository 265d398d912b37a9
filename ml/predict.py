"""Score feature rows with a trained model and land the predictions in the lake.

Layout: `gold/predictions/model_version=<v>/date=YYYY-MM-DD/<batch_id>.parquet`, one file per
(version, date) and run, written atomically. `main` is the same step as a script for a
SageMaker Processing job, writing that layout under its output directory.

The Processing job ships the `ml` and `core` packages (no `ingestion`), on Python 3.10: the
layout and the atomic writer come from `core`, and the job's output directory is opened as a
lake of its own.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

from core.clock import UTC, utcnow
from core.lake import Lake
from core.layout import PREDICTIONS_PREFIX, PREDICTIONS_SCHEMA, new_batch_id
from ml.features import FeatureError, read_parquet_dir, validate_prediction_frame
from ml.registry import check_version, load_local
from ml.results import PredictionSummary, TopPrediction

# How many of a day's best-ranked symbols a prediction run and the daily summary report.
TOP_PREDICTIONS = 5


class PredictionError(ValueError):
    """Predictions cannot be written as asked."""


def predict_frame(model_bundle: dict[str, Any], frame: pd.DataFrame) -> pd.DataFrame:
    """One row per input row, ranked within each date (1 = most likely to go up)."""
    columns = model_bundle["feature_columns"]
    validate_prediction_frame(frame, columns)
    model = model_bundle["model"]
    up = list(model.classes_).index(1)
    probability = model.predict_proba(frame[columns].to_numpy(dtype=np.float32))[:, up]
    result = pd.DataFrame(
        {
            "symbol": frame["symbol"].astype(str).to_numpy(),
            "date": pd.to_datetime(frame["date"]).astype("datetime64[ns]").to_numpy(),
            "model_version": model_bundle["version"],
            "probability_up": probability.astype(np.float64),
            "predicted_up": (probability >= 0.5).astype(np.int32),
        }
    )
    # Equal probabilities rank by symbol, so ranks never depend on the input's row order.
    result = result.sort_values(
        ["date", "probability_up", "symbol"],
        ascending=[True, False, True],
        kind="mergesort",
        ignore_index=True,
    )
    result["rank_in_day"] = (result.groupby("date").cumcount() + 1).astype(np.int32)
    return result


def write_predictions(lake: Lake, predictions: pd.DataFrame, now: dt.datetime) -> list[str]:
    """One parquet file per (model version, date); returns the files written."""
    if predictions.empty:
        raise PredictionError("no predictions to write; an empty file is never landed")
    batch_id = new_batch_id(now)
    predicted_at = now.astimezone(UTC)
    files = []
    for (version, day), group in predictions.groupby(["model_version", "date"], sort=True):
        path = lake.path(
            PREDICTIONS_PREFIX,
            f"model_version={check_version(str(version))}",
            f"date={pd.Timestamp(day).date().isoformat()}",
            f"{batch_id}.parquet",
        )
        lake.write_parquet(_table(group, predicted_at, batch_id), path)
        files.append(lake.display(path))
    return files


def _table(group: pd.DataFrame, predicted_at: dt.datetime, batch_id: str) -> pa.Table:
    rows = len(group)
    arrays = [
        pa.array(group["symbol"], pa.string()),
        pa.array(group["date"].to_numpy().astype("datetime64[D]"), pa.date32()),
        pa.array(group["model_version"], pa.string()),
        pa.array(group["probability_up"], pa.float64()),
        pa.array(group["predicted_up"], pa.int32()),
        pa.array(group["rank_in_day"], pa.int32()),
        pa.array([predicted_at] * rows, pa.timestamp("us", tz="UTC")),
        pa.array([batch_id] * rows, pa.string()),
    ]
    return pa.Table.from_arrays(arrays, schema=PREDICTIONS_SCHEMA)


def rows_for_date(frame: pd.DataFrame, day: dt.date | None) -> pd.DataFrame:
    """The feature rows of `day` (default: the latest date); none is an error, since an empty
    prediction file is never landed."""
    if frame.empty:
        raise FeatureError("the feature table is empty: nothing to predict")
    first, last = frame["date"].min().date(), frame["date"].max().date()
    day = day or last
    rows = frame[frame["date"] == pd.Timestamp(day)]
    if rows.empty:
        raise FeatureError(f"no feature rows for {day.isoformat()}: rows span {first} .. {last}")
    return rows


def summary(predictions: pd.DataFrame, files: list[str]) -> PredictionSummary:
    """What a prediction run reports: how much was written where, and the day's top picks."""
    top = predictions.nsmallest(TOP_PREDICTIONS, "rank_in_day", keep="first")
    return PredictionSummary(
        version=str(predictions["model_version"].iloc[0]),
        date=pd.Timestamp(predictions["date"].max()).date().isoformat(),
        rows=len(predictions),
        files=files,
        top=[
            TopPrediction(
                symbol=str(row.symbol),
                probability_up=round(float(row.probability_up), 4),
                rank_in_day=int(row.rank_in_day),
            )
            for row in top.itertuples()
        ],
    )


def main(argv: Sequence[str] | None = None) -> dict[str, Any]:
    """Score one date of a directory of feature parquet files (a Processing job's input)."""
    parser = argparse.ArgumentParser(
        prog="python -m ml.predict", description="Predict one date from feature parquet files."
    )
    parser.add_argument("--features-dir", required=True)
    parser.add_argument("--model-dir", required=True, help="directory holding model.joblib")
    parser.add_argument("--output-dir", required=True, help="root of the predictions layout")
    parser.add_argument("--date", type=dt.date.fromisoformat, help="default: the latest date")
    args = parser.parse_args(argv)
    bundle = load_local(args.model_dir)
    frame = read_parquet_dir(args.features_dir)
    predictions = predict_frame(bundle, rows_for_date(frame, args.date))
    output = Lake.open(args.output_dir)
    result = summary(predictions, write_predictions(output, predictions, utcnow())).to_dict()
    print(json.dumps(result, indent=2))
    return result


if __name__ == "__main__":
    main()
