"""The SageMaker launcher against moto: the SDK builds and sends real CreateTrainingJob and
CreateProcessingJob requests and uploads the code to (moto) S3.

Each request is captured as the SDK hands it to boto3 (a botocore event hook) and checked
field by field; moto then serves it and the job is described back. moto replaces the
training job's metric definitions with its own and keeps neither the processing job's
resources nor its environment, so those are checked on the captured requests only.

In-process `mock_aws` is enough here (unlike the lake tests' moto server): the SDK talks to
AWS through boto3 only. The session is given its SDK config, so no file under ~/.config or
/etc/xdg changes what is sent, and that config opts out of the SDK's telemetry (after every
`fit`, an STS call and an HTTP GET to an AWS-owned bucket).
"""

from __future__ import annotations

import ast
import copy
import datetime as dt
import gc
import io
import json
import logging
import os
import shutil
import subprocess
import sys
import sysconfig
import tarfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import boto3
import pytest
from moto import mock_aws

import ml
from core.settings import Settings
from ml.train import METRIC_DEFINITIONS
from orchestration.sagemaker_launcher import (
    FEATURES_DIR,
    MODEL_DIR,
    PREDICT_ENTRY,
    PREDICTIONS_DIR,
    SOURCE_DIR,
    TRAIN_ENTRY,
    SageMakerConfig,
    build_source_dir,
    launch_prediction,
    launch_training,
    make_session,
    training_job_name,
)

if TYPE_CHECKING:
    from sagemaker.processing import ProcessingJob

sagemaker = pytest.importorskip("sagemaker", reason="the `sagemaker` extra is not installed")

REGION = "us-east-1"
ACCOUNT = "123456789012"
ROLE = f"arn:aws:iam::{ACCOUNT}:role/condvest-sagemaker"
BUCKET = "condvest-lake"
LAKE_ROOT = f"s3://{BUCKET}/lake"
VERSION = "2024-06-11.rf"
FEATURES = f"{LAKE_ROOT}/gold/ml_features"
MODEL = f"{LAKE_ROOT}/ml/models/{VERSION}"
PREDICTIONS = f"{LAKE_ROOT}/gold/predictions"
DATE = dt.date(2024, 6, 11)
# ml.train takes either spelling of a flag.
HYPERPARAMETERS: dict[str, str | int | float] = {
    "model": "random_forest",
    "horizon": 5,
    "n-estimators": 50,
    "min_samples_leaf": 20,
}
# The scikit-learn framework image SageMaker pulls (the SDK's own table, spelled out).
SKLEARN_IMAGE = "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-scikit-learn:1.4-2-cpu-py3"
TELEMETRY_OPT_OUT = {
    "SchemaVersion": "1.0",
    "SageMaker": {"PythonSDK": {"Modules": {"TelemetryOptOut": True}}},
}
ML_DIR = Path(ml.__file__).parent
ENTRY_SCRIPTS = {"train_entry.py", "predict_entry.py"}
# Dependencies of this repo that the scikit-learn container does not have.
ABSENT_FROM_CONTAINER = ("duckdb", "talib", "dbt", "psycopg")


def _shipped_files() -> set[str]:
    """What the jobs' source must hold: the entry scripts and the `ml` and `core` packages'
    Python."""
    return ENTRY_SCRIPTS | {
        f"{package.name}/{path.relative_to(package)}"
        for package in (ML_DIR, ML_DIR.parent / "core")
        for path in package.rglob("*.py")
    }


@pytest.fixture(scope="module")
def aws() -> Iterator[Any]:
    """moto in-process with dummy credentials, and the lake bucket; an S3 client."""
    with pytest.MonkeyPatch.context() as env:
        for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3"):
            env.delenv(name, raising=False)
        env.setenv("AWS_CONFIG_FILE", "/nonexistent/aws-config")
        env.setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent/aws-credentials")
        env.setenv("AWS_ACCESS_KEY_ID", "testing")
        env.setenv("AWS_SECRET_ACCESS_KEY", "testing")
        env.setenv("AWS_DEFAULT_REGION", REGION)
        env.setenv("AWS_EC2_METADATA_DISABLED", "true")
        with mock_aws():
            s3 = boto3.client("s3", region_name=REGION)
            s3.create_bucket(Bucket=BUCKET)
            yield s3


