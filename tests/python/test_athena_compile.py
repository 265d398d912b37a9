"""The Athena path without AWS: dbt-athena compiles every model against a moto server,
every compiled statement is Trino SQL within Athena's limits, and the Athena Silver SQL,
translated to DuckDB, gives exactly the rows the DuckDB build gives on the same sample
market.

The main proof that the compiled Athena SQL is right is test_trino_build.py, which runs it
unchanged on a real Trino (`-m trino`); the translation here stays as the check that needs
no JVM and runs in seconds."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import pyarrow.fs as pafs
import pytest
import sqlglot
from sqlglot import exp
from sqlglot.errors import ErrorLevel

from core.lake import Lake
from core.layout import LANDING_PREFIXES
from core.paths import REPO_ROOT
from ingestion.athena_ddl import LANDING_TABLES, landing_table_ddl, predictions_table_ddl
from ingestion.calendar import TradingCalendar
from ingestion.fetch import OhlcvRequest, fetch_ohlcv, fetch_tickers
from ingestion.sample_market import SampleMarket
from ingestion.stores import Stores
from ml.features import AthenaFeatureStore
from orchestration.plan import _features_export
from orchestration.vacuum import AthenaConsolidationCheck
from tests.python.athena_helpers import (
    CATALOG,
    AthenaCompile,
    MotoAthena,
    athena_to_duckdb,
    compile_for_athena,
    warehouse_schema,
)
from tests.python.athena_lint import MAX_STATEMENT_BYTES, athena_problems
from tests.python.dbt_helpers import dbt

START, END = dt.date(2024, 1, 2), dt.date(2024, 6, 28)
SESSIONS = (3, 5, 8, 13, 21, 34)
SILVER = tuple(f"ohlcv_{n}d" for n in SESSIONS)
# Functions sqlglot does not model but Trino has (an unknown function parses as Anonymous);
# the Trino tests run them (test_trino_build.py).
TRINO_FUNCTIONS_UNKNOWN_TO_SQLGLOT = frozenset({"is_finite"})


@dataclass(frozen=True)
class Project:
    warehouse: Path
    full: AthenaCompile  # no model relation in Glue yet: every is_incremental() is false
    incremental: AthenaCompile  # every incremental model registered in Glue (Iceberg)


def compile_both_variants(tmp: Path, aws: MotoAthena) -> tuple[AthenaCompile, AthenaCompile]:
    try:
        aws.provision()
        full = compile_for_athena(tmp / "full", aws)
        for schema, name in full.incremental_relations():
            aws.register_iceberg_table(schema, name)
        return full, compile_for_athena(tmp / "incremental", aws)
    finally:
        aws.reset()


@pytest.fixture(scope="module")
def project(
    tmp_path_factory: pytest.TempPathFactory, calendar: TradingCalendar, moto_server: str
) -> Project:
    tmp = tmp_path_factory.mktemp("athena")
    with ThreadPoolExecutor(max_workers=1) as pool:
        # dbt compiles in a subprocess while the sample market lands here
        athena = pool.submit(compile_both_variants, tmp / "athena", MotoAthena(moto_server))
        lake_dir, warehouse = tmp / "lake", tmp / "warehouse.duckdb"
        lake = Lake.open(str(lake_dir))
        stores = Stores.connect(f"sqlite:///{tmp / 'wm.sqlite'}")
        market = SampleMarket(calendar)
        fetch_tickers(market, lake, stores, END)
        # history_start=START: the NVLX split (2024-06-10) restates its history from START
        # on, not from 2022, so the lake holds exactly START..END.
        request = OhlcvRequest(start=START, end=END, history_start=START)
        fetch_ohlcv(market, lake, stores, calendar, request)
        stores.close()
        full, incremental = athena.result()
    dbt(tmp, lake_dir, warehouse, "build")
    return Project(warehouse, full, incremental)


def variants(project: Project) -> dict[str, AthenaCompile]:
    return {"full": project.full, "incremental": project.incremental}


def compiled_problems(project: Project, check: Callable[[str], list[str]]) -> list[str]:
    """`check` on every compiled model and data test, full and incremental, one line per
    problem naming the variant and the node."""
    return [
        f"{variant} {unique_id}: {problem}"
        for variant, compiled in variants(project).items()
        for unique_id, sql in compiled.sql.items()
        for problem in check(sql)
    ]


def without_built_at(relation_or_query: str) -> str:
    """Every column but `built_at` and `storage_period` (when and where dbt wrote the row:
    the compile's start and newest date in the compiled SQL, the build's in the table)."""
    source = relation_or_query
    if source.lstrip().lower().startswith(("select", "with")):
        source = f"({source})"
    return f"select * exclude (built_at, storage_period) from {source}"


def typed(rows: list[tuple[Any, ...]]) -> list[tuple[tuple[type, Any], ...]]:
    """Rows with each value's type, so 1 == 1.0 or a float bucket number cannot pass."""
    return [tuple((type(value), value) for value in row) for row in rows]


