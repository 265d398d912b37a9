"""DuckDB's extensions from their PyPI packages (`duckdb-extension-httpfs`, `-aws`,
`-iceberg`, `-avro`), never downloaded: DuckDB would fetch them on first use, which fails
without internet. And S3 access for a connection, from the usual AWS environment
(including AWS_ENDPOINT_URL for moto or MinIO) or the SDK's credential chain.

Imports only DuckDB: the dbt-duckdb plugin (ingestion/duckdb_lake.py) and the report on
Iceberg (reports/iceberg.py, in the dbt image, which has no dbt-duckdb) both use it.
"""

from __future__ import annotations

import importlib
import os
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import duckdb


def load_packaged_extension(conn: duckdb.DuckDBPyConnection, name: str) -> None:
    """INSTALL from the wheel's file (no download), then LOAD."""
    module = importlib.import_module(f"duckdb_extension_{name}")
    version = conn.execute("pragma version").fetchone()[0]  # type: ignore[index]
    if module.__file__ is None:
        raise RuntimeError(f"duckdb-extension-{name} is not installed as a regular package")
    path = Path(module.__file__).parent / "extensions" / version / f"{name}.duckdb_extension"
    if not path.exists():
        raise RuntimeError(f"duckdb-extension-{name} has no build for DuckDB {version} ({path})")
    conn.execute(f"install '{path}'")
    conn.execute(f"load {name}")


def configure_s3(
    conn: duckdb.DuckDBPyConnection, region: str, env: dict[str, str] | None = None
) -> None:
    """Load httpfs and create an S3 secret in `region` from the AWS SDK's credential
    variables (or its credential chain)."""
    env = dict(os.environ if env is None else env)
    load_packaged_extension(conn, "httpfs")
    options: dict[str, Any] = {
        "TYPE": "s3",
        "REGION": region,
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
        f"{key} {sql_literal(value)}" if key != "TYPE" else f"TYPE {value}"
        for key, value in options.items()
    )
    conn.execute(f"create or replace secret condvest_lake ({body})")


def sql_literal(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return "'" + str(value).replace("'", "''") + "'"