@pytest.fixture
def lake(aws: Any) -> Iterator[Any]:
    """The lake bucket (an S3 client), emptied after the test."""
    yield aws
    for key in _keys(aws):
        aws.delete_object(Bucket=BUCKET, Key=key)


# One session for the module: each costs a second (botocore loads the SageMaker model).
@pytest.fixture(scope="module")
def session(aws: Any) -> Any:
    return sagemaker.Session(
        boto_session=boto3.Session(region_name=REGION), sagemaker_config=TELEMETRY_OPT_OUT
    )


@pytest.fixture
def config() -> SageMakerConfig:
    return SageMakerConfig.from_env(
        {"SAGEMAKER_ROLE_ARN": ROLE, "LAKE_ROOT": LAKE_ROOT, "AWS_REGION": REGION}
    )


@contextmanager
def _captured(session: Any, operation: str) -> Iterator[list[dict[str, Any]]]:
    """The parameters of every `operation` call the session's SageMaker client makes."""
    calls: list[dict[str, Any]] = []

    def record(params: dict[str, Any], **_: Any) -> None:
        calls.append(copy.deepcopy(params))

    event = f"before-parameter-build.sagemaker.{operation}"
    session.sagemaker_client.meta.events.register(event, record)
    try:
        yield calls
    finally:
        session.sagemaker_client.meta.events.unregister(event, record)


def _keys(s3: Any, prefix: str = "") -> list[str]:
    listing = s3.list_objects_v2(Bucket=BUCKET, Prefix=prefix)
    return sorted(item["Key"] for item in listing.get("Contents", []))


def _key(uri: str) -> str:
    return uri.removeprefix(f"s3://{BUCKET}/")


def _tags(request: dict[str, Any]) -> dict[str, str]:
    return {tag["Key"]: tag["Value"] for tag in request["Tags"]}


