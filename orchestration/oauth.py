"""OAuth2 client-credentials tokens (RFC 6749 §4.4) for the downstream notification API.

A token is reused until shortly before it expires, from two caches:

* memory: module-level, per process, keyed like the shared cache; a per-key lock makes the
  threads of one process wait for a single token request;
* shared: a table that every run reads (SQLite locally, DynamoDB in AWS), so a burst of runs
  in separate processes or Lambda invocations asks the endpoint for one token. Each backend
  serialises the miss: SQLite with a write transaction (`BEGIN IMMEDIATE`) held while the
  token is fetched, DynamoDB with a leased lock item written by a conditional put.

The cache key is a SHA-256 of (token URL, client id, scope): it names the client without
revealing anything, and the client secret is never part of any cache. Cached items hold the
access token itself (the point of sharing it) and its expiry, nothing else.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import sqlite3
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import quote_plus, urlsplit

import boto3
import requests
from botocore.exceptions import BotoCoreError, ClientError

log = logging.getLogger(__name__)

Clock = Callable[[], float]
"""Epoch seconds. Injected so tests move time instead of sleeping."""

MAX_SKEW_SECONDS = 60.0
SHORT_TOKEN_SKEW_FRACTION = 0.1
DEFAULT_LIFETIME_SECONDS = 300.0  # when the endpoint omits expires_in (it is only RECOMMENDED)
RETRY_BACKOFF_SECONDS = 1.0


class TokenError(RuntimeError):
    """The token endpoint refused the client or could not be reached.

    The message is safe to log and return: status, the endpoint's `error` code and a short
    description, never the secret or a token.
    """


def refresh_skew(lifetime: float) -> float:
    """How long before expiry a token stops being handed out.

    60 s, or 10% of the lifetime for short tokens, so a 5-minute token is still used for
    4.5 minutes and a request never leaves with a token about to lapse in flight.
    """
    return min(MAX_SKEW_SECONDS, max(lifetime, 0.0) * SHORT_TOKEN_SKEW_FRACTION)


@dataclass(frozen=True)
class AccessToken:
    access_token: str = field(repr=False)
    token_type: str
    issued_at: float  # epoch seconds, taken before the request: errs towards early refresh
    expires_at: float

    @property
    def refresh_at(self) -> float:
        return self.expires_at - refresh_skew(self.expires_at - self.issued_at)

    def usable(self, now: float, reject: str | None = None) -> bool:
        """Still fresh, and not the token the API just refused."""
        return now < self.refresh_at and self.access_token != reject


@dataclass(frozen=True)
class ClientCredentials:
    """Who asks for tokens. `secret` is a callable so a cache hit never fetches it."""

    token_url: str
    client_id: str
    scope: str | None
    secret: Callable[[], str] = field(repr=False, compare=False)

    @property
    def cache_key(self) -> str:
        material = json.dumps([self.token_url, self.client_id, self.scope or ""])
        return "oauth:" + hashlib.sha256(material.encode()).hexdigest()


# -- the token endpoint ---------------------------------------------------------------------


def endpoint_name(url: str) -> str:
    """The URL without query string or userinfo: safe to log and to return in errors."""
    parts = urlsplit(url)
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme}://{parts.hostname or ''}{port}{parts.path}"


def _refusal(response: requests.Response, endpoint: str) -> TokenError:
    """A TokenError naming the status and the endpoint's RFC 6749 §5.2 `error` field."""
    detail = ""
    try:
        body = response.json()
    except ValueError:
        body = None
    if isinstance(body, dict) and body.get("error"):
        detail = f": {str(body['error'])[:100]}"
        if body.get("error_description"):
            detail += f" ({str(body['error_description'])[:200]})"
    return TokenError(f"token endpoint {endpoint} answered HTTP {response.status_code}{detail}")


def _parse_token(response: requests.Response, endpoint: str, issued_at: float) -> AccessToken:
    try:
        body = response.json()
    except ValueError:
        raise TokenError(f"token endpoint {endpoint} answered non-JSON") from None
    if not isinstance(body, dict) or not isinstance(body.get("access_token"), str):
        raise TokenError(f"token endpoint {endpoint} answered without an access_token")
    token_type = str(body.get("token_type") or "Bearer")
    if token_type.lower() != "bearer":
        raise TokenError(f"token endpoint {endpoint} issued a {token_type!r} token, not Bearer")
    try:
        lifetime = float(body.get("expires_in", DEFAULT_LIFETIME_SECONDS))
    except (TypeError, ValueError):
        raise TokenError(f"token endpoint {endpoint} answered a bad expires_in") from None
    return AccessToken(body["access_token"], "Bearer", issued_at, issued_at + lifetime)


