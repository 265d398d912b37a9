"""The Notify step against real components: a local OAuth2 token endpoint and receiver
(stdlib HTTP servers on 127.0.0.1), SQLite files, and SNS/SQS/DynamoDB/Secrets Manager on
the moto server. Nothing in the HTTP path is mocked; time is a fake clock, backoff a no-op.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import logging
import os
import secrets
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote_plus

import pytest

from core.paths import REPO_ROOT
from orchestration import notify as notify_module
from orchestration.notify import NotifySettings, SnsPublishError, notify, sns_subject
from orchestration.oauth import AccessToken, DynamoDbTokenCache, clear_memory_cache
from tests.python.fixtures.aws import REGION, AwsEnv

CLIENT_ID = "condvest-pipeline"
SECRET = "s3cr3t-Zq8+/=!"  # characters that Basic auth must form-encode (RFC 6749 §2.3.1)
SCOPE = "notify.write"
START = dt.datetime(2025, 12, 1, 21, 30, tzinfo=dt.UTC)
SUMMARY: dict[str, Any] = {
    "status": "SUCCEEDED",
    "date": "2025-12-01",
    "rows_landed": 11873,
    "build": {"status": "success", "models": 42},
    "top_predictions": [{"symbol": "AAPL", "score": 0.81}, {"symbol": "MSFT", "score": 0.77}],
    "model": "gbm-2025-11-28",
    "error": None,
}


# -- local servers ----------------------------------------------------------------------------


@dataclass
class TokenEndpoint:
    """Issues bearer tokens to CLIENT_ID/SECRET; counts and can refuse or stall."""

    expires_in: int = 3600
    delay: float = 0.0
    refuse: tuple[int, dict[str, Any]] | None = None
    requests: list[dict[str, Any]] = field(default_factory=list)
    issued: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    url: str = ""

    def answer(self, headers: Any, body: bytes) -> tuple[int, dict[str, Any]]:
        form = {k: v[0] for k, v in parse_qs(body.decode()).items()}
        with self.lock:
            self.requests.append(form)
        time.sleep(self.delay)
        if self.refuse:
            return self.refuse
        scheme, _, encoded = headers.get("Authorization", "").partition(" ")
        user, _, password = base64.b64decode(encoded or "").decode().partition(":")
        if scheme != "Basic" or (unquote_plus(user), unquote_plus(password)) != (
            CLIENT_ID,
            SECRET,
        ):
            return 401, {"error": "invalid_client"}
        if form.get("grant_type") != "client_credentials":
            return 400, {"error": "unsupported_grant_type"}
        token = f"tok-{secrets.token_hex(8)}"
        with self.lock:
            self.issued.append(token)
        return 200, {"access_token": token, "token_type": "bearer", "expires_in": self.expires_in}


@dataclass
class Receiver:
    """The downstream API: accepts bearer tokens the endpoint issued, records the bodies."""

    endpoint: TokenEndpoint
    rejected: set[str] = field(default_factory=set)
    statuses: list[int] = field(default_factory=list)  # scripted answers, then 200
    delay: float = 0.0
    attempts: list[str] = field(default_factory=list)  # the bearer token of each POST
    bodies: list[dict[str, Any]] = field(default_factory=list)
    idempotency_keys: list[str] = field(default_factory=list)
    url: str = ""

    def answer(self, headers: Any, body: bytes) -> tuple[int, dict[str, Any]]:
        token = headers.get("Authorization", "").removeprefix("Bearer ")
        self.attempts.append(token)
        time.sleep(self.delay)
        if token not in self.endpoint.issued or token in self.rejected:
            return 401, {"message": "invalid token"}
        if self.statuses:
            return self.statuses.pop(0), {"message": "scripted"}
        self.bodies.append(json.loads(body))
        self.idempotency_keys.append(headers.get("Idempotency-Key", ""))
        return 202, {"accepted": True}


def serve(app: TokenEndpoint | Receiver) -> ThreadingHTTPServer:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            status, payload = app.answer(self.headers, body)
            data = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    app.url = f"http://127.0.0.1:{server.server_address[1]}"
    threading.Thread(target=server.serve_forever, args=(0.02,), daemon=True).start()
    return server


@pytest.fixture(autouse=True)
def fresh_process() -> Iterator[None]:
    """Every test starts as a new process would: no tokens or secrets in memory."""
    clear_memory_cache()
    notify_module._SECRETS.clear()
    yield
    clear_memory_cache()


@pytest.fixture
def token_endpoint() -> Iterator[TokenEndpoint]:
    endpoint = TokenEndpoint()
    server = serve(endpoint)
    yield endpoint
    server.shutdown()
    server.server_close()


@pytest.fixture
def receiver_server(token_endpoint: TokenEndpoint) -> Iterator[tuple[Receiver, Any]]:
    receiver = Receiver(token_endpoint)
    server = serve(receiver)
    yield receiver, server
    server.shutdown()
    server.server_close()


@pytest.fixture
def receiver(receiver_server: tuple[Receiver, Any]) -> Receiver:
    return receiver_server[0]


class FakeClock:
    def __init__(self) -> None:
        self.value = START

    def __call__(self) -> dt.datetime:
        return self.value

    def advance(self, seconds: float) -> None:
        self.value += dt.timedelta(seconds=seconds)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def sleeps() -> list[float]:
    return []


@pytest.fixture
def settings(tmp_path: Path, token_endpoint: TokenEndpoint, receiver: Receiver) -> NotifySettings:
    return NotifySettings(
        sns_topic_arn=None,
        api_url=f"{receiver.url}/hooks/daily?source=condvest",
        token_url=f"{token_endpoint.url}/oauth2/token",
        client_id=CLIENT_ID,
        client_secret=SECRET,
        scope=SCOPE,
        token_cache=f"sqlite:///{tmp_path / 'cache' / 'notify_tokens.sqlite'}",
        timeout_seconds=2.0,
    )


@pytest.fixture
def send(settings: NotifySettings, clock: FakeClock, sleeps: list[float]) -> Any:
    """notify() with the fake clock and a recorded, instant backoff."""

    def run(
        summary: dict[str, Any] = SUMMARY, with_settings: NotifySettings | None = None
    ) -> dict[str, Any]:
        return notify(summary, with_settings or settings, now=clock, sleep=sleeps.append)

    return run


# -- tokens: memory, shared cache, expiry -------------------------------------------------------


def test_first_post_fetches_a_token_and_the_next_reuses_it_from_memory(
    send: Any, token_endpoint: TokenEndpoint, receiver: Receiver
) -> None:
    first = send()
    second = send()

    assert first == {
        "sns_message_id": None,
        "delivered": True,
        "api_status": 202,
        "error": None,
        "token_source": "endpoint",
    }
    assert second["token_source"] == "memory"
    assert second["delivered"] is True
    assert token_endpoint.requests == [{"grant_type": "client_credentials", "scope": SCOPE}]
    assert receiver.bodies == [SUMMARY, SUMMARY]
    assert receiver.attempts == [token_endpoint.issued[0]] * 2
    # The same summary carries the same key, so a receiver can drop a retried duplicate.
    assert len(set(receiver.idempotency_keys)) == 1


def test_a_burst_of_new_processes_asks_for_one_token_via_sqlite(
    send: Any, token_endpoint: TokenEndpoint, receiver: Receiver
) -> None:
    sources = []
    for _ in range(5):
        clear_memory_cache()  # each run a separate process
        sources.append(send()["token_source"])

    assert sources == ["endpoint", "cache", "cache", "cache", "cache"]
    assert len(token_endpoint.requests) == 1
    assert len(receiver.bodies) == 5


def test_three_threads_at_once_ask_for_one_token(
    send: Any, token_endpoint: TokenEndpoint, receiver: Receiver
) -> None:
    token_endpoint.delay = 0.3  # all three are waiting while the first is being served
    barrier = threading.Barrier(3)
    results: list[dict[str, Any]] = []

    def run() -> None:
        barrier.wait()
        results.append(send())

    threads = [threading.Thread(target=run) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert len(token_endpoint.requests) == 1
    assert sorted(r["token_source"] for r in results) == ["endpoint", "memory", "memory"]
    assert all(r["delivered"] for r in results)


CHILD = """
import json, sys
from orchestration.notify import NotifySettings, notify
settings = NotifySettings(**json.loads(sys.argv[1]))
print("ready", flush=True)
sys.stdin.readline()
print(json.dumps(notify({"status": "SUCCEEDED", "date": "2025-12-01"}, settings)), flush=True)
"""


def test_three_processes_at_once_ask_for_one_token(
    settings: NotifySettings, token_endpoint: TokenEndpoint, receiver: Receiver
) -> None:
    """The SQLite write lock, held while one process fetches, makes the others wait."""
    token_endpoint.delay = 0.3
    fields = {
        name: getattr(settings, name)
        for name in ("api_url", "token_url", "client_id", "client_secret", "scope")
    }
    fields["token_cache"] = settings.token_cache
    env = {key: value for key, value in os.environ.items() if not key.startswith("NOTIFY_")}
    children = [
        subprocess.Popen(
            [sys.executable, "-c", CHILD, json.dumps(fields)],
            cwd=REPO_ROOT,
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        for _ in range(3)
    ]
    for child in children:  # all imported and ready: release them together
        assert child.stdout is not None
        assert child.stdout.readline().strip() == "ready"
    for child in children:
        assert child.stdin is not None
        child.stdin.write("go\n")
        child.stdin.flush()
    results = []
    for child in children:
        out, _ = child.communicate(timeout=30)
        assert child.returncode == 0
        results.append(json.loads(out))

    assert len(token_endpoint.requests) == 1
    assert sorted(r["token_source"] for r in results) == ["cache", "cache", "endpoint"]
    assert len(receiver.bodies) == 3


def test_an_expiring_token_is_replaced_before_it_lapses(
    send: Any, clock: FakeClock, token_endpoint: TokenEndpoint
) -> None:
    token_endpoint.expires_in = 600  # refreshed 60 s before expiry

    assert send()["token_source"] == "endpoint"
    clock.advance(539)
    assert send()["token_source"] == "memory"
    clear_memory_cache()
    assert send()["token_source"] == "cache"
    clock.advance(2)  # 541 s: inside the last minute
    assert send()["token_source"] == "endpoint"
    clear_memory_cache()
    assert send()["token_source"] == "cache"  # the new one was shared
    assert len(token_endpoint.requests) == 2


def test_a_short_token_is_refreshed_at_ninety_percent_of_its_life(
    send: Any, clock: FakeClock, token_endpoint: TokenEndpoint
) -> None:
    token_endpoint.expires_in = 100  # 10% skew: usable for 90 s

    send()
    clock.advance(89)
    assert send()["token_source"] == "memory"
    clock.advance(2)
    assert send()["token_source"] == "endpoint"
    assert len(token_endpoint.requests) == 2


# -- the API POST: 401, down, 5xx, timeouts -----------------------------------------------------


def test_a_401_drops_the_token_everywhere_and_refreshes_once(
    send: Any, settings: NotifySettings, token_endpoint: TokenEndpoint, receiver: Receiver
) -> None:
    send()  # a token, now in memory and in SQLite
    receiver.rejected.add(token_endpoint.issued[0])  # e.g. revoked

    result = send()

    assert result["delivered"] is True
    assert result["token_source"] == "endpoint"
    assert len(token_endpoint.requests) == 2
    assert receiver.attempts[1:] == [token_endpoint.issued[0], token_endpoint.issued[1]]
    clear_memory_cache()
    assert send()["token_source"] == "cache"  # the refreshed token replaced the revoked one
    assert receiver.attempts[-1] == token_endpoint.issued[1]


def test_a_401_to_a_fresh_token_is_undelivered_without_looping(
    send: Any, token_endpoint: TokenEndpoint, receiver: Receiver, sleeps: list[float]
) -> None:
    receiver.statuses = [401, 401]  # whatever token it gets

    result = send()

    assert result["delivered"] is False
    assert result["api_status"] == 401
    assert "freshly issued token" in result["error"]
    assert len(token_endpoint.requests) == 2
    assert len(receiver.attempts) == 2
    assert sleeps == []


def test_receiver_down_is_reported_not_raised(
    send: Any, receiver_server: tuple[Receiver, Any], sleeps: list[float]
) -> None:
    receiver, server = receiver_server
    server.shutdown()
    server.server_close()  # connection refused from now on

    result = send()

    assert result["delivered"] is False
    assert result["api_status"] is None
    assert result["error"] == (
        f"{receiver.url}/hooks/daily unreachable: ConnectionError"  # no query string
    )
    assert result["token_source"] == "endpoint"
    assert sleeps == [1.0]  # one retry after a short backoff


def test_a_server_error_is_retried_once(send: Any, receiver: Receiver, sleeps: list[float]) -> None:
    receiver.statuses = [503]
    assert send()["delivered"] is True
    assert sleeps == [1.0]

    receiver.statuses = [500, 502]
    result = send()
    assert result["delivered"] is False
    assert result["api_status"] == 502
    assert result["error"].endswith("answered HTTP 502")
    assert len(receiver.attempts) == 4


def test_a_client_error_is_not_retried(send: Any, receiver: Receiver, sleeps: list[float]) -> None:
    receiver.statuses = [422]

    result = send()

    assert (result["delivered"], result["api_status"]) == (False, 422)
    assert len(receiver.attempts) == 1
    assert sleeps == []


def test_a_receiver_timeout_is_retried_then_reported(
    send: Any, settings: NotifySettings, receiver: Receiver
) -> None:
    receiver.delay = 0.5

    result = send(with_settings=replace(settings, timeout_seconds=0.1))

    assert result["delivered"] is False
    assert result["error"].endswith("unreachable: ReadTimeout")
    assert len(receiver.attempts) == 2


# -- the token endpoint ---------------------------------------------------------------------------


def test_an_invalid_client_is_undelivered_with_the_endpoints_error(
    send: Any, token_endpoint: TokenEndpoint, receiver: Receiver, sleeps: list[float]
) -> None:
    token_endpoint.refuse = (400, {"error": "invalid_client", "error_description": "unknown"})

    result = send()

    assert result["delivered"] is False
    assert result["api_status"] is None
    assert result["token_source"] is None
    assert "HTTP 400: invalid_client (unknown)" in result["error"]
    assert result["error"].startswith("no access token: token endpoint http://127.0.0.1")
    assert receiver.attempts == []
    assert sleeps == []  # a refusal is final


def test_a_wrong_secret_is_refused_by_the_endpoint(
    send: Any, settings: NotifySettings, receiver: Receiver
) -> None:
    result = send(with_settings=replace(settings, client_secret="not-it"))

    assert result["delivered"] is False
    assert "HTTP 401: invalid_client" in result["error"]
    assert receiver.attempts == []


def test_token_endpoint_down_is_reported(
    send: Any, settings: NotifySettings, receiver: Receiver, sleeps: list[float]
) -> None:
    dead = replace(settings, token_url="http://127.0.0.1:9/oauth2/token")

    result = send(with_settings=dead)

    assert result["delivered"] is False
    assert result["error"] == (
        "no access token: token endpoint http://127.0.0.1:9/oauth2/token "
        "unreachable: ConnectionError"
    )
    assert sleeps == [1.0]
    assert receiver.attempts == []


# -- configuration ------------------------------------------------------------------------------


FULL_ENV = {
    "SNS_TOPIC_ARN": "arn:aws:sns:us-east-1:123456789012:condvest-daily",
    "NOTIFY_API_URL": "https://api.example.com/hooks/daily",
    "NOTIFY_TOKEN_URL": "https://auth.example.com/oauth2/token",
    "NOTIFY_CLIENT_ID": CLIENT_ID,
    "NOTIFY_CLIENT_SECRET": SECRET,
    "NOTIFY_SCOPE": SCOPE,
    "NOTIFY_TOKEN_CACHE": "dynamodb://condvest-notify-tokens",
    "NOTIFY_HTTP_TIMEOUT": "4.5",
    "AWS_REGION": "eu-west-1",
}


def test_settings_from_the_environment() -> None:
    settings = NotifySettings.from_env(FULL_ENV)

    assert settings.api_url == FULL_ENV["NOTIFY_API_URL"]
    assert settings.client_secret == SECRET
    assert settings.token_cache == "dynamodb://condvest-notify-tokens"
    assert settings.timeout_seconds == 4.5
    assert settings.region == "eu-west-1"
    assert SECRET not in repr(settings)

    bare = NotifySettings.from_env({})
    assert (bare.api_url, bare.sns_topic_arn, bare.timeout_seconds) == (None, None, 10.0)
    assert bare.token_cache == "sqlite:///./data/notify_tokens.sqlite"
    in_lambda = NotifySettings.from_env({"AWS_LAMBDA_FUNCTION_NAME": "notify"})
    assert in_lambda.token_cache == "sqlite:////tmp/notify_tokens.sqlite"


@pytest.mark.parametrize(
    ("unset", "named"),
    [
        ("NOTIFY_TOKEN_URL", "NOTIFY_TOKEN_URL"),
        ("NOTIFY_CLIENT_ID", "NOTIFY_CLIENT_ID"),
        ("NOTIFY_CLIENT_SECRET", "NOTIFY_CLIENT_SECRET_ARN"),
    ],
)
def test_an_api_url_without_credentials_is_a_clear_error(unset: str, named: str) -> None:
    with pytest.raises(ValueError, match=named):
        NotifySettings.from_env({**FULL_ENV, unset: ""})


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("NOTIFY_TOKEN_CACHE", "redis://cache:6379"),
        ("NOTIFY_TOKEN_CACHE", "dynamodb://"),
        ("NOTIFY_HTTP_TIMEOUT", "ten"),
        ("NOTIFY_HTTP_TIMEOUT", "0"),
        ("NOTIFY_API_URL", "api.example.com/hooks"),
    ],
)
def test_bad_values_name_their_variable(name: str, value: str) -> None:
    with pytest.raises(ValueError, match=name):
        NotifySettings.from_env({**FULL_ENV, name: value})


def test_notify_refuses_misconfiguration_before_sending_anything(
    send: Any, settings: NotifySettings, token_endpoint: TokenEndpoint, receiver: Receiver
) -> None:
    with pytest.raises(ValueError, match="NOTIFY_CLIENT_ID"):
        send(with_settings=replace(settings, client_id=None))

    assert token_endpoint.requests == []
    assert receiver.attempts == []


def test_nothing_configured_sends_nothing(send: Any) -> None:
    assert send(with_settings=NotifySettings(token_cache=None)) == {
        "sns_message_id": None,
        "delivered": None,
        "api_status": None,
        "error": None,
        "token_source": None,
    }


# -- secrets ------------------------------------------------------------------------------------


def test_the_secret_never_leaves(
    send: Any,
    settings: NotifySettings,
    tmp_path: Path,
    token_endpoint: TokenEndpoint,
    receiver: Receiver,
    clock: FakeClock,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    outcomes = [send()]
    receiver.rejected.add(token_endpoint.issued[0])
    outcomes.append(send())  # 401, refresh
    clock.advance(3600)  # expired: the endpoint is asked again
    # An endpoint that echoes what it was sent must not smuggle the secret out either.
    token_endpoint.refuse = (400, {"error": "invalid_client", "error_description": SECRET})
    outcomes.append(send())
    token_endpoint.refuse = None
    outcomes.append(send(with_settings=replace(settings, client_secret="not-it")))

    assert [o["delivered"] for o in outcomes] == [True, True, False, False]
    assert "***" in outcomes[2]["error"]
    cache_files = list((tmp_path / "cache").iterdir())
    assert cache_files
    for path in cache_files:
        assert SECRET.encode() not in path.read_bytes()
    assert (tmp_path / "cache" / "notify_tokens.sqlite").stat().st_mode & 0o077 == 0
    text = json.dumps(outcomes)
    assert SECRET not in text
    assert not any(token in text for token in token_endpoint.issued)
    # messages and their fields (extras), as the JSON and CLI log formats print them
    logged = caplog.text + "".join(json.dumps(vars(r), default=str) for r in caplog.records)
    assert caplog.records  # something was logged, and none of it is secret
    assert SECRET not in logged
    assert not any(token in logged for token in token_endpoint.issued)


def test_the_secret_comes_from_secrets_manager_only_when_a_token_is_needed(
    aws_env: AwsEnv,
    send: Any,
    settings: NotifySettings,
    clock: FakeClock,
) -> None:
    arn = aws_env.create_secret("notify-client", {"client_secret": SECRET, "owner": "data-eng"})
    from_arn = replace(settings, client_secret=None, client_secret_arn=arn)

    assert send(with_settings=from_arn)["token_source"] == "endpoint"
    clear_memory_cache()
    notify_module._SECRETS.clear()
    # Served from the SQLite cache: the (now unreadable) secret is never asked for.
    missing = replace(from_arn, client_secret_arn=arn.replace("notify-client", "gone"))
    assert send(with_settings=missing)["token_source"] == "cache"

    clock.advance(3600)  # expired: a token request needs the secret, and it is gone
    result = send(with_settings=missing)
    assert result["delivered"] is False
    assert "NOTIFY_CLIENT_SECRET_ARN unreadable" in result["error"]


# -- SNS ----------------------------------------------------------------------------------------


def sns_topic_with_queue(aws_env: AwsEnv) -> tuple[str, str]:
    sns, sqs = aws_env.client("sns"), aws_env.client("sqs")
    topic = sns.create_topic(Name="condvest-daily")["TopicArn"]
    queue_url = sqs.create_queue(QueueName="condvest-daily-inbox")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])[
        "Attributes"
    ]["QueueArn"]
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=queue_arn)
    return topic, queue_url


def received(aws_env: AwsEnv, queue_url: str) -> list[dict[str, Any]]:
    messages = aws_env.client("sqs").receive_message(
        QueueUrl=queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=1
    )
    return [json.loads(message["Body"]) for message in messages.get("Messages", [])]


def test_the_summary_is_published_to_sns(aws_env: AwsEnv, send: Any) -> None:
    topic, queue_url = sns_topic_with_queue(aws_env)

    result = send(with_settings=NotifySettings(sns_topic_arn=topic, token_cache=None))

    assert result["delivered"] is None
    [envelope] = received(aws_env, queue_url)
    assert envelope["MessageId"] == result["sns_message_id"]
    assert envelope["Subject"] == "Condvest daily 2025-12-01: SUCCEEDED"
    assert json.loads(envelope["Message"]) == SUMMARY


def test_sns_says_when_the_api_did_not_take_the_summary(
    aws_env: AwsEnv, send: Any, settings: NotifySettings, receiver: Receiver
) -> None:
    topic, queue_url = sns_topic_with_queue(aws_env)
    receiver.statuses = [500, 500]
    failed = {**SUMMARY, "status": "FAILED", "error": "dbt build: 2 models failed"}

    result = send(failed, with_settings=replace(settings, sns_topic_arn=topic))

    assert result["delivered"] is False
    assert result["sns_message_id"]
    [envelope] = received(aws_env, queue_url)
    assert envelope["Subject"] == (
        "Condvest daily 2025-12-01: FAILED (API notification undelivered)"
    )
    message = json.loads(envelope["Message"])
    assert message["error"] == "dbt build: 2 models failed"
    assert message["api_notification"] == {
        "delivered": False,
        "api_status": 500,
        "error": result["error"],
    }


def test_an_sns_failure_raises_after_the_api_post(
    aws_env: AwsEnv, send: Any, settings: NotifySettings, receiver: Receiver
) -> None:
    missing_topic = f"arn:aws:sns:{REGION}:123456789012:no-such-topic"

    with pytest.raises(SnsPublishError, match="no-such-topic") as caught:
        send(with_settings=replace(settings, sns_topic_arn=missing_topic))

    assert caught.value.result["delivered"] is True
    assert receiver.bodies == [SUMMARY]


def test_the_subject_fits_sns() -> None:
    assert sns_subject({}) == "Condvest daily: UNKNOWN"
    assert sns_subject({"status": "SUCCEEDED"}) == "Condvest daily: SUCCEEDED"
    long = sns_subject({"date": "2025-12-01", "status": "FAILED\nat\tdbt é" + "x" * 200}, False)
    assert len(long) == 100
    assert long.startswith("Condvest daily 2025-12-01: FAILED at dbt ?xxx")
    assert long.endswith("x (API notification undelivered)")
    assert all(" " <= ch <= "~" for ch in long)


# -- DynamoDB shared cache ----------------------------------------------------------------------

TABLE = "condvest-notify-tokens"


def create_token_table(aws_env: AwsEnv) -> Any:
    dynamodb = aws_env.client("dynamodb")
    dynamodb.create_table(
        TableName=TABLE,
        KeySchema=[{"AttributeName": "cache_key", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "cache_key", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    dynamodb.update_time_to_live(
        TableName=TABLE,
        TimeToLiveSpecification={"Enabled": True, "AttributeName": "expires_at"},
    )
    return dynamodb


def test_dynamodb_shares_a_token_between_processes(
    aws_env: AwsEnv,
    send: Any,
    settings: NotifySettings,
    token_endpoint: TokenEndpoint,
    receiver: Receiver,
) -> None:
    dynamodb = create_token_table(aws_env)
    shared = replace(settings, token_cache=f"dynamodb://{TABLE}", region=REGION)

    assert send(with_settings=shared)["token_source"] == "endpoint"
    clear_memory_cache()  # another Lambda invocation
    assert send(with_settings=shared)["token_source"] == "cache"

    assert len(token_endpoint.requests) == 1
    [item] = dynamodb.scan(TableName=TABLE)["Items"]  # the lock item is gone
    assert item["cache_key"]["S"].startswith("oauth:")
    assert item["access_token"]["S"] == token_endpoint.issued[0]
    assert int(item["expires_at"]["N"]) == int(START.timestamp()) + 3600
    assert SECRET not in json.dumps(item)
    assert CLIENT_ID not in json.dumps(item)

    receiver.rejected.add(token_endpoint.issued[0])  # 401: dropped from the table too
    assert send(with_settings=shared)["delivered"] is True
    [item] = dynamodb.scan(TableName=TABLE)["Items"]
    assert item["access_token"]["S"] == token_endpoint.issued[1]


def test_dynamodb_lease_lets_one_of_three_processes_fetch(aws_env: AwsEnv) -> None:
    create_token_table(aws_env)
    fetches: list[int] = []
    barrier = threading.Barrier(3)
    got: list[tuple[AccessToken, bool]] = []

    def fetch() -> AccessToken:
        fetches.append(1)
        time.sleep(0.3)
        return AccessToken("tok-shared", "Bearer", 1_000.0, 4_600.0)

    def process(cache: DynamoDbTokenCache) -> None:
        barrier.wait()
        got.append(cache.get_or_fetch("oauth:k", lambda: 1_000.0, fetch, None))

    # Three caches with their own clients and no memory: three processes, as DynamoDB sees it.
    # (Clients are built here because boto3's default session is not thread-safe.)
    caches = [
        DynamoDbTokenCache(TABLE, client=aws_env.client("dynamodb"), poll_seconds=0.05)
        for _ in range(3)
    ]
    threads = [threading.Thread(target=process, args=(cache,)) for cache in caches]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert len(fetches) == 1
    assert sorted(fetched for _, fetched in got) == [False, False, True]
    assert {token.access_token for token, _ in got} == {"tok-shared"}
