"""Let DuckDB read and write an s3:// lake offline.

DuckDB normally downloads `httpfs`/`aws` on first use; that fails without internet, so
the extensions come from their PyPI packages (`duckdb-extension-httpfs`, ...). Credentials
and the endpoint come from the usual AWS environment (including AWS_ENDPOINT_URL for moto
or MinIO). Used by dbt through the dbt-duckdb plugin below and by Python code directly.
"""

from __future__ import annotations

import importlib
import os
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import duckdb
from dbt.adapters.duckdb.plugins import BasePlugin


def load_packaged_extension(conn: duckdb.DuckDBPyConnection, name: str) -> None:
    """INSTALL from the wheel's file (no download), then LOAD."""
    module = importlib.import_module(f"duckdb_extension_{name}")
    version = conn.execute("pragma version").fetchone()[0]  # type: ignore[index]
    path = Path(module.__file__).parent / "extensions" / version / f"{name}.duckdb_extension"
    if not path.exists():
        raise RuntimeError(f"duckdb-extension-{name} has no build for DuckDB {version} ({path})")
    conn.execute(f"install '{path}'")
    conn.execute(f"load {name}")


def configure_s3(conn: duckdb.DuckDBPyConnection, env: dict[str, str] | None = None) -> None:
    """Load httpfs and create an S3 secret from the AWS environment variables."""
    env = dict(os.environ if env is None else env)
    load_packaged_extension(conn, "httpfs")
    options: dict[str, Any] = {
        "TYPE": "s3",
        "REGION": env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION", "us-east-1"),
    }
    if env.get("AWS_ACCESS_KEY_ID"):
        options["KEY_ID"] = env["AWS_ACCESS_KEY_ID"]
        options["SECRET"] = env.get("AWS_SECRET_ACCESS_KEY", "")
        if env.get("AWS_SESSION_TOKEN"):
            options["SESSION_TOKEN"] = env["AWS_SESSION_TOKEN"]
    else:
        # No static keys: fall back to the AWS SDK chain (instance role, SSO, ECS task role).
        load_packaged_extension(conn, "aws")
        options["PROVIDER"] = "credential_chain"
    endpoint = env.get("AWS_ENDPOINT_URL_S3") or env.get("AWS_ENDPOINT_URL")
    if endpoint:
        parsed = urlparse(endpoint)
        options["ENDPOINT"] = parsed.netloc
        options["USE_SSL"] = parsed.scheme == "https"
        options["URL_STYLE"] = "path"
    body = ", ".join(
        f"{key} {_literal(value)}" if key != "TYPE" else f"TYPE {value}"
        for key, value in options.items()
    )
    conn.execute(f"create or replace secret condvest_lake ({body})")


def _literal(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return "'" + str(value).replace("'", "''") + "'"


class Plugin(BasePlugin):
    """dbt-duckdb plugin: configure S3 access when LAKE_ROOT is an s3:// URI."""

    def configure_connection(self, conn: duckdb.DuckDBPyConnection) -> None:
        if os.environ.get("LAKE_ROOT", "").startswith("s3://"):
            configure_s3(conn)
