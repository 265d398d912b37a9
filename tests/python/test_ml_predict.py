"""ml prediction: scoring, the predictions lake layout, the Processing-job script and the local
train/predict flow over a real DuckDB warehouse and a local lake."""

from __future__ import annotations

import datetime as dt
import json
import re
import tarfile
from pathlib import Path

import duckdb
import joblib
import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest

from core.lake import Lake
from core.layout import PREDICTIONS_SCHEMA, new_batch_id
from ml import predict, registry
from ml.features import DuckDBFeatureStore, FeatureError, feature_columns
from orchestration.ml_steps import predict_from_store, train_from_store
from tests.python.fixtures.aws import AwsEnv
from tests.python.ml_data import (
    feature_frame,
    run_as_sagemaker_job,
    run_training,
    single_openmp_thread,  # noqa: F401 - an autouse fixture
    write_channel,
    write_warehouse,
)

NOW = dt.datetime(2026, 11, 23, 21, 15, 30, 123456, tzinfo=dt.UTC)
FAST = {"n_estimators": 10, "max_depth": 4, "min_samples_leaf": 20, "max_iter": 10}


@pytest.fixture(scope="module")
def frame() -> pd.DataFrame:
    return feature_frame(symbols=60, sessions=90, signal=0.5)


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory: pytest.TempPathFactory, frame: pd.DataFrame) -> Path:
    root = tmp_path_factory.mktemp("job")
    run_training(root, frame, "--model", "random_forest", "--version", "v1")
    return root / "model"


@pytest.fixture(scope="module")
def bundle(model_dir: Path) -> dict:
    return joblib.load(model_dir / "model.joblib")


def _last_day(frame: pd.DataFrame) -> pd.DataFrame:
    return frame[frame["date"] == frame["date"].max()]


def test_predict_frame_ranks_each_day(bundle: dict, frame: pd.DataFrame) -> None:
    rows = frame[frame["date"] >= sorted(frame["date"].unique())[-2]]
    result = predict.predict_frame(bundle, rows.sample(frac=1, random_state=1))
    assert list(result.columns) == [
        "symbol", "date", "model_version", "probability_up", "predicted_up", "rank_in_day",
    ]  # fmt: skip
    assert len(result) == len(rows) == 120
    assert result["probability_up"].dtype == np.float64
    assert result["predicted_up"].tolist() == (result["probability_up"] >= 0.5).astype(int).tolist()
    assert (result["model_version"] == "v1").all()
    for _, day in result.groupby("date"):
        assert day["rank_in_day"].tolist() == list(range(1, 61))
        assert day["probability_up"].is_monotonic_decreasing
    # Input order does not matter.
    pd.testing.assert_frame_equal(predict.predict_frame(bundle, rows), result)


def test_prediction_needs_every_trained_column(bundle: dict, frame: pd.DataFrame) -> None:
    rows = _last_day(frame).drop(columns=["cdlhammer", "return_21d"])
    with pytest.raises(FeatureError, match=r"lacks column\(s\): return_21d, cdlhammer"):
        predict.predict_frame(bundle, rows)


def test_prediction_refuses_nan_features(bundle: dict, frame: pd.DataFrame) -> None:
    rows = _last_day(frame).copy()
    rows.iloc[[0, 5], rows.columns.get_loc("volume_zscore_21d")] = np.nan
    with pytest.raises(FeatureError, match=r"2 of 60 rows .*\(volume_zscore_21d: 2\)"):
        predict.predict_frame(bundle, rows)


def test_predictions_land_in_the_lake_layout(
    tmp_path: Path, bundle: dict, frame: pd.DataFrame
) -> None:
    lake = Lake.open(str(tmp_path / "lake"))
    days = sorted(frame["date"].unique())[-2:]
    predictions = predict.predict_frame(bundle, frame[frame["date"].isin(days)])
    files = predict.write_predictions(lake, predictions, NOW)
    relative = [str(Path(f).relative_to(tmp_path / "lake")) for f in files]
    batch = r"20261123T211530123456Z-[0-9a-f]{12}\.parquet"
    for path, day in zip(relative, days, strict=True):
        expected = rf"gold/predictions/model_version=v1/date={pd.Timestamp(day).date()}/{batch}"
        assert re.fullmatch(expected, path)
    assert sorted(p.name for p in tmp_path.rglob("*") if p.is_file()) == sorted(
        Path(f).name for f in files
    )  # nothing else: no temp files
    table = pq.read_table(files[0])
    assert table.schema.equals(PREDICTIONS_SCHEMA)
    assert table.num_rows == 60
    assert set(table["date"].to_pylist()) == {pd.Timestamp(days[0]).date()}
    assert set(table["predicted_at"].to_pylist()) == {NOW}
    assert len(set(table["batch_id"].to_pylist())) == 1
    assert table["rank_in_day"].to_pylist() == list(range(1, 61))


def test_batch_ids_sort_by_time_and_are_unique() -> None:
    pattern = r"20261123T211530123456Z-[0-9a-f]{12}"
    assert re.fullmatch(pattern, new_batch_id(NOW))
    assert new_batch_id(NOW) != new_batch_id(NOW)


