"""Vacuum on a real lake and a warehouse built by the real dbt project.

One module-scoped lake + warehouse (four OHLCV landing batches, a ticker snapshot, a
predictions file, a model file; bronze built by dbt); every test vacuums its own copy.
Candidates are the three early-March batches: with TODAY and 30 days, the cutoff is 2024-03-21.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import shutil
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import sqlglot
from sqlglot import exp

from core.lake import Lake
from core.layout import PREDICTIONS_PREFIX, PREDICTIONS_SCHEMA
from core.settings import Settings, SettingsError
from ingestion.bars import BAR_SCHEMA, LANDING_OHLCV_SCHEMA
from ingestion.calendar import TradingCalendar
from ingestion.duckdb_lake import define_lake_macros
from ingestion.events import EventError
from ingestion.landing import land_bars, land_tickers
from ingestion.sample_market import SampleMarket
from orchestration.handlers import vacuum as handler
from orchestration.vacuum import (
    AthenaConsolidationCheck,
    DuckDBConsolidationCheck,
    FileProof,
    ProofUnavailable,
    Skipped,
    VacuumResult,
    _proof_from_row,
    consolidation_check,
    vacuum,
)
from tests.python.dbt_helpers import content_sql, dbt

TODAY = dt.date(2024, 4, 20)
NOW = dt.datetime(2024, 4, 20, 6, 30, tzinfo=dt.UTC)
BRONZE = ("bronze.ohlcv_daily", "bronze.ohlcv_rejected")
BUILD_BRONZE = (
    "build",
    "--select",
    "trading_calendar",
    "stg_landing__daily_bars",
    "ohlcv_daily",
    "ohlcv_rejected",
    "landing_consolidation",
    # only the tests of these models (not silver's tests that also use the calendar)
    "--indirect-selection",
    "cautious",
    "--exclude-resource-type",
    "unit_test",
)
D = dt.date


def _at(day: dt.date, hour: int = 22) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day, hour, tzinfo=dt.UTC)


def _bars(*rows: tuple[str, dt.date, float, float, float, float]) -> pa.Table:
    return pa.Table.from_pylist(
        [
            {
                "symbol": symbol,
                "date": day,
                "open": open_,
                "high": high,
                "low": low,
                "close": close,
                "volume": 1000.0,
                "vwap": None,
                "transactions": 10,
            }
            for symbol, day, open_, high, low, close in rows
        ],
        schema=BAR_SCHEMA,
    )


def _ok(symbol: str, day: dt.date, close: float = 10.5) -> tuple:
    return (symbol, day, 10.0, 11.0, 9.0, close)


def _land(lake: Lake, calendar: TradingCalendar, when: dt.datetime, *rows: tuple) -> str:
    """Land one batch as if it arrived at `when`; its path relative to the lake root."""
    batch = land_bars(lake, calendar, _bars(*rows), "sample", when)
    return str(Path(batch.path).relative_to(lake.base))


@dataclass(frozen=True)
class Built:
    lake_dir: Path
    warehouse: Path
    files: dict[str, str]  # name -> path relative to the lake root


@pytest.fixture(scope="module")
def built(tmp_path_factory, calendar) -> Built:
    tmp = tmp_path_factory.mktemp("vacuum")
    lake_dir, warehouse = tmp / "lake", tmp / "warehouse.duckdb"
    lake = Lake.open(str(lake_dir))
    march1, march4, march5, march6 = D(2024, 3, 1), D(2024, 3, 4), D(2024, 3, 5), D(2024, 3, 6)
    files = {
        "f1": _land(lake, calendar, _at(march1), *(_ok(s, march1) for s in ("AAA", "BBB", "CCC"))),
        # CCC's high is below its low: invalid, it goes to bronze.ohlcv_rejected
        "f2": _land(
            lake,
            calendar,
            _at(march4),
            _ok("AAA", march4),
            _ok("BBB", march4),
            ("CCC", march4, 10.0, 9.0, 11.0, 10.0),
        ),
        # a correction of AAA's March 1st bar, and the day's bars
        "f3": _land(
            lake,
            calendar,
            _at(march5),
            _ok("AAA", march1, close=10.9),
            *(_ok(s, march5) for s in ("AAA", "BBB", "CCC")),
        ),
        # the next session, landed weeks later (sessions stay contiguous for dbt's tests)
        "f4": _land(
            lake, calendar, _at(D(2024, 4, 10)), *(_ok(s, march6) for s in ("AAA", "BBB", "CCC"))
        ),
    }
    tickers = SampleMarket(calendar).tickers(march1, active=True).slice(0, 5)
    batch = land_tickers(lake, tickers, "sample", _at(march1, 21))
    files["tickers"] = str(Path(batch.path).relative_to(lake_dir))
    predictions = lake.path(PREDICTIONS_PREFIX, "model_version=v1", "date=2024-03-01", "b.parquet")
    lake.write_parquet(PREDICTIONS_SCHEMA.empty_table(), predictions)
    files["predictions"] = str(Path(predictions).relative_to(lake_dir))
    model = lake_dir / "ml" / "models" / "v1" / "model.joblib"
    model.parent.mkdir(parents=True)
    model.write_bytes(b"model")
    dbt(tmp, lake_dir, warehouse, *BUILD_BRONZE)
    return Built(lake_dir, warehouse, files)


@dataclass
class Env:
    """A private copy of the built lake and warehouse."""

    tmp: Path
    lake_dir: Path
    warehouse: Path
    files: dict[str, str]

    @property
    def lake(self) -> Lake:
        return Lake.open(str(self.lake_dir))

    @property
    def check(self) -> DuckDBConsolidationCheck:
        return DuckDBConsolidationCheck(str(self.warehouse))

    def abs(self, name: str) -> str:
        return str(self.lake_dir / self.files.get(name, name))

    def vacuum(self, **kwargs: Any) -> VacuumResult:
        kwargs.setdefault("today", TODAY)
        kwargs.setdefault("now", NOW)
        kwargs.setdefault("retention_days", Settings().vacuum_retention_days)
        return vacuum(self.lake, kwargs.pop("check", self.check), **kwargs)


@pytest.fixture
def env(built: Built, tmp_path: Path) -> Env:
    lake_dir, warehouse = tmp_path / "lake", tmp_path / "warehouse.duckdb"
    shutil.copytree(built.lake_dir, lake_dir)
    shutil.copy2(built.warehouse, warehouse)
    return Env(tmp_path, lake_dir, warehouse, dict(built.files))


def _listing(root: Path) -> set[str]:
    return {str(p.relative_to(root)) for p in root.rglob("*") if p.is_file()}


def _bronze(warehouse: Path) -> dict[str, list[tuple]]:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return {table: sorted(con.execute(content_sql(con, table)).fetchall()) for table in BRONZE}


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _rows(env: Env, name: str) -> int:
    return pq.read_metadata(env.abs(name)).num_rows


def _late_file(env: Env, calendar: TradingCalendar) -> str:
    """A batch landed after the build into a March partition: dbt never read it."""
    march1 = D(2024, 3, 1)
    env.files["late"] = _land(
        env.lake,
        calendar,
        _at(D(2024, 3, 2)),
        _ok("AAA", march1, close=10.7),  # superseded by the March 5th correction: proven
        _ok("BBB", march1, close=10.8),  # a correction bronze never saw
        _ok("DDD", march1),  # a symbol bronze never saw
        ("EEE", march1, 10.0, 9.0, 11.0, 10.0),  # invalid, and not in ohlcv_rejected
    )
    return env.files["late"]


def test_consolidated_files_past_retention_are_deleted_and_bronze_still_builds(env, calendar):
    before, bronze, digest = _listing(env.lake_dir), _bronze(env.warehouse), _digest(env.warehouse)
    old = ["f1", "f2", "f3"]

    result = env.vacuum()

    assert result.candidates == 3
    assert result.deleted == sorted(env.abs(name) for name in old)
    assert result.kept == [] and result.ignored == []
    assert (result.retention_days, result.cutoff) == (30, D(2024, 3, 21))
    assert result.rows_deleted == 3 + 3 + 4
    manifest_path = Path(str(result.manifest))
    assert manifest_path.parent == env.lake_dir / "_manifests" / "vacuum"
    assert manifest_path.name.startswith("20240420T063000Z-") and manifest_path.suffix == ".json"
    after = _listing(env.lake_dir)
    assert after == (before - {env.files[name] for name in old}) | {
        str(manifest_path.relative_to(env.lake_dir))
    }
    # the partitions it emptied are gone; the kept ticker snapshot's is not
    assert not (env.lake_dir / "bronze/raw_ohlcv/ingest_date=2024-03-04").exists()
    assert (env.lake_dir / env.files["tickers"]).exists()

    manifest = json.loads(manifest_path.read_text())
    assert manifest["cutoff"] == "2024-03-21" and manifest["retention_days"] == 30
    assert manifest["check"] == f"duckdb:{env.warehouse}"
    entries = {Path(e["file"]).name: e for e in manifest["deleted"]}
    for name, rows in zip(old, (3, 3, 4), strict=True):
        entry = entries[Path(env.files[name]).name]
        assert entry["rows"] == entry["rows_proven"] == rows
        assert entry["ingest_date"] == env.files[name].split("ingest_date=")[1][:10]
        assert entry["bytes"] > 0
    assert sum(e["bytes"] for e in manifest["deleted"]) == result.bytes_deleted
    assert manifest["kept"] == []

    # the warehouse was only read
    assert _digest(env.warehouse) == digest
    # bronze keeps building incrementally from what is left, plus a new day
    march7 = D(2024, 3, 7)
    _land(env.lake, calendar, _at(D(2024, 4, 19)), _ok("AAA", march7))
    dbt(env.tmp, env.lake_dir, env.warehouse, *BUILD_BRONZE)
    rebuilt = _bronze(env.warehouse)
    assert rebuilt["bronze.ohlcv_rejected"] == bronze["bronze.ohlcv_rejected"]
    new = [row for row in rebuilt["bronze.ohlcv_daily"] if row[1] == march7]
    assert len(new) == 1
    assert sorted(set(rebuilt["bronze.ohlcv_daily"]) - set(new)) == bronze["bronze.ohlcv_daily"]


def test_a_file_bronze_never_saw_is_kept_and_the_reason_names_its_rows(env, calendar):
    late = _late_file(env, calendar)

    result = env.vacuum()

    assert result.candidates == 4
    assert result.deleted == sorted(env.abs(name) for name in ("f1", "f2", "f3"))
    assert result.kept == [
        Skipped(
            env.abs(late),
            "3 of 4 rows not in bronze.ohlcv_daily or bronze.ohlcv_rejected "
            "(first: BBB 2024-03-01)",
        )
    ]
    assert Path(env.abs(late)).exists()
    manifest = json.loads(Path(str(result.manifest)).read_text())
    assert manifest["kept"] == result.to_dict()["kept"]


def test_an_invalid_row_is_proven_by_ohlcv_rejected(env):
    f2 = env.abs("f2")
    proofs = env.check.unproven_rows(env.lake, [f2])
    assert proofs == {f2: FileProof(rows=3, daily_cursor=dt.datetime(2024, 4, 10, 22))}
    # without its rejected row, the same file is no longer proven
    with duckdb.connect(str(env.warehouse)) as con:
        con.execute("delete from bronze.ohlcv_rejected where symbol = 'CCC'")
    proof = env.check.unproven_rows(env.lake, [f2])[f2]
    assert (proof.unconsolidated, proof.first_unconsolidated) == (1, "CCC 2024-03-04")


def test_a_row_only_staging_rejects_is_accounted_for_by_ohlcv_rejected(env):
    # A file landed before a value rule existed: landing calls the row valid, staging's
    # re-check (bar_value_problems) rejects it. It is in ohlcv_rejected, so the file goes.
    table = pq.read_table(env.abs("f4")).slice(0, 1)
    batch = "pre-rule-batch"
    table = table.set_column(table.schema.get_field_index("vwap"), "vwap", pa.array([99.0]))
    table = table.set_column(
        table.schema.get_field_index("batch_id"), "batch_id", pa.array([batch])
    )
    table = table.set_column(
        table.schema.get_field_index("ingested_at"),
        "ingested_at",
        pa.array([_at(D(2024, 4, 11))], pa.timestamp("us", tz="UTC")),
    )
    assert table.column("invalid_reason").to_pylist() == [None]
    path = env.lake.path(f"bronze/raw_ohlcv/ingest_date=2024-04-11/{batch}.parquet")
    env.lake.write_parquet(table, path)
    dbt(env.tmp, env.lake_dir, env.warehouse, *BUILD_BRONZE)
    with duckdb.connect(str(env.warehouse), read_only=True) as con:
        rejected = con.execute(
            "select invalid_reason from bronze.ohlcv_rejected where batch_id = ?", [batch]
        ).fetchall()
    assert rejected == [("vwap_outside_range",)]

    result = env.vacuum(today=D(2024, 5, 20), retention_days=30)

    assert path in result.deleted and not Path(path).exists()


def test_a_row_superseded_by_a_later_correction_is_proven(env):
    f1 = env.abs("f1")
    with duckdb.connect(str(env.warehouse), read_only=True) as con:
        (batch,) = con.execute(
            "select batch_id from bronze.ohlcv_daily where symbol = 'AAA' and date = '2024-03-01'"
        ).fetchone()
    assert f"{batch}.parquet" == Path(env.files["f3"]).name  # the correction won
    assert env.check.unproven_rows(env.lake, [f1])[f1].reason() is None
    # bronze holding an older version than the landing row proves nothing
    with duckdb.connect(str(env.warehouse)) as con:
        con.execute(
            "update bronze.ohlcv_daily set ingested_at = timestamp '2024-02-01 00:00:00' "
            "where symbol = 'AAA' and date = '2024-03-01'"
        )
    proof = env.check.unproven_rows(env.lake, [f1])[f1]
    assert (proof.unconsolidated, proof.first_unconsolidated) == (1, "AAA 2024-03-01")


def test_a_dry_run_reports_exactly_what_the_real_run_then_does(env, calendar):
    _late_file(env, calendar)
    before = _listing(env.lake_dir)

    dry = env.vacuum(dry_run=True)

    assert _listing(env.lake_dir) == before
    assert dry.manifest is None and dry.dry_run is True
    assert len(dry.deleted) == 3 and len(dry.kept) == 1
    real = env.vacuum()
    assert real.manifest is not None
    assert replace(dry, dry_run=False, manifest=real.manifest) == real


def test_nothing_but_proven_landing_files_past_retention_is_touched(env):
    old = env.lake_dir / "bronze/raw_ohlcv/ingest_date=2024-03-01"
    content = Path(env.abs("f1")).read_bytes()
    strays = {
        old / "notes.txt": b"notes",
        old / f"{Path(env.files['f1']).name}.0123abcd.tmp": content,
        old / "sub" / "nested.parquet": content,
        old / "we[ir]d.parquet": content,
        env.lake_dir / "bronze/raw_ohlcv/ingest_date=garbage/x.parquet": content,
        env.lake_dir / "bronze/raw_ohlcv/stray.parquet": content,
    }
    for path, body in strays.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(body)
    before = _listing(env.lake_dir)

    result = env.vacuum()

    deleted = {env.files[name] for name in ("f1", "f2", "f3")}
    manifest = str(Path(str(result.manifest)).relative_to(env.lake_dir))
    assert _listing(env.lake_dir) == (before - deleted) | {manifest}
    for name in ("f4", "tickers", "predictions"):
        assert env.files[name] in before - deleted
    assert "ml/models/v1/model.joblib" in before - deleted
    assert [Path(item.file).relative_to(env.lake_dir).as_posix() for item in result.ignored] == [
        "bronze/raw_ohlcv/ingest_date=2024-03-01/sub/nested.parquet",
        "bronze/raw_ohlcv/ingest_date=2024-03-01/we[ir]d.parquet",
        "bronze/raw_ohlcv/ingest_date=garbage/x.parquet",
        "bronze/raw_ohlcv/stray.parquet",
    ]
    assert old.is_dir()  # not emptied: the strays are still there


def test_rows_inside_dbts_cursor_look_back_are_kept(env):
    # With 5 days, April 10th's batch is past retention, but it holds bronze's newest rows:
    # dbt re-reads them on every build, so they must stay.
    result = env.vacuum(retention_days=5)

    assert result.cutoff == D(2024, 4, 15) and result.candidates == 4
    assert len(result.deleted) == 3
    assert result.kept == [
        Skipped(
            env.abs("f4"),
            "3 of 3 rows landed within the look-back margin of bronze.ohlcv_daily's cursor "
            "(2024-04-10 22:00:00); dbt still re-reads them",
        )
    ]


def test_without_bronze_tables_nothing_is_deleted(env):
    before = _listing(env.lake_dir)
    empty = env.tmp / "empty.duckdb"
    duckdb.connect(str(empty)).close()

    result = env.vacuum(check=DuckDBConsolidationCheck(str(empty)))

    assert result.deleted == [] and result.manifest is None
    assert [item.file for item in result.kept] == sorted(
        env.abs(name) for name in ("f1", "f2", "f3")
    )
    assert {item.reason for item in result.kept} == {
        f"warehouse {empty} has no bronze.ohlcv_daily, bronze.ohlcv_rejected and "
        "bronze.landing_consolidation; build bronze with dbt first"
    }
    missing = env.vacuum(check=DuckDBConsolidationCheck(str(env.tmp / "nope.duckdb")))
    assert missing.deleted == [] and "does not exist" in missing.kept[0].reason
    assert _listing(env.lake_dir) == before


def test_an_empty_landing_file_past_retention_is_deleted(env):
    empty = env.lake.path("bronze/raw_ohlcv/ingest_date=2024-03-08/empty-batch.parquet")
    env.lake.write_parquet(LANDING_OHLCV_SCHEMA.empty_table(), empty)

    result = env.vacuum()

    assert empty in result.deleted and result.rows_deleted == 3 + 3 + 4
    entries = json.loads(Path(str(result.manifest)).read_text())["deleted"]
    assert [(e["rows"], e["rows_proven"]) for e in entries if e["file"] == empty] == [(0, 0)]


class _Unused:
    def describe(self) -> str:
        return "unused"

    def unproven_rows(self, lake, files):
        raise AssertionError("no candidate, no query")


def test_retention_is_at_least_a_day_and_no_candidate_means_no_query(env):
    for bad in (0, -3, True, 1.5):
        with pytest.raises(ValueError, match="retention_days"):
            env.vacuum(retention_days=bad)
    result = env.vacuum(today=D(2024, 3, 2), retention_days=1, check=_Unused())
    assert result.candidates == 0 and result.manifest is None


def test_an_s3_lake_is_vacuumed_through_duckdb_and_pyarrow(built, aws_env):
    bucket = aws_env.create_bucket("condvest-vacuum")
    s3 = aws_env.client("s3")
    for key in _listing(built.lake_dir):
        s3.upload_file(str(built.lake_dir / key), bucket, f"lake/{key}")
    # the zero-byte directory markers pyarrow writes: an emptied partition loses its own
    markers = [f"lake/bronze/raw_ohlcv/ingest_date={day}/" for day in ("2024-03-01", "2024-04-10")]
    for marker in markers:
        s3.put_object(Bucket=bucket, Key=marker, Body=b"")
    lake = Lake.open(f"s3://{bucket}/lake")

    result = vacuum(
        lake,
        DuckDBConsolidationCheck(str(built.warehouse)),
        today=TODAY,
        now=NOW,
        retention_days=30,
    )

    uri = f"s3://{bucket}/lake/"
    assert result.deleted == sorted(uri + built.files[name] for name in ("f1", "f2", "f3"))
    keys = {o["Key"] for o in s3.list_objects_v2(Bucket=bucket)["Contents"]}
    (manifest,) = [key for key in keys if key.startswith("lake/_manifests/vacuum/")]
    assert result.manifest == f"s3://{bucket}/{manifest}"
    body = json.loads(s3.get_object(Bucket=bucket, Key=manifest)["Body"].read())
    assert [e["file"] for e in body["deleted"]] == result.deleted
    assert keys == {f"lake/{key}" for key in _listing(built.lake_dir)} - {
        f"lake/{built.files[name]}" for name in ("f1", "f2", "f3")
    } | {manifest, markers[1]}


# -- Athena ---------------------------------------------------------------------------------


def _athena_sql(env: Env, names: list[str], prefix: str = "") -> str:
    files = [env.abs(name) for name in names]
    return AthenaConsolidationCheck(schema_prefix=prefix).query(env.lake, files)


def test_the_athena_query_reads_the_candidate_partitions_of_the_consolidation_model(env):
    sql = _athena_sql(env, ["f1", "f2", "f3"], prefix="dev_")
    tree = sqlglot.parse_one(sql, read="athena")
    assert sqlglot.parse_one(sql, read="trino") is not None
    tables = {(t.db, t.name) for t in tree.find_all(exp.Table) if t.db}
    # the rule is the dbt model's: the query reads nothing else
    assert tables == {("dev_bronze", "landing_consolidation")}
    (partitions,) = [
        node
        for node in tree.find_all(exp.In)
        if any(column.name == "ingest_date" for column in node.this.find_all(exp.Column))
    ]
    assert [value.name for value in partitions.expressions] == [
        "2024-03-01",
        "2024-03-04",
        "2024-03-05",
    ]
    assert sql == env.check.query(env.lake, [env.abs(n) for n in ("f1", "f2", "f3")]).replace(
        '"bronze".landing_consolidation', '"dev_bronze"."landing_consolidation"'
    )
    with pytest.raises(ValueError, match="DBT_SCHEMA_PREFIX"):
        AthenaConsolidationCheck(schema_prefix="dev; drop table x --")


def test_the_athena_query_proves_what_the_duckdb_check_proves(env, calendar):
    # The Athena SQL, transpiled by sqlglot, over the warehouse's own consolidation view
    # (its landing macros pointed at this lake): same answer as the DuckDB check.
    _late_file(env, calendar)
    names = ["f1", "f2", "f3", "late"]
    sql = sqlglot.transpile(_athena_sql(env, names), read="trino", write="duckdb")[0]
    with duckdb.connect(str(env.warehouse), read_only=True) as con:
        con.execute("set TimeZone = 'UTC'")
        define_lake_macros(con, str(env.lake_dir), temporary=True)
        cursor = con.execute(sql)
        columns = [c[0] for c in cursor.description]
        rows = [dict(zip(columns, r, strict=True)) for r in cursor.fetchall()]
    athena = {row["file"]: _proof_from_row(row) for row in rows}
    duck = env.check.unproven_rows(env.lake, [env.abs(n) for n in names])
    assert athena == duck
    assert duck[env.abs("late")].unconsolidated == 3


class FakeAthena:
    """Canned boto3 Athena answers: RUNNING once, then `final`; results in two pages."""

    def __init__(self, final: str = "SUCCEEDED", reason: str = "", pages: list | None = None):
        self.final, self.reason, self.pages = final, reason, pages or []
        self.started: list[dict[str, Any]] = []
        self.polls = 0

    def start_query_execution(self, **kwargs):
        self.started.append(kwargs)
        return {"QueryExecutionId": "q-1"}

    def get_query_execution(self, QueryExecutionId):  # noqa: N803 (boto3's name)
        self.polls += 1
        state = "RUNNING" if self.polls == 1 else self.final
        return {"QueryExecution": {"Status": {"State": state, "StateChangeReason": self.reason}}}

    def get_query_results(self, QueryExecutionId, NextToken=None):  # noqa: N803
        index = int(NextToken or 0)
        page = {"ResultSet": {"Rows": self.pages[index]}}
        if index == 0:
            names = ["file", "row_count", "unconsolidated", "near_cursor"]
            names += ["first_unconsolidated", "daily_cursor"]
            page["ResultSet"]["ResultSetMetadata"] = {"ColumnInfo": [{"Name": n} for n in names]}
        if index + 1 < len(self.pages):
            page["NextToken"] = str(index + 1)
        return page


def _row(*values: str | None) -> dict[str, Any]:
    return {"Data": [{"VarCharValue": v} if v is not None else {} for v in values]}


def test_the_athena_check_runs_one_query_and_reads_paged_results(env):
    f1, f2 = env.abs("f1"), env.abs("f2")
    header = _row("file", "row_count", "unconsolidated", "near_cursor", "first_unconsolidated", "x")
    cursor = "2024-04-10 22:00:00.000"
    fake = FakeAthena(
        pages=[
            [header, _row(f1, "3", "0", "0", None, cursor)],
            [
                _row(f2, "3", "1", "0", "CCC 2024-03-04", cursor),
                _row("/other.parquet", "1", "1", "0", "ZZZ 2024-03-01", cursor),
            ],
        ]
    )
    check = AthenaConsolidationCheck.from_settings(
        Settings.from_env(
            {
                "ATHENA_WORKGROUP": "wg",
                "ATHENA_S3_STAGING_DIR": "s3://results/",
                "DBT_SCHEMA_PREFIX": "p_",
            }
        ),
        client=fake,
    )
    check.sleep = lambda seconds: None

    proofs = check.unproven_rows(env.lake, [f1, f2])

    (request,) = fake.started
    assert request["WorkGroup"] == "wg"
    assert request["ResultConfiguration"] == {"OutputLocation": "s3://results/"}
    assert '"p_bronze"."landing_consolidation"' in request["QueryString"]
    assert proofs == {
        f1: FileProof(rows=3, daily_cursor=dt.datetime(2024, 4, 10, 22)),
        f2: FileProof(3, 1, "CCC 2024-03-04", 0, dt.datetime(2024, 4, 10, 22)),
    }


def test_athena_without_bronze_tables_keeps_everything(env):
    missing = "TABLE_NOT_FOUND: line 1:1: Table 'awsdatacatalog.bronze.ohlcv_daily' does not exist"
    check = AthenaConsolidationCheck(client=FakeAthena("FAILED", missing), sleep=lambda s: None)
    with pytest.raises(ProofUnavailable):
        check.unproven_rows(env.lake, [env.abs("f1")])
    result = env.vacuum(check=check)
    assert result.deleted == [] and len(result.kept) == 3
    assert missing in result.kept[0].reason
    broken = AthenaConsolidationCheck(
        client=FakeAthena("FAILED", "SYNTAX_ERROR"), sleep=lambda s: None
    )
    with pytest.raises(RuntimeError, match="SYNTAX_ERROR"):
        broken.unproven_rows(env.lake, [env.abs("f1")])


# -- factory and Lambda handler --------------------------------------------------------------


def test_the_check_factory_reads_the_targets_environment():
    def check(target: str, env: dict[str, str]) -> Any:
        return consolidation_check(target, Settings.from_env(env))

    dev = check("dev", {"WAREHOUSE_PATH": "/w.duckdb", "DBT_SCHEMA_PREFIX": "x_"})
    assert dev == DuckDBConsolidationCheck("/w.duckdb", schema_prefix="x_")
    assert check("dev", {}).warehouse_path == "./data/warehouse.duckdb"
    athena = check("athena", {"ATHENA_WORKGROUP": "wg", "AWS_REGION": "eu-west-1"})
    assert isinstance(athena, AthenaConsolidationCheck)
    assert (athena.work_group, athena.region, athena.schema_prefix) == ("wg", "eu-west-1", "")
    with pytest.raises(ValueError, match="unknown target"):
        check("prod", {})


def test_the_handler_parses_its_event():
    today = D(2024, 4, 20)

    def parse(event: Any, today: dt.date, env: dict[str, str]) -> handler.VacuumRequest:
        return handler.parse_event(event, today, Settings.from_env(env))

    assert parse(None, today, {}) == handler.VacuumRequest(today, 30, False)
    assert parse({}, today, {"VACUUM_RETENTION_DAYS": "7"}).retention_days == 7
    assert parse(
        {"date": "2024-01-31", "retention_days": 3, "dry_run": True}, today, {}
    ) == handler.VacuumRequest(D(2024, 1, 31), 3, True)
    for bad in (
        {"retention": 3},
        {"date": "31/01/2024"},
        {"retention_days": 0},
        {"retention_days": "30"},
        {"retention_days": True},
        {"dry_run": "yes"},
        ["date"],
    ):
        with pytest.raises(EventError):
            parse(bad, today, {})
    with pytest.raises(SettingsError, match="VACUUM_RETENTION_DAYS"):
        parse({}, today, {"VACUUM_RETENTION_DAYS": "thirty"})


def test_the_handler_vacuums_the_lake_root_with_the_athena_check(env, monkeypatch):
    targets = []

    def check_for(target: str, settings: Settings) -> DuckDBConsolidationCheck:
        targets.append(target)
        return env.check  # stands in for Athena, which does not run here

    monkeypatch.setattr(handler, "consolidation_check", check_for)
    monkeypatch.setenv("LAKE_ROOT", str(env.lake_dir))
    monkeypatch.setenv("VACUUM_RETENTION_DAYS", "30")

    result = handler.lambda_handler({"date": "2024-04-20", "dry_run": True}, None)

    assert targets == ["athena"]
    assert (result["dry_run"], result["candidates"], len(result["deleted"])) == (True, 3, 3)
    assert json.loads(json.dumps(result)) == result  # plain JSON for Step Functions
