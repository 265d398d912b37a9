"""Train the up/down classifier: SageMaker script mode, and the same code locally.

SageMaker contract (local runs set the same variables, see orchestration.ml_steps):
  SM_CHANNEL_TRAIN     directory of parquet files of `gold.ml_features` rows (required)
  SM_MODEL_DIR         receives model.joblib, metrics.json and model_card.md
  SM_OUTPUT_DATA_DIR   receives fold_metrics.csv and timings.json
Hyperparameters arrive as `--name value` arguments (either `--n-estimators` or
`--n_estimators`). Each metric is printed on its own line for METRIC_DEFINITIONS.

Same data and seed give the same metrics.json and the same model; wall-clock timings go to
the output data directory only.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import json
import logging
import os
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, fields, replace
from pathlib import Path
from typing import Any

import joblib
import numpy as np
import pandas as pd
from sklearn.ensemble import HistGradientBoostingClassifier, RandomForestClassifier

from core.clock import UTC
from core.logs import configure_cli, progress
from ml.features import (
    FeatureError,
    known_as_of,
    label_horizon,
    labelled,
    read_parquet_dir,
    validate_training_frame,
)
from ml.metrics import (
    METRIC_NAMES,
    MOMENTUM_COLUMN,
    evaluate,
    evaluate_baselines,
    mean_metrics,
)
from ml.model_card import model_card
from ml.registry import METRICS_FILE, MODEL_FILE, check_version, fingerprint, new_version
from ml.results import TrainingSummary
from ml.validation import Fold, walk_forward_folds

log = logging.getLogger(__name__)

MODEL_TYPES = ("random_forest", "hist_gradient_boosting")
CHANNEL_ENV = "SM_CHANNEL_TRAIN"
MODEL_DIR_ENV = "SM_MODEL_DIR"
OUTPUT_DIR_ENV = "SM_OUTPUT_DATA_DIR"

# For the SageMaker estimator: each regex captures one line that main() prints. The
# validation metrics are the chosen model's means over the walk-forward folds.
METRIC_DEFINITIONS = [
    {"Name": "validation:auc", "Regex": "validation_auc=([0-9.]+);"},
    {"Name": "validation:accuracy", "Regex": "validation_accuracy=([0-9.]+);"},
    {"Name": "validation:precision_at_k", "Regex": "validation_precision_at_k=([0-9.]+);"},
    {"Name": "baseline:prior_accuracy", "Regex": "baseline_prior_accuracy=([0-9.]+);"},
    {"Name": "baseline:momentum_auc", "Regex": "baseline_momentum_auc=([0-9.]+);"},
]


class TrainingError(ValueError):
    """The training job cannot run as set up (environment, hyperparameters, folds)."""


@dataclass(frozen=True)
class Hyperparameters:
    model: str = "best"
    # None: the rows' label_horizon (dbt's ml_label_horizon owns it); given, it must agree.
    horizon: int | None = None
    folds: int = 4
    # None: the horizon.
    embargo: int | None = None
    seed: int = 7
    n_estimators: int = 200
    max_samples: int = 50_000
    max_depth: int = 8
    min_samples_leaf: int = 50
    learning_rate: float = 0.05
    max_iter: int = 200
    top_k: int = 10
    max_train_rows: int = 2_000_000
    version: str | None = None

    def identity(self) -> dict[str, Any]:
        """What determines the trained model (the version only names it)."""
        values = asdict(self)
        del values["version"]
        return values

    @classmethod
    def from_mapping(cls, values: Mapping[str, Any]) -> Hyperparameters:
        """Checked hyperparameters from `{"n_estimators": 50}` (or `"n-estimators"`, or
        strings, as SageMaker passes them); the embargo defaults to the horizon, and the
        horizon to the rows' (see `resolved`)."""
        types = {field.name: field.type for field in fields(cls)}
        names = {name: name.replace("-", "_") for name in values}
        unknown = sorted(name for name, field in names.items() if field not in types)
        if unknown:
            raise TrainingError(f"unknown hyperparameter(s): {', '.join(unknown)}")
        typed: dict[str, Any] = {}
        for name, value in values.items():
            field = names[name]
            declared = str(types[field]).removesuffix(" | None")
            kind = {"int": int, "float": float}.get(declared, str)
            try:
                typed[field] = kind(value)
            except (TypeError, ValueError):
                raise TrainingError(
                    f"--{field.replace('_', '-')} must be {kind.__name__}, got {value!r}"
                ) from None
        if "horizon" in typed:
            typed.setdefault("embargo", typed["horizon"])
        return cls(**typed)._checked()

    def resolved(self, horizon: int) -> Hyperparameters:
        """These hyperparameters for rows built with label horizon `horizon`: the horizon
        taken from the rows (a given one must agree), the embargo defaulting to it."""
        if self.horizon is not None and self.horizon != horizon:
            raise TrainingError(
                f"--horizon {self.horizon} disagrees with the feature rows' label_horizon "
                f"{horizon} (dbt var ml_label_horizon): drop --horizon, or rebuild "
                "gold.ml_features with the horizon you want"
            )
        embargo = horizon if self.embargo is None else self.embargo
        return replace(self, horizon=horizon, embargo=embargo)._checked()

    def _checked(self) -> Hyperparameters:
        if self.model not in (*MODEL_TYPES, "best"):
            raise TrainingError(f"--model must be one of {', '.join(MODEL_TYPES)}, best")
        positive = ("horizon", "folds", "n_estimators", "max_samples", "max_depth")
        for name in (*positive, "min_samples_leaf", "max_iter", "top_k", "max_train_rows"):
            value = getattr(self, name)
            if value is not None and value < 1:
                raise TrainingError(f"--{name.replace('_', '-')} must be at least 1")
        if self.embargo is not None and self.embargo < 0:
            raise TrainingError("--embargo must not be negative")
        if self.embargo is not None and self.horizon is not None and self.embargo < self.horizon:
            raise TrainingError(
                f"--embargo {self.embargo} is shorter than --horizon {self.horizon}: training "
                "labels would overlap the validation period"
            )
        if self.version is not None:
            check_version(self.version)
        return self


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m ml.train", description="Train the up/down classifier on feature rows."
    )
    defaults = Hyperparameters()

    def option(name: str, **kwargs: Any) -> None:
        # SageMaker passes hyperparameter keys verbatim, so accept snake_case spellings too.
        spellings = [f"--{name}", f"--{name.replace('-', '_')}"]
        parser.add_argument(*dict.fromkeys(spellings), **kwargs)

    option("model", choices=[*MODEL_TYPES, "best"], default=defaults.model)
    option(
        "horizon",
        type=int,
        help="label horizon in sessions (default: the rows' label_horizon; must agree with it)",
    )
    option("folds", type=int, default=defaults.folds)
    option("embargo", type=int, help="sessions dropped before each validation block (>= horizon)")
    option("seed", type=int, default=defaults.seed)
    option("n-estimators", type=int, default=defaults.n_estimators)
    option(
        "max-samples",
        type=int,
        default=defaults.max_samples,
        help="random forest: rows drawn for each tree (at most the training rows)",
    )
    option("max-depth", type=int, default=defaults.max_depth)
    option("min-samples-leaf", type=int, default=defaults.min_samples_leaf)
    option("learning-rate", type=float, default=defaults.learning_rate)
    option("max-iter", type=int, default=defaults.max_iter)
    option("top-k", type=int, default=defaults.top_k)
    option("max-train-rows", type=int, default=defaults.max_train_rows)
    option("version", help="model version (default: UTC time + fingerprint of data and settings)")
    return parser


