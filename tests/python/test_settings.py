"""The settings object: one default per value, and a bad value stops the process at start
with the variable's name."""

from __future__ import annotations

import ast
import dataclasses
import datetime as dt
import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from condvest.cli import main
from core.errors import ExitCode
from core.paths import REPO_ROOT
from core.settings import Settings, SettingsError

SETTINGS_MODULE = REPO_ROOT / "core" / "settings.py"


def _variables() -> set[str]:
    """Every environment variable Settings.from_env reads (from its source)."""
    return set(re.findall(r'read\.\w+\(\s*"([A-Z][A-Z0-9_]+)"', SETTINGS_MODULE.read_text()))


def test_unset_and_empty_variables_give_the_defaults() -> None:
    assert Settings.from_env({}) == Settings()
    assert Settings.from_env(dict.fromkeys(_variables(), "")) == Settings()


def test_every_value_is_read_from_its_variable() -> None:
    env = {
        "LAKE_ROOT": "s3://bucket/lake",
        "WAREHOUSE_PATH": "/w.duckdb",
        "WATERMARK_DSN": "postgresql://h/db",
        "RDS_SECRET_ARN": "arn:aws:secretsmanager:eu-west-1:1:secret:x",
        "TRADING_CALENDAR_PATH": "/cal.csv",
        "MARKET_SOURCE": "polygon",
        "POLYGON_BASE_URL": "http://127.0.0.1:9/",
        "POLYGON_HTTP_TIMEOUT": "2.5",
        "POLYGON_HTTP_MAX_RETRIES": "0",
        "POLYGON_MAX_REQUESTS_PER_MINUTE": "5",
        "POLYGON_RATE_LIMIT_WAIT_SECONDS": "90",
        "DBT_TARGET": "athena",
        "DBT_SCHEMA_PREFIX": "ci_",
        "AWS_DEFAULT_REGION": "eu-west-1",
        "ATHENA_S3_STAGING_DIR": "s3://results/x/",
        "ATHENA_WORKGROUP": "wg",
        "ATHENA_CATALOG": "cat",
        "TRAINING_WEEKDAY": "wednesday",
        "DAILY_HISTORY_START": "2020-01-02",
        "VACUUM_RETENTION_DAYS": "7",
    }
    settings = Settings.from_env(env)
    assert settings == Settings(
        lake_root="s3://bucket/lake",
        warehouse_path="/w.duckdb",
        watermark_dsn="postgresql://h/db",
        rds_secret_arn="arn:aws:secretsmanager:eu-west-1:1:secret:x",
        trading_calendar_path=Path("/cal.csv"),
        market_source="polygon",
        polygon_base_url="http://127.0.0.1:9",
        http_timeout_seconds=2.5,
        http_max_retries=0,
        polygon_max_requests_per_minute=5,
        polygon_rate_limit_wait_seconds=90.0,
        dbt_target="athena",
        dbt_schema_prefix="ci_",
        aws_region="eu-west-1",
        athena_s3_staging_dir="s3://results/x/",
        athena_workgroup="wg",
        athena_catalog="cat",
        training_weekday="WED",
        daily_history_start=dt.date(2020, 1, 2),
        vacuum_retention_days=7,
    )
    assert settings.schema("gold") == "ci_gold"
    # AWS_REGION (what Lambda sets) wins over the CLI's AWS_DEFAULT_REGION
    assert Settings.from_env({**env, "AWS_REGION": "ap-south-1"}).aws_region == "ap-south-1"
    assert set(env) | {"AWS_REGION"} == _variables()


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("POLYGON_HTTP_TIMEOUT", "soon"),
        ("POLYGON_HTTP_TIMEOUT", "0"),
        ("POLYGON_HTTP_TIMEOUT", "-1"),
        ("POLYGON_HTTP_TIMEOUT", "nan"),
        ("POLYGON_HTTP_MAX_RETRIES", "-1"),
        ("POLYGON_HTTP_MAX_RETRIES", "1.5"),
        ("POLYGON_MAX_REQUESTS_PER_MINUTE", "0"),
        ("POLYGON_MAX_REQUESTS_PER_MINUTE", "five"),
        ("POLYGON_RATE_LIMIT_WAIT_SECONDS", "-1"),
        ("VACUUM_RETENTION_DAYS", "0"),
        ("VACUUM_RETENTION_DAYS", "thirty"),
        ("MARKET_SOURCE", "bloomberg"),
        ("DBT_TARGET", "prod"),
        ("POLYGON_BASE_URL", "api.polygon.io"),
        ("ATHENA_S3_STAGING_DIR", "results/dbt/"),
        ("TRAINING_WEEKDAY", "someday"),
        ("DAILY_HISTORY_START", "01/02/2020"),
    ],
)
def test_a_bad_value_fails_with_its_variable_and_value(variable: str, value: str) -> None:
    with pytest.raises(SettingsError, match=rf"^{variable} must be .*{re.escape(value)}"):
        Settings.from_env({variable: value})


