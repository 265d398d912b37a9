"""The Notify step: report the day's outcome to SNS and, optionally, a downstream HTTP API.

The caller (the `condvest daily` CLI or the Notify Lambda) records the run result first and
then calls `notify(summary, settings)`. Order and failure rules, so nothing is hidden:

1. Misconfiguration (an API URL without client id, secret or token URL; a bad cache URL or
   timeout) raises ValueError naming the environment variable, before anything is sent.
2. The API POST goes first and never raises: a refused token, a receiver that is down or
   answers 5xx after one retry, or a 4xx, ends as `delivered=False` with `error` set. The
   Step Functions Choice on `delivered` then fails the execution, so it is seen.
3. SNS goes second, so its message can say whether the API took the summary (an
   `api_notification` key is added to the published JSON, and the subject says
   "API notification undelivered"). SNS is the alert channel: if publishing fails,
   `SnsPublishError` is raised (after the POST was attempted), carrying the result so far.

Secrets: the client secret (NOTIFY_CLIENT_SECRET, or the Secrets Manager secret named by
NOTIFY_CLIENT_SECRET_ARN, read only when a token must be requested) and access tokens never
appear in logs, errors, the returned dict or any cache other than the token itself.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import os
import re
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import boto3
import requests
from botocore.exceptions import BotoCoreError, ClientError

from core.settings import Settings
from orchestration.oauth import (
    RETRY_BACKOFF_SECONDS,
    AccessToken,
    ClientCredentials,
    TokenClient,
    TokenError,
    endpoint_name,
    open_shared_cache,
)

log = logging.getLogger(__name__)

DEFAULT_CACHE_URL = "sqlite:///./data/notify_tokens.sqlite"
# Lambda's code directory is read-only; /tmp survives only within one warm container.
LAMBDA_CACHE_URL = "sqlite:////tmp/notify_tokens.sqlite"
DEFAULT_TIMEOUT_SECONDS = 10.0
SUBJECT_MAX = 100  # SNS limit
SECRET_KEYS = ("NOTIFY_CLIENT_SECRET", "client_secret", "clientSecret")


class SnsPublishError(RuntimeError):
    """SNS did not take the alert. `result` holds what `notify` had done (the API POST)."""

    def __init__(self, message: str, result: dict[str, Any]) -> None:
        super().__init__(message)
        self.result = result


@dataclass(frozen=True)
class NotifySettings:
    """Where the day's summary goes. Build it with `NotifySettings.from_env()`.

    `token_cache`: "sqlite:///<path>", "dynamodb://<table>", or None for memory only.
    `region`: for DynamoDB (SNS and Secrets Manager use the region in their ARN).
    """

    sns_topic_arn: str | None = None
    api_url: str | None = None
    token_url: str | None = None
    client_id: str | None = None
    client_secret: str | None = field(default=None, repr=False)
    scope: str | None = None
    token_cache: str | None = DEFAULT_CACHE_URL
    timeout_seconds: float = DEFAULT_TIMEOUT_SECONDS
    client_secret_arn: str | None = None
    region: str | None = None

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> NotifySettings:
        env = dict(os.environ if env is None else env)

        def get(name: str) -> str | None:
            return env.get(name, "").strip() or None

        raw_timeout = get("NOTIFY_HTTP_TIMEOUT")
        try:
            timeout = float(raw_timeout) if raw_timeout else DEFAULT_TIMEOUT_SECONDS
        except ValueError:
            raise ValueError(f"NOTIFY_HTTP_TIMEOUT must be seconds, not {raw_timeout!r}") from None
        if timeout <= 0:
            raise ValueError("NOTIFY_HTTP_TIMEOUT must be positive")
        in_lambda = bool(get("AWS_LAMBDA_FUNCTION_NAME"))
        settings = cls(
            sns_topic_arn=get("SNS_TOPIC_ARN"),
            api_url=get("NOTIFY_API_URL"),
            token_url=get("NOTIFY_TOKEN_URL"),
            client_id=get("NOTIFY_CLIENT_ID"),
            client_secret=get("NOTIFY_CLIENT_SECRET"),
            scope=get("NOTIFY_SCOPE"),
            token_cache=get("NOTIFY_TOKEN_CACHE")
            or (LAMBDA_CACHE_URL if in_lambda else DEFAULT_CACHE_URL),
            timeout_seconds=timeout,
            client_secret_arn=get("NOTIFY_CLIENT_SECRET_ARN"),
            region=Settings.from_env(env).aws_region,
        )
        if in_lambda and settings.api_url and not get("NOTIFY_TOKEN_CACHE"):
            log.warning(
                "notify: NOTIFY_TOKEN_CACHE unset in Lambda; tokens are cached per container "
                "only. Set NOTIFY_TOKEN_CACHE=dynamodb://<table> to share them."
            )
        settings.validate()
        return settings

    def validate(self) -> None:
        """Raise ValueError naming the environment variable that is missing or wrong."""
        _check_cache_url(self.token_cache)
        if not self.api_url:
            return
        _check_http_url(self.api_url, "NOTIFY_API_URL")
        if not self.token_url:
            raise ValueError("NOTIFY_API_URL is set but NOTIFY_TOKEN_URL is not")
        _check_http_url(self.token_url, "NOTIFY_TOKEN_URL")
        if not self.client_id:
            raise ValueError("NOTIFY_API_URL is set but NOTIFY_CLIENT_ID is not")
        if not (self.client_secret or self.client_secret_arn):
            raise ValueError(
                "NOTIFY_API_URL is set but neither NOTIFY_CLIENT_SECRET "
                "nor NOTIFY_CLIENT_SECRET_ARN is"
            )


def _check_http_url(url: str, name: str) -> None:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"{name} must be an http(s) URL")


def _check_cache_url(url: str | None) -> None:
    if url in (None, "", "memory"):
        return
    assert url is not None
    table = url.removeprefix("dynamodb://").strip("/")
    if url.startswith("sqlite:///") or (url.startswith("dynamodb://") and table):
        return
    raise ValueError("NOTIFY_TOKEN_CACHE must be sqlite:///<path> or dynamodb://<table>")


# -- the client secret ----------------------------------------------------------------------

_SECRETS: dict[str, str] = {}
_SECRETS_LOCK = threading.Lock()


def _arn_region(arn: str) -> str | None:
    parts = arn.split(":")
    return parts[3] or None if len(parts) > 5 and parts[0] == "arn" else None


def _secret_from_string(text: str, arn: str) -> str:
    """The secret is the bare value or a JSON object holding it under a known key."""
    text = text.strip()
    if text.startswith("{"):
        try:
            payload = json.loads(text)
        except ValueError:
            raise TokenError(f"secret {arn} looks like JSON but does not parse") from None
        for name in SECRET_KEYS:
            if isinstance(payload, dict) and payload.get(name):
                return str(payload[name])
        raise TokenError(f"secret {arn} is JSON without any of the keys {', '.join(SECRET_KEYS)}")
    if not text:
        raise TokenError(f"secret {arn} is empty")
    return text


def _secret_resolver(settings: NotifySettings) -> Callable[[], str]:
    """The client secret, read from Secrets Manager on first use and kept per process.

    Lazy, so a run served from a token cache never calls Secrets Manager. Failures become
    TokenError: the notification is undelivered and reported, like a refused token.
    """

    def resolve() -> str:
        if settings.client_secret:
            return settings.client_secret
        arn = settings.client_secret_arn or ""
        with _SECRETS_LOCK:
            if arn not in _SECRETS:
                client = boto3.client(
                    "secretsmanager", region_name=_arn_region(arn) or settings.region
                )
                try:
                    value = client.get_secret_value(SecretId=arn).get("SecretString") or ""
                except (BotoCoreError, ClientError) as exc:
                    raise TokenError(f"NOTIFY_CLIENT_SECRET_ARN unreadable: {exc}") from None
                _SECRETS[arn] = _secret_from_string(value, arn)
            return _SECRETS[arn]

    return resolve


# -- the API POST ---------------------------------------------------------------------------


def _transient(status: int | None) -> bool:
    """Worth one retry: no answer (down, timeout), throttled, or a server error."""
    return status is None or status == 429 or status >= 500


@dataclass
class _Delivery:
    """The API outcome, with what must be scrubbed from any message that leaves."""

    delivered: bool | None = None
    api_status: int | None = None
    error: str | None = None
    token_source: str | None = None
    sensitive: list[str] = field(default_factory=list, repr=False)

    def as_result(self) -> dict[str, Any]:
        error = self.error
        for value in self.sensitive:
            if error and value:
                error = error.replace(value, "***")
        return {
            "delivered": self.delivered,
            "api_status": self.api_status,
            "error": error,
            "token_source": self.token_source,
        }


def _post(
    session: requests.Session, url: str, body: bytes, token: AccessToken, timeout: float
) -> tuple[int | None, str | None]:
    """One POST: the status, or None and what went wrong when there was no answer."""
    headers = {
        "Authorization": f"Bearer {token.access_token}",
        "Content-Type": "application/json",
        # The same summary always has the same key, so a receiver can drop the duplicate a
        # retry after a timeout may cause.
        "Idempotency-Key": hashlib.sha256(body).hexdigest(),
    }
    try:
        response = session.post(
            url, data=body, headers=headers, timeout=timeout, allow_redirects=False
        )
    except requests.RequestException as exc:
        # str(exc) would carry the URL with any query string; the class says enough.
        return None, type(exc).__name__
    response.close()
    return response.status_code, None


def _deliver(
    summary: dict[str, Any],
    settings: NotifySettings,
    tokens: TokenClient,
    session: requests.Session,
    sleep: Callable[[float], None],
) -> _Delivery:
    """POST the summary: one token refresh on 401, one retry on a transient failure."""
    assert settings.api_url is not None
    url, endpoint = settings.api_url, endpoint_name(settings.api_url)
    outcome = _Delivery(delivered=False, sensitive=[settings.client_secret or ""])
    body = json.dumps(summary, default=str).encode()
    try:
        token, outcome.token_source = tokens.token()
        refreshed = retried = False
        while True:
            outcome.sensitive.append(token.access_token)
            status, failure = _post(session, url, body, token, settings.timeout_seconds)
            outcome.api_status = status
            if status is not None and 200 <= status < 300:
                outcome.delivered, outcome.error = True, None
                log.info("notify delivered", extra={"endpoint": endpoint, "http_status": status})
                return outcome
            if status == 401 and not refreshed:
                log.warning(
                    "notify token refused; refreshing it once", extra={"endpoint": endpoint}
                )
                refreshed = True
                tokens.discard(token)
                token, outcome.token_source = tokens.token(reject=token.access_token)
                continue
            outcome.error = (
                f"{endpoint} unreachable: {failure}"
                if status is None
                else f"{endpoint} answered HTTP {status}"
                + (" to a freshly issued token" if status == 401 else "")
                + (" (redirects are not followed)" if 300 <= status < 400 else "")
            )
            if not (_transient(status) and not retried):
                break
            retried = True
            log.warning("notify failed; retrying once", extra={"error": outcome.error})
            sleep(RETRY_BACKOFF_SECONDS)
    except TokenError as exc:
        outcome.error = f"no access token: {exc}"
    outcome.sensitive.append(_SECRETS.get(settings.client_secret_arn or "", ""))
    log.error("notify: summary NOT delivered", extra={"error": outcome.as_result()["error"]})
    return outcome


# -- SNS ------------------------------------------------------------------------------------


def sns_subject(summary: Mapping[str, Any], delivered: bool | None = None) -> str:
    """The subject "Condvest daily <date>: <status>": one line of printable ASCII, <= 100.

    An undelivered API notification is said in the subject too, and survives truncation.
    """
    date, status = summary.get("date"), summary.get("status")
    subject = "Condvest daily" + (f" {date}" if date else "") + f": {status or 'UNKNOWN'}"
    subject = "".join(ch if " " <= ch <= "~" else "?" for ch in re.sub(r"\s+", " ", subject))
    suffix = " (API notification undelivered)" if delivered is False else ""
    return subject[: SUBJECT_MAX - len(suffix)] + suffix


def publish_sns(
    summary: Mapping[str, Any], settings: NotifySettings, api: Mapping[str, Any]
) -> str:
    """Publish the summary (plus the API outcome, if an API is configured); the MessageId."""
    topic = settings.sns_topic_arn
    assert topic is not None
    message = dict(summary)
    if api.get("delivered") is not None:
        message.setdefault(
            "api_notification",
            {key: api[key] for key in ("delivered", "api_status", "error")},
        )
    client = boto3.client("sns", region_name=_arn_region(topic) or settings.region)
    response = client.publish(
        TopicArn=topic,
        Subject=sns_subject(summary, api.get("delivered")),
        Message=json.dumps(message, default=str, indent=2),
    )
    return str(response["MessageId"])


# -- the step -------------------------------------------------------------------------------


def _epoch_clock(now: Callable[[], dt.datetime] | None) -> Callable[[], float]:
    def clock() -> float:
        value = now() if now else dt.datetime.now(dt.UTC)
        return (value if value.tzinfo else value.replace(tzinfo=dt.UTC)).timestamp()

    return clock


def _token_client(
    settings: NotifySettings,
    session: requests.Session,
    clock: Callable[[], float],
    sleep: Callable[[float], None],
) -> TokenClient:
    assert settings.token_url is not None
    assert settings.client_id is not None
    credentials = ClientCredentials(
        settings.token_url, settings.client_id, settings.scope, _secret_resolver(settings)
    )
    # A peer holds the SQLite lock (or DynamoDB lease) for at most one token request with
    # its retry: wait that long before concluding it is stuck.
    shared = open_shared_cache(
        settings.token_cache,
        busy_timeout=3 * settings.timeout_seconds + RETRY_BACKOFF_SECONDS,
        region=settings.region,
    )
    return TokenClient(
        credentials,
        shared=shared,
        session=session,
        timeout=settings.timeout_seconds,
        clock=clock,
        sleep=sleep,
    )


def notify(
    summary: dict[str, Any],
    settings: NotifySettings,
    *,
    now: Callable[[], dt.datetime] | None = None,
    session: requests.Session | None = None,
    sleep: Callable[[float], None] | None = None,
) -> dict[str, Any]:
    """Publish `summary` to SNS (if a topic is configured) and POST it to the API (if configured).

    Returns {"sns_message_id", "delivered", "api_status", "error", "token_source"}:
    `delivered` is None without an API URL, False when the POST failed (after one token
    refresh on 401 and one retry on a transient failure; `error` says why). A failed POST
    does not raise. Raises ValueError for misconfiguration (before sending anything) and
    SnsPublishError when SNS refuses the alert (after the POST was attempted).
    `now` and `sleep` are the clock and the backoff, injected by tests.
    """
    settings.validate()
    sleep = sleep or time.sleep
    result: dict[str, Any] = {
        "sns_message_id": None,
        "delivered": None,
        "api_status": None,
        "error": None,
        "token_source": None,
    }
    if settings.api_url:
        own_session = session is None
        http = session or requests.Session()
        try:
            tokens = _token_client(settings, http, _epoch_clock(now), sleep)
            result.update(_deliver(summary, settings, tokens, http, sleep).as_result())
        finally:
            if own_session:
                http.close()
    if settings.sns_topic_arn:
        try:
            result["sns_message_id"] = publish_sns(summary, settings, result)
        except (BotoCoreError, ClientError) as exc:
            raise SnsPublishError(
                f"SNS publish to {settings.sns_topic_arn} failed: {exc}", dict(result)
            ) from exc
        log.info("notify published", extra={"topic": settings.sns_topic_arn})
    return result
