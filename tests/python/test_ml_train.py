"""ml training: feature contract, walk-forward folds, metrics, the SageMaker entry point, the
model registry and the feature stores, on synthetic feature rows (tests/python/ml_data.py)."""

from __future__ import annotations

import datetime as dt
import json
import logging
import re
from pathlib import Path

import duckdb
import joblib
import numpy as np
import pandas as pd
import pytest

from core.lake import Lake
from core.logs import PROGRESS
from ml import registry, train
from ml.features import (
    KEY_COLUMNS,
    LABEL_COLUMNS,
    AthenaFeatureStore,
    DuckDBFeatureStore,
    FeatureError,
    feature_columns,
    validate_training_frame,
)
from ml.metrics import evaluate_baselines, precision_at_k
from ml.predict import predict_frame
from ml.validation import ValidationError, walk_forward_folds
from tests.python.ml_data import (
    FAST,
    feature_frame,
    job_env,
    run_as_sagemaker_job,
    run_training,
    single_openmp_thread,  # noqa: F401 - an autouse fixture
    write_channel,
    write_warehouse,
)

NOW = dt.datetime(2026, 11, 23, 15, 30, tzinfo=dt.UTC)


@pytest.fixture(scope="module")
def frame() -> pd.DataFrame:
    return feature_frame(signal=0.5)


def _metrics(root: Path) -> dict:
    return json.loads((root / "model" / "metrics.json").read_text())


# --- feature contract ---------------------------------------------------------------------


def test_feature_columns_are_every_other_column_in_order(frame: pd.DataFrame) -> None:
    columns = feature_columns(frame)
    assert columns == [c for c in frame.columns if c not in (*KEY_COLUMNS, *LABEL_COLUMNS)]
    assert columns[:2] == ["return_1d", "return_5d"]
    assert {"cdl2crows", "cdlxsidegap3methods", "bearish_patterns"} <= set(columns)
    assert validate_training_frame(frame) == columns


@pytest.mark.parametrize(
    ("spoil", "message"),
    [
        (lambda f: f.iloc[0:0], "the feature table is empty"),
        (lambda f: f.drop(columns=["label_up"]), "lacks column(s): label_up"),
        (
            lambda f: f.assign(label_up=f["label_up"].where(f["label_up"].isna(), 1.0)),
            "label_up = 1",
        ),
        (lambda f: f.assign(label_up=np.nan), "none of the"),
        (lambda f: f.assign(return_5d=f["symbol"]), "not numeric: return_5d"),
        (lambda f: pd.concat([f, f.iloc[:1]]), "share a (symbol, date)"),
    ],
    ids=["empty", "missing-column", "single-class", "no-labels", "text-feature", "duplicate"],
)
def test_training_frame_errors(frame: pd.DataFrame, spoil, message: str) -> None:
    with pytest.raises(FeatureError, match=re.escape(message)):
        validate_training_frame(spoil(frame))


def test_non_finite_features_are_named_and_counted_never_dropped(frame: pd.DataFrame) -> None:
    spoiled = frame.copy()
    spoiled.loc[[3, 10, 11], "volatility_21d"] = np.nan
    spoiled.loc[[10], "return_63d"] = np.inf
    with pytest.raises(FeatureError) as error:
        validate_training_frame(spoiled)
    assert f"3 of {len(frame)} rows" in str(error.value)
    assert "return_63d: 1, volatility_21d: 3" in str(error.value)


# --- walk-forward folds -------------------------------------------------------------------


@pytest.mark.parametrize(("sessions", "folds", "embargo"), [(120, 4, 5), (61, 3, 10), (30, 1, 0)])
def test_folds_never_train_on_or_near_validation(sessions: int, folds: int, embargo: int) -> None:
    distinct = pd.bdate_range("2024-01-02", periods=sessions).to_numpy()
    dates = np.repeat(distinct, 3)  # several rows per date, as in the feature table
    labels_end_before_any_validation = np.full(len(dates), distinct[0])
    result = walk_forward_folds(dates, folds, embargo)
    assert [fold.index for fold in result] == list(range(folds))
    validated: list[np.datetime64] = []
    for fold in result:
        train_dates = np.unique(dates[fold.train_mask(dates, labels_end_before_any_validation)])
        valid_dates = np.unique(dates[fold.validation_mask(dates)])
        assert train_dates[0] == distinct[0]  # expanding window
        assert train_dates.max() < valid_dates.min()  # never a later date
        # Exactly `embargo` distinct dates lie between training and validation.
        gap = (distinct > train_dates.max()) & (distinct < valid_dates.min())
        assert gap.sum() == embargo
        validated.extend(valid_dates)
    # The validation blocks are consecutive and end with the last date.
    first = np.searchsorted(distinct, validated[0])
    assert np.array_equal(validated, distinct[first:])
    assert len(validated) >= sessions * folds // (folds + 1)