def request_token(
    credentials: ClientCredentials,
    session: requests.Session,
    *,
    timeout: float,
    clock: Clock,
    sleep: Callable[[float], None] = time.sleep,
) -> AccessToken:
    """One token from the endpoint; a connection failure or 5xx is retried once.

    Client authentication is HTTP Basic with id and secret form-urlencoded first, as
    RFC 6749 §2.3.1 asks (a no-op for the usual alphanumeric credentials).
    """
    endpoint = endpoint_name(credentials.token_url)
    form = {"grant_type": "client_credentials"}
    if credentials.scope:
        form["scope"] = credentials.scope
    auth = (quote_plus(credentials.client_id), quote_plus(credentials.secret()))
    for attempt in (1, 2):
        issued_at = clock()
        try:
            response = session.post(
                credentials.token_url,
                data=form,
                auth=auth,
                headers={"Accept": "application/json"},
                timeout=timeout,
                allow_redirects=False,
            )
        except requests.RequestException as exc:
            # str(exc) would carry the full URL; the class name says what happened.
            problem = TokenError(f"token endpoint {endpoint} unreachable: {type(exc).__name__}")
        else:
            if response.status_code == 200:
                log.info("oauth new token", extra={"endpoint": endpoint})
                return _parse_token(response, endpoint, issued_at)
            problem = _refusal(response, endpoint)
            if response.status_code < 500:
                raise problem
        if attempt == 1:
            log.warning("oauth token request failed; retrying once", extra={"error": str(problem)})
            sleep(RETRY_BACKOFF_SECONDS)
    raise problem


# -- shared caches --------------------------------------------------------------------------


class SharedTokenCache(Protocol):
    """A cache every run can see. `get_or_fetch` must let only one caller fetch per key."""

    def get_or_fetch(
        self, key: str, clock: Clock, fetch: Callable[[], AccessToken], reject: str | None
    ) -> tuple[AccessToken, bool]:
        """The cached token if usable (and not `reject`), else `fetch()` stored; fetched?"""
        ...

    def discard(self, key: str, access_token: str) -> None:
        """Drop the entry if it still holds this token (a newer one is left alone)."""
        ...


class SqliteTokenCache:
    """One table in a local SQLite file; the file is created owner-only (it holds tokens)."""

    def __init__(self, path: str | Path, *, busy_timeout: float = 30.0) -> None:
        self.path = Path(path)
        # Waiters block while a peer fetches, so this must outlast a token request.
        self.busy_timeout = busy_timeout

    @contextlib.contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with contextlib.suppress(FileExistsError):
            os.close(os.open(self.path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))
        conn = sqlite3.connect(self.path, timeout=self.busy_timeout, isolation_level=None)
        try:
            conn.execute(
                "CREATE TABLE IF NOT EXISTS oauth_tokens (cache_key TEXT PRIMARY KEY,"
                " access_token TEXT NOT NULL, token_type TEXT NOT NULL,"
                " issued_at REAL NOT NULL, expires_at REAL NOT NULL)"
            )
            yield conn
        finally:
            conn.close()

    @staticmethod
    def _read(conn: sqlite3.Connection, key: str) -> AccessToken | None:
        row = conn.execute(
            "SELECT access_token, token_type, issued_at, expires_at FROM oauth_tokens"
            " WHERE cache_key = ?",
            (key,),
        ).fetchone()
        return AccessToken(*row) if row else None

    def get_or_fetch(
        self, key: str, clock: Clock, fetch: Callable[[], AccessToken], reject: str | None
    ) -> tuple[AccessToken, bool]:
        with self._connect() as conn:
            cached = self._read(conn, key)
            if cached and cached.usable(clock(), reject):
                return cached, False
            # Miss: take the write lock, then look again, since a peer may have just
            # fetched; peers block here (busy timeout) until this transaction commits.
            conn.execute("BEGIN IMMEDIATE")
            try:
                cached = self._read(conn, key)
                if cached and cached.usable(clock(), reject):
                    conn.execute("COMMIT")
                    return cached, False
                token = fetch()
                conn.execute("DELETE FROM oauth_tokens WHERE expires_at < ?", (clock(),))
                conn.execute(
                    "INSERT OR REPLACE INTO oauth_tokens VALUES (?, ?, ?, ?, ?)",
                    (key, token.access_token, token.token_type, token.issued_at, token.expires_at),
                )
                conn.execute("COMMIT")
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            return token, True

    def discard(self, key: str, access_token: str) -> None:
        with self._connect() as conn:
            conn.execute(
                "DELETE FROM oauth_tokens WHERE cache_key = ? AND access_token = ?",
                (key, access_token),
            )