def test_every_model_and_data_test_compiles_for_the_athena_target(project: Project) -> None:
    model_files = {path.stem for path in (REPO_ROOT / "models").rglob("*.sql")}
    for variant, compiled in variants(project).items():
        assert compiled.manifest["metadata"]["adapter_type"] == "athena", variant
        assert "target='athena'" in compiled.stdout, variant
        nodes = compiled.manifest["nodes"].values()
        models = {node["name"] for node in nodes if node["resource_type"] == "model"}
        assert models == model_files, variant
        expected = {
            node["unique_id"] for node in nodes if node["resource_type"] in ("model", "test")
        }
        assert set(compiled.sql) == expected, variant
        # one test per model for its not-null and accepted-values columns: about 60
        assert sum(uid.startswith("test.") for uid in compiled.sql) > 50, variant
        statuses = {r["unique_id"]: r["status"] for r in compiled.run_results["results"]}
        failed = {uid: statuses.get(uid) for uid in expected if statuses.get(uid) != "success"}
        assert not failed, (variant, failed)


def test_incremental_models_compile_the_branch_their_glue_table_calls_for(
    project: Project,
) -> None:
    """dbt-athena looked the relations up in (moto's) Glue: no table, full build SQL;
    a registered Iceberg table, the incremental SQL that reads the table itself."""
    incremental_models = {name for _, name in project.full.incremental_relations()}
    assert incremental_models >= {"ohlcv_daily", "ohlcv_rejected", *SILVER}
    for name in ("ohlcv_daily", "ohlcv_rejected", *SILVER):
        assert project.full.model_sql(name) != project.incremental.model_sql(name), name
    for name in SILVER:
        this = f'"{CATALOG}"."silver"."{name}"'
        assert this not in project.full.model_sql(name), name
        incremental = project.incremental.model_sql(name)
        # cursor_lookback: the cursor read before the model runs, written in as a constant
        # (moto's Athena answers no rows: everything is new), never a subquery on the table
        assert "ingested_at > cast('1900-01-01 00:00:00' as timestamp)" in incremental, name
        assert "max(max_ingested_at)" not in incremental, name
        assert f"from {this}" in incremental, name
    cursor = "ingested_at > cast('1900-01-01 00:00:00' as timestamp)"
    assert cursor not in project.full.model_sql("ohlcv_daily")
    assert cursor in project.incremental.model_sql("ohlcv_daily")
    assert "max(ingested_at)" not in project.incremental.model_sql("ohlcv_daily")


def trino_problems(sql: str) -> list[str]:
    """Why `sql` is not one Trino statement (empty when it is)."""
    try:
        parsed = sqlglot.parse(sql, read="trino", error_level=ErrorLevel.RAISE)
    except sqlglot.errors.ParseError as error:
        return [str(error)]
    statements = [statement for statement in parsed if statement is not None]
    problems = [] if len(statements) == 1 else [f"{len(statements)} statements"]
    for statement in statements:
        # A DuckDB-only function (list_value, strftime, epoch_ms...) parses, as an unknown call.
        unknown = {call.name.lower() for call in statement.find_all(exp.Anonymous)}
        if unknown - TRINO_FUNCTIONS_UNKNOWN_TO_SQLGLOT:
            problems.append(f"functions unknown to Trino: {sorted(unknown)}")
        # A relation read through a table function (DuckDB's read_parquet) is not a table.
        problems.extend(
            f"not a named relation: {table.sql('trino')}"
            for table in statement.find_all(exp.Table)
            if not isinstance(table.this, exp.Identifier)
        )
    return problems


def test_trino_problems_finds_duckdb_sql() -> None:
    assert trino_problems('select a from "c"."s"."t" where b > 1') == []
    assert trino_problems("select a // 3 from t")
    assert trino_problems("select strftime(d, '%Y') from t")
    assert trino_problems("select * from read_parquet('lake/*.parquet')")
    assert trino_problems("select 1; select 2")


def test_every_compiled_statement_parses_as_trino(project: Project) -> None:
    failures = compiled_problems(project, trino_problems)
    assert not failures, "\n".join(failures)
    assert sum(len(compiled.sql) for compiled in variants(project).values()) > 100


def test_the_compiled_sql_is_the_athena_flavour(project: Project) -> None:
    for n, name in zip(SESSIONS, SILVER, strict=True):
        sql = project.full.model_sql(name)
        assert f"(session_index / {n}) as bucket_number" in sql, name  # Trino int division
        assert "//" not in sql, name
        assert f'from "{CATALOG}"."staging"."trading_calendar"' in sql, name
        assert f'from "{CATALOG}"."bronze"."ohlcv_daily"' in sql, name
    staging = project.full.model_sql("stg_landing__daily_bars")
    assert f'from "{CATALOG}"."landing"."raw_ohlcv"' in staging
    assert "read_parquet" not in staging  # the DuckDB-only external location
    assert "//" not in "".join(project.full.sql.values())