def test_a_label_ending_inside_validation_is_purged_from_training() -> None:
    """A symbol back from a halt: its label, counted in its own bars, reaches far past the
    embargo; the row must not be trained on even though its date is in the training span."""
    distinct = pd.bdate_range("2024-01-02", periods=60).to_numpy()
    dates = np.repeat(distinct, 2)
    label_ends = dates + np.timedelta64(7, "D")
    [fold] = walk_forward_folds(dates, 1, 5)
    halted = np.flatnonzero(dates == fold.train_end)[0]
    label_ends[halted] = fold.validation_start + np.timedelta64(10, "D")
    train = fold.train_mask(dates, label_ends)
    assert not train[halted]
    assert train[halted + 1]  # the other symbol, same date, label known before validation
    assert (label_ends[train] < fold.validation_start).all()


def test_too_few_dates_for_the_folds_is_an_error() -> None:
    dates = pd.bdate_range("2024-01-02", periods=20).to_numpy()
    with pytest.raises(ValidationError, match="20 distinct dates are too few for 4"):
        walk_forward_folds(dates, 4, 5)


# --- metrics ------------------------------------------------------------------------------


def test_precision_at_k_per_day() -> None:
    dates = np.array(["d1"] * 4 + ["d2"] * 3)
    labels = np.array([1, 0, 0, 1, 0, 0, 1])
    scores = np.array([0.9, 0.8, 0.1, 0.2, 0.7, 0.6, 0.5])
    # d1 top 2: labels 1, 0 -> 0.5; d2 top 2: 0, 0 -> 0.0
    assert precision_at_k(dates, labels, scores, 2) == pytest.approx(0.25)
    # k beyond a day's rows takes them all: d1 2/4, d2 1/3
    assert precision_at_k(dates, labels, scores, 10) == pytest.approx((0.5 + 1 / 3) / 2)


def test_baselines_prior_and_momentum() -> None:
    dates = np.array(["d1"] * 4)
    labels = np.array([1, 0, 1, 1])
    momentum = np.array([0.02, -0.01, 0.03, -0.02])
    result = evaluate_baselines(np.array([1, 1, 0]), labels, dates, momentum, top_k=2)
    # The prior is a constant: AUC 0.5, and it calls the training majority ("up") every time.
    assert result["prior"]["auc"] == 0.5
    assert result["prior"]["accuracy"] == 0.75
    assert result["momentum"] == pytest.approx(
        {"auc": 2 / 3, "accuracy": 0.75, "precision_at_k": 1.0}
    )
    assert set(evaluate_baselines(np.array([0]), labels, dates, None, top_k=2)) == {"prior"}


# --- training -----------------------------------------------------------------------------


def test_planted_signal_is_learned_and_beats_the_prior(tmp_path: Path, frame: pd.DataFrame) -> None:
    result = run_training(tmp_path, frame, "--version", "v-signal")
    metrics = _metrics(tmp_path)
    assert metrics["model_type"] in train.MODEL_TYPES
    assert set(metrics["candidates"]) == set(train.MODEL_TYPES)
    chosen = metrics["candidates"][metrics["model_type"]]["mean"]["auc"]
    assert chosen == max(c["mean"]["auc"] for c in metrics["candidates"].values())
    assert result["validation"]["auc"] > 0.6
    prior = metrics["baselines"]["prior"]["mean"]
    assert prior["auc"] == 0.5
    assert result["validation"]["accuracy"] > prior["accuracy"] + 0.05
    assert len(metrics["validation"]["folds"]) == 4
    assert metrics["validation"]["embargo_sessions"] == 5

    bundle = joblib.load(tmp_path / "model" / "model.joblib")
    assert set(bundle) == set(registry.BUNDLE_KEYS)
    assert bundle["feature_columns"] == feature_columns(frame)
    assert (bundle["version"], bundle["horizon"]) == ("v-signal", 5)
    # The last labelled date: the final `horizon` dates have no label yet.
    assert bundle["trained_through"] == sorted(frame["date"].unique())[-6].date()
    card = (tmp_path / "model" / "model_card.md").read_text()
    assert "embargo" in card and "baseline: prior" in card and "Intended use" in card
    assert (tmp_path / "output" / "fold_metrics.csv").read_text().startswith("scorer,fold,auc")


