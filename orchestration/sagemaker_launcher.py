"""Run `ml.train` and `ml.predict` on SageMaker, in AWS's scikit-learn framework container.

The jobs run the very code that runs locally: the `ml` package (its Python files only) is
shipped as the job's source, with one entry script per job at its root, and the jobs read
and write the lake on S3. Training is a script-mode training job (`SKLearn` estimator) whose
`train` channel is the feature rows; batch prediction is a Processing job
(`SKLearnProcessor`) mounting the features and a published model and uploading what
`ml.predict` writes to the predictions prefix.

Everything the SDK uploads lands under the lake (`<LAKE_ROOT>/ml/sagemaker/` by default),
so the jobs need no SageMaker default bucket and the launcher no s3:CreateBucket.

Settings come from the environment (`SageMakerConfig.from_env`):

    SAGEMAKER_ROLE_ARN               execution role of the jobs (required)
    LAKE_ROOT                        the lake, an s3:// URI (core.settings)
    AWS_REGION / AWS_DEFAULT_REGION  region of the jobs (core.settings)
    SAGEMAKER_TRAIN_INSTANCE_TYPE    default ml.m5.xlarge
    SAGEMAKER_PREDICT_INSTANCE_TYPE  default ml.m5.large
    SAGEMAKER_SKLEARN_VERSION        framework container version, default 1.4-2
    SAGEMAKER_MAX_RUNTIME_SECONDS    per job, default 7200
    SAGEMAKER_OUTPUT_PATH            job artifacts and code, default <LAKE_ROOT>/ml/sagemaker

The SDK (the `sagemaker` extra) is imported only when a job is built: it takes seconds to
import, and nothing else in the package needs it.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import re
import shutil
import tempfile
import weakref
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, cast

import boto3

import core
import ml
from core.settings import Settings

if TYPE_CHECKING:
    from sagemaker.processing import ProcessingInput, ProcessingOutput
    from sagemaker.session import Session
    from sagemaker.sklearn import SKLearn, SKLearnProcessor
    from sagemaker.utils import TagsDict
    from sagemaker.workflow.entities import PipelineVariable

# Unless its config logger already has a handler, the SDK gives it one writing to stdout,
# where the CLI prints its JSON summary: with this one, the records go to the root logger.
logging.getLogger("sagemaker.config").addHandler(logging.NullHandler())

DEFAULT_TRAIN_INSTANCE_TYPE = "ml.m5.xlarge"
DEFAULT_PREDICT_INSTANCE_TYPE = "ml.m5.large"
# The newest scikit-learn container the pinned SDK knows (Python 3.10, scikit-learn 1.4.2,
# pandas, pyarrow 17); 1.2-1 would mean Python 3.9. Train and predict share it, so a model
# trained in SageMaker is always loaded by the scikit-learn that pickled it.
DEFAULT_SKLEARN_VERSION = "1.4-2"
DEFAULT_MAX_RUNTIME_SECONDS = 2 * 60 * 60
TRAIN_BASE_JOB_NAME = "condvest-train"
PREDICT_BASE_JOB_NAME = "condvest-predict"
# scikit-learn fits on one machine (the SDK rejects more for SKLearn), and ml.predict
# reads the whole feature set, so more instances would only repeat the work.
INSTANCE_COUNT = 1

TRAIN_ENTRY = "train_entry.py"
PREDICT_ENTRY = "predict_entry.py"
# Both jobs start a script at the source root, which puts the `ml` package beside it on
# sys.path. main's return value is a summary, not an exit status: the job fails by raising.
_ENTRY_SCRIPT = '''"""SageMaker entry point: run ml.{module} with the job's arguments."""

import sys

from ml.{module} import main

