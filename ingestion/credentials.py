"""Secrets: the Polygon API key and the RDS credentials. Never logged, stored or echoed."""

from __future__ import annotations

import json
import os

import boto3

from core.errors import ExitCode, OperationalError


class MissingApiKeyError(OperationalError, RuntimeError):
    """No key in the environment and no Secrets Manager ARN to read it from."""

    exit_code = ExitCode.USAGE


def _from_secret_string(secret: str) -> str:
    # The secret may be the bare key or a JSON object holding it.
    text = secret.strip()
    if text.startswith("{"):
        payload = json.loads(text)
        for name in ("POLYGON_API_KEY", "polygon_api_key", "api_key", "apiKey"):
            if payload.get(name):
                return str(payload[name])
        raise MissingApiKeyError(
            "the Polygon secret is JSON but has none of the keys "
            "POLYGON_API_KEY, polygon_api_key, api_key, apiKey"
        )
    return text


def polygon_api_key(env: dict[str, str] | None = None) -> str:
    """POLYGON_API_KEY if set, else the secret named by POLYGON_API_KEY_SECRET_ARN."""
    env = dict(os.environ if env is None else env)
    if env.get("POLYGON_API_KEY"):
        return env["POLYGON_API_KEY"]
    arn = env.get("POLYGON_API_KEY_SECRET_ARN")
    if not arn:
        raise MissingApiKeyError(
            "set POLYGON_API_KEY, or POLYGON_API_KEY_SECRET_ARN to a Secrets Manager secret"
        )
    client = boto3.client("secretsmanager")
    value = client.get_secret_value(SecretId=arn)
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
    client = boto3.client("secretsmanager")
    secret = json.loads(client.get_secret_value(SecretId=rds_secret_arn)["SecretString"])
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