class DynamoDbTokenCache:
    """A DynamoDB table keyed by `cache_key` (S), with `expires_at` (N, epoch s) for TTL.

    A miss takes a lease: a `<key>#lock` item put only if absent or expired. Whoever holds
    it fetches; the others poll for the token. A holder that dies is outlived by its lease,
    and a waiter that outlasts `lease_seconds` fetches anyway: a second token is better than
    no notification.
    """

    def __init__(
        self,
        table: str,
        *,
        client: Any = None,
        region: str | None = None,
        lease_seconds: float = 30.0,
        poll_seconds: float = 0.1,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.table = table
        self.client = client or boto3.client("dynamodb", region_name=region)
        self.lease_seconds = lease_seconds
        self.poll_seconds = poll_seconds
        self.sleep = sleep

    def _read(self, key: str) -> AccessToken | None:
        item = self.client.get_item(
            TableName=self.table, Key={"cache_key": {"S": key}}, ConsistentRead=True
        ).get("Item")
        if not item or "access_token" not in item:
            return None
        return AccessToken(
            item["access_token"]["S"],
            item["token_type"]["S"],
            float(item["issued_at"]["N"]),
            float(item["expires_at"]["N"]),
        )

    def _write(self, key: str, token: AccessToken) -> None:
        self.client.put_item(
            TableName=self.table,
            Item={
                "cache_key": {"S": key},
                "access_token": {"S": token.access_token},
                "token_type": {"S": token.token_type},
                "issued_at": {"N": repr(token.issued_at)},
                # Whole seconds, rounded down: DynamoDB TTL reads integers.
                "expires_at": {"N": str(int(token.expires_at))},
            },
        )

    def _acquire(self, key: str, owner: str, now: float) -> bool:
        until = now + self.lease_seconds
        try:
            self.client.put_item(
                TableName=self.table,
                Item={
                    "cache_key": {"S": f"{key}#lock"},
                    "lock_owner": {"S": owner},
                    "lease_until": {"N": repr(until)},
                    "expires_at": {"N": str(int(until) + 1)},
                },
                ConditionExpression="attribute_not_exists(cache_key) OR lease_until < :now",
                ExpressionAttributeValues={":now": {"N": repr(now)}},
            )
        except ClientError as exc:
            if _code(exc) == "ConditionalCheckFailedException":
                return False
            raise
        return True

    def _release(self, key: str, owner: str) -> None:
        self._delete_if(f"{key}#lock", "lock_owner", owner)

    def _delete_if(self, key: str, attribute: str, value: str) -> None:
        try:
            self.client.delete_item(
                TableName=self.table,
                Key={"cache_key": {"S": key}},
                ConditionExpression="#a = :v",
                ExpressionAttributeNames={"#a": attribute},
                ExpressionAttributeValues={":v": {"S": value}},
            )
        except ClientError as exc:
            if _code(exc) != "ConditionalCheckFailedException":
                raise

    def get_or_fetch(
        self, key: str, clock: Clock, fetch: Callable[[], AccessToken], reject: str | None
    ) -> tuple[AccessToken, bool]:
        cached = self._read(key)
        if cached and cached.usable(clock(), reject):
            return cached, False
        owner = uuid.uuid4().hex
        deadline = time.monotonic() + self.lease_seconds
        while not self._acquire(key, owner, clock()):
            if time.monotonic() >= deadline:
                log.warning(
                    "oauth token lock held too long; fetching anyway", extra={"table": self.table}
                )
                token = fetch()
                self._write(key, token)
                return token, True
            self.sleep(self.poll_seconds)
            cached = self._read(key)
            if cached and cached.usable(clock(), reject):
                return cached, False
        try:
            cached = self._read(key)
            if cached and cached.usable(clock(), reject):
                return cached, False
            token = fetch()
            self._write(key, token)
            return token, True
        finally:
            self._release(key, owner)

    def discard(self, key: str, access_token: str) -> None:
        self._delete_if(key, "access_token", access_token)


def _code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))


