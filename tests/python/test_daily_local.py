"""`condvest daily`: the ASL's states run locally; planning; re-runs and interrupted runs.

The end-to-end tests run the real command (a subprocess, as a user runs it) on the sample
market: dbt on DuckDB, training, prediction, vacuum and the run record.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from contextlib import closing
from pathlib import Path
from typing import Any

import duckdb
import pytest

from core.lake import Lake
from ingestion.calendar import TradingCalendar
from orchestration import asl
from orchestration.daily import LocalSteps, step_names
from orchestration.plan import PlanError, daily_model_version, resolve_run, training_weekday

CONDVEST = str(Path(sys.executable).with_name("condvest"))
RUN_DATE = "2025-12-31"  # the sample market's last session, a Wednesday
# Columns that say when a row was landed, scored or built, not what it holds.
RUN_TIME_COLUMNS = {
    "built_at",
    "storage_period",
    "ingested_at",
    "max_ingested_at",
    "batch_id",
    # the landing file a row came from (bronze.landing_consolidation): named by its batch's
    # time, and an absolute path, which differs between copies of one lake
    "landing_file",
    "bronze_cursor",
    "predicted_at",
    "landing_scope_start",
}


def test_the_local_steps_are_exactly_the_asl_task_states():
    tasks = asl.task_states()
    assert step_names() == tasks
    local = {
        name
        for name in vars(LocalSteps)
        if name[0].isupper() and callable(getattr(LocalSteps, name))
    }
    assert local == set(tasks)


def test_a_task_state_without_a_local_step_is_refused(monkeypatch):
    definition = json.loads(asl.ASL_PATH.read_text())
    definition["States"]["Audit"] = {"Type": "Task", "Resource": "x", "End": True}
    monkeypatch.setattr(asl, "definition", lambda: definition)
    with pytest.raises(asl.DefinitionError, match="no local step for ASL state"):
        step_names()


@pytest.fixture
def empty_lake(tmp_path: Path) -> Lake:
    return Lake.open(str(tmp_path / "lake"))


def plan(calendar: TradingCalendar, lake: Lake, **kwargs: Any):
    return resolve_run(
        kwargs.pop("requested", None),
        calendar=calendar,
        lake=lake,
        now=kwargs.pop("now", dt.datetime(2026, 11, 20, 21, 5, tzinfo=dt.UTC)),
        execution=kwargs.pop("execution", "daily-1"),
        **kwargs,
    )


def publish(lake: Lake, version: str) -> None:
    directory = Path(lake.path("ml", "models", version))
    directory.mkdir(parents=True)
    (directory / "_SUCCESS").write_text("")


def test_the_default_date_is_today_in_new_york(calendar, empty_lake):
    # 01:30 UTC on the 24th is still the evening of the 23rd in New York.
    late = dt.datetime(2026, 11, 24, 1, 30, tzinfo=dt.UTC)
    assert plan(calendar, empty_lake, now=late).date == dt.date(2026, 11, 23)
    # A source with an end (the sample) caps the default, not an explicit date.
    capped = plan(calendar, empty_lake, now=late, last_available=dt.date(2025, 12, 31))
    assert capped.date == dt.date(2025, 12, 31)
    asked = plan(calendar, empty_lake, requested=dt.date(2026, 1, 5), last_available=capped.date)
    assert asked.date == dt.date(2026, 1, 5)


def test_training_happens_on_its_weekday_or_when_no_model_exists(calendar, empty_lake):
    monday, friday = dt.date(2026, 11, 23), dt.date(2026, 11, 20)
    first = plan(calendar, empty_lake, requested=monday)
    assert first.train and first.model_version == daily_model_version(monday)
    publish(empty_lake, "20261113T000000Z-0123abcd")
    assert not plan(calendar, empty_lake, requested=monday).train
    assert plan(calendar, empty_lake, requested=monday).model_version == "20261113T000000Z-0123abcd"
    assert plan(calendar, empty_lake, requested=friday).train
    assert plan(calendar, empty_lake, requested=monday, train_weekday="mon").train
    # Once the day's model is published, a re-run scores with it instead of training again.
    publish(empty_lake, daily_model_version(friday))
    rerun = plan(calendar, empty_lake, requested=friday)
    assert not rerun.train and rerun.model_version == daily_model_version(friday)


def test_a_day_already_scored_by_its_model_is_not_predicted_again(calendar, empty_lake):
    publish(empty_lake, "20261113T000000Z-0123abcd")
    monday = dt.date(2026, 11, 23)
    assert plan(calendar, empty_lake, requested=monday).predict
    scored = Path(
        empty_lake.path(
            "gold", "predictions", "model_version=20261113T000000Z-0123abcd", "date=2026-11-23"
        )
    )
    scored.mkdir(parents=True)
    (scored / "batch.parquet").write_bytes(b"")
    assert not plan(calendar, empty_lake, requested=monday).predict


def test_holidays_are_not_sessions_and_do_nothing(calendar, empty_lake):
    thanksgiving = plan(calendar, empty_lake, requested=dt.date(2026, 11, 26))
    assert not thanksgiving.is_session
    assert not thanksgiving.train and not thanksgiving.predict


def test_versions_are_fixed_by_the_date_and_sort_like_the_registrys():
    day = dt.date(2026, 11, 20)
    assert daily_model_version(day) == daily_model_version(day)
    assert (
        daily_model_version(day)
        < "20261120T164720Z-896654f8"
        < daily_model_version(day + dt.timedelta(days=1))
    )


def test_job_names_fit_sagemaker_and_bad_inputs_are_refused(calendar, empty_lake):
    long_execution = "x" * 80
    suffix = plan(calendar, empty_lake, execution=long_execution).job_suffix
    assert len(f"condvest-predict-{suffix}") <= 63
    with pytest.raises(PlanError, match="weekday"):
        training_weekday("someday")
    with pytest.raises(PlanError, match="Step Functions name"):
        plan(calendar, empty_lake, execution="bad name with spaces")
    with pytest.raises(PlanError, match="outside the trading calendar"):
        plan(calendar, empty_lake, requested=dt.date(1980, 1, 2))


# --- end to end: the real command on the sample market -------------------------------


def daily_env(root: Path) -> dict[str, str]:
    env = {
        **os.environ,
        "LAKE_ROOT": str(root / "lake"),
        "WAREHOUSE_PATH": str(root / "warehouse.duckdb"),
        "WATERMARK_DSN": f"sqlite:///{root / 'watermarks.sqlite'}",
        "NOTIFY_TOKEN_CACHE": f"sqlite:///{root / 'tokens.sqlite'}",
        "DBT_TARGET_PATH": str(root / "target"),
        "DBT_LOG_PATH": str(root / "logs"),
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
        "MARKET_SOURCE": "sample",
    }
    for name in ("DBT_TARGET", "SNS_TOPIC_ARN", "NOTIFY_API_URL", "TRAINING_WEEKDAY"):
        env.pop(name, None)
    return env


def run_daily(root: Path, *args: str) -> dict[str, Any]:
    return condvest(root, "daily", "--json", *(args or ("--date", RUN_DATE)))


def condvest(root: Path, *args: str, timeout: float = 600) -> dict[str, Any]:
    """`condvest <args>` as a user runs it, on the lake and warehouse under `root`; its
    JSON output."""
    result = subprocess.run(
        [CONDVEST, *args],
        env=daily_env(root),
        capture_output=True,
        text=True,
        check=False,
        timeout=timeout,
    )
    assert result.returncode == 0, result.stderr[-4000:]
    return json.loads(result.stdout)


def tables(warehouse: Path) -> dict[str, list[tuple]]:
    """Every table and view the build made, without the run-time columns, sorted."""
    with duckdb.connect(str(warehouse), read_only=True) as con:
        relations = con.execute(
            "select table_schema, table_name from information_schema.tables "
            "where table_schema in ('staging', 'bronze', 'silver', 'gold')"
        ).fetchall()
        content = {}
        for schema, name in relations:
            columns = [
                row[0]
                for row in con.execute(
                    "select column_name from information_schema.columns "
                    "where table_schema = ? and table_name = ? order by ordinal_position",
                    [schema, name],
                ).fetchall()
                if row[0] not in RUN_TIME_COLUMNS
            ]
            select = ", ".join(f'"{column}"' for column in columns)
            rows = con.execute(f'select {select} from "{schema}"."{name}"').fetchall()
            content[f"{schema}.{name}"] = sorted((_rounded(row) for row in rows), key=repr)
    return content


def _rounded(row: tuple) -> tuple:
    # scikit-learn sums the forest's tree probabilities in threads, in no fixed order: the
    # same model scores the same row the same only to ~1e-16.
    return tuple(float(f"{value:.12g}") if isinstance(value, float) else value for value in row)


def lake_files(root: Path) -> list[str]:
    lake = root / "lake"
    return sorted(str(path.relative_to(lake)) for path in lake.rglob("*") if path.is_file())


@pytest.fixture(scope="module")
def first_run(tmp_path_factory) -> tuple[Path, dict[str, Any]]:
    root = tmp_path_factory.mktemp("daily")
    return root, run_daily(root)


@pytest.mark.slow
def test_a_fresh_machine_runs_every_state_to_a_trained_model_and_predictions(first_run):
    root, output = first_run
    (run,) = output["runs"]
    assert run["status"] == "SUCCEEDED"
    assert run["states"][:7] == [
        "ResolveRunDate",
        "IsTradingSession",
        "FetchMetadata",
        "FetchOhlcv",
        "CheckLanding",
        "DbtBuild",
        "CheckDbtBuild",
    ]
    assert {"Train", "PublishModel", "Predict", "Vacuum", "NotifySuccess"} <= set(run["states"])
    summary = run["summary"]
    assert summary["ohlcv"]["rows_landed"] > 50_000
    assert summary["model"]["trained"]
    assert summary["model"]["version"] == daily_model_version(dt.date.fromisoformat(RUN_DATE))
    assert len(summary["top_predictions"]) == 5
    rows = output["warehouse"]["rows_per_layer"]
    assert rows["gold"]["predictions"] > 0 and rows["silver"]["candlestick_patterns"] > 0
    # The run is recorded in the audit table, whatever happens to the notification.
    with closing(sqlite3.connect(root / "watermarks.sqlite")) as con:
        recorded = con.execute(
            "select status from ingestion_runs where dataset = 'daily'"
        ).fetchall()
    assert recorded == [("succeeded",)]


@pytest.mark.slow
def test_running_the_same_date_again_changes_nothing(first_run, tmp_path):
    first_root, _ = first_run
    root = tmp_path / "again"
    shutil.copytree(first_root, root)
    before_tables, before_files = tables(root / "warehouse.duckdb"), lake_files(root)
    (run,) = run_daily(root)["runs"]
    assert run["status"] == "SUCCEEDED"
    assert "Train" not in run["states"] and "Predict" not in run["states"]
    assert run["summary"]["ohlcv"]["rows_landed"] == 0
    assert lake_files(root) == before_files
    assert tables(root / "warehouse.duckdb") == before_tables


@pytest.mark.slow
def test_a_run_killed_during_dbt_build_ends_like_an_uninterrupted_one(first_run, tmp_path):
    first_root, _ = first_run
    root = tmp_path / "killed"
    process = subprocess.Popen(
        # -v: dbt's log streams to stderr (quiet, it goes to a file)
        [CONDVEST, "-v", "daily", "--json", "--date", RUN_DATE],
        env=daily_env(root),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stderr is not None
    deadline = time.monotonic() + 300
    # dbt logs each node as it starts; the silver models come well inside the build.
    for line in process.stderr:
        if "silver.ohlcv_" in line or time.monotonic() > deadline:
            break
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=60)
    assert process.returncode == -signal.SIGKILL
    assert not list((root / "lake").glob("ml/models/*/_SUCCESS"))
    (run,) = run_daily(root)["runs"]
    assert run["status"] == "SUCCEEDED"
    assert tables(root / "warehouse.duckdb") == tables(first_root / "warehouse.duckdb")


@pytest.mark.slow
def test_a_catch_up_runs_every_session_of_the_range_in_order(first_run, tmp_path):
    first_root, _ = first_run
    root = tmp_path / "catch-up"
    shutil.copytree(first_root, root)
    runs = run_daily(root, "--from", "2025-12-29", "--to", "2025-12-30")["runs"]
    assert [run["summary"]["date"] for run in runs] == ["2025-12-29", "2025-12-30"]
    assert [run["status"] for run in runs] == ["SUCCEEDED", "SUCCEEDED"]


@pytest.mark.slow
def test_vacuum_from_the_command_line_reports_what_it_would_delete(first_run, tmp_path):
    first_root, _ = first_run
    root = tmp_path / "vacuum"
    shutil.copytree(first_root, root)
    before = lake_files(root)
    report = condvest(root, "vacuum", "--retention-days", "1", "--dry-run", "--json")
    assert report["dry_run"] is True and report["retention_days"] == 1
    assert report["deleted"] == [] and report["manifest"] is None
    assert lake_files(root) == before
