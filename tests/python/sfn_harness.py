"""Run the daily ASL in moto's Step Functions interpreter, in process.

moto executes the definition for real (Retry, Catch, Choice, ResultSelector/ResultPath,
intrinsic functions, ECS runTask.sync against moto's ECS). What it lacks is filled here,
narrowly, as AWS documents it:
- ECS: moto's optimised integration passes the ASL's PascalCase parameters to boto3 as
  they are and reads its answer as if it were PascalCase; here both are converted, as
  Step Functions does (parameters to the API's names, the result to PascalCase).
- Lambda without Docker: each function name maps to a Python callable; an exception becomes
  an `Unhandled` function error whose errorType is the exception's class name, exactly
  what Step Functions matches in Retry/Catch.
- `.sync` for SageMaker (createTrainingJob, createProcessingJob) and Athena
  (startQueryExecution): submit to moto's service, then poll the describe call until a
  terminal status; a failed job fails the state with States.TaskFailed.
Retry back-off sleeps are recorded instead of slept. moto 5.2's awsvpc tasks read an ENI's
private DNS name, which its ENIs lack; it is derived from the address, as EC2 names it.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, cast

import boto3
import botocore.session
from botocore.model import OperationModel
from moto.awslambda_simple.models import LambdaSimpleBackend
from moto.ec2.models.elastic_network_interfaces import NetworkInterface
from moto.stepfunctions.parser.api import HistoryEventType, TaskFailedEventDetails
from moto.stepfunctions.parser.asl.component.common.error_name.failure_event import (
    FailureEvent,
    FailureEventException,
)
from moto.stepfunctions.parser.asl.component.common.error_name.states_error_name import (
    StatesErrorName,
)
from moto.stepfunctions.parser.asl.component.common.error_name.states_error_name_type import (
    StatesErrorNameType,
)
from moto.stepfunctions.parser.asl.component.common.retry import retrier_decl
from moto.stepfunctions.parser.asl.component.state.exec.state_task import state_task_factory
from moto.stepfunctions.parser.asl.component.state.exec.state_task.service.resource import (
    ResourceCondition,
)
from moto.stepfunctions.parser.asl.component.state.exec.state_task.service.state_task_service_callback import (  # noqa: E501
    StateTaskServiceCallback,
)
from moto.stepfunctions.parser.asl.component.state.exec.state_task.service.state_task_service_ecs import (  # noqa: E501
    StateTaskServiceEcs,
)
from moto.stepfunctions.parser.asl.eval.event.event_detail import EventDetails
from moto.stepfunctions.parser.asl.utils.boto_client import boto_client_for
from moto.stepfunctions.parser.asl.utils.encoding import to_json_str

from tests.python.fixtures.aws import AwsService

REGION = "us-east-1"

if not hasattr(NetworkInterface, "private_dns_name"):
    # Monkeypatch: moto declares it a str set in __init__ (and only with DNS hostnames on).
    NetworkInterface.private_dns_name = property(  # type: ignore[assignment]
        lambda self: f"ip-{self.private_ip_address.replace('.', '-')}.ec2.internal"
    )

# action -> (describe call, its key from the request/response, status path, ok, failed)
_SYNC_JOBS: dict[str, tuple[str, Callable[[dict, dict], dict], Callable[[dict], str], set, set]] = {
    "createtrainingjob": (
        "describe_training_job",
        lambda params, _: {"TrainingJobName": params["TrainingJobName"]},
        lambda out: out["TrainingJobStatus"],
        {"Completed"},
        {"Failed", "Stopped"},
    ),
    "createprocessingjob": (
        "describe_processing_job",
        lambda params, _: {"ProcessingJobName": params["ProcessingJobName"]},
        lambda out: out["ProcessingJobStatus"],
        {"Completed"},
        {"Failed", "Stopped"},
    ),
    "startqueryexecution": (
        "get_query_execution",
        lambda _, response: {"QueryExecutionId": response["QueryExecutionId"]},
        lambda out: out["QueryExecution"]["Status"]["State"],
        {"SUCCEEDED"},
        {"FAILED", "CANCELLED"},
    ),
}


def _operation(service: str, action: str) -> OperationModel:
    """botocore's model of an API action: the one a client of `service` validates against."""
    model = botocore.session.get_session().get_service_model(service)
    return model.operation_model(action[0].upper() + action[1:])


