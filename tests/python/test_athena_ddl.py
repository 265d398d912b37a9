import re

import pytest
import sqlglot
from click.testing import CliRunner

from core.layout import PREDICTIONS_SCHEMA
from ingestion.athena_ddl import LANDING_TABLES, landing_table_ddl, predictions_table_ddl
from orchestration.cli import main


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


def test_cli_prints_every_table_and_refuses_a_local_lake(monkeypatch):
    monkeypatch.setenv("DBT_SCHEMA_PREFIX", "dev_")
    result = CliRunner().invoke(main, ["landing-ddl", "--lake-root", "s3://b/lake"])
    assert result.exit_code == 0, result.output
    assert result.output.count("CREATE EXTERNAL TABLE") == 3
    assert "`dev_landing`.`predictions`" in result.output
    assert "`dev_landing`.`raw_ohlcv`" in result.output
    local = CliRunner().invoke(main, ["landing-ddl", "--lake-root", "./data/lake"])
    assert local.exit_code == 2 and "s3://" in local.output