def test_a_bad_value_stops_the_cli_before_any_step_with_one_line(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("POLYGON_HTTP_MAX_RETRIES", "-3")
    result = CliRunner().invoke(main, ["vacuum", "--dry-run"])
    assert result.exit_code == ExitCode.USAGE == 2
    assert result.output.strip().splitlines() == [
        "error: POLYGON_HTTP_MAX_RETRIES must be an integer >= 0, got '-3'"
    ]


def test_profiles_yml_defaults_are_the_settings_defaults() -> None:
    """dbt reads its settings from profiles.yml; its fallbacks must be the same values."""
    profiles = (REPO_ROOT / "profiles.yml").read_text()
    fallbacks = dict(re.findall(r"env_var\('([A-Z0-9_]+)', '([^']*)'\)", profiles))
    defaults = Settings()
    assert {
        "WAREHOUSE_PATH": defaults.warehouse_path,
        "ATHENA_S3_STAGING_DIR": defaults.athena_s3_staging_dir,
        "AWS_DEFAULT_REGION": defaults.aws_region,
        "ATHENA_CATALOG": defaults.athena_catalog,
        "ATHENA_WORKGROUP": defaults.athena_workgroup,
        "DBT_TARGET": defaults.dbt_target,
    }.items() <= fallbacks.items()


def _names_read(node: ast.AST) -> set[str]:
    """The names a node reads from a mapping: `x.get("NAME", ...)`, `os.getenv("NAME")`,
    `x["NAME"]`, and click's `envvar="NAME"`."""
    keys: list[ast.expr] = []
    if isinstance(node, ast.Call):
        if isinstance(node.func, ast.Attribute) and node.func.attr in ("get", "getenv"):
            keys = list(node.args[:1])
        keys += [keyword.value for keyword in node.keywords if keyword.arg == "envvar"]
    elif isinstance(node, ast.Subscript):
        keys = [node.slice]
    return {
        key.value for key in keys if isinstance(key, ast.Constant) and isinstance(key.value, str)
    }


def test_no_module_reads_a_setting_from_the_environment_itself() -> None:
    """Settings has one owner: any other module reading one of its variables from the
    environment would bring a second default."""
    variables = _variables()
    readers = []
    for package in ("condvest", "core", "ingestion", "ml", "oracle", "orchestration"):
        for path in sorted((REPO_ROOT / package).rglob("*.py")):
            if path == SETTINGS_MODULE:
                continue
            for node in ast.walk(ast.parse(path.read_text())):
                line = getattr(node, "lineno", 0)
                for name in sorted(_names_read(node) & variables):
                    readers.append(f"{path.relative_to(REPO_ROOT)}:{line} {name}")
    assert readers == [], "\n".join(readers)


def test_settings_are_frozen() -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        Settings().lake_root = "elsewhere"  # type: ignore[misc]