def parse_hyperparameters(argv: Sequence[str] | None = None) -> Hyperparameters:
    """The job's `--name value` arguments (SageMaker script mode) as checked Hyperparameters."""
    values = vars(_parser().parse_args(argv))
    return Hyperparameters.from_mapping({k: v for k, v in values.items() if v is not None})


def hyperparameter_args(hyperparameters: Mapping[str, Any]) -> list[str]:
    """`{"n_estimators": 50}` (or `"n-estimators"`) as `["--n-estimators", "50"]`, for a
    SageMaker job's arguments; checked as the job will check them."""
    Hyperparameters.from_mapping(hyperparameters)
    args: list[str] = []
    for name, value in hyperparameters.items():
        args += [f"--{name.replace('_', '-')}", str(value)]
    return args


@dataclass(frozen=True)
class TrainedModel:
    """What `fit` produces: the bundle prediction loads, metrics.json, and wall timings
    (kept apart: the same data and seed give the same metrics, not the same seconds)."""

    bundle: dict[str, Any]
    metrics: dict[str, Any]
    timings: dict[str, float]

    def summary(self) -> TrainingSummary:
        """The short result a job or `condvest train` reports."""
        return TrainingSummary(
            version=self.metrics["version"],
            model_type=self.metrics["model_type"],
            trained_through=self.metrics["data"]["trained_through"],
            training_rows=self.metrics["data"]["sampling"]["training_rows"],
            validation=self.metrics["chosen"],
            baselines={
                name: summary["mean"] for name, summary in self.metrics["baselines"].items()
            },
        )


