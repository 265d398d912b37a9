"""Secrets: the Polygon API key and the RDS DSN, from the environment or Secrets Manager (moto)."""

from __future__ import annotations

import pytest
from psycopg.conninfo import conninfo_to_dict

from ingestion.credentials import MissingApiKeyError, polygon_api_key, watermark_dsn
from tests.python.fixtures.aws import AwsEnv

SECRET_VALUE = "pk_live_Zq8SECRETkey0"


def test_key_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("POLYGON_API_KEY", SECRET_VALUE)
    monkeypatch.delenv("POLYGON_API_KEY_SECRET_ARN", raising=False)
    monkeypatch.delenv("MASSIVE_API_KEY", raising=False)

    assert polygon_api_key() == SECRET_VALUE
    assert polygon_api_key({"POLYGON_API_KEY": "pk_other"}) == "pk_other"


def test_the_massive_name_is_accepted_and_wins(caplog: pytest.LogCaptureFixture) -> None:
    assert polygon_api_key({"MASSIVE_API_KEY": SECRET_VALUE}) == SECRET_VALUE
    both = {"MASSIVE_API_KEY": SECRET_VALUE, "POLYGON_API_KEY": "pk_older"}
    assert polygon_api_key(both) == SECRET_VALUE
    [warning] = caplog.records
    assert "using MASSIVE_API_KEY" in warning.getMessage()
    assert SECRET_VALUE not in caplog.text and "pk_older" not in caplog.text
    caplog.clear()
    same = {"MASSIVE_API_KEY": SECRET_VALUE, "POLYGON_API_KEY": SECRET_VALUE}
    assert polygon_api_key(same) == SECRET_VALUE and caplog.records == []


def test_environment_key_wins_over_the_secret(aws_env: AwsEnv) -> None:
    arn = aws_env.create_secret("polygon", "pk_from_secret")

    env = {"POLYGON_API_KEY": SECRET_VALUE, "POLYGON_API_KEY_SECRET_ARN": arn}
    assert polygon_api_key(env) == SECRET_VALUE


def test_key_from_a_bare_string_secret(aws_env: AwsEnv) -> None:
    arn = aws_env.create_secret("polygon", f"  {SECRET_VALUE}\n")

    assert polygon_api_key({"POLYGON_API_KEY_SECRET_ARN": arn}) == SECRET_VALUE


@pytest.mark.parametrize("name", ["POLYGON_API_KEY", "polygon_api_key", "api_key", "apiKey"])
def test_key_from_a_json_secret(aws_env: AwsEnv, name: str) -> None:
    arn = aws_env.create_secret("polygon", {"note": "rotated monthly", name: SECRET_VALUE})

    assert polygon_api_key({"POLYGON_API_KEY_SECRET_ARN": arn}) == SECRET_VALUE


def test_an_empty_environment_key_falls_through_to_the_secret(aws_env: AwsEnv) -> None:
    arn = aws_env.create_secret("polygon", SECRET_VALUE)

    env = {"POLYGON_API_KEY": "", "POLYGON_API_KEY_SECRET_ARN": arn}
    assert polygon_api_key(env) == SECRET_VALUE


def test_missing_key_and_arn_is_a_clear_error() -> None:
    with pytest.raises(MissingApiKeyError, match="POLYGON_API_KEY_SECRET_ARN"):
        polygon_api_key({"POLYGON_API_KEY": "", "POLYGON_API_KEY_SECRET_ARN": ""})


@pytest.mark.parametrize(
    "secret",
    [
        {"polygon_key": SECRET_VALUE, "owner": "data-eng"},  # a near-miss key name
        {"POLYGON_API_KEY": "", "previous_key": SECRET_VALUE},
    ],
)
def test_json_secret_without_the_key_is_a_clear_error(aws_env: AwsEnv, secret: dict) -> None:
    arn = aws_env.create_secret("polygon", secret)

    with pytest.raises(MissingApiKeyError, match="none of the keys") as excinfo:
        polygon_api_key({"POLYGON_API_KEY_SECRET_ARN": arn})
    assert SECRET_VALUE not in str(excinfo.value)


def test_blank_secret_is_a_clear_error(aws_env: AwsEnv) -> None:
    arn = aws_env.create_secret("polygon", " \n")

    with pytest.raises(MissingApiKeyError, match="is empty"):
        polygon_api_key({"POLYGON_API_KEY_SECRET_ARN": arn})


# -- the watermark DSN from an RDS secret -----------------------------------------------------


def test_without_an_rds_secret_the_configured_dsn_is_used() -> None:
    assert watermark_dsn("sqlite:///./data/w.sqlite", None) == "sqlite:///./data/w.sqlite"
    assert watermark_dsn("sqlite:///./data/w.sqlite", "") == "sqlite:///./data/w.sqlite"


def test_rds_secret_becomes_a_conninfo_that_keeps_every_character(aws_env: AwsEnv) -> None:
    secret = {
        "engine": "postgres",
        "host": "db.cluster-abc.us-east-1.rds.amazonaws.com",
        "port": 6432,
        "username": "etl user",
        "password": "it's a \\ hard = one '",
        "dbname": "market data",
        "sslmode": "verify-full",
    }
    arn = aws_env.create_secret("rds", secret)

    assert conninfo_to_dict(watermark_dsn("ignored", arn)) == {
        "host": secret["host"],
        "port": "6432",
        "user": "etl user",
        "password": "it's a \\ hard = one '",
        "dbname": "market data",
        "sslmode": "verify-full",
    }


def test_rds_secret_defaults_to_tls_port_5432_and_the_postgres_database(
    aws_env: AwsEnv,
) -> None:
    arn = aws_env.create_secret("rds", {"host": "db", "username": "u", "password": "p"})

    parts = conninfo_to_dict(watermark_dsn("ignored", arn))

    assert (parts["port"], parts["dbname"], parts["sslmode"]) == ("5432", "postgres", "require")


def test_rds_secret_lacking_a_field_names_it_but_not_the_password(aws_env: AwsEnv) -> None:
    arn = aws_env.create_secret("rds", {"host": "db", "password": SECRET_VALUE})

    with pytest.raises(RuntimeError, match="username") as excinfo:
        watermark_dsn("ignored", arn)
    assert SECRET_VALUE not in str(excinfo.value)
