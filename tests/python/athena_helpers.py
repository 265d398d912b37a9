"""Compile the dbt project for Athena against a moto server, and run Athena SQL on DuckDB.

dbt-athena talks to AWS during `dbt compile`: it looks every model's relation up in Glue
(`GetTables` per database) to decide `is_incremental()`. moto serves Glue, Athena, S3 and
STS on one endpoint, so the real adapter runs unchanged with AWS_ENDPOINT_URL pointing
there. No AWS account and no patching of dbt-athena is involved.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import duckdb
import requests
import sqlglot
from sqlglot import exp
from sqlglot.optimizer.annotate_types import annotate_types
from sqlglot.optimizer.qualify import qualify
from sqlglot.schema import MappingSchema

from tests.python.dbt_helpers import run_dbt
from tests.python.fixtures.aws import REGION, AwsService

CATALOG = "awsdatacatalog"
TARGET_SCHEMA = "condvest"
# Glue databases of the project: the landing sources, the target schema, the dbt layers.
DATABASES = ("landing", TARGET_SCHEMA, "staging", "bronze", "silver", "gold")
RESULTS_BUCKET = "condvest-ci-athena-results"
DATA_BUCKET = "condvest-ci-lake"
WORKGROUP = "condvest-ci"
WAREHOUSE_SCHEMAS = ("staging", "bronze", "silver", "gold")

# Whatever the developer's shell says must not reach a real account (as in fixtures/aws.py).
_AWS_VARS_TO_DROP = (
    "AWS_PROFILE",
    "AWS_SESSION_TOKEN",
    "AWS_SECURITY_TOKEN",
    "AWS_ROLE_ARN",
    "AWS_WEB_IDENTITY_TOKEN_FILE",
)


def aws_environment(endpoint_url: str) -> dict[str, str]:
    """The variables that point every AWS SDK at moto with dummy credentials."""
    return {
        "AWS_ENDPOINT_URL": endpoint_url,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": REGION,
        "AWS_REGION": REGION,
        "AWS_CONFIG_FILE": "/nonexistent/aws-config",
        "AWS_SHARED_CREDENTIALS_FILE": "/nonexistent/aws-credentials",
        "AWS_EC2_METADATA_DISABLED": "true",
    }


@dataclass(frozen=True)
class MotoAthena:
    """The AWS side dbt-athena sees: S3 buckets, an Athena workgroup, Glue databases."""

    endpoint_url: str
    # DBT_SCHEMA_PREFIX of the compile: its Glue databases are <prefix>landing, ...
    schema_prefix: str = ""

    def client(self, service: AwsService) -> Any:
        return boto3.client(
            service,
            region_name=REGION,
            endpoint_url=self.endpoint_url,
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )

    @property
    def staging_dir(self) -> str:
        return f"s3://{RESULTS_BUCKET}/dbt/"

    @property
    def data_dir(self) -> str:
        return f"s3://{DATA_BUCKET}/warehouse/"

    def provision(self) -> None:
        s3 = self.client("s3")
        for bucket in (RESULTS_BUCKET, DATA_BUCKET):
            s3.create_bucket(Bucket=bucket)
        self.client("athena").create_work_group(
            Name=WORKGROUP,
            Configuration={"ResultConfiguration": {"OutputLocation": self.staging_dir}},
        )
        glue = self.client("glue")
        for database in DATABASES:
            glue.create_database(DatabaseInput={"Name": self.schema_prefix + database})

    def register_iceberg_table(self, schema: str, name: str) -> None:
        """A Glue table as dbt-athena creates it for an Iceberg model (enough for lookups)."""
        self.client("glue").create_table(
            DatabaseName=schema,
            TableInput={
                "Name": name,
                "TableType": "EXTERNAL_TABLE",
                "Parameters": {"table_type": "ICEBERG"},
                "StorageDescriptor": {
                    "Columns": [{"Name": "symbol", "Type": "string"}],
                    "Location": f"{self.data_dir}{schema}/{name}/00000000",
                },
            },
        )

    def reset(self) -> None:
        """moto runs once per session: leave no state behind (as the aws_env fixture does)."""
        requests.post(f"{self.endpoint_url}/moto-api/reset", timeout=10).raise_for_status()


@dataclass(frozen=True)
class AthenaCompile:
    """What `dbt compile` for the athena target produced."""

    stdout: str
    manifest: dict[str, Any]
    run_results: dict[str, Any]
    # compiled SQL by node unique_id (models and data tests), read from target/compiled
    sql: dict[str, str]

    def model_sql(self, name: str) -> str:
        return self.sql[f"model.condvest.{name}"]

    def incremental_relations(self) -> list[tuple[str, str]]:
        """(Glue database, table) of every incremental model."""
        return sorted(
            (node["schema"], node["alias"])
            for node in self.manifest["nodes"].values()
            if node["resource_type"] == "model" and node["config"]["materialized"] == "incremental"
        )


def compile_for_athena(tmp: Path, aws: MotoAthena) -> AthenaCompile:
    """`dbt compile` with DBT_TARGET=athena in a subprocess whose AWS is the moto server."""
    env = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(("AWS_", "ATHENA_")) and name not in ("DBT_SCHEMA_PREFIX",)
    }
    env.update(aws_environment(aws.endpoint_url))
    env.update(
        {
            "DBT_TARGET": "athena",
            "ATHENA_S3_STAGING_DIR": aws.staging_dir,
            "ATHENA_S3_DATA_DIR": aws.data_dir,
            "ATHENA_CATALOG": CATALOG,
            "ATHENA_SCHEMA": aws.schema_prefix + TARGET_SCHEMA,
            "ATHENA_WORKGROUP": WORKGROUP,
            "DBT_SCHEMA_PREFIX": aws.schema_prefix,
        }
    )
    for name in _AWS_VARS_TO_DROP:
        env.pop(name, None)
    stdout = run_dbt(tmp, env, "compile")
    target = tmp / "target"
    manifest = json.loads((target / "manifest.json").read_text())
    run_results = json.loads((target / "run_results.json").read_text())
    sql = {
        unique_id: Path(node["compiled_path"]).read_text()
        for unique_id, node in manifest["nodes"].items()
        if node["resource_type"] in ("model", "test") and node.get("compiled_path")
    }
    return AthenaCompile(stdout, manifest, run_results, sql)


def warehouse_schema(con: duckdb.DuckDBPyConnection) -> MappingSchema:
    """The warehouse's tables and column types, named as Athena names them."""
    rows = con.execute(
        """
        select table_schema, table_name, column_name, data_type
        from information_schema.columns
        where table_catalog = current_database() and table_schema in ?
        order by table_schema, table_name, ordinal_position
        """,
        [list(WAREHOUSE_SCHEMAS)],
    ).fetchall()
    tables: dict[str, dict[str, dict[str, str]]] = {}
    for schema, table, column, data_type in rows:
        tables.setdefault(schema, {}).setdefault(table, {})[column] = data_type
    return MappingSchema({CATALOG: tables}, dialect="duckdb")


