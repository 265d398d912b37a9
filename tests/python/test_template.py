"""The AWS deployment, offline: orchestration/template.yaml (linted, and its IAM, schedule,
state machine wiring and handlers checked against the files they name) and the testable
pieces of orchestration/package.py (the requirement filter on the lock, the reproducible
archives). Nothing here downloads a wheel or talks to AWS.
"""

from __future__ import annotations

import ast
import hashlib
import importlib.metadata
import importlib.util
import json
import re
import sys
import tarfile
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from cfnlint.api import lint_file
from cfnlint.decode import cfn_yaml

from core.paths import REPO_ROOT
from orchestration import package
from orchestration.package import normalize

TEMPLATE = REPO_ROOT / "orchestration" / "template.yaml"
ASL = REPO_ROOT / "orchestration" / "statemachine" / "daily.asl.json"

# Every Lambda of the state machine: handler -> the substitution carrying its ARN.
HANDLERS = {
    "ingestion.handlers.daily_meta_fetcher.lambda_handler": "FetchMetadataFunctionArn",
    "ingestion.handlers.daily_ohlcv_fetcher.lambda_handler": "FetchOhlcvFunctionArn",
    "orchestration.handlers.resolve_run_date.lambda_handler": "ResolveRunDateFunctionArn",
    "orchestration.handlers.check_landing.lambda_handler": "CheckLandingFunctionArn",
    "orchestration.handlers.publish_model.lambda_handler": "PublishModelFunctionArn",
    "orchestration.handlers.vacuum.lambda_handler": "VacuumFunctionArn",
    "orchestration.handlers.notify.lambda_handler": "NotifyFunctionArn",
}

# Actions allowed on Resource "*", and why: none of them has a resource type to scope to.
WILDCARD_RESOURCE_ACTIONS = {
    "ec2:DescribeNetworkInterfaces": "Lambda's VPC ENI management; Describe calls take no ARN",
    "ec2:DescribeSubnets": "Lambda's VPC ENI management; Describe calls take no ARN",
    "ecr:GetAuthorizationToken": "the registry login token is account-wide, not per repository",
    "cloudwatch:PutMetricData": "no resource type (narrowed by a cloudwatch:namespace condition)",
}

NO_VALUE = {"Ref": "AWS::NoValue"}


@pytest.fixture(scope="module")
def template() -> dict[str, Any]:
    return cfn_yaml.load(str(TEMPLATE))


@pytest.fixture(scope="module")
def resources(template: dict[str, Any]) -> dict[str, Any]:
    return template["Resources"]


def of_type(resources: dict[str, Any], kind: str) -> dict[str, Any]:
    return {name: body for name, body in resources.items() if body["Type"] == kind}