@dataclass(frozen=True)
class TrainingSet:
    """The labelled rows as arrays, and what the model card says about the data."""

    version: str
    horizon: int
    columns: list[str]
    data: dict[str, Any]  # rows, symbols, first and last date, as_of, sampling
    x: np.ndarray
    y: np.ndarray
    dates: np.ndarray
    label_ends: np.ndarray
    momentum: np.ndarray | None


def prepare(
    frame: pd.DataFrame,
    params: Hyperparameters,
    now: dt.datetime,
    as_of: dt.date | None = None,
) -> TrainingSet:
    """Check `frame` (`gold.ml_features` rows), sample its labelled rows and take the arrays
    training needs. The version is `params.version`, else `now` and a fingerprint of the
    data and hyperparameters.

    With `as_of`, train as the model would have been trained at that date's close: only
    rows dated on or before it, and only the labels known by then (see `known_as_of`); the
    version's time is then the as-of date, so versions sort by what they knew. Either way
    metrics.json records `data.as_of`, the last date the model knew anything about:
    `ml.registry.model_for_date` never scores an earlier date with it."""
    if as_of is not None:
        frame = known_as_of(frame, as_of)
        if frame.empty:
            raise FeatureError(f"no feature rows on or before --as-of {as_of.isoformat()}")
    columns = validate_training_frame(frame)
    params = params.resolved(label_horizon(frame))
    knew_through = as_of or pd.Timestamp(frame["date"].max()).date()
    named_at = dt.datetime.combine(as_of, dt.time(), UTC) if as_of else now
    version = params.version or new_version(named_at, fingerprint(frame, params.identity()))
    rows, sampling = _sample(labelled(frame), params.max_train_rows, params.seed)
    return TrainingSet(
        version=version,
        horizon=label_horizon(frame),
        columns=columns,
        data={
            "rows": len(frame),
            "symbols": int(frame["symbol"].nunique()),
            "first_date": _iso(frame["date"].min()),
            "last_date": _iso(frame["date"].max()),
            "as_of": knew_through.isoformat(),
            "sampling": sampling,
        },
        x=rows[columns].to_numpy(dtype=np.float32),
        y=rows["label_up"].to_numpy(dtype=np.int64),
        dates=rows["date"].to_numpy(),
        label_ends=rows["label_end_date"].to_numpy(),
        momentum=(
            rows[MOMENTUM_COLUMN].to_numpy(dtype=np.float64) if MOMENTUM_COLUMN in rows else None
        ),
    )