@dataclass(frozen=True)
class Transpiled:
    sql: str
    relations: frozenset[str]  # schema.table of every warehouse relation the SQL reads


def athena_to_duckdb(athena_sql: str, schema: MappingSchema) -> Transpiled:
    """Athena (Trino) SQL as DuckDB SQL over the warehouse built by the dev target.

    Types matter: Trino's `int / int` is integer division, DuckDB's is a double. sqlglot
    emits the right DuckDB operator only when it knows the operands' types, so the query
    is qualified and annotated against the warehouse's schema first. Relations
    "awsdatacatalog"."<layer>"."<table>" become the warehouse's <layer>.<table>.
    """
    expression = sqlglot.parse_one(athena_sql, read="trino")
    expression = qualify(expression, schema=schema, dialect="trino")
    expression = annotate_types(expression, schema=schema, dialect="trino")
    relations: set[str] = set()
    for table in expression.find_all(exp.Table):
        if not table.args.get("db"):
            continue  # a CTE
        if table.catalog != CATALOG or table.db not in WAREHOUSE_SCHEMAS:
            raise AssertionError(f"unexpected relation {table.sql('trino')}")
        table.set("catalog", None)
        relations.add(f"{table.db}.{table.name}")
    return Transpiled(expression.sql(dialect="duckdb"), frozenset(relations))