def test_registry_and_predictions_on_s3(
    aws_env: AwsEnv, tmp_path: Path, frame: pd.DataFrame
) -> None:
    bucket = aws_env.create_bucket("condvest-ml-test")
    lake = Lake.open(f"s3://{bucket}/lake")
    version = "20261123T150000Z-aaaaaaaa"
    run_training(tmp_path, frame, "--model", "random_forest", "--version", version)
    assert registry.publish(lake, version, tmp_path / "model") == (
        f"s3://{bucket}/lake/ml/models/{version}"
    )
    assert registry.latest_version(lake) == version
    predictions = predict.predict_frame(registry.load(lake, version), _last_day(frame))
    [written] = predict.write_predictions(lake, predictions, NOW)
    listing = aws_env.client("s3").list_objects_v2(Bucket=bucket)["Contents"]
    keys = sorted(item["Key"] for item in listing)
    models = [f"lake/ml/models/{version}/{name}" for name in sorted(registry.ARTIFACTS)]
    predictions_key = written.removeprefix(f"s3://{bucket}/")
    assert keys == sorted([*models, f"lake/ml/models/{version}/_SUCCESS", predictions_key])
    table = pq.read_table(written.removeprefix("s3://"), filesystem=lake.fs)
    assert table.schema.equals(PREDICTIONS_SCHEMA)
    assert table.num_rows == 60


def test_a_sagemaker_model_archive_is_published_from_the_lake(
    aws_env: AwsEnv, tmp_path: Path, frame: pd.DataFrame
) -> None:
    """SageMaker tars SM_MODEL_DIR into model.tar.gz under the launcher's output path (in
    the lake); publishing it makes the version loadable like a local one."""
    bucket = aws_env.create_bucket("condvest-ml-archive")
    lake = Lake.open(f"s3://{bucket}/lake")
    version = "20261123T160000Z-bbbbbbbb"
    run_training(tmp_path, frame, "--model", "random_forest", "--version", version)
    archive = tmp_path / "model.tar.gz"
    with tarfile.open(archive, "w:gz") as bundle:
        for name in registry.ARTIFACTS:
            bundle.add(tmp_path / "model" / name, arcname=name)
        bundle.add(tmp_path / "model" / registry.MODEL_FILE, arcname="../escape.joblib")
    key = f"lake/ml/sagemaker/train/{version}/job/output/model.tar.gz"
    aws_env.client("s3").upload_file(str(archive), bucket, key)
    registry.publish_archive(lake, version, f"s3://{bucket}/{key}")
    assert registry.latest_version(lake) == version
    assert registry.load(lake, version)["version"] == version
    listing = aws_env.client("s3").list_objects_v2(Bucket=bucket, Prefix="lake/ml/models/")
    names = sorted(item["Key"].rsplit("/", 1)[-1] for item in listing["Contents"])
    assert names == sorted([*registry.ARTIFACTS, "_SUCCESS"])  # the stray member is ignored
    with pytest.raises(registry.ModelNotFoundError, match="no model archive"):
        registry.publish_archive(lake, "v2", f"s3://{bucket}/lake/ml/sagemaker/missing.tar.gz")
    with pytest.raises(registry.RegistryError, match="already published"):
        registry.publish_archive(lake, version, f"s3://{bucket}/{key}")


def test_no_predictions_no_file(tmp_path: Path, bundle: dict, frame: pd.DataFrame) -> None:
    lake = Lake.open(str(tmp_path / "lake"))
    with pytest.raises(predict.PredictionError, match="never landed"):
        predict.write_predictions(lake, predict.predict_frame(bundle, frame).iloc[0:0], NOW)
    with pytest.raises(FeatureError, match="the feature table is empty"):
        predict.predict_frame(bundle, frame.iloc[0:0])
    assert not (tmp_path / "lake").exists()


def test_processing_job_script(tmp_path: Path, model_dir: Path, frame: pd.DataFrame) -> None:
    """`python -m ml.predict` as the Processing job runs it, without `ingestion` or `duckdb`."""
    features = write_channel(frame, tmp_path / "features", files=2)
    output = tmp_path / "output"
    args = ["--features-dir", str(features), "--model-dir", str(model_dir)]
    completed = run_as_sagemaker_job("ml.predict", [*args, "--output-dir", str(output)])
    assert completed.returncode == 0, completed.stderr
    result = json.loads(completed.stdout)
    last = pd.Timestamp(frame["date"].max()).date()
    assert (result["date"], result["rows"], result["version"]) == (last.isoformat(), 60, "v1")
    [written] = result["files"]
    assert Path(written).parent == output / "gold/predictions/model_version=v1" / f"date={last}"
    assert pq.read_table(written).schema.equals(PREDICTIONS_SCHEMA)
    assert [top["rank_in_day"] for top in result["top"]] == [1, 2, 3, 4, 5]

    earlier = sorted(frame["date"].unique())[10]
    result = predict.main([*args, "--output-dir", str(output), "--date", str(earlier)[:10]])
    assert result["date"] == str(earlier)[:10]
    with pytest.raises(FeatureError, match=r"no feature rows for 2030-01-02: rows span 2024-01-02"):
        predict.main([*args, "--output-dir", str(tmp_path / "none"), "--date", "2030-01-02"])
    assert not (tmp_path / "none").exists()
    with pytest.raises(registry.ModelNotFoundError, match=r"model\.joblib does not exist"):
        predict.main(
            [
                "--features-dir",
                str(features),
                "--model-dir",
                str(tmp_path),
                "--output-dir",
                str(output),
            ]
        )