def test_shuffled_labels_validate_at_chance(tmp_path: Path, frame: pd.DataFrame) -> None:
    rng = np.random.default_rng(11)
    shuffled = frame.copy()
    labelled = shuffled.index[shuffled["label_up"].notna()]
    permutation = rng.permutation(labelled)
    for column in LABEL_COLUMNS:
        shuffled.loc[labelled, column] = frame.loc[permutation, column].to_numpy()
    result = run_training(tmp_path, shuffled, "--model", "random_forest", "--version", "v0")
    assert result["validation"]["auc"] == pytest.approx(0.5, abs=0.05)


def test_same_data_and_seed_give_identical_metrics_and_model(
    tmp_path: Path, frame: pd.DataFrame
) -> None:
    runs = [tmp_path / "first", tmp_path / "second"]
    run_training(runs[0], frame, "--version", "v-same", "--seed", "3")
    # The same rows in another order, cut into other files.
    shuffled = frame.sample(frac=1, random_state=5)
    run_training(runs[1], shuffled, "--version", "v-same", "--seed", "3", files=4)
    first, second = ((root / "model" / "metrics.json").read_bytes() for root in runs)
    assert first == second
    rows = frame[frame["date"] == frame["date"].max()]
    predictions = [
        predict_frame(joblib.load(root / "model" / "model.joblib"), rows) for root in runs
    ]
    pd.testing.assert_frame_equal(predictions[0], predictions[1])


def test_rows_over_the_cap_are_sampled_deterministically(
    tmp_path: Path, frame: pd.DataFrame
) -> None:
    args = ("--model", "random_forest", "--max-train-rows", "5000", "--version", "v-sample")
    run_training(tmp_path / "a", frame, *args)
    run_training(tmp_path / "b", frame, *args)
    sampling = _metrics(tmp_path / "a")["data"]["sampling"]
    assert sampling == {
        "labelled_rows": int(frame["label_up"].notna().sum()),
        "max_train_rows": 5000,
        "sampled": True,
        "seed": 7,
        "training_rows": 5000,
    }
    assert _metrics(tmp_path / "a") == _metrics(tmp_path / "b")
    assert "5,000 of 13,800 labelled rows" in (tmp_path / "a/model/model_card.md").read_text()


def test_hyperparameters_from_a_mapping_or_sagemaker_arguments() -> None:
    args = train.hyperparameter_args({"n_estimators": 50, "max-depth": 3, "model": "best"})
    assert args == ["--n-estimators", "50", "--max-depth", "3", "--model", "best"]
    params = train.parse_hyperparameters(args)
    # No horizon given: the rows' label_horizon decides it, and the embargo follows it.
    assert (params.n_estimators, params.max_depth, params.horizon, params.embargo) == (
        50,
        3,
        None,
        None,
    )
    assert (params.resolved(5).horizon, params.resolved(5).embargo) == (5, 5)
    # SageMaker passes keys verbatim; the embargo follows the horizon unless given.
    params = train.parse_hyperparameters(["--max_train_rows", "10", "--horizon", "10"])
    assert (params.max_train_rows, params.embargo) == (10, 10)
    with pytest.raises(train.TrainingError, match="unknown hyperparameter"):
        train.hyperparameter_args({"trees": 5})
    with pytest.raises(train.TrainingError, match="--top-k must be at least 1"):
        train.parse_hyperparameters(["--top-k", "0"])


def test_hyperparameters_from_a_mapping_are_typed_and_checked() -> None:
    params = train.Hyperparameters.from_mapping({"n-estimators": "50", "learning_rate": 0.1})
    assert (params.n_estimators, params.learning_rate) == (50, 0.1)
    assert params.resolved(5).embargo == 5
    assert train.Hyperparameters.from_mapping({}) == train.Hyperparameters()
    with pytest.raises(train.TrainingError, match=r"--n-estimators must be int, got 'many'"):
        train.Hyperparameters.from_mapping({"n_estimators": "many"})
    with pytest.raises(train.TrainingError, match="--model must be one of"):
        train.Hyperparameters.from_mapping({"model": "svm"})


def test_fit_is_the_job_without_its_files(tmp_path: Path, frame: pd.DataFrame) -> None:
    """The SageMaker job is a shell around fit: the same frame and hyperparameters give the
    same model card, metrics and summary, and fit writes nothing."""
    job = run_training(tmp_path / "job", frame, "--version", "v-same")
    params = train.parse_hyperparameters([*FAST, "--version", "v-same"])
    trained = train.fit(frame, params, NOW)
    assert trained.summary().to_dict() == job
    assert trained.metrics == _metrics(tmp_path / "job")
    assert list(tmp_path.iterdir()) == [tmp_path / "job"]
    train.write_artifacts(trained, tmp_path / "model", tmp_path / "output")
    card = (tmp_path / "model" / "model_card.md").read_text()
    assert card == (tmp_path / "job" / "model" / "model_card.md").read_text()