def listify(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def statements(node: Any) -> Iterator[dict[str, Any]]:
    """Every policy statement under `node`, both branches of an Fn::If included."""
    if isinstance(node, dict):
        if isinstance(node.get("Statement"), list):
            for item in node["Statement"]:
                yield from _branches(item)
        for value in node.values():
            yield from statements(value)
    elif isinstance(node, list):
        for item in node:
            yield from statements(item)


def _branches(item: Any) -> Iterator[dict[str, Any]]:
    if isinstance(item, dict) and set(item) == {"Fn::If"}:
        for branch in item["Fn::If"][1:]:
            if branch != NO_VALUE:
                yield from _branches(branch)
    else:
        yield item


def role_statements(resources: dict[str, Any], role: str) -> list[dict[str, Any]]:
    return list(statements(resources[role]["Properties"].get("Policies", [])))


# -- the template as a whole --------------------------------------------------------------


def test_cfn_lint_reports_no_errors_or_warnings():
    matches = lint_file(TEMPLATE)
    problems = [str(m) for m in matches if m.rule.id[0] in "EW"]
    assert problems == []


def test_definition_substitutions_are_exactly_the_asl_placeholders(resources):
    (machine,) = of_type(resources, "AWS::Serverless::StateMachine").values()
    properties = machine["Properties"]
    assert (TEMPLATE.parent / properties["DefinitionUri"]).resolve() == ASL
    placeholders = set(re.findall(r"\$\{(\w+)\}", ASL.read_text()))
    assert set(properties["DefinitionSubstitutions"]) == placeholders


def test_dbt_container_is_the_one_the_state_machine_overrides(resources):
    asl = ASL.read_text()
    overridden = set(re.findall(r'"ContainerOverrides":\s*\[\s*\{\s*"Name":\s*"(\w+)"', asl))
    assert overridden == {"dbt"}
    (task,) = of_type(resources, "AWS::ECS::TaskDefinition").values()
    containers = task["Properties"]["ContainerDefinitions"]
    assert [c["Name"] for c in containers] == ["dbt"]
    assert task["Properties"]["RequiresCompatibilities"] == ["FARGATE"]
    env = {e["Name"]: e["Value"] for e in containers[0]["Environment"]}
    # profiles.yml's athena target
    assert env["DBT_TARGET"] == "athena"
    assert env["DBT_SCHEMA_PREFIX"] == {"Ref": "SchemaPrefix"}
    assert {"ATHENA_WORKGROUP", "ATHENA_S3_STAGING_DIR", "ATHENA_S3_DATA_DIR"} <= set(env)


# -- IAM ----------------------------------------------------------------------------------


def test_no_allow_statement_has_a_wildcard_action(resources):
    checked = 0
    for name, body in resources.items():
        for statement in statements(body.get("Properties", {})):
            assert "NotAction" not in statement, name
            assert "NotResource" not in statement, name
            if statement["Effect"] != "Allow":
                # A Deny (the bucket's TLS-only rule) may name s3:*: it only refuses more.
                continue
            checked += 1
            for action in listify(statement["Action"]):
                assert "*" not in action, (name, statement.get("Sid"), action)
    assert checked > 50


def test_wildcard_resources_only_for_actions_without_resource_level_permissions(
    template, resources
):
    seen = set()
    for name, body in resources.items():
        for statement in statements(body.get("Properties", {})):
            if statement["Effect"] == "Allow" and "*" in listify(statement.get("Resource", [])):
                assert listify(statement["Resource"]) == ["*"], (name, statement.get("Sid"))
                actions = set(listify(statement["Action"]))
                assert actions <= set(WILDCARD_RESOURCE_ACTIONS), (name, actions)
                seen |= actions
    assert seen == set(WILDCARD_RESOURCE_ACTIONS)
    # The template documents the same exceptions.
    assert set(template["Metadata"]["WildcardResourceExceptions"]) == seen


def test_pass_role_is_always_limited_to_a_service(resources):
    for name, body in resources.items():
        for statement in statements(body.get("Properties", {})):
            if "iam:PassRole" in listify(statement.get("Action", [])):
                assert listify(statement["Action"]) == ["iam:PassRole"], name
                assert "iam:PassedToService" in statement["Condition"]["StringEquals"], name


def test_state_machine_role_invokes_only_its_functions(resources):
    functions = of_type(resources, "AWS::Serverless::Function")
    invoke = [
        s
        for s in role_statements(resources, "StateMachineRole")
        if s["Action"] == "lambda:InvokeFunction"
    ]
    (statement,) = invoke
    assert sorted(r["Fn::GetAtt"][0] for r in statement["Resource"]) == sorted(functions)
    passed = {
        r["Fn::GetAtt"][0]
        for s in role_statements(resources, "StateMachineRole")
        if s["Action"] == "iam:PassRole"
        for r in listify(s["Resource"])
    }
    assert passed == {"DbtTaskRole", "DbtExecutionRole", "SageMakerExecutionRole"}


def test_sync_integrations_have_their_managed_event_rules(resources):
    rules = {
        re.search(r"rule/(\w+)$", r["Fn::Sub"])[1]
        for s in role_statements(resources, "StateMachineRole")
        if "events:PutRule" in listify(s["Action"])
        for r in s["Resource"]
    }
    assert rules == {
        "StepFunctionsGetEventsForECSTaskRule",
        "StepFunctionsGetEventsForSageMakerTrainingJobsRule",
        "StepFunctionsGetEventsForSageMakerProcessingJobsRule",
    }


def test_sagemaker_job_rights_match_the_job_names_of_the_state_machine(resources):
    asl = json.loads(ASL.read_text())
    prefixes = {
        state["Parameters"][key].split("'")[1].removesuffix("{}")
        for state in asl["States"].values()
        for key in ("TrainingJobName.$", "ProcessingJobName.$")
        if key in state.get("Parameters", {})
    }
    assert prefixes == {"condvest-train-", "condvest-predict-"}
    arns = [
        s["Resource"]["Fn::Sub"]
        for s in role_statements(resources, "StateMachineRole")
        if any(a.startswith("sagemaker:Create") for a in listify(s["Action"]))
    ]
    assert sorted(a.rsplit("/", 1)[1] for a in arns) == ["condvest-predict-*", "condvest-train-*"]


# -- schedule -----------------------------------------------------------------------------


def test_schedule_starts_the_state_machine_at_1605_new_york_on_weekdays(template, resources):
    (schedule,) = of_type(resources, "AWS::Scheduler::Schedule").values()
    properties = schedule["Properties"]
    assert properties["ScheduleExpression"] == "cron(5 16 ? * MON-FRI *)"
    assert properties["ScheduleExpressionTimezone"] == "America/New_York"
    assert properties["FlexibleTimeWindow"] == {"Mode": "OFF"}
    state = properties["State"]
    assert template["Parameters"][state["Ref"]]["Default"] == "ENABLED"
    (machine,) = of_type(resources, "AWS::Serverless::StateMachine")
    target = properties["Target"]
    assert target["Arn"] == {"Ref": machine}
    assert json.loads(target["Input"]) == {}
    role = target["RoleArn"]["Fn::GetAtt"][0]
    (start,) = role_statements(resources, role)
    assert start["Action"] == "states:StartExecution"
    assert start["Resource"] == {"Ref": machine}


# -- Lambdas ------------------------------------------------------------------------------


def test_every_handler_exists_or_is_an_expected_one(template, resources):
    functions = of_type(resources, "AWS::Serverless::Function")
    handlers = {body["Properties"]["Handler"] for body in functions.values()}
    assert handlers == set(HANDLERS)
    for handler in handlers:
        assert re.fullmatch(r"[a-z_]+(\.[a-z_]+)+\.lambda_handler", handler)
        module = handler.rsplit(".", 1)[0]
        assert module.split(".")[0] in package.LAMBDA_PACKAGES
        # Present, or one of the handlers being written (listed in HANDLERS).
        path = REPO_ROOT / (module.replace(".", "/") + ".py")
        if path.exists():
            assert "def lambda_handler(" in path.read_text()


def test_function_timeouts_fit_their_states(resources):
    asl = json.loads(ASL.read_text())
    state_timeouts: dict[str, int] = {}
    for state in asl["States"].values():
        name = state.get("Parameters", {}).get("FunctionName", "")
        if name.startswith("${"):
            key = name[2:-1]
            state_timeouts[key] = min(state_timeouts.get(key, 10**6), state["TimeoutSeconds"])
    for body in of_type(resources, "AWS::Serverless::Function").values():
        properties = body["Properties"]
        assert properties["Timeout"] <= state_timeouts[HANDLERS[properties["Handler"]]]
    fetchers = {
        body["Properties"]["Timeout"]
        for body in of_type(resources, "AWS::Serverless::Function").values()
        if "fetcher" in body["Properties"]["Handler"]
    }
    assert fetchers == {900}


def test_functions_run_what_package_builds(template):
    function = template["Globals"]["Function"]
    assert function["Runtime"] == f"python{package.LAMBDA_PYTHON}"
    assert (TEMPLATE.parent / function["CodeUri"]).resolve() == REPO_ROOT / "build" / "lambda.zip"
    env = function["Environment"]["Variables"]
    calendar = env["TRADING_CALENDAR_PATH"]
    assert calendar.removeprefix("/var/task/") in package.LAMBDA_DATA_FILES
    assert env["MARKET_SOURCE"] == "polygon"
    assert env["NOTIFY_TOKEN_CACHE"] == {"Fn::Sub": "dynamodb://${TokenCacheTable}"}


# -- storage and catalog -------------------------------------------------------------------


def test_glue_databases_follow_dbt_schema_prefix(resources):
    names = sorted(
        body["Properties"]["DatabaseInput"]["Name"]["Fn::Sub"]
        for body in of_type(resources, "AWS::Glue::Database").values()
    )
    layers = ["bronze", "gold", "landing", "silver", "staging"]
    assert names == [f"${{SchemaPrefix}}{layer}" for layer in layers]
    # The same prefix as dbt's schema macro and the landing sources.
    macro = (REPO_ROOT / "macros" / "generate_schema_name.sql").read_text()
    assert "env_var('DBT_SCHEMA_PREFIX', '')" in macro


def test_lake_bucket_is_private_encrypted_and_expires_scratch_prefixes(resources):
    bucket = resources["LakeBucket"]
    properties = bucket["Properties"]
    assert bucket["DeletionPolicy"] == "Retain"
    assert "VersioningConfiguration" not in properties
    assert all(properties["PublicAccessBlockConfiguration"].values())
    (rule,) = properties["BucketEncryption"]["ServerSideEncryptionConfiguration"]
    assert rule["ServerSideEncryptionByDefault"]["SSEAlgorithm"] == "AES256"
    expiring = {
        (r["Prefix"]["Fn::Sub"] if isinstance(r["Prefix"], dict) else r["Prefix"]): r[
            "ExpirationInDays"
        ]
        for r in properties["LifecycleConfiguration"]["Rules"]
        if "ExpirationInDays" in r
    }
    assert expiring == {"${LakePrefix}/ml/features/": 7, "athena-results/": 30}
    workgroup = resources["AthenaWorkGroup"]["Properties"]["WorkGroupConfiguration"]
    assert workgroup["EnforceWorkGroupConfiguration"] is True
    assert workgroup["ResultConfiguration"]["OutputLocation"] == {
        "Fn::Sub": "s3://${LakeBucket}/athena-results/"
    }


def test_token_cache_table(resources):
    (table,) = of_type(resources, "AWS::DynamoDB::Table").values()
    properties = table["Properties"]
    assert properties["BillingMode"] == "PAY_PER_REQUEST"
    assert properties["KeySchema"] == [{"AttributeName": "cache_key", "KeyType": "HASH"}]
    assert properties["AttributeDefinitions"] == [
        {"AttributeName": "cache_key", "AttributeType": "S"}
    ]
    assert properties["TimeToLiveSpecification"] == {"AttributeName": "expires_at", "Enabled": True}


def test_sklearn_image_accounts_match_the_sagemaker_sdk(template):
    # The SDK's own table, read without importing the SDK (seconds to import).
    spec = importlib.util.find_spec("sagemaker")
    # `make test` installs the extra: without it this check must fail, not pass silently.
    assert spec is not None and spec.submodule_search_locations, "install the sagemaker extra"
    config = Path(spec.submodule_search_locations[0]) / "image_uri_config" / "sklearn.json"
    registries = json.loads(config.read_text())["training"]["versions"]["1.4-2"]["registries"]
    mapping = {
        region: row["Account"] for region, row in template["Mappings"]["SklearnImage"].items()
    }
    assert mapping == registries
    assert mapping["us-east-1"] == "683313688378"


# -- package.py ---------------------------------------------------------------------------

EXPORT = """\
# This file was autogenerated by uv via the following command:
#    uv export --frozen --no-hashes --no-dev --no-emit-project
certifi==2026.10.18
    # via requests
colorama==0.4.6 ; sys_platform == 'win32'
    # via click
click==8.5.1
    # via
    #   condvest-lakehouse
    #   dbt-core
dbt-core==1.11.16
    # via condvest-lakehouse
numpy==2.4.6
    # via
    #   condvest-lakehouse
    #   pandas
pandas==2.3.3
    # via condvest-lakehouse
psycopg==3.3.9
    # via condvest-lakehouse
psycopg-binary==3.3.9 ; implementation_name != 'pypy'
    # via psycopg
pyarrow==26.0.1
    # via condvest-lakehouse
pytz==2026.6
    # via pandas
requests==2.34.2
    # via
    #   condvest-lakehouse
    #   dbt-core
typing-extensions==4.16.0
    # via
    #   dbt-core
    #   psycopg
win-only-helper==1.0 ; sys_platform == 'win32'
    # via colorama
"""


def test_requirement_filter_keeps_the_handlers_closure():
    selected = package.select_requirements(
        EXPORT, ["pyarrow", "numpy", "requests", "psycopg"], package.LAMBDA_ENVIRONMENT
    )
    assert selected == [
        "certifi==2026.10.18",
        "numpy==2.4.6",
        "psycopg==3.3.9",
        "psycopg-binary==3.3.9",
        "pyarrow==26.0.1",
        "requests==2.34.2",
        "typing-extensions==4.16.0",
    ]
    # A platform marker drops the package and what only it required.
    dbt = package.select_requirements(EXPORT, ["dbt-core"], package.DBT_ENVIRONMENT)
    assert dbt == [
        "certifi==2026.10.18",
        "click==8.5.1",
        "dbt-core==1.11.16",
        "requests==2.34.2",
        "typing-extensions==4.16.0",
    ]
    with pytest.raises(ValueError, match="ta-lib"):
        package.select_requirements(EXPORT, ["ta-lib"], package.LAMBDA_ENVIRONMENT)


def test_requirement_filter_on_the_lock():
    # uv is in the project's venv (make install), so the lock is always readable here.
    export = package.lock_export(extras=["athena"])
    pins = {pin.name: pin.version for pin in package.parse_export(export).values()}

    def names(selected: list[str]) -> set[str]:
        return {line.split("==")[0] for line in selected}

    lambda_pins = package.select_requirements(
        export, package.LAMBDA_ROOTS, package.LAMBDA_ENVIRONMENT
    )
    assert {
        "pyarrow",
        "numpy",
        "requests",
        "psycopg",
        "psycopg-binary",
        "urllib3",
        "certifi",
    } <= names(lambda_pins)
    heavy = {
        "dbt-core",
        "duckdb",
        "pandas",
        "scikit-learn",
        "scipy",
        "ta-lib",
        "sagemaker",
        "joblib",
        "matplotlib",  # reports/: the report and chart commands only
    }
    assert not heavy & names(lambda_pins)
    # boto3 comes from the runtime (pinning it took the zip past 250 MB).
    assert not {"boto3", "botocore"} & names(lambda_pins)
    assert all(pins[name] == version for name, version in (p.split("==") for p in lambda_pins))

    dbt_pins = names(
        package.select_requirements(export, package.DBT_ROOTS, package.DBT_ENVIRONMENT)
    )
    assert {"dbt-core", "dbt-athena-community", "dbt-athena", "pyathena", "boto3"} <= dbt_pins
    # the Report state runs in the same image: DuckDB reads the Iceberg tables
    assert {"duckdb", "duckdb-extension-iceberg", "matplotlib", "pyarrow"} <= dbt_pins
    assert not {"dbt-duckdb", "pandas", "scikit-learn", "ta-lib"} & dbt_pins


def _third_party_imports(paths: list[Path]) -> set[str]:
    own = {"core", "ingestion", "ml", "oracle", "orchestration", "reports"}
    found: set[str] = set()
    for path in paths:
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                found |= {alias.name.split(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                found.add(node.module.split(".")[0])
    return {name for name in found - own if name not in sys.stdlib_module_names}


def test_the_dbt_image_holds_what_the_report_state_imports():
    """`python -m reports.aws_report` runs in the dbt image: it copies reports/ and core/
    (and the seeds, for the pattern catalog), and installs every distribution they import."""
    dockerfile = (REPO_ROOT / "orchestration" / "docker" / "Dockerfile").read_text()
    ignore = (REPO_ROOT / "orchestration" / "docker" / "Dockerfile.dockerignore").read_text()
    for folder in ("core", "reports", "seeds"):
        assert f"COPY {folder} ./{folder}" in dockerfile
        assert f"!{folder}\n" in ignore
    modules = sorted((REPO_ROOT / "reports").glob("*.py")) + sorted(
        (REPO_ROOT / "core").glob("*.py")
    )
    distributions = importlib.metadata.packages_distributions()
    needed = {
        normalize(dist)
        for module in _third_party_imports(modules)
        for dist in distributions[module]
    }
    export = package.lock_export(extras=["athena"])
    pins = package.select_requirements(export, package.DBT_ROOTS, package.DBT_ENVIRONMENT)
    assert needed <= {line.split("==")[0] for line in pins}


def test_lambda_platforms_reach_the_manylinux_2_28_wheels():
    # pyarrow 26 and numpy 2.4 exist only as manylinux_2_27/2_28 wheels.
    assert "manylinux_2_28_x86_64" in package.LAMBDA_PLATFORMS
    assert package.LAMBDA_PYTHON == "3.12"


def test_lambda_sources_hold_the_handlers_and_the_calendar():
    files = package.lambda_sources()
    assert "seeds/trading_calendar.csv" in files
    assert "orchestration/package.py" not in files
    for handler in HANDLERS:
        path = handler.rsplit(".", 1)[0].replace(".", "/") + ".py"
        if (REPO_ROOT / path).exists():
            assert path in files
    others = [name for name in files if name not in package.LAMBDA_DATA_FILES]
    assert all(name.endswith(".py") and "__pycache__" not in name for name in others)


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_zip_is_reproducible(tmp_path):
    source = tmp_path / "src"
    (source / "pkg").mkdir(parents=True)
    (source / "pkg" / "b.py").write_text("B = 1\n")
    (source / "a.txt").write_text("a\n")
    files = {"pkg/b.py": source / "pkg" / "b.py", "a.txt": source / "a.txt"}
    first, second = tmp_path / "1.zip", tmp_path / "2.zip"
    assert package.write_zip(first, files) == 8
    (source / "a.txt").touch()  # a newer mtime must not matter
    package.write_zip(second, dict(reversed(files.items())))
    assert _sha256(first) == _sha256(second)
    with zipfile.ZipFile(first) as archive:
        infos = archive.infolist()
    assert [i.filename for i in infos] == ["a.txt", "pkg/b.py"]
    assert {i.date_time for i in infos} == {package.FIXED_TIME}


def test_ml_source_tarball_is_what_the_jobs_run_and_reproducible(tmp_path):
    expected = {"train_entry.py", "predict_entry.py", "ml", "core"} | {
        f"{package_dir}/{path.relative_to(REPO_ROOT / package_dir).as_posix()}"
        for package_dir in ("ml", "core")
        for path in (REPO_ROOT / package_dir).rglob("*.py")
    }
    digests = []
    for run in ("first", "second"):
        out = tmp_path / run
        out.mkdir()
        summary = package.build_ml_source(out)
        archive = Path(summary["path"])
        assert archive.name == "ml-source.tar.gz"
        with tarfile.open(archive) as tar:
            members = tar.getmembers()
            assert {m.name for m in members} == expected
            assert {m.mtime for m in members} == {package.FIXED_EPOCH}
            assert {(m.uid, m.gid, m.uname, m.gname) for m in members} == {(0, 0, "", "")}
            entry = tar.extractfile("train_entry.py").read().decode()
        assert "from ml.train import main" in entry
        digests.append(summary["sha256"])
        assert summary["sha256"] == _sha256(archive)
    assert digests[0] == digests[1]


def test_every_function_logs_json_as_its_handler_writes(resources: dict[str, Any]) -> None:
    functions = of_type(resources, "AWS::Serverless::Function")
    assert {function["Properties"]["Handler"] for function in functions.values()} == set(HANDLERS)
    for name, function in functions.items():
        logging_config = function["Properties"]["LoggingConfig"]
        assert logging_config["LogFormat"] == "JSON", name
        assert logging_config["ApplicationLogLevel"] == "INFO", name


def test_the_fetch_and_landing_lambdas_never_run_twice_at_once(resources):
    # Reserved concurrency 1: a second invocation is throttled, and the fetch states wait it
    # out as they wait out a busy run lock (longer than a fetch may run), never beside it.
    asl = json.loads(ASL.read_text())
    single = {
        name
        for name, body in of_type(resources, "AWS::Serverless::Function").items()
        if body["Properties"].get("ReservedConcurrentExecutions") == 1
    }
    assert single == {"FetchMetadataFunction", "FetchOhlcvFunction", "CheckLandingFunction"}
    for state in ("FetchMetadata", "FetchOhlcv"):
        retries = asl["States"][state]["Retry"]
        (rule,) = [r for r in retries if "Lambda.TooManyRequestsException" in r["ErrorEquals"]]
        assert "RunLockBusyError" in rule["ErrorEquals"]
        assert (
            rule["IntervalSeconds"] * rule["MaxAttempts"] > asl["States"][state]["TimeoutSeconds"]
        )


def test_resolve_run_date_may_see_only_its_own_state_machines_executions(resources):
    (machine,) = of_type(resources, "AWS::Serverless::StateMachine").values()
    name = machine["Properties"]["Name"]["Fn::Sub"]
    granted = {
        s["Action"]: s["Resource"]["Fn::Sub"]
        for s in role_statements(resources, "ResolveRunDateRole")
        if str(s["Action"]).startswith("states:")
    }
    prefix = "arn:${AWS::Partition}:states:${AWS::Region}:${AWS::AccountId}"
    assert granted == {
        "states:ListExecutions": f"{prefix}:stateMachine:{name}",
        "states:DescribeExecution": f"{prefix}:execution:{name}:*",
    }