def open_shared_cache(
    url: str | None, *, busy_timeout: float = 30.0, region: str | None = None
) -> SharedTokenCache | None:
    """`sqlite:///path`, `dynamodb://<table>`, or None/"memory" for no shared cache.

    `busy_timeout`: how long to wait for a peer that is fetching the token (the SQLite
    busy timeout, the DynamoDB lease) before concluding it is stuck.
    """
    if not url or url == "memory":
        return None
    if url.startswith("sqlite:///"):
        return SqliteTokenCache(url.removeprefix("sqlite:///"), busy_timeout=busy_timeout)
    if url.startswith("dynamodb://") and url.removeprefix("dynamodb://").strip("/"):
        table = url.removeprefix("dynamodb://").strip("/")
        return DynamoDbTokenCache(table, region=region, lease_seconds=busy_timeout)
    raise ValueError(f"unsupported token cache {url!r}: use sqlite:///<path> or dynamodb://<table>")


# -- the client -----------------------------------------------------------------------------

CACHE_ERRORS = (sqlite3.Error, OSError, ClientError, BotoCoreError)

_MEMORY: dict[str, AccessToken] = {}
_LOCKS: dict[str, threading.Lock] = {}
_LOCKS_GUARD = threading.Lock()


def clear_memory_cache() -> None:
    """Forget the in-process tokens (a new process, as far as the caches can tell)."""
    with _LOCKS_GUARD:
        _MEMORY.clear()


def _lock_for(key: str) -> threading.Lock:
    with _LOCKS_GUARD:
        return _LOCKS.setdefault(key, threading.Lock())


class TokenClient:
    """Hands out a usable token: memory, then the shared cache, then the endpoint."""

    def __init__(
        self,
        credentials: ClientCredentials,
        *,
        shared: SharedTokenCache | None,
        session: requests.Session,
        timeout: float,
        clock: Clock,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.credentials = credentials
        self.shared = shared
        self.session = session
        self.timeout = timeout
        self.clock = clock
        self.sleep = sleep

    def _fetch(self) -> AccessToken:
        return request_token(
            self.credentials, self.session, timeout=self.timeout, clock=self.clock, sleep=self.sleep
        )

    def token(self, *, reject: str | None = None) -> tuple[AccessToken, str]:
        """A usable token other than `reject`, and where it came from: memory/cache/endpoint.

        Raises TokenError when the endpoint must be asked and refuses or is unreachable.
        """
        key = self.credentials.cache_key
        with _lock_for(key):
            cached = _MEMORY.get(key)
            if cached and cached.usable(self.clock(), reject):
                return cached, "memory"
            token, source = self._from_shared(key, reject)
            _MEMORY[key] = token
            return token, source

    def _from_shared(self, key: str, reject: str | None) -> tuple[AccessToken, str]:
        if self.shared is None:
            return self._fetch(), "endpoint"
        try:
            token, fetched = self.shared.get_or_fetch(key, self.clock, self._fetch, reject)
        except CACHE_ERRORS as exc:
            # The shared cache saves token requests; it must not stop the notification.
            log.warning(
                "oauth shared token cache failed; asking the endpoint", extra={"error": str(exc)}
            )
            return self._fetch(), "endpoint"
        return token, "endpoint" if fetched else "cache"

    def discard(self, token: AccessToken) -> None:
        """The API refused this token: drop it everywhere, unless already replaced."""
        key = self.credentials.cache_key
        with _lock_for(key):
            if _MEMORY.get(key) == token:
                del _MEMORY[key]
        if self.shared is not None:
            try:
                self.shared.discard(key, token.access_token)
            except CACHE_ERRORS as exc:
                log.warning(
                    "oauth could not drop a refused token from the shared cache",
                    extra={"error": str(exc)},
                )