main(sys.argv[1:])
'''

# Where the Processing job's inputs and output live in its container.
_PROCESSING = "/opt/ml/processing"
SOURCE_DIR = f"{_PROCESSING}/input/source"
FEATURES_DIR = f"{_PROCESSING}/input/features"
MODEL_DIR = f"{_PROCESSING}/input/model"
PREDICTIONS_DIR = f"{_PROCESSING}/output/predictions"

PARQUET_CONTENT_TYPE = "application/x-parquet"
JOB_NAME_MAX_LENGTH = 63
PROJECT_TAG: TagsDict = {"Key": "project", "Value": "condvest"}


def _require_s3(uri: str, what: str) -> str:
    """The URI without a trailing slash; a clear error if it is not on S3."""
    if not uri.startswith("s3://") or len(uri.rstrip("/")) <= len("s3://"):
        raise ValueError(
            f"{what} must be an s3:// URI for SageMaker (its jobs read and write the lake "
            f"on S3), got {uri!r}"
        )
    return uri.rstrip("/")


def _prefix(uri: str, what: str) -> str:
    # SageMaker reads every key starting with an S3Prefix: the slash keeps .../v1 from
    # also mounting .../v10.
    return _require_s3(uri, what) + "/"


@dataclass(frozen=True)
class SageMakerConfig:
    """Where and how the jobs run. Build it with `SageMakerConfig.from_env()`."""

    role_arn: str
    lake_root: str
    region: str | None = None
    train_instance_type: str = DEFAULT_TRAIN_INSTANCE_TYPE
    predict_instance_type: str = DEFAULT_PREDICT_INSTANCE_TYPE
    sklearn_version: str = DEFAULT_SKLEARN_VERSION
    max_runtime_seconds: int = DEFAULT_MAX_RUNTIME_SECONDS
    # Default: <lake_root>/ml/sagemaker.
    output_path: str = field(default="")
    train_base_job_name: str = TRAIN_BASE_JOB_NAME
    predict_base_job_name: str = PREDICT_BASE_JOB_NAME

    def __post_init__(self) -> None:
        # A bare role name would make the SDK ask IAM for its ARN; insist on the ARN.
        if not self.role_arn.startswith("arn:"):
            raise ValueError(
                "SageMaker jobs need an execution role: set SAGEMAKER_ROLE_ARN to the ARN of "
                f"the IAM role they run as (got {self.role_arn!r})"
            )
        lake_root = _require_s3(self.lake_root, "LAKE_ROOT")
        object.__setattr__(self, "lake_root", lake_root)
        output_path = _require_s3(
            self.output_path or f"{lake_root}/ml/sagemaker", "SAGEMAKER_OUTPUT_PATH"
        )
        object.__setattr__(self, "output_path", output_path)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> SageMakerConfig:
        env = dict(os.environ if env is None else env)
        settings = Settings.from_env(env)  # the lake and the region, as every step reads them
        return cls(
            role_arn=env.get("SAGEMAKER_ROLE_ARN", ""),
            lake_root=settings.lake_root,
            region=settings.aws_region,
            train_instance_type=env.get(
                "SAGEMAKER_TRAIN_INSTANCE_TYPE", DEFAULT_TRAIN_INSTANCE_TYPE
            ),
            predict_instance_type=env.get(
                "SAGEMAKER_PREDICT_INSTANCE_TYPE", DEFAULT_PREDICT_INSTANCE_TYPE
            ),
            sklearn_version=env.get("SAGEMAKER_SKLEARN_VERSION", DEFAULT_SKLEARN_VERSION),
            max_runtime_seconds=int(
                env.get("SAGEMAKER_MAX_RUNTIME_SECONDS", DEFAULT_MAX_RUNTIME_SECONDS)
            ),
            output_path=env.get("SAGEMAKER_OUTPUT_PATH", ""),
        )

    def training_output_path(self, version: str) -> str:
        """Where a version's training jobs put their model.tar.gz and uploaded source."""
        return f"{self.output_path}/train/{version}"

    def prediction_source_path(self, job_name: str) -> str:
        """Where a prediction job's source (the `ml` package and entry script) is uploaded."""
        return f"{self.output_path}/predict/{job_name}/source"


def make_session(config: SageMakerConfig) -> Session:
    """A SageMaker session in the configured region, from boto3's credential chain."""
    import sagemaker

    return sagemaker.Session(boto_session=boto3.Session(region_name=config.region))


def build_source_dir(destination: Path) -> Path:
    """Lay out the jobs' source in `destination`: the `ml` and `core` packages and the
    entry scripts."""
    for module in (ml, core):
        if module.__file__ is None:
            raise RuntimeError(f"{module.__name__} is not a regular package (no __init__.py)")
        package = Path(module.__file__).parent
        for path in sorted(package.rglob("*.py")):
            target = destination / package.name / path.relative_to(package)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, target)
    for entry, job_module in ((TRAIN_ENTRY, "train"), (PREDICT_ENTRY, "predict")):
        (destination / entry).write_text(_ENTRY_SCRIPT.format(module=job_module))
    return destination


def _temporary_source_dir() -> tempfile.TemporaryDirectory[str]:
    """A fresh source dir, deleted when the returned object is (keep it as long as a job
    may still upload it)."""
    directory = tempfile.TemporaryDirectory(prefix="condvest-sagemaker-")
    build_source_dir(Path(directory.name))
    return directory


def training_job_name(config: SageMakerConfig, version: str) -> str:
    """The one training job name of a version: relaunching a version is refused by SageMaker
    (the name is taken) instead of silently training it twice."""
    # Job names allow only letters, digits and hyphens.
    slug = re.sub(r"[^A-Za-z0-9]+", "-", version).strip("-")
    name = f"{config.train_base_job_name}-{slug}"
    if not slug or len(name) > JOB_NAME_MAX_LENGTH:
        raise ValueError(
            f"model version {version!r} does not make a SageMaker job name of at most "
            f"{JOB_NAME_MAX_LENGTH} characters: {name!r}"
        )
    return name


def build_training_job(
    config: SageMakerConfig,
    hyperparameters: Mapping[str, str | int | float],
    version: str,
    session: Session,
) -> SKLearn:
    """The estimator of `version`'s training job, not yet started.

    `hyperparameters` are ml.train's flags without their dashes (`n-estimators` or
    `n_estimators`), passed through as given; `version` is added.
    """
    from sagemaker.sklearn import SKLearn

    from ml.train import METRIC_DEFINITIONS, hyperparameter_args, parse_hyperparameters

    if str(hyperparameters.get("version", version)) != version:
        raise ValueError(
            f"hyperparameters say version {hyperparameters['version']!r}, the job {version!r}"
        )
    job_hyperparameters = {**hyperparameters, "version": version}
    # Checked by ml.train's own parser, so a bad value fails here, not on a started instance.
    snake_case = {name.replace("-", "_"): value for name, value in job_hyperparameters.items()}
    parse_hyperparameters(hyperparameter_args(snake_case))
    output_path = config.training_output_path(version)
    source = _temporary_source_dir()
    estimator = SKLearn(
        entry_point=TRAIN_ENTRY,
        source_dir=source.name,
        framework_version=config.sklearn_version,
        py_version="py3",
        role=config.role_arn,
        instance_type=config.train_instance_type,
        instance_count=INSTANCE_COUNT,
        input_mode="File",
        max_run=config.max_runtime_seconds,
        # The SDK JSON-encodes every value (EstimatorBase._json_encode_hyperparameters), so
        # numbers are fine; its annotation admits only str and PipelineVariable values.
        hyperparameters=cast("dict[str, str | PipelineVariable]", job_hyperparameters),
        metric_definitions=METRIC_DEFINITIONS,
        base_job_name=config.train_base_job_name,
        output_path=output_path,
        # Without it the SDK puts the source tarball at the bucket's root.
        code_location=output_path,
        # The Debugger hook and the profiler serve deep-learning frameworks: left on, they
        # would only write tensors and system metrics under the output path.
        debugger_hook_config=False,
        disable_profiler=True,
        tags=[PROJECT_TAG, {"Key": "model-version", "Value": version}],
        sagemaker_session=session,
    )
    # fit() tars the source dir: keep it as long as the estimator.
    weakref.finalize(estimator, source.cleanup)
    return estimator


def launch_training(
    config: SageMakerConfig,
    features_s3_uri: str,
    hyperparameters: Mapping[str, str | int | float],
    version: str,
    *,
    session: Session | None = None,
    wait: bool = False,
) -> SKLearn:
    """Start `version`'s training job on the parquet feature rows under `features_s3_uri`
    (its `train` channel); with `wait`, block (streaming the logs) until it ends.

    The model lands in `estimator.model_data` (`<output>/<job>/output/model.tar.gz`).
    """
    from sagemaker.inputs import TrainingInput

    train = TrainingInput(
        _prefix(features_s3_uri, "the features URI"), content_type=PARQUET_CONTENT_TYPE
    )
    job_name = training_job_name(config, version)
    estimator = build_training_job(
        config, hyperparameters, version, session or make_session(config)
    )
    estimator.fit({"train": train}, wait=wait, job_name=job_name)
    return estimator


@dataclass
class PredictionJob:
    """A batch-prediction Processing job, ready for `launch_prediction` to start."""

    processor: SKLearnProcessor
    job_name: str
    # The source (deleted with this object), and where it is uploaded for the job to mount.
    local_source: tempfile.TemporaryDirectory[str]
    source_uri: str
    inputs: list[ProcessingInput]
    outputs: list[ProcessingOutput]
    arguments: list[str]

    @property
    def code_uri(self) -> str:
        return f"{self.source_uri}/{PREDICT_ENTRY}"


def build_prediction_job(
    config: SageMakerConfig,
    model_s3_uri: str,
    features_s3_uri: str,
    output_s3_uri: str,
    date: dt.date,
    session: Session,
) -> PredictionJob:
    """Predict `date` with the published model under `model_s3_uri` (a lake
    `ml/models/<version>/` prefix) from the features under `features_s3_uri`; ml.predict's
    files are uploaded under `output_s3_uri` as it lays them out (model_version=/date=/)."""
    from sagemaker.processing import ProcessingInput, ProcessingOutput
    from sagemaker.sklearn import SKLearnProcessor
    from sagemaker.utils import name_from_base

    inputs = [
        ProcessingInput(
            input_name="features",
            source=_prefix(features_s3_uri, "the features URI"),
            destination=FEATURES_DIR,
        ),
        ProcessingInput(
            input_name="model",
            source=_prefix(model_s3_uri, "the model URI"),
            destination=MODEL_DIR,
        ),
    ]
    outputs = [
        ProcessingOutput(
            output_name="predictions",
            source=PREDICTIONS_DIR,
            destination=_require_s3(output_s3_uri, "the predictions URI"),
        )
    ]
    job_name = name_from_base(config.predict_base_job_name)
    source_uri = config.prediction_source_path(job_name)
    processor = SKLearnProcessor(
        framework_version=config.sklearn_version,
        role=config.role_arn,
        instance_type=config.predict_instance_type,
        instance_count=INSTANCE_COUNT,
        max_runtime_in_seconds=config.max_runtime_seconds,
        base_job_name=config.predict_base_job_name,
        # The entry script is mounted alone (as the job's code); the package beside it.
        env={"PYTHONPATH": SOURCE_DIR},
        tags=[PROJECT_TAG, {"Key": "prediction-date", "Value": date.isoformat()}],
        sagemaker_session=session,
    )
    source = ProcessingInput(input_name="source", source=source_uri + "/", destination=SOURCE_DIR)
    return PredictionJob(
        processor=processor,
        job_name=job_name,
        local_source=_temporary_source_dir(),
        source_uri=source_uri,
        inputs=[source, *inputs],
        outputs=outputs,
        arguments=[
            "--features-dir",
            FEATURES_DIR,
            "--model-dir",
            MODEL_DIR,
            "--output-dir",
            PREDICTIONS_DIR,
            "--date",
            date.isoformat(),
        ],
    )


def launch_prediction(
    config: SageMakerConfig,
    model_s3_uri: str,
    features_s3_uri: str,
    output_s3_uri: str,
    date: dt.date,
    *,
    session: Session | None = None,
    wait: bool = False,
) -> PredictionJob:
    """Upload the source under the lake and start the prediction job of `date`; with
    `wait`, block (streaming the logs) until it ends."""
    from sagemaker.s3 import S3Uploader

    session = session or make_session(config)
    job = build_prediction_job(config, model_s3_uri, features_s3_uri, output_s3_uri, date, session)
    # Uploaded by us, not by the SDK: it would put local code in the default bucket.
    S3Uploader.upload(job.local_source.name, job.source_uri, sagemaker_session=session)
    job.processor.run(
        code=job.code_uri,
        inputs=job.inputs,
        outputs=job.outputs,
        arguments=job.arguments,
        job_name=job.job_name,
        wait=wait,
        logs=wait,
    )
    return job
