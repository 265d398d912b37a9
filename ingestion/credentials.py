"""Secrets: the Polygon API key and the RDS credentials. Never logged, stored or echoed."""

from __future__ import annotations

import json
import logging
import os
from typing import Any

from core.errors import ExitCode, OperationalError

log = logging.getLogger(__name__)

# The vendor's own SDK reads MASSIVE_API_KEY since the rebrand; this project's name came
# first. Both work; when both are set, MASSIVE_API_KEY wins (the vendor's current name).
KEY_VARIABLES = ("MASSIVE_API_KEY", "POLYGON_API_KEY")


def _secrets_client() -> Any:
    import boto3  # only when a secret is named: the CLI's start-up stays light

    return boto3.client("secretsmanager")


class MissingApiKeyError(OperationalError, RuntimeError):
    """No key in the environment and no Secrets Manager ARN to read it from."""

    exit_code = ExitCode.USAGE


def _from_secret_string(secret: str) -> str:
    # The secret may be the bare key or a JSON object holding it.
    text = secret.strip()
    if text.startswith("{"):
        payload = json.loads(text)
        names = ("MASSIVE_API_KEY", "massive_api_key", "POLYGON_API_KEY", "polygon_api_key")
        for name in (*names, "api_key", "apiKey"):
            if payload.get(name):
                return str(payload[name])
        raise MissingApiKeyError(
            "the Polygon secret is JSON but has none of the keys MASSIVE_API_KEY, "
            "massive_api_key, POLYGON_API_KEY, polygon_api_key, api_key, apiKey"
        )
    return text


def polygon_api_key(env: dict[str, str] | None = None) -> str:
    """MASSIVE_API_KEY or POLYGON_API_KEY if set (MASSIVE_API_KEY wins), else the secret
    named by POLYGON_API_KEY_SECRET_ARN."""
    env = dict(os.environ if env is None else env)
    keys = {name: env[name].strip() for name in KEY_VARIABLES if env.get(name, "").strip()}
    if len(set(keys.values())) > 1:
        log.warning(
            "MASSIVE_API_KEY and POLYGON_API_KEY differ; using MASSIVE_API_KEY",
            extra={"ignored": "POLYGON_API_KEY"},
        )
    for name in KEY_VARIABLES:
        if name in keys:
            return keys[name]
    arn = env.get("POLYGON_API_KEY_SECRET_ARN")
    if not arn:
        raise MissingApiKeyError(
            "set MASSIVE_API_KEY (or POLYGON_API_KEY), or POLYGON_API_KEY_SECRET_ARN to a "
            "Secrets Manager secret"
        )
    value = _secrets_client().get_secret_value(SecretId=arn)
    key = _from_secret_string(value.get("SecretString") or "")
    if not key:
        raise MissingApiKeyError(f"secret {arn} is empty")
    return key


def watermark_dsn(settings_dsn: str, rds_secret_arn: str | None) -> str:
    """The watermark store DSN: built from the RDS secret when one is named.

    RDS-managed secrets hold JSON with host, port, username, password and dbname.
    """
    if not rds_secret_arn:
        return settings_dsn
    secret = json.loads(_secrets_client().get_secret_value(SecretId=rds_secret_arn)["SecretString"])
    try:
        parts = {
            "host": secret["host"],
            "port": secret.get("port", 5432),
            "user": secret["username"],
            "password": secret["password"],
            "dbname": secret.get("dbname", "postgres"),
            "sslmode": secret.get("sslmode", "require"),
        }
    except KeyError as exc:
        raise RuntimeError(f"RDS secret {rds_secret_arn} lacks {exc}") from None
    # conninfo quoting: single quotes and backslashes are escaped inside '...'
    return " ".join(
        f"{key}='{str(value).replace(chr(92), chr(92) * 2).replace(chr(39), chr(92) + chr(39))}'"
        for key, value in parts.items()
    )