def fit(
    frame: pd.DataFrame, params: Hyperparameters, now: dt.datetime, as_of: dt.date | None = None
) -> TrainedModel:
    """Validate walk-forward, then fit the chosen model on every labelled row of `frame`
    (known at `as_of`, when given). No I/O: `write_artifacts` stores the result."""
    return fit_set(prepare(frame, params, now, as_of), params)


def fit_set(training: TrainingSet, params: Hyperparameters) -> TrainedModel:
    """`fit` on prepared arrays (a caller that drops its frame first needs less memory:
    at full scale the frame is GBs)."""
    params = params.resolved(training.horizon)
    embargo = training.horizon if params.embargo is None else params.embargo
    x, y, dates, label_ends = training.x, training.y, training.dates, training.label_ends
    folds = walk_forward_folds(dates, params.folds, embargo)
    timings: dict[str, float] = {}
    candidates = list(MODEL_TYPES) if params.model == "best" else [params.model]
    scores, baselines = _walk_forward(
        params, candidates, folds, x, y, dates, label_ends, training.momentum, timings
    )

    means = {name: mean_metrics(results) for name, results in scores.items()}
    # max() keeps the first of equal candidates, so a tie resolves the same way every run.
    chosen = max(candidates, key=lambda name: means[name]["auc"])
    tick = time.perf_counter()
    model = _make_model(chosen, params, len(y)).fit(x, y)
    timings["final_fit_seconds"] = time.perf_counter() - tick
    trained_through = pd.Timestamp(dates.max()).date()

    metrics: dict[str, Any] = {
        "version": training.version,
        "model_type": chosen,
        "selection": "the higher mean validation AUC" if len(candidates) > 1 else "--model",
        "hyperparameters": params.identity(),
        "data": {**training.data, "trained_through": trained_through.isoformat()},
        "feature_columns": training.columns,
        "validation": {
            "scheme": "walk-forward, expanding window",
            "folds": [_describe_fold(fold, dates, label_ends) for fold in folds],
            "embargo_sessions": params.embargo,
            "horizon_sessions": params.horizon,
            "top_k": params.top_k,
        },
        "candidates": {name: _summary(results) for name, results in scores.items()},
        "baselines": {name: _summary(results) for name, results in baselines.items()},
        "chosen": _rounded(means[chosen]),
    }
    bundle = {
        "model": model,
        "feature_columns": training.columns,
        "horizon": params.horizon,
        "version": training.version,
        "trained_through": trained_through,
        "model_type": chosen,
    }
    return TrainedModel(bundle, metrics, timings)


def write_artifacts(trained: TrainedModel, model_dir: Path, output_dir: Path) -> None:
    """The model directory (model.joblib, metrics.json, model_card.md: what SageMaker tars
    as model.tar.gz and the registry publishes) and the job's output data (fold_metrics.csv,
    timings.json)."""
    model_dir.mkdir(parents=True, exist_ok=True)
    joblib.dump(trained.bundle, model_dir / MODEL_FILE)
    (model_dir / METRICS_FILE).write_text(json.dumps(trained.metrics, indent=2) + "\n")
    (model_dir / "model_card.md").write_text(model_card(trained.metrics))
    _write_outputs(output_dir, trained.metrics, trained.timings)


def main(argv: Sequence[str] | None = None, env: Mapping[str, str] | None = None) -> dict[str, Any]:
    """SageMaker script mode: the hyperparameters from argv, the feature rows from the
    `train` channel, the artifacts to SM_MODEL_DIR and SM_OUTPUT_DATA_DIR; each metric
    printed for METRIC_DEFINITIONS."""
    started = time.perf_counter()
    params = parse_hyperparameters(argv)
    channel, model_dir, output_dir = _job_paths(os.environ if env is None else env)
    # The frame is passed on, not kept: it is freed once its arrays are taken.
    training = prepare(read_parquet_dir(channel), params, dt.datetime.now(UTC))
    load_seconds = time.perf_counter() - started
    trained = fit_set(training, params)
    trained.timings.update(load_seconds=load_seconds, total_seconds=time.perf_counter() - started)
    write_artifacts(trained, model_dir, output_dir)
    _print_metrics(trained.metrics)
    return trained.summary().to_dict()