def test_fitting_reports_its_progress_fold_by_fold(
    frame: pd.DataFrame, caplog: pytest.LogCaptureFixture
) -> None:
    """One progress record per fitted fold, counting up to every fit, so a quiet
    `condvest train` or `daily` can show how far training is."""
    caplog.set_level(logging.INFO, logger="ml.train")
    train.fit(frame, train.parse_hyperparameters(FAST), NOW)
    steps = [
        getattr(record, PROGRESS)
        for record in caplog.records
        if record.getMessage() == "training folds"
    ]
    total = int(steps[-1].split("/")[1])
    assert steps == [f"{done}/{total}" for done in range(1, total + 1)]
    assert total >= 2


def test_the_embargo_must_cover_the_horizon(tmp_path: Path, frame: pd.DataFrame) -> None:
    with pytest.raises(train.TrainingError, match="--embargo 3 is shorter than --horizon 5"):
        run_training(tmp_path, frame, "--embargo", "3")


@pytest.mark.parametrize(
    ("spoil", "error", "message"),
    [
        (lambda f: f.iloc[0:0], FeatureError, "the feature table is empty"),
        (
            lambda f: f.assign(label_up=f["label_up"].where(f["label_up"].isna(), 0.0)),
            FeatureError,
            "label_up = 0",
        ),
        (
            lambda f: f.assign(return_21d=f["return_21d"].mask(f.index % 97 == 0)),
            FeatureError,
            "return_21d: 149",
        ),
    ],
    ids=["empty", "single-class", "nan-feature"],
)
def test_bad_feature_rows_stop_training(
    tmp_path: Path, frame: pd.DataFrame, spoil, error: type[Exception], message: str
) -> None:
    with pytest.raises(error, match=re.escape(message)):
        run_training(tmp_path, spoil(frame))
    assert not (tmp_path / "model").exists()


def test_the_channel_must_be_set_and_hold_parquet(tmp_path: Path) -> None:
    env = job_env(tmp_path, tmp_path / "train")
    with pytest.raises(train.TrainingError, match="SM_CHANNEL_TRAIN"):
        train.main(FAST, env={k: v for k, v in env.items() if k != train.CHANNEL_ENV})
    (tmp_path / "train").mkdir()
    with pytest.raises(FeatureError, match="no parquet files under"):
        train.main(FAST, env=env)


def test_sagemaker_script_mode_contract(tmp_path: Path, frame: pd.DataFrame) -> None:
    """`python -m ml.train` with SageMaker's variables and `--name value` hyperparameters, in
    an interpreter where `ingestion` and `duckdb` cannot be imported (as in the container)."""
    channel = write_channel(frame, tmp_path / "input" / "data" / "train", files=3)
    hyperparameters = ["--model", "random_forest", "--n_estimators", "10", "--version", "v-sm"]
    completed = run_as_sagemaker_job(
        "ml.train", [*hyperparameters, "--max-depth", "4"], job_env(tmp_path, channel)
    )
    assert completed.returncode == 0, completed.stderr
    assert sorted(p.name for p in (tmp_path / "model").iterdir()) == sorted(registry.ARTIFACTS)
    for definition in train.METRIC_DEFINITIONS:
        values = re.findall(definition["Regex"], completed.stderr)
        assert len(values) == 1, definition
        assert 0.0 <= float(values[0]) <= 1.0
    metrics = _metrics(tmp_path)
    assert metrics["hyperparameters"]["n_estimators"] == 10
    auc = re.search(train.METRIC_DEFINITIONS[0]["Regex"], completed.stderr)
    assert auc is not None and float(auc.group(1)) == metrics["chosen"]["auc"]
    timings = json.loads((tmp_path / "output" / "timings.json").read_text())
    assert timings["total_seconds"] > 0


# --- registry -----------------------------------------------------------------------------


def test_versions_sort_by_time_and_fingerprint_data_and_settings(frame: pd.DataFrame) -> None:
    settings = train.parse_hyperparameters([]).identity()
    fingerprint = registry.fingerprint(frame, settings)
    version = registry.new_version(NOW, fingerprint)
    assert re.fullmatch(r"20261123T153000Z-[0-9a-f]{8}", version)
    assert registry.new_version(NOW + dt.timedelta(seconds=1), fingerprint) > version
    assert registry.fingerprint(frame.copy(), settings) == fingerprint
    assert registry.fingerprint(frame, {**settings, "seed": 8}) != fingerprint
    assert registry.fingerprint(frame.iloc[1:], settings) != fingerprint