def test_train_and_predict_from_a_duckdb_warehouse(tmp_path: Path, frame: pd.DataFrame) -> None:
    store = DuckDBFeatureStore(write_warehouse(frame, tmp_path / "warehouse.duckdb"))
    lake = Lake.open(str(tmp_path / "lake"))
    with pytest.raises(registry.ModelNotFoundError, match="no published model"):
        predict_from_store(store, lake, now=NOW)

    trained = train_from_store(store, lake, {"model": "random_forest", **FAST}, NOW).to_dict()
    version = trained["version"]
    assert re.fullmatch(r"20261123T211530Z-[0-9a-f]{8}", version)
    assert trained["model_path"] == str(tmp_path / "lake/ml/models" / version)
    assert trained["metrics"]["model_type"] == "random_forest"
    assert registry.latest_version(lake) == version
    assert registry.load(lake, version)["feature_columns"] == feature_columns(frame)
    # Same data and settings, same fingerprint.
    again = train_from_store(
        store, lake, {"model": "random_forest", **FAST}, NOW + dt.timedelta(hours=1)
    ).to_dict()
    assert again["version"][-8:] == version[-8:]
    assert registry.latest_version(lake) == again["version"]

    result = predict_from_store(store, lake, now=NOW, version=version).to_dict()
    last = pd.Timestamp(frame["date"].max()).date()
    assert (result["version"], result["date"], result["rows"]) == (version, last.isoformat(), 60)
    [written] = result["files"]
    assert f"gold/predictions/model_version={version}/date={last}/" in written
    assert len(result["top"]) == 5

    # An early date: both models learned from its future, so neither may score it.
    day = pd.Timestamp(sorted(frame["date"].unique())[3]).date()
    with pytest.raises(registry.ModelNotFoundError, match="learned only from data up to"):
        predict_from_store(store, lake, now=NOW, date=day)
    with pytest.raises(registry.LookAheadError, match="would look ahead"):
        predict_from_store(store, lake, now=NOW, date=day, version=version)

    with pytest.raises(
        FeatureError, match=f"no feature rows for 2024-01-06; the latest feature date is {last}"
    ):
        predict_from_store(store, lake, now=NOW, date=dt.date(2024, 1, 6))  # a Saturday
    assert not list((tmp_path / "lake").rglob("date=2024-01-06"))
    with pytest.raises(
        registry.ModelNotFoundError, match="model version 20990101T000000Z-00000000"
    ):
        predict_from_store(store, lake, now=NOW, version="20990101T000000Z-00000000")


def test_an_empty_feature_table_trains_nothing(tmp_path: Path, frame: pd.DataFrame) -> None:
    store = DuckDBFeatureStore(write_warehouse(frame.iloc[0:0], tmp_path / "warehouse.duckdb"))
    lake = Lake.open(str(tmp_path / "lake"))
    with pytest.raises(FeatureError, match="the feature table is empty"):
        train_from_store(store, lake, FAST, NOW)
    with pytest.raises(FeatureError, match="the feature table is empty"):
        predict_from_store(store, lake, now=NOW)
    assert not (tmp_path / "lake").exists()


def test_predictions_read_back_with_their_types(
    tmp_path: Path, bundle: dict, frame: pd.DataFrame
) -> None:
    """As the dbt source reads them: every file of the prefix, no hive partitioning."""
    lake = Lake.open(str(tmp_path / "lake"))
    days = sorted(frame["date"].unique())[-3:]
    predictions = predict.predict_frame(bundle, frame[frame["date"].isin(days)])
    assert len(predict.write_predictions(lake, predictions, NOW)) == 3
    files = f"{lake.path('gold/predictions')}/*/*/*.parquet"
    with duckdb.connect() as con:
        relation = con.sql(f"select * from read_parquet('{files}') order by date, rank_in_day")
        types = dict(zip(relation.columns, map(str, relation.types), strict=True))
        back = relation.df()
    assert types == {
        "symbol": "VARCHAR",
        "date": "DATE",
        "model_version": "VARCHAR",
        "probability_up": "DOUBLE",
        "predicted_up": "INTEGER",
        "rank_in_day": "INTEGER",
        "predicted_at": "TIMESTAMP WITH TIME ZONE",
        "batch_id": "VARCHAR",
    }
    assert back["symbol"].tolist() == predictions["symbol"].tolist()
    assert back["probability_up"].tolist() == predictions["probability_up"].tolist()