def _job_paths(env: Mapping[str, str]) -> tuple[Path, Path, Path]:
    names = (CHANNEL_ENV, MODEL_DIR_ENV, OUTPUT_DIR_ENV)
    missing = [name for name in names if not env.get(name)]
    if missing:
        raise TrainingError(f"environment variable(s) not set: {', '.join(missing)}")
    return Path(env[CHANNEL_ENV]), Path(env[MODEL_DIR_ENV]), Path(env[OUTPUT_DIR_ENV])


def _walk_forward(
    params: Hyperparameters,
    candidates: list[str],
    folds: list[Fold],
    x: np.ndarray,
    y: np.ndarray,
    dates: np.ndarray,
    label_ends: np.ndarray,
    momentum: np.ndarray | None,
    timings: dict[str, float],
) -> tuple[dict[str, list[dict[str, float]]], dict[str, list[dict[str, float]]]]:
    """Per-fold validation metrics of each candidate and of the baselines."""
    scores: dict[str, list[dict[str, float]]] = {name: [] for name in candidates}
    baselines: dict[str, list[dict[str, float]]] = {}
    steps = len(folds) * len(candidates)
    for fold in folds:
        train, valid = fold.train_mask(dates, label_ends), fold.validation_mask(dates)
        _require_both_classes(fold, y[train], "training")
        _require_both_classes(fold, y[valid], "validation")
        fold_momentum = None if momentum is None else momentum[valid]
        for name, result in evaluate_baselines(
            y[train], y[valid], dates[valid], fold_momentum, params.top_k
        ).items():
            baselines.setdefault(name, []).append(result)
        for name in candidates:
            tick = time.perf_counter()
            model = _make_model(name, params, int(train.sum())).fit(x[train], y[train])
            probability = model.predict_proba(x[valid])[:, 1]
            scores[name].append(
                evaluate(y[valid], probability, dates[valid], threshold=0.5, top_k=params.top_k)
            )
            seconds = time.perf_counter() - tick
            timings[f"{name}_fold_{fold.index}_seconds"] = seconds
            _log_fold(name, fold, len(folds), steps, seconds, scores)
    return scores, baselines


def _sample(rows: pd.DataFrame, max_rows: int, seed: int) -> tuple[pd.DataFrame, dict[str, Any]]:
    """At most `max_rows` labelled rows, drawn uniformly with `seed`, kept in date order.

    Bounds memory and fit time (10,000 symbols x 2 years is ~5M rows); the walk-forward
    metrics are then measured on the sample as well.
    """
    sampling = {
        "labelled_rows": len(rows),
        "max_train_rows": max_rows,
        "sampled": len(rows) > max_rows,
        "seed": seed,
        "training_rows": min(len(rows), max_rows),
    }
    if not sampling["sampled"]:
        return rows, sampling
    keep = np.sort(np.random.default_rng(seed).choice(len(rows), size=max_rows, replace=False))
    return rows.iloc[keep], sampling


def _make_model(
    name: str, params: Hyperparameters, rows: int
) -> RandomForestClassifier | HistGradientBoostingClassifier:
    if name == "random_forest":
        # Each tree grows on a bootstrap of at most `max_samples` rows: a forest's cost then
        # stops growing with the data (a full bootstrap of 2M rows takes ~7 s per tree on one core);
        # depth-limited trees gain little from more.
        return RandomForestClassifier(
            n_estimators=params.n_estimators,
            max_samples=min(params.max_samples, rows),
            max_depth=params.max_depth,
            min_samples_leaf=params.min_samples_leaf,
            n_jobs=-1,
            random_state=params.seed,
        )
    # No early stopping: its hold-out is a random split that ignores time, and --max-iter
    # should mean what it says.
    return HistGradientBoostingClassifier(
        learning_rate=params.learning_rate,
        max_iter=params.max_iter,
        max_depth=params.max_depth,
        min_samples_leaf=params.min_samples_leaf,
        early_stopping=False,
        random_state=params.seed,
    )