def test_config_from_env_defaults_and_overrides() -> None:
    config = SageMakerConfig.from_env({"SAGEMAKER_ROLE_ARN": ROLE, "LAKE_ROOT": LAKE_ROOT + "/"})
    assert config == SageMakerConfig(
        role_arn=ROLE,
        lake_root=LAKE_ROOT,
        region=Settings().aws_region,  # the project's one region default
        train_instance_type="ml.m5.xlarge",
        predict_instance_type="ml.m5.large",
        sklearn_version="1.4-2",
        max_runtime_seconds=7200,
        output_path=f"{LAKE_ROOT}/ml/sagemaker",
        train_base_job_name="condvest-train",
        predict_base_job_name="condvest-predict",
    )
    config = SageMakerConfig.from_env(
        {
            "SAGEMAKER_ROLE_ARN": ROLE,
            "LAKE_ROOT": LAKE_ROOT,
            "AWS_DEFAULT_REGION": "eu-west-1",
            "SAGEMAKER_TRAIN_INSTANCE_TYPE": "ml.c5.2xlarge",
            "SAGEMAKER_PREDICT_INSTANCE_TYPE": "ml.c5.xlarge",
            "SAGEMAKER_SKLEARN_VERSION": "1.2-1",
            "SAGEMAKER_MAX_RUNTIME_SECONDS": "600",
            "SAGEMAKER_OUTPUT_PATH": "s3://other-bucket/sagemaker/",
        }
    )
    assert (config.region, config.train_instance_type, config.predict_instance_type) == (
        "eu-west-1",
        "ml.c5.2xlarge",
        "ml.c5.xlarge",
    )
    assert (config.sklearn_version, config.max_runtime_seconds) == ("1.2-1", 600)
    assert config.training_output_path("v1") == "s3://other-bucket/sagemaker/train/v1"


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"LAKE_ROOT": LAKE_ROOT}, "set SAGEMAKER_ROLE_ARN"),
        (
            {"LAKE_ROOT": LAKE_ROOT, "SAGEMAKER_ROLE_ARN": "condvest-sagemaker"},
            "SAGEMAKER_ROLE_ARN",
        ),
        # unset: the settings' local default, which SageMaker cannot reach
        ({"SAGEMAKER_ROLE_ARN": ROLE}, r"LAKE_ROOT must be an s3:// URI .* got './data/lake'"),
        ({"SAGEMAKER_ROLE_ARN": ROLE, "LAKE_ROOT": "/srv/lake"}, "LAKE_ROOT must be an s3://"),
        ({"SAGEMAKER_ROLE_ARN": ROLE, "LAKE_ROOT": "s3://"}, "LAKE_ROOT must be an s3://"),
        (
            {"SAGEMAKER_ROLE_ARN": ROLE, "LAKE_ROOT": LAKE_ROOT, "SAGEMAKER_OUTPUT_PATH": "out"},
            "SAGEMAKER_OUTPUT_PATH must be an s3://",
        ),
    ],
)
def test_config_errors_name_the_variable(env: dict[str, str], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        SageMakerConfig.from_env(env)


def test_training_job_name_is_derived_from_the_version(config: SageMakerConfig) -> None:
    assert training_job_name(config, VERSION) == "condvest-train-2024-06-11-rf"
    assert training_job_name(config, "v1__hgb") == "condvest-train-v1-hgb"
    for bad in ("...", "x" * 49):
        with pytest.raises(ValueError, match="SageMaker job name"):
            training_job_name(config, bad)


def test_make_session_uses_the_configured_region(aws: Any) -> None:
    config = SageMakerConfig(role_arn=ROLE, lake_root=LAKE_ROOT, region="eu-west-1")
    assert make_session(config).boto_region_name == "eu-west-1"
    # The SDK logged the config files it looked for, but not on stdout (the CLI's JSON).
    logger = logging.getLogger("sagemaker.config")
    assert not [
        handler for handler in logger.handlers if isinstance(handler, logging.StreamHandler)
    ]
    assert logger.propagate


def test_launch_training(lake: Any, session: Any, config: SageMakerConfig) -> None:
    with _captured(session, "CreateTrainingJob") as calls:
        estimator = launch_training(
            config, FEATURES + "/", HYPERPARAMETERS, VERSION, session=session
        )

    [request] = calls
    job_name = "condvest-train-2024-06-11-rf"
    output = f"{LAKE_ROOT}/ml/sagemaker/train/{VERSION}"
    assert request["TrainingJobName"] == job_name
    assert request["RoleArn"] == ROLE
    assert request["AlgorithmSpecification"] == {
        "TrainingImage": SKLEARN_IMAGE,
        "TrainingInputMode": "File",
        "MetricDefinitions": METRIC_DEFINITIONS,
    }
    assert request["InputDataConfig"] == [
        {
            "ChannelName": "train",
            "DataSource": {
                "S3DataSource": {
                    "S3DataType": "S3Prefix",
                    "S3Uri": FEATURES + "/",
                    "S3DataDistributionType": "FullyReplicated",
                }
            },
            "ContentType": "application/x-parquet",
        }
    ]
    assert request["ResourceConfig"] == {
        "InstanceType": "ml.m5.xlarge",
        "InstanceCount": 1,
        "VolumeSizeInGB": 30,
    }
    assert request["OutputDataConfig"] == {"S3OutputPath": output}
    assert request["StoppingCondition"] == {"MaxRuntimeInSeconds": 7200}
    assert _tags(request) == {"project": "condvest", "model-version": VERSION}
    # No Debugger hook or rules, and the profiler off: nothing but the training job runs.
    assert "DebugHookConfig" not in request
    assert "DebugRuleConfigurations" not in request
    assert request["ProfilerConfig"] == {"DisableProfiler": True}

    # The SDK JSON-encodes every value; the container decodes them into ml.train's flags.
    hyperparameters = {key: json.loads(value) for key, value in request["HyperParameters"].items()}
    source_uri = f"{output}/{job_name}/source/sourcedir.tar.gz"
    assert hyperparameters == {
        **HYPERPARAMETERS,
        "version": VERSION,
        "sagemaker_program": "train_entry.py",
        "sagemaker_submit_directory": source_uri,
        "sagemaker_container_log_level": 20,
        "sagemaker_job_name": job_name,
        "sagemaker_region": REGION,
    }

    # The tarball holds the package and the entry scripts, nothing else of the repo.
    body = lake.get_object(Bucket=BUCKET, Key=_key(source_uri))["Body"].read()
    with tarfile.open(fileobj=io.BytesIO(body)) as tar:
        files = {member.name for member in tar.getmembers() if member.isfile()}
        extracted = tar.extractfile("train_entry.py")
        assert extracted is not None, "train_entry.py is not a regular file"
        entry = extracted.read().decode()
    assert {"ml/train.py", "ml/predict.py", "ml/__init__.py"} <= files
    assert files == _shipped_files()
    assert "from ml.train import main" in entry
    assert _keys(lake) == [_key(source_uri)]

    # moto serves the job back (complete at once), and the SDK finds the model through it.
    job = session.sagemaker_client.describe_training_job(TrainingJobName=job_name)
    assert job["TrainingJobStatus"] == "Completed"
    for field in ("RoleArn", "HyperParameters", "InputDataConfig", "OutputDataConfig"):
        assert job[field] == request[field], field
    assert job["ResourceConfig"] == request["ResourceConfig"]
    assert estimator.model_data == f"{output}/{job_name}/output/model.tar.gz"
    # Everything landed in the lake: the SDK made no default bucket of its own.
    assert [bucket["Name"] for bucket in lake.list_buckets()["Buckets"]] == [BUCKET]

    # The local copy of the source lives as long as the estimator.
    assert isinstance(estimator.source_dir, str)
    source_dir = Path(estimator.source_dir)
    assert (source_dir / "train_entry.py").is_file()
    del estimator
    gc.collect()
    assert not source_dir.exists()


def test_launch_prediction(lake: Any, session: Any, config: SageMakerConfig) -> None:
    with _captured(session, "CreateProcessingJob") as calls:
        job = launch_prediction(config, MODEL, FEATURES, PREDICTIONS + "/", DATE, session=session)

    [request] = calls
    assert request["ProcessingJobName"] == job.job_name
    assert job.job_name.startswith("condvest-predict-")
    source_uri = f"{LAKE_ROOT}/ml/sagemaker/predict/{job.job_name}/source"
    assert request["RoleArn"] == ROLE
    assert request["AppSpecification"] == {
        "ImageUri": SKLEARN_IMAGE,
        "ContainerEntrypoint": ["python3", "/opt/ml/processing/input/code/predict_entry.py"],
        "ContainerArguments": [
            "--features-dir",
            FEATURES_DIR,
            "--model-dir",
            MODEL_DIR,
            "--output-dir",
            PREDICTIONS_DIR,
            "--date",
            "2024-06-11",
        ],
    }

    def s3_input(name: str, uri: str, local_path: str) -> dict[str, Any]:
        return {
            "InputName": name,
            "AppManaged": False,
            "S3Input": {
                "S3Uri": uri,
                "LocalPath": local_path,
                "S3DataType": "S3Prefix",
                "S3InputMode": "File",
                "S3DataDistributionType": "FullyReplicated",
                "S3CompressionType": "None",
            },
        }

    assert request["ProcessingInputs"] == [
        s3_input("source", source_uri + "/", SOURCE_DIR),
        s3_input("features", FEATURES + "/", FEATURES_DIR),
        s3_input("model", MODEL + "/", MODEL_DIR),
        s3_input("code", f"{source_uri}/predict_entry.py", "/opt/ml/processing/input/code"),
    ]
    assert request["ProcessingOutputConfig"] == {
        "Outputs": [
            {
                "OutputName": "predictions",
                "AppManaged": False,
                "S3Output": {
                    "S3Uri": PREDICTIONS,
                    "LocalPath": PREDICTIONS_DIR,
                    "S3UploadMode": "EndOfJob",
                },
            }
        ]
    }
    assert request["ProcessingResources"] == {
        "ClusterConfig": {"InstanceType": "ml.m5.large", "InstanceCount": 1, "VolumeSizeInGB": 30}
    }
    # The entry script is mounted alone; the package it imports comes from the source input.
    assert request["Environment"] == {"PYTHONPATH": SOURCE_DIR}
    assert request["StoppingCondition"] == {"MaxRuntimeInSeconds": 7200}
    assert _tags(request) == {"project": "condvest", "prediction-date": "2024-06-11"}

    # The source was uploaded file by file under the lake, where the inputs point.
    prefix = _key(source_uri) + "/"
    assert {key.removeprefix(prefix) for key in _keys(lake)} == _shipped_files()

    described = session.sagemaker_client.describe_processing_job(ProcessingJobName=job.job_name)
    assert described["ProcessingJobStatus"] == "Completed"
    for field in ("RoleArn", "AppSpecification", "ProcessingInputs", "ProcessingOutputConfig"):
        assert described[field] == request[field], field
    # The SDK sets `latest_job = None` in __init__ without an annotation, so it is typed None.
    assert cast("ProcessingJob", job.processor.latest_job).job_name == job.job_name
    assert [bucket["Name"] for bucket in lake.list_buckets()["Buckets"]] == [BUCKET]

    # The local copy of the source lives as long as the job.
    source_dir = Path(job.local_source.name)
    assert (source_dir / "predict_entry.py").is_file()
    del job
    gc.collect()
    assert not source_dir.exists()


@pytest.mark.parametrize(
    ("features", "hyperparameters", "message"),
    [
        ("./data/lake/gold/ml_features", HYPERPARAMETERS, "features URI must be an s3://"),
        (FEATURES, {**HYPERPARAMETERS, "version": "v0"}, "hyperparameters say version 'v0'"),
        (FEATURES, {**HYPERPARAMETERS, "n_trees": 50}, "unknown hyperparameter.*n_trees"),
        (FEATURES, {**HYPERPARAMETERS, "embargo": 2}, "--embargo 2 is shorter than --horizon 5"),
    ],
)
def test_launch_training_refuses_before_any_aws_call(
    lake: Any,
    session: Any,
    config: SageMakerConfig,
    features: str,
    hyperparameters: dict[str, Any],
    message: str,
) -> None:
    with _captured(session, "CreateTrainingJob") as calls, pytest.raises(ValueError, match=message):
        launch_training(config, features, hyperparameters, VERSION, session=session)
    assert calls == []
    assert _keys(lake) == []


@pytest.mark.parametrize(
    ("model", "features", "output", "message"),
    [
        ("data/lake/ml/models/v1", FEATURES, PREDICTIONS, "model URI must be an s3://"),
        (MODEL, "gs://lake/features", PREDICTIONS, "features URI must be an s3://"),
        (MODEL, FEATURES, "./data/lake/gold/predictions", "predictions URI must be an s3://"),
    ],
)
def test_launch_prediction_refuses_before_any_aws_call(
    lake: Any,
    session: Any,
    config: SageMakerConfig,
    model: str,
    features: str,
    output: str,
    message: str,
) -> None:
    with (
        _captured(session, "CreateProcessingJob") as calls,
        pytest.raises(ValueError, match=message),
    ):
        launch_prediction(config, model, features, output, DATE, session=session)
    assert calls == []
    assert _keys(lake) == []


def test_shipped_source_is_python_3_10(tmp_path: Path) -> None:
    # The repo targets 3.11; the container runs 3.10 (ruff, set to py311, would not notice).
    source = build_source_dir(tmp_path)
    for path in source.rglob("*.py"):
        ast.parse(path.read_text(), filename=str(path), feature_version=(3, 10))


def _run_shipped(script: Path, *pythonpath: Path) -> subprocess.CompletedProcess[str]:
    """Run a shipped entry script with `--help` and, as in the container, neither this repo
    nor the project dependencies the scikit-learn image lacks (only its third-party
    packages: scikit-learn, pandas, pyarrow, boto3, ...)."""
    blocked = script.parent.parent / "blocked"
    for name in ABSENT_FROM_CONTAINER:
        (blocked / name).mkdir(parents=True, exist_ok=True)
        (blocked / name / "__init__.py").write_text(
            f"raise ImportError({name!r} ' is not in the SageMaker scikit-learn container')\n"
        )
    # -S skips site, so the repo's editable install (a .pth finder) is not there either.
    path = [*pythonpath, blocked, Path(sysconfig.get_paths()["purelib"])]
    return subprocess.run(
        [sys.executable, "-S", str(script), "--help"],
        cwd=script.parent.parent,
        env={"PYTHONPATH": os.pathsep.join(map(str, path))},
        capture_output=True,
        text=True,
        check=False,
    )


def test_shipped_training_entry_runs_without_the_repo(tmp_path: Path) -> None:
    # The training container runs the script at the source root, beside the package.
    source = build_source_dir(tmp_path / "source")
    result = _run_shipped(source / TRAIN_ENTRY)
    assert result.returncode == 0, result.stderr
    assert "--n-estimators" in result.stdout


def test_shipped_prediction_entry_runs_without_the_repo(tmp_path: Path) -> None:
    # The Processing job mounts the script alone, and the package on PYTHONPATH.
    source = build_source_dir(tmp_path / "source")
    (tmp_path / "code").mkdir()
    script = Path(shutil.copy(source / PREDICT_ENTRY, tmp_path / "code"))
    result = _run_shipped(script, source)
    assert result.returncode == 0, result.stderr
    for flag in ("--features-dir", "--model-dir", "--output-dir", "--date"):
        assert flag in result.stdout