@pytest.mark.parametrize("name", SILVER)
def test_athena_silver_sql_on_duckdb_gives_the_dev_silver_rows(project: Project, name: str) -> None:
    with duckdb.connect(str(project.warehouse), read_only=True) as con:
        transpiled = athena_to_duckdb(project.full.model_sql(name), warehouse_schema(con))
        assert transpiled.relations == {"staging.trading_calendar", "bronze.ohlcv_daily"}
        athena = con.execute(without_built_at(transpiled.sql))
        athena_columns = [column[0] for column in athena.description]
        athena_rows = sorted(athena.fetchall())
        dev = con.execute(without_built_at(f"silver.{name}"))
        dev_columns = [column[0] for column in dev.description]
        dev_rows = sorted(dev.fetchall())
    assert athena_columns == dev_columns
    assert len(dev_rows) > 100
    assert typed(athena_rows) == typed(dev_rows)


def test_athena_incremental_silver_sql_on_an_up_to_date_warehouse_recomputes_the_open_bars(
    project: Project,
) -> None:
    """Up to date, a run recomputes the incomplete bars and the bars of rows inside the
    cursor's look-back window (here: the sample's last batch), and recomputing them
    changes nothing: every recomputed row is the stored row."""
    open_bars = 0
    with duckdb.connect(str(project.warehouse), read_only=True) as con:
        schema = warehouse_schema(con)
        for name in SILVER:
            transpiled = athena_to_duckdb(project.incremental.model_sql(name), schema)
            assert transpiled.relations == {
                "staging.trading_calendar",
                "bronze.ohlcv_daily",
                f"silver.{name}",
            }
            recomputed = set(typed(con.execute(without_built_at(transpiled.sql)).fetchall()))
            stored = set(typed(con.execute(without_built_at(f"silver.{name}")).fetchall()))
            expected = set(
                typed(
                    con.execute(
                        without_built_at(f"silver.{name}") + " where not is_complete"
                    ).fetchall()
                )
            )
            assert recomputed <= stored, name
            assert expected <= recomputed, name
            open_bars += len(expected)
    assert open_bars > 0


def test_the_athena_lint_finds_what_athena_rejects() -> None:
    assert athena_problems('select cast(0.5 as double), 1e-9, x from "c"."s"."t"') == []
    assert athena_problems("select 0.5 * x from t") == ["bare decimal literal 0.5"]
    assert athena_problems("select -0.25 from t") == ["bare decimal literal 0.25"]
    assert athena_problems("create or replace table t as select 1") == ["CREATE OR REPLACE TABLE"]
    assert athena_problems("create table t (a, b) as select 1, 2") == [
        "a column list in CREATE TABLE ... AS"
    ]
    assert athena_problems('CREATE EXTERNAL TABLE "d"."t" (a int)') == [
        "a double-quoted name in Hive DDL (Athena wants backticks)"
    ]
    assert athena_problems("select 1 -- " + "x" * MAX_STATEMENT_BYTES) == [
        f"{MAX_STATEMENT_BYTES + 12:,} bytes: over the {MAX_STATEMENT_BYTES:,}-byte budget"
    ]


def test_every_compiled_statement_is_athena_sql(project: Project) -> None:
    """Under 200 KB (Athena refuses 256 KB) and nothing Trino accepts but Athena does not,
    in every model and data test, full and incremental."""
    failures = compiled_problems(project, athena_problems)
    assert not failures, "\n".join(failures)


def test_the_projects_own_athena_sql_is_athena_sql(tmp_path: Path) -> None:
    """What the project sends Athena itself: the landing DDL, the feature export, the
    feature store's reads and vacuum's proof query."""
    lake_root = "s3://condvest-lake/lake"
    lake = Lake(lake_root, pafs.LocalFileSystem(), "condvest-lake/lake")
    landing = f"condvest-lake/lake/{LANDING_PREFIXES['ohlcv']}/ingest_date=2024-03-01/b.parquet"
    store = AthenaFeatureStore(s3_staging_dir="s3://results/", region="us-east-1", schema="gold")
    statements = {
        **{table: landing_table_ddl(table, lake_root, "landing") for table in LANDING_TABLES},
        "predictions": predictions_table_ddl(lake_root, "landing"),
        "features export": _features_export(lake_root, "gold", "daily-1")[1],
        "features read": store.query(dt.date(2024, 1, 2), dt.date(2024, 3, 1)),
        "features latest": store.latest_date_query(),
        "vacuum proof": AthenaConsolidationCheck().query(lake, [landing]),
    }
    failures = [f"{name}: {p}" for name, sql in statements.items() for p in athena_problems(sql)]
    assert not failures, "\n".join(failures)
