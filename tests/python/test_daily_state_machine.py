"""The daily ASL, executed by moto's Step Functions interpreter (see sfn_harness).

Real pieces: the definition file as deployed (with its DefinitionSubstitutions filled in),
moto's ECS, SageMaker, Athena, SNS and SQS, and the real ResolveRunDate, CheckLanding and
Notify Lambda handlers (planning and checking on a local lake; recording in SQLite;
publishing to moto's SNS). The
fetchers, vacuum and publish Lambdas are stand-ins whose calls are recorded: their own
code has its own tests, and here what matters is the control flow around them.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import sqlite3
import threading
from contextlib import closing
from pathlib import Path
from typing import Any

import pytest
from moto import mock_aws
from moto.ecs.models import Container

from ingestion.polygon import PolygonHTTPError
from ml.train import METRIC_DEFINITIONS
from orchestration import asl
from orchestration.handlers import check_landing, resolve_run_date
from orchestration.handlers import notify as notify_handler
from orchestration.plan import daily_model_version
from orchestration.sagemaker_launcher import FEATURES_DIR, MODEL_DIR, PREDICTIONS_DIR
from orchestration.vacuum import VacuumResult
from tests.python import sfn_harness as sfn
from tests.python.step_stubs import fetched

FRIDAY = "2026-11-20"  # the default training weekday
MONDAY = "2026-11-23"
THANKSGIVING = "2026-11-26"  # a weekday holiday
LAMBDAS = (
    "ResolveRunDate",
    "FetchMetadata",
    "FetchOhlcv",
    "CheckLanding",
    "PublishModel",
    "Vacuum",
    "Notify",
)
HAPPY_TRAINING_DAY = [
    "ResolveRunDate",
    "IsTradingSession",
    "FetchMetadata",
    "FetchOhlcv",
    "CheckLanding",
    "DbtBuild",
    "CheckDbtBuild",
    "NeedsPrediction",
    "ExportFeatures",
    "IsTrainingDay",
    "Train",
    "PublishModel",
    "Predict",
    "DbtBuildPredictions",
    "CheckDbtBuildPredictions",
    "Vacuum",
    "Report",
    "NotifySuccess",
    "WasNotified",
    "Succeeded",
]


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch, tmp_path: Path):
    for name in ("AWS_ENDPOINT_URL", "AWS_PROFILE", "AWS_ENDPOINT_URL_S3"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", sfn.REGION)
    monkeypatch.setenv("AWS_REGION", sfn.REGION)
    # The real handlers plan on and record into local stand-ins for S3 and RDS.
    monkeypatch.setenv("LAKE_ROOT", str(tmp_path / "lake"))
    monkeypatch.setenv("WATERMARK_DSN", f"sqlite:///{tmp_path / 'watermarks.sqlite'}")
    monkeypatch.setenv("NOTIFY_TOKEN_CACHE", f"sqlite:///{tmp_path / 'tokens.sqlite'}")
    for name in ("TRAINING_WEEKDAY", "DAILY_HISTORY_START", "NOTIFY_API_URL", "SNS_TOPIC_ARN"):
        monkeypatch.delenv(name, raising=False)
    with mock_aws(
        config={"stepfunctions": {"execute_state_machine": True}, "lambda": {"use_docker": False}}
    ):
        yield


class Deployment:
    """The state machine and what it runs, created in moto as the template would."""

    def __init__(self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        self.tmp_path = tmp_path
        self.registry = sfn.LambdaRegistry()
        self.sleeps: list[float] = []
        self.calls = self.registry.calls
        iam = sfn.client("iam")
        role = iam.create_role(
            RoleName="condvest-daily",
            AssumeRolePolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": []}),
        )["Role"]["Arn"]
        functions = {}
        for name in LAMBDAS:
            functions[name] = sfn.client("lambda").create_function(
                FunctionName=f"condvest-{name}",
                Runtime="python3.11",
                Role=role,
                Handler="handler.lambda_handler",
                Code={"ZipFile": b"stand-in"},
            )["FunctionArn"]
        ec2 = sfn.client("ec2")
        vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
        subnets = [
            ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.0.{i}.0/24")["Subnet"]["SubnetId"]
            for i in (1, 2)
        ]
        group = ec2.create_security_group(GroupName="dbt", Description="dbt", VpcId=vpc)["GroupId"]
        ecs = sfn.client("ecs")
        cluster = ecs.create_cluster(clusterName="condvest")["cluster"]["clusterArn"]
        self.task_definition = ecs.register_task_definition(
            family="condvest-dbt",
            requiresCompatibilities=["FARGATE"],
            networkMode="awsvpc",
            cpu="1024",
            memory="4096",
            containerDefinitions=[
                {"name": "dbt", "image": "condvest/dbt:latest", "cpu": 1024, "memory": 4096}
            ],
        )["taskDefinition"]["taskDefinitionArn"]
        sfn.client("s3").create_bucket(Bucket="condvest-lake")
        sfn.client("athena").create_work_group(Name="condvest")
        self.topic = sfn.client("sns").create_topic(Name="condvest-daily")["TopicArn"]
        sqs = sfn.client("sqs")
        queue = sqs.create_queue(QueueName="alerts")["QueueUrl"]
        queue_arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])[
            "Attributes"
        ]["QueueArn"]
        sfn.client("sns").subscribe(TopicArn=self.topic, Protocol="sqs", Endpoint=queue_arn)
        self.queue = queue
        monkeypatch.setenv("SNS_TOPIC_ARN", self.topic)
        substitutions = {
            **{f"{name}FunctionArn": arn for name, arn in functions.items()},
            "DbtClusterArn": cluster,
            "DbtTaskDefinitionArn": self.task_definition,
            "SubnetA": subnets[0],
            "SubnetB": subnets[1],
            "DbtSecurityGroupId": group,
            "GoldDatabase": "gold",
            "LakeRootUri": "s3://condvest-lake/lake",
            "AthenaWorkGroup": "condvest",
            "SageMakerRoleArn": role,
            "SklearnImageUri": "683313688378.dkr.ecr.us-east-1.amazonaws.com/"
            "sagemaker-scikit-learn:1.4-2-cpu-py3",
            "MlSourceUri": "s3://condvest-lake/code/ml-source.tar.gz",
            "Region": sfn.REGION,
            "TrainInstanceType": "ml.m5.xlarge",
            "PredictInstanceType": "ml.m5.large",
        }
        text = asl.ASL_PATH.read_text()
        missing = set(re.findall(r"\$\{(\w+)\}", text)) - set(substitutions)
        assert not missing, missing
        for key, value in substitutions.items():
            text = text.replace("${" + key + "}", value)
        self.arn = sfn.client("stepfunctions").create_state_machine(
            name="condvest-daily", definition=text, roleArn=role
        )["stateMachineArn"]
        self.published: list[dict[str, Any]] = []
        self.executions = 0
        self.registry.functions.update(
            {
                "condvest-ResolveRunDate": lambda event: resolve_run_date.lambda_handler(
                    event, None
                ),
                "condvest-FetchMetadata": lambda event: fetched("tickers", rows_landed=12),
                "condvest-FetchOhlcv": lambda event: fetched(
                    "ohlcv", rows_landed=9494, sessions_landed=1, watermark=event["to"]
                ),
                "condvest-CheckLanding": lambda event: check_landing.lambda_handler(event, None),
                "condvest-PublishModel": self._publish,
                "condvest-Vacuum": lambda event: VacuumResult(
                    30, dt.date(2024, 1, 2), dt.date(2023, 12, 3), False, 0, [], [], [], 0, 0
                ).to_dict(),
                "condvest-Notify": lambda event: notify_handler.lambda_handler(event, None),
            }
        )

    def _publish(self, event: dict[str, Any]) -> dict[str, Any]:
        self.published.append(event)
        return {"version": event["version"], "published": "s3://condvest-lake/lake/ml/models/"}

    def run(self, execution_input: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
        client = sfn.client("stepfunctions")
        with sfn.patched_moto(self.registry, self.sleeps):
            self.executions += 1
            execution = client.start_execution(
                stateMachineArn=self.arn,
                name=f"daily-{self.executions}",
                input=json.dumps(execution_input),
            )["executionArn"]
            described = sfn.wait_for(client, execution)
        self.history = client.get_execution_history(executionArn=execution)["events"]
        return described, sfn.entered_states(client, execution)

    def alerts(self) -> list[dict[str, Any]]:
        messages = (
            sfn.client("sqs")
            .receive_message(QueueUrl=self.queue, MaxNumberOfMessages=10)
            .get("Messages", [])
        )
        return [json.loads(json.loads(message["Body"])["Message"]) for message in messages]

    def called(self, name: str) -> list[dict[str, Any]]:
        return [event for function, event in self.calls if function == f"condvest-{name}"]


@pytest.fixture
def deployment(aws, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Deployment:
    return Deployment(tmp_path, monkeypatch)


def publish_model(lake_root: Path, version: str) -> None:
    directory = lake_root / "ml" / "models" / version
    directory.mkdir(parents=True)
    (directory / "_SUCCESS").write_text("")


def test_happy_path_on_the_training_weekday_visits_every_state_in_order(deployment, tmp_path):
    described, states = deployment.run({"date": FRIDAY})
    failures = [
        str(e.get("taskFailedEventDetails") or e.get("executionFailedEventDetails"))
        for e in deployment.history
        if "Failed" in e["type"]
    ]
    assert described["status"] == "SUCCEEDED", failures
    assert states == HAPPY_TRAINING_DAY
    version = daily_model_version(dt.date.fromisoformat(FRIDAY))

    sagemaker = sfn.client("sagemaker")
    jobs = sagemaker.list_training_jobs()["TrainingJobSummaries"]
    assert len(jobs) == 1
    job = sagemaker.describe_training_job(TrainingJobName=jobs[0]["TrainingJobName"])
    assert job["TrainingJobName"].startswith("condvest-train-20261120-")
    assert len(job["TrainingJobName"]) <= 63
    # moto keeps no metric definitions: the definition's are checked against ml.train's.
    spec = asl.states()["Train"]["Parameters"]["AlgorithmSpecification"]
    assert spec["MetricDefinitions"] == METRIC_DEFINITIONS
    assert json.loads(job["HyperParameters"]["version"]) == version
    assert job["HyperParameters"]["sagemaker_program"] == '"train_entry.py"'
    # The features ExportFeatures unloaded are the job's channel (LAKE_ROOT is local here).
    run = json.loads(described["output"])["run"]
    channel = job["InputDataConfig"][0]["DataSource"]["S3DataSource"]["S3Uri"]
    assert channel == run["features_uri"]
    assert channel.endswith(f"/ml/features/run={run['execution']}/")
    (query,) = sfn.client("athena").list_query_executions()["QueryExecutionIds"]
    sent = sfn.client("athena").get_query_execution(QueryExecutionId=query)["QueryExecution"]
    assert sent["Query"] == run["features_query"]
    assert sent["Query"].startswith("UNLOAD (SELECT * FROM gold.ml_features) TO ")
    # The model the job left is what PublishModel publishes, under the planned version.
    assert deployment.published == [
        {"version": version, "model_data": job["ModelArtifacts"]["S3ModelArtifacts"]}
    ]
    processing = sagemaker.list_processing_jobs()["ProcessingJobSummaries"]
    assert len(processing) == 1
    predict = sagemaker.describe_processing_job(
        ProcessingJobName=processing[0]["ProcessingJobName"]
    )
    # The same paths ml.predict is given by the Python launcher (orchestration.sagemaker_launcher).
    assert predict["AppSpecification"]["ContainerArguments"] == [
        "--features-dir",
        FEATURES_DIR,
        "--model-dir",
        MODEL_DIR,
        "--output-dir",
        PREDICTIONS_DIR,
        "--date",
        FRIDAY,
    ]
    local_paths = {i["InputName"]: i["S3Input"]["LocalPath"] for i in predict["ProcessingInputs"]}
    assert (local_paths["features"], local_paths["model"]) == (FEATURES_DIR, MODEL_DIR)
    (output,) = predict["ProcessingOutputConfig"]["Outputs"]
    assert output["S3Output"]["LocalPath"] == PREDICTIONS_DIR
    model_input = next(i for i in predict["ProcessingInputs"] if i["InputName"] == "model")
    assert model_input["S3Input"]["S3Uri"] == f"s3://condvest-lake/lake/ml/models/{version}/"

    ecs = sfn.client("ecs")
    tasks = ecs.list_tasks(cluster="condvest")["taskArns"]
    commands = [
        task["overrides"]["containerOverrides"][0]["command"]
        for task in ecs.describe_tasks(cluster="condvest", tasks=tasks)["tasks"]
    ]
    assert sorted(commands) == [
        ["dbt", "build", "--target", "athena"],
        ["dbt", "build", "--target", "athena", "--select", "stg_ml__predictions+"],
        # the Report state, in the same image (reports/aws_report.py)
        ["python", "-m", "reports.aws_report"],
    ]
    report = next(
        task["overrides"]["containerOverrides"][0]
        for task in ecs.describe_tasks(cluster="condvest", tasks=tasks)["tasks"]
        if task["overrides"]["containerOverrides"][0]["command"][0] == "python"
    )
    assert {e["name"]: e["value"] for e in report["environment"]} == {
        "RUN_DATE": FRIDAY,
        "EXECUTION_ID": json.loads(described["output"])["run"]["execution"],
    }
    assert deployment.called("FetchOhlcv") == [{"from": FRIDAY, "to": FRIDAY}]
    (alert,) = deployment.alerts()
    assert alert["status"] == "SUCCEEDED" and alert["date"] == FRIDAY
    assert alert["ohlcv"]["rows_landed"] == 9494
    assert alert["build"]["exit_code"] == 0
    assert alert["landing_check"] == {"checked": 0, "read": 0, "quarantined": [], "manifest": None}
    assert alert["build"]["task_arn"].startswith("arn:aws:ecs:")
    assert alert["model"]["version"] == version and alert["model"]["trained"]


def test_other_weekdays_predict_with_the_latest_model_without_training(deployment, tmp_path):
    publish_model(tmp_path / "lake", "20261113T000000Z-0123abcd")
    described, states = deployment.run({"date": MONDAY})
    assert described["status"] == "SUCCEEDED", described
    assert "Train" not in states and "PublishModel" not in states
    assert states[states.index("IsTrainingDay") + 1] == "Predict"
    assert sfn.client("sagemaker").list_training_jobs()["TrainingJobSummaries"] == []
    predict = sfn.client("sagemaker").list_processing_jobs()["ProcessingJobSummaries"]
    assert len(predict) == 1


def test_a_day_already_scored_by_its_model_skips_training_and_prediction(deployment, tmp_path):
    version = "20261113T000000Z-0123abcd"
    publish_model(tmp_path / "lake", version)
    scored = tmp_path / "lake" / "gold" / "predictions" / f"model_version={version}"
    (scored / f"date={MONDAY}").mkdir(parents=True)
    (scored / f"date={MONDAY}" / "batch.parquet").write_bytes(b"")
    described, states = deployment.run({"date": MONDAY})
    assert described["status"] == "SUCCEEDED"
    assert states[states.index("NeedsPrediction") + 1] == "Vacuum"
    assert sfn.client("sagemaker").list_processing_jobs()["ProcessingJobSummaries"] == []


def test_the_first_run_trains_whatever_the_weekday(deployment):
    described, states = deployment.run({"date": MONDAY})
    assert described["status"] == "SUCCEEDED"
    assert "Train" in states and "PublishModel" in states


def test_a_weekday_holiday_lands_and_builds_nothing(deployment):
    described, states = deployment.run({"date": THANKSGIVING})
    assert described["status"] == "SUCCEEDED"
    assert states == [
        "ResolveRunDate",
        "IsTradingSession",
        "NotifySuccess",
        "WasNotified",
        "Succeeded",
    ]
    (alert,) = deployment.alerts()
    assert alert["is_session"] is False


def test_without_a_date_the_run_is_today_in_new_york(deployment):
    described, _ = deployment.run({})
    output = json.loads(described["output"])
    today = dt.datetime.now(dt.UTC).astimezone(asl_new_york()).date().isoformat()
    assert output["run"]["date"] == today


def asl_new_york() -> Any:
    from ingestion.calendar import NEW_YORK

    return NEW_YORK


def test_a_failing_fetch_retries_with_backoff_then_notifies_the_failure(deployment):
    def unavailable(event: dict[str, Any]) -> dict[str, Any]:
        raise PolygonHTTPError(503, "/v2/aggs/grouped/locale/us/market/stocks", "unavailable")

    deployment.registry.functions["condvest-FetchOhlcv"] = unavailable
    described, states = deployment.run({"date": FRIDAY})
    assert described["status"] == "FAILED"
    assert described["error"] == "DailyRunFailed"
    assert states[-2:] == ["NotifyFailure", "Failed"]
    assert "DbtBuild" not in states
    retry = next(
        rule
        for rule in asl.states()["FetchOhlcv"]["Retry"]
        if "PolygonHTTPError" in rule["ErrorEquals"]
    )
    assert len(deployment.called("FetchOhlcv")) == 1 + retry["MaxAttempts"]
    assert len(deployment.sleeps) == retry["MaxAttempts"]
    (alert,) = deployment.alerts()
    assert alert["status"] == "FAILED"
    assert alert["error"]["Error"] == "PolygonHTTPError"
    assert alert["last_completed_step"] == "FetchMetadata"


def test_a_corrupt_landing_file_is_set_aside_before_the_build_and_the_summary_names_it(
    deployment, tmp_path
):
    partition = tmp_path / "lake" / "bronze" / "raw_ohlcv" / "ingest_date=2026-11-19"
    partition.mkdir(parents=True)
    (partition / "corrupt.parquet").write_bytes(b"PAR1" + b"\0" * 64)
    described, states = deployment.run({"date": FRIDAY})
    assert described["status"] == "SUCCEEDED"
    assert states[states.index("FetchOhlcv") :][:3] == ["FetchOhlcv", "CheckLanding", "DbtBuild"]
    (alert,) = deployment.alerts()
    (item,) = alert["landing_check"]["quarantined"]
    assert item["path"] == str(partition / "corrupt.parquet")
    assert item["reason"].startswith("unreadable parquet: ")
    kept = tmp_path / "lake" / "bronze" / "quarantine" / "raw_ohlcv" / "ingest_date=2026-11-19"
    assert (kept / "corrupt.parquet").read_bytes() == b"PAR1" + b"\0" * 64
    assert not (partition / "corrupt.parquet").exists()
    assert alert["landing_check"]["manifest"].startswith(str(tmp_path / "lake" / "_manifests"))


def test_a_failing_landing_check_retries_then_notifies_without_building(deployment):
    def s3_down(event: dict[str, Any]) -> dict[str, Any]:
        raise OSError(
            "When reading information for key 'lake/bronze': AWS Error NETWORK_CONNECTION"
        )

    deployment.registry.functions["condvest-CheckLanding"] = s3_down
    described, states = deployment.run({"date": FRIDAY})
    assert described["status"] == "FAILED"
    assert "DbtBuild" not in states and states[-2:] == ["NotifyFailure", "Failed"]
    (retry,) = [r for r in asl.states()["CheckLanding"]["Retry"] if "OSError" in r["ErrorEquals"]]
    assert len(deployment.called("CheckLanding")) == 1 + retry["MaxAttempts"]
    (alert,) = deployment.alerts()
    assert alert["error"]["Error"] == "OSError" and alert["last_completed_step"] == "FetchOhlcv"


def test_a_second_execution_for_a_date_already_running_stops_before_doing_anything(deployment):
    fetching, release = threading.Event(), threading.Event()
    stand_in = deployment.registry.functions["condvest-FetchOhlcv"]

    def slow_fetch(event: dict[str, Any]) -> dict[str, Any]:
        fetching.set()
        assert release.wait(60)
        return stand_in(event)

    deployment.registry.functions["condvest-FetchOhlcv"] = slow_fetch
    client = sfn.client("stepfunctions")

    def start(name: str, day: str) -> str:
        execution_input = json.dumps({"date": day})
        return client.start_execution(
            stateMachineArn=deployment.arn, name=name, input=execution_input
        )["executionArn"]

    with sfn.patched_moto(deployment.registry, deployment.sleeps):
        scheduled = start("scheduled", FRIDAY)
        assert fetching.wait(60)
        by_hand = start("by-hand", FRIDAY)
        refused = sfn.wait_for(client, by_hand)
        holiday = sfn.wait_for(client, start("another-day", THANKSGIVING))
        release.set()
        finished = sfn.wait_for(client, scheduled)

    assert refused["status"] == "FAILED" and refused["error"] == "DuplicateRunError"
    assert sfn.entered_states(client, by_hand) == ["ResolveRunDate", "AlreadyRunning"]
    history = client.get_execution_history(executionArn=by_hand)["events"]
    causes = " ".join(
        details.get("cause", "")
        for event in history
        for key, details in event.items()
        if key.endswith("FailedEventDetails")
    )
    assert "execution scheduled (started " in causes
    assert f"is already running {FRIDAY}; this one stops without doing anything" in causes
    # Another date runs beside it; the first execution does the day, once.
    assert holiday["status"] == "SUCCEEDED"
    assert finished["status"] == "SUCCEEDED"
    assert len(deployment.called("FetchOhlcv")) == 1
    assert [alert["date"] for alert in deployment.alerts()] == [THANKSGIVING, FRIDAY]


def test_a_failing_dbt_build_notifies_the_failure(deployment, monkeypatch):
    # dbt exits 1 in the task's container; the task itself stops normally.
    original = Container.__init__

    def exits_1(self, *args, **kwargs):
        original(self, *args, **kwargs)
        self.exitCode = 1

    monkeypatch.setattr(Container, "__init__", exits_1)
    described, states = deployment.run({"date": FRIDAY})
    assert described["status"] == "FAILED"
    assert states[states.index("DbtBuild") :] == [
        "DbtBuild",
        "CheckDbtBuild",
        "DbtBuildFailed",
        "NotifyFailure",
        "Failed",
    ]
    (alert,) = deployment.alerts()
    assert alert["status"] == "FAILED" and alert["last_completed_step"] == "DbtBuild"
    assert alert["error"]["Error"] == "DbtBuildFailed"


def test_an_undelivered_api_notification_fails_the_execution_after_recording_it(
    deployment, monkeypatch, tmp_path
):
    publish_model(tmp_path / "lake", "20261113T000000Z-0123abcd")
    # A receiver that is down: nothing listens on port 9 of localhost.
    monkeypatch.setenv("NOTIFY_API_URL", "http://127.0.0.1:9/daily")
    monkeypatch.setenv("NOTIFY_TOKEN_URL", "http://127.0.0.1:9/token")
    monkeypatch.setenv("NOTIFY_CLIENT_ID", "condvest")
    monkeypatch.setenv("NOTIFY_CLIENT_SECRET", "s3cret-value")
    described, states = deployment.run({"date": MONDAY})
    assert described["status"] == "FAILED"
    assert described["error"] == "NotificationUndelivered"
    assert states[-3:] == ["NotifySuccess", "WasNotified", "NotificationUndelivered"]
    # The audit table, as an operator would query it.
    with closing(sqlite3.connect(tmp_path / "watermarks.sqlite")) as conn:
        rows = conn.execute(
            "select status, detail from ingestion_runs where dataset = 'daily'"
        ).fetchall()
    assert [row[0] for row in rows] == ["succeeded"]
    (alert,) = deployment.alerts()
    assert alert["status"] == "SUCCEEDED"
    assert "s3cret-value" not in json.dumps(alert)
