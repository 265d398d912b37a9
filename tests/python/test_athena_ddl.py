import re

import pytest
import sqlglot
from click.testing import CliRunner

from condvest.cli import main
from core.layout import PREDICTIONS_SCHEMA
from ingestion.athena_ddl import (
    LANDING_TABLES,
    landing_table_ddl,
    predictions_table_ddl,
    trino_table_ddl,
)


@pytest.mark.parametrize("table", sorted(LANDING_TABLES))
def test_landing_ddl_matches_the_files_and_parses_as_athena(table):
    ddl = landing_table_ddl(table, "s3://lake-bucket/prod/", "landing")
    parsed = sqlglot.parse_one(ddl, read="athena")
    assert parsed.find(sqlglot.exp.Create) is not None
    _, schema = LANDING_TABLES[table]
    columns = re.findall(r"^    `(\w+)` \w+,?$", ddl, flags=re.MULTILINE)
    assert columns == schema.names  # every landing column, in file order
    dataset = table.removeprefix("raw_")
    assert f"LOCATION 's3://lake-bucket/prod/bronze/raw_{dataset}/'" in ddl
    assert f"bronze/raw_{dataset}/ingest_date=${{ingest_date}}/" in ddl
    assert "'projection.enabled' = 'true'" in ddl


def test_predictions_ddl_matches_the_files_and_parses_as_athena():
    ddl = predictions_table_ddl("s3://lake-bucket/prod", "landing")
    assert sqlglot.parse_one(ddl, read="athena").find(sqlglot.exp.Create) is not None
    columns = re.findall(r"^    `(\w+)` \w+,?$", ddl, flags=re.MULTILINE)
    assert columns == PREDICTIONS_SCHEMA.names
    assert "LOCATION 's3://lake-bucket/prod/gold/predictions/'" in ddl
    assert "PARTITIONED" not in ddl  # the files carry model_version and date


@pytest.mark.parametrize("table", [*sorted(LANDING_TABLES), "predictions"])
def test_trino_ddl_declares_the_same_table_for_trino_hive(table):
    """The Trino rendering of the same definition (tests/python/trino_helpers.py runs it)."""
    ddl = trino_table_ddl(table, "local:///lake", "hive.landing")
    athena = (
        predictions_table_ddl("s3://b/lake", "landing")
        if table == "predictions"
        else landing_table_ddl(table, "s3://b/lake", "landing")
    )
    columns = re.findall(r'^    "(\w+)" ', ddl, flags=re.MULTILINE)
    athena_columns = re.findall(r"^    `(\w+)` \w+,?$", athena, flags=re.MULTILINE)
    partitioned = table != "predictions"
    assert columns == athena_columns + (["ingest_date"] if partitioned else [])
    assert ddl.startswith(f'CREATE TABLE IF NOT EXISTS hive.landing."{table}" (')
    assert "string" not in ddl and "timestamp(3)" in ddl  # Trino's type names
    prefix = "gold/predictions" if table == "predictions" else f"bronze/{table}"
    assert f"external_location = 'local:///lake/{prefix}/'" in ddl
    assert ("partition_projection_enabled = true" in ddl) == partitioned
    assert ("partitioned_by = ARRAY['ingest_date']" in ddl) == partitioned
    with pytest.raises(ValueError, match="local:///"):
        trino_table_ddl(table, "/data/lake", "hive.landing")


def test_cli_prints_every_table_and_refuses_a_local_lake(monkeypatch):
    monkeypatch.setenv("DBT_SCHEMA_PREFIX", "dev_")
    result = CliRunner().invoke(main, ["landing-ddl", "--lake-root", "s3://b/lake"])
    assert result.exit_code == 0, result.output
    assert result.output.count("CREATE EXTERNAL TABLE") == 3
    assert "`dev_landing`.`predictions`" in result.output
    assert "`dev_landing`.`raw_ohlcv`" in result.output
    local = CliRunner().invoke(main, ["landing-ddl", "--lake-root", "./data/lake"])
    assert local.exit_code == 2 and "s3://" in local.output


def test_cli_prints_the_trino_dialect_of_every_table() -> None:
    args = ["landing-ddl", "--dialect", "trino", "--lake-root", "local:///lake"]
    result = CliRunner().invoke(main, [*args, "--database", "hive.landing"])
    assert result.exit_code == 0, result.output
    tables = [*LANDING_TABLES, "predictions"]
    expected = [trino_table_ddl(table, "local:///lake", "hive.landing") for table in tables]
    assert result.output == ";\n\n".join(expected) + ";\n"
    local = CliRunner().invoke(main, [*args[:3], "--lake-root", "./data/lake"])
    assert local.exit_code == 2 and "local:///" in local.output