def _api_names(value: Any, shape: Any) -> Any:
    """ASL parameter names (PascalCase) as the API's own (e.g. ECS's camelCase)."""
    if shape.type_name == "structure" and isinstance(value, dict):
        members = {name.lower(): name for name in shape.members}
        converted = {}
        for key, item in value.items():
            name = members.get(key.lower(), key)
            member = shape.members.get(name)
            converted[name] = _api_names(item, member) if member is not None else item
        return converted
    if shape.type_name == "list" and isinstance(value, list):
        return [_api_names(item, shape.member) for item in value]
    return value


def _pascal_case(value: Any) -> Any:
    if isinstance(value, dict):
        return {key[:1].upper() + key[1:]: _pascal_case(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_pascal_case(item) for item in value]
    return value


def _ecs_normalise_parameters(self: StateTaskServiceEcs, parameters: dict, *_: Any) -> None:
    converted = _api_names(parameters, _operation("ecs", self.resource.api_action).input_shape)
    parameters.clear()
    parameters.update(converted)


def _ecs_normalise_response(self: StateTaskServiceEcs, response: Any, *_: Any, **__: Any) -> None:
    if isinstance(response, dict):
        converted = _pascal_case(response)
        response.clear()
        response.update(converted)


class SyncJobService(StateTaskServiceCallback):
    """`.sync` for the SageMaker and Athena jobs the daily state machine runs."""

    def __init__(self) -> None:
        # moto's callback machinery needs a task-token endpoint even for .sync.
        # moto annotates the set as ResourceCondition, but its constants are plain str.
        super().__init__(
            supported_integration_patterns=cast(
                "set[ResourceCondition]",
                {ResourceCondition.Sync, ResourceCondition.WaitForTaskToken},
            )
        )

    def _get_supported_parameters(self) -> set[str]:
        # What the service's API takes, from botocore's model (as AWS validates them).
        operation = _operation(self._get_boto_service_name(), self.resource.api_action)
        assert operation.input_shape is not None  # the jobs' create/start calls take input
        return set(operation.input_shape.members)

    def _job(self) -> tuple:
        return _SYNC_JOBS[self.resource.api_action.lower()]

    def _eval_service_task(
        self, env, resource_runtime_part, normalised_parameters, state_credentials
    ):
        client = boto_client_for(
            region=resource_runtime_part.region,
            service=self._get_boto_service_name(),
            state_credentials=state_credentials,
        )
        response = getattr(client, self._get_boto_service_action())(**normalised_parameters)
        response.pop("ResponseMetadata", None)
        env.stack.append({"request": normalised_parameters, "response": response})

    def _build_sync_resolver(
        self, env, resource_runtime_part, normalised_parameters, state_credentials
    ):
        submitted = env.stack.pop()
        describe, key, status_of, ok, failed = self._job()
        client = boto_client_for(
            region=resource_runtime_part.region,
            service=self._get_boto_service_name(),
            state_credentials=state_credentials,
        )

        def resolve() -> dict | None:
            output = getattr(client, describe)(**key(submitted["request"], submitted["response"]))
            output.pop("ResponseMetadata", None)
            status = status_of(output)
            if status in ok:
                return json.loads(to_json_str(output))
            if status in failed:
                raise FailureEventException(
                    FailureEvent(
                        env=env,
                        error_name=StatesErrorName(typ=StatesErrorNameType.StatesTaskFailed),
                        event_type=HistoryEventType.TaskFailed,
                        # moto's EventDetails is a total TypedDict, yet an event carries
                        # one of its keys (as moto's own events do).
                        event_details=cast(
                            EventDetails,
                            {
                                "taskFailedEventDetails": TaskFailedEventDetails(
                                    resource=self._get_sfn_resource(),
                                    resourceType=self._get_sfn_resource_type(),
                                    error=StatesErrorNameType.StatesTaskFailed.to_name(),
                                    cause=to_json_str(output),
                                )
                            },
                        ),
                    )
                )
            return None

        return resolve


@dataclass
class LambdaRegistry:
    """Function name -> callable(event) for moto's Docker-less Lambda backend."""

    functions: dict[str, Callable[[dict[str, Any]], Any]] = field(default_factory=dict)
    calls: list[tuple[str, dict[str, Any]]] = field(default_factory=list)

    def invoke(self, function_name: str, body: Any, response_headers: dict[str, str]) -> bytes:
        name = function_name.rsplit(":", 1)[-1]
        event = json.loads(body) if body else {}
        self.calls.append((name, event))
        try:
            result = self.functions[name](event)
        except Exception as exc:
            response_headers["x-amz-function-error"] = "Unhandled"
            return json.dumps({"errorType": type(exc).__name__, "errorMessage": str(exc)}).encode()
        return json.dumps(result, default=str).encode()


@contextmanager
def patched_moto(registry: LambdaRegistry, sleeps: list[float]) -> Iterator[None]:
    original_factory = state_task_factory.state_task_service_for
    original_invoke = LambdaSimpleBackend.invoke
    original_sleep = retrier_decl.time.sleep
    original_ecs = (
        StateTaskServiceEcs._normalise_parameters,
        StateTaskServiceEcs._normalise_response,
    )

    def service_for(service_name: str) -> Any:
        if service_name in ("sagemaker", "athena"):
            return SyncJobService()
        return original_factory(service_name)

    def invoke(self, function_name, qualifier, body, headers, response_headers):
        return registry.invoke(function_name, body, response_headers)

    class _Clock:
        # The retrier sleeps through `time.sleep`; record the back-off instead.
        def __getattr__(self, name: str) -> Any:
            return getattr(time, name)

        @staticmethod
        def sleep(seconds: float) -> None:
            sleeps.append(seconds)

    # Monkeypatching moto's internals, which mypy rejects: assigning to methods
    # [method-assign], a stand-in object for the `time` module, and ECS hooks that take the
    # ECS subclass where the base class declares StateTaskService [assignment].
    state_task_factory.state_task_service_for = service_for
    LambdaSimpleBackend.invoke = invoke  # type: ignore[method-assign]
    retrier_decl.time = _Clock()  # type: ignore[assignment]
    StateTaskServiceEcs._normalise_parameters = _ecs_normalise_parameters  # type: ignore[method-assign, assignment]
    StateTaskServiceEcs._normalise_response = _ecs_normalise_response  # type: ignore[method-assign, assignment]
    try:
        yield
    finally:
        state_task_factory.state_task_service_for = original_factory
        LambdaSimpleBackend.invoke = original_invoke  # type: ignore[method-assign]
        retrier_decl.time = time
        StateTaskServiceEcs._normalise_parameters, StateTaskServiceEcs._normalise_response = (  # type: ignore[method-assign]
            original_ecs
        )
        assert retrier_decl.time.sleep is original_sleep


def wait_for(client: Any, execution_arn: str, timeout: float = 60) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        described = client.describe_execution(executionArn=execution_arn)
        if described["status"] != "RUNNING":
            return described
        time.sleep(0.05)
    raise TimeoutError(f"{execution_arn} still running after {timeout} s")


def entered_states(client: Any, execution_arn: str) -> list[str]:
    events = client.get_paginator("get_execution_history").paginate(executionArn=execution_arn)
    return [
        event["stateEnteredEventDetails"]["name"]
        for page in events
        for event in page["events"]
        if "stateEnteredEventDetails" in event
    ]


def client(service: AwsService) -> Any:
    return boto3.client(service, region_name=REGION)