def _require_both_classes(fold: Fold, labels: np.ndarray, part: str) -> None:
    present = np.unique(labels)
    if len(present) < 2:
        raise TrainingError(
            f"fold {fold.index}: every {part} row has label_up = {int(present[0])}; "
            "use fewer folds or more data"
        )


def _iso(value: Any) -> str:
    return pd.Timestamp(value).date().isoformat()


def _describe_fold(fold: Fold, dates: np.ndarray, label_ends: np.ndarray) -> dict[str, Any]:
    return {
        "fold": fold.index,
        "train_start": _iso(fold.train_start),
        "train_end": _iso(fold.train_end),
        "validation_start": _iso(fold.validation_start),
        "validation_end": _iso(fold.validation_end),
        "train_rows": int(fold.train_mask(dates, label_ends).sum()),
        "validation_rows": int(fold.validation_mask(dates).sum()),
    }


def _rounded(values: Mapping[str, float]) -> dict[str, float]:
    return {name: round(value, 6) for name, value in values.items()}


def _summary(results: list[dict[str, float]]) -> dict[str, Any]:
    return {"folds": [_rounded(r) for r in results], "mean": _rounded(mean_metrics(results))}


def _log_fold(
    name: str,
    fold: Fold,
    folds: int,
    steps: int,
    seconds: float,
    scores: Mapping[str, list[dict[str, float]]],
) -> None:
    """Progress of the fits (`training folds 3/8`), with this fold's model and metrics as
    fields; a quiet CLI shows it every few seconds. Deliberately unlike the metric lines,
    so SageMaker's regexes only see the chosen model's means."""
    result = scores[name][-1]
    done = sum(len(results) for results in scores.values())
    progress(
        log,
        "training folds",
        done,
        steps,
        fold=f"{fold.index + 1}/{folds}",
        model=name,
        seconds=round(seconds, 2),
        **{metric: round(result[metric], 4) for metric in METRIC_NAMES},
    )


def _print_metrics(metrics: Mapping[str, Any]) -> None:
    lines = [f"validation_{name}={value:.6f};" for name, value in metrics["chosen"].items()]
    baselines = metrics["baselines"]
    lines.append(f"baseline_prior_accuracy={baselines['prior']['mean']['accuracy']:.6f};")
    if "momentum" in baselines:
        lines.append(f"baseline_momentum_auc={baselines['momentum']['mean']['auc']:.6f};")
    # stderr: SageMaker's log stream (and its metric regexes) has both streams, and stdout
    # stays free for the JSON summary `condvest train` prints
    print("\n".join(lines), file=sys.stderr, flush=True)


def _write_outputs(output_dir: Path, metrics: Mapping[str, Any], timings: dict[str, float]) -> None:
    output_dir.mkdir(parents=True, exist_ok=True)
    scorers = {
        **metrics["candidates"],
        **{f"baseline_{n}": s for n, s in metrics["baselines"].items()},
    }
    with (output_dir / "fold_metrics.csv").open("w", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(["scorer", "fold", *METRIC_NAMES])
        for scorer, summary in scorers.items():
            for index, result in enumerate(summary["folds"]):
                writer.writerow([scorer, index, *(result[name] for name in METRIC_NAMES)])
    rounded = {name: round(seconds, 3) for name, seconds in timings.items()}
    (output_dir / "timings.json").write_text(json.dumps(rounded, indent=2) + "\n")


if __name__ == "__main__":
    # Script mode (SageMaker): the fold progress lines go to the job's log on stderr.
    configure_cli(verbose=True)
    main()