def test_publish_latest_and_load(tmp_path: Path, frame: pd.DataFrame) -> None:
    lake = Lake.open(str(tmp_path / "lake"))
    with pytest.raises(registry.ModelNotFoundError, match="no published model under"):
        registry.latest_version(lake)
    older, newer = "20261123T150000Z-aaaaaaaa", "20261123T160000Z-bbbbbbbb"
    for version in (newer, older):
        run_training(tmp_path / version, frame, "--model", "random_forest", "--version", version)
        published = registry.publish(lake, version, tmp_path / version / "model")
        assert published == lake.path("ml/models", version)
    model_dir = tmp_path / newer / "model"
    # A later version whose publish never finished (no _SUCCESS) is not a model.
    half = tmp_path / "lake" / "ml" / "models" / "20261124T000000Z-cccccccc"
    half.mkdir()
    (half / "model.joblib").write_bytes((model_dir / "model.joblib").read_bytes())
    assert registry.published_versions(lake) == [older, newer]
    assert registry.latest_version(lake) == newer
    assert sorted(p.name for p in (tmp_path / "lake/ml/models" / newer).iterdir()) == sorted(
        [*registry.ARTIFACTS, "_SUCCESS"]
    )
    bundle = registry.load(lake, newer)
    assert (bundle["version"], bundle["feature_columns"]) == (newer, feature_columns(frame))

    with pytest.raises(registry.RegistryError, match="already published"):
        registry.publish(lake, newer, model_dir)
    with pytest.raises(registry.RegistryError, match=f"holds model version {newer}, not v2"):
        registry.publish(lake, "v2", model_dir)
    with pytest.raises(registry.ModelNotFoundError, match="20261124T000000Z-cccccccc is not"):
        registry.load(lake, "20261124T000000Z-cccccccc")
    with pytest.raises(
        registry.ModelNotFoundError, match=r"nope is not published: .*nope/_SUCCESS"
    ):
        registry.load(lake, "nope")
    with pytest.raises(registry.RegistryError, match="invalid model version"):
        registry.load(lake, "../escape")
    assert not list((tmp_path / "lake").rglob("*.tmp"))


# --- feature stores -----------------------------------------------------------------------


def test_duckdb_feature_store_reads_the_warehouse(tmp_path: Path) -> None:
    rows = feature_frame(symbols=5, sessions=12)
    store = DuckDBFeatureStore(write_warehouse(rows, tmp_path / "warehouse.duckdb"))
    # Same canonical frame as the generator's: dtypes included (date32 -> datetime64[ns], ...).
    pd.testing.assert_frame_equal(store.read(None, None), rows)
    dates = sorted(rows["date"].unique())
    start, end = pd.Timestamp(dates[2]).date(), pd.Timestamp(dates[4]).date()
    window = store.read(start, end)
    assert sorted(window["date"].unique()) == dates[2:5]
    assert len(window) == 15
    assert store.read(start, None)["date"].min() == dates[2]
    assert store.read(None, end)["date"].max() == dates[4]
    assert store.latest_date() == pd.Timestamp(dates[-1]).date()


def test_duckdb_feature_store_errors(tmp_path: Path) -> None:
    with pytest.raises(FeatureError, match="does not exist; run the dbt build"):
        DuckDBFeatureStore(tmp_path / "missing.duckdb").read(None, None)
    with duckdb.connect(str(tmp_path / "empty.duckdb")):
        pass
    with pytest.raises(FeatureError, match=r"gold\.ml_features does not exist in"):
        DuckDBFeatureStore(tmp_path / "empty.duckdb").latest_date()


def test_athena_feature_store_sql() -> None:
    store = AthenaFeatureStore("s3://results/athena/", "us-east-1", schema="prod_gold")
    start, end = dt.date(2024, 6, 3), dt.date(2024, 6, 7)
    assert store.query(start, end) == (
        "select * from prod_gold.ml_features where date between date '2024-06-03' "
        "and date '2024-06-07'"
    )
    assert store.query(start, None).endswith("where date >= date '2024-06-03'")
    assert store.query(None, end).endswith("where date <= date '2024-06-07'")
    assert store.query(None, None) == "select * from prod_gold.ml_features"
    assert store.latest_date_query() == "select max(date) from prod_gold.ml_features"
    with pytest.raises(FeatureError, match="invalid Athena schema name"):
        AthenaFeatureStore("s3://results/", "us-east-1", schema="gold; drop table x")
