"""Every way `condvest daily` can fail prints the FAILED report and exits FAILED.

The steps are stubbed (the real ones are the end-to-end tests' business); what is real is
the runner, the plan, the run record, notify and the report. Each failing step leaves the
warehouse open in this process under another DuckDB configuration, as a failed dbt build
did: the report must still print, not crash on its own read of the warehouse.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path
from typing import Any

import duckdb
import pytest
from click.testing import CliRunner

from condvest.cli import main
from core.errors import ExitCode
from ingestion.results import LandingCheck
from orchestration import asl
from orchestration.daily import LocalSteps
from orchestration.vacuum import VacuumResult
from tests.python.step_stubs import built, fetched, predicted, published, trained

RUN_DATE = "2025-12-31"
REAL_STEPS = {"ResolveRunDate", "NotifySuccess", "NotifyFailure"}
STUB_RESULTS: dict[str, dict[str, Any]] = {
    "FetchMetadata": fetched("tickers", rows_landed=3),
    "FetchOhlcv": fetched("ohlcv", rows_landed=5, sessions_landed=1),
    "CheckLanding": LandingCheck().to_dict(),
    "DbtBuild": built(),
    "ExportFeatures": {"skipped": "stub"},
    "Train": trained("v", "/nowhere"),
    "PublishModel": published("v", "/nowhere"),
    "Predict": predicted("v", RUN_DATE),
    "DbtBuildPredictions": built(),
    "Vacuum": VacuumResult(
        retention_days=30,
        today=dt.date(2025, 12, 31),
        cutoff=dt.date(2025, 12, 1),
        dry_run=False,
        candidates=0,
        deleted=[],
        kept=[],
        ignored=[],
        rows_deleted=0,
        bytes_deleted=0,
    ).to_dict(),
    "Report": {"skipped": "stub"},
}
HAPPY_STEPS = [name for name in asl.happy_path_tasks() if name not in REAL_STEPS]
_held: list[duckdb.DuckDBPyConnection] = []


@pytest.fixture
def env(cli_env: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    tmp_path = cli_env
    with duckdb.connect(str(tmp_path / "warehouse.duckdb")) as con:
        con.execute("create schema bronze; create table bronze.ohlcv_daily as select 1 as x")
    monkeypatch.setattr("orchestration.dbt.preload", lambda: None)
    for name in HAPPY_STEPS:
        monkeypatch.setattr(LocalSteps, name, _stub(name, STUB_RESULTS[name]))
    yield tmp_path
    while _held:
        _held.pop().close()


def _stub(name: str, result: dict[str, Any]) -> Any:
    def step(self: LocalSteps, document: dict[str, Any]) -> dict[str, Any]:
        return result

    step.__name__ = name
    return step


def _failing(name: str) -> Any:
    def step(self: LocalSteps, document: dict[str, Any]) -> dict[str, Any]:
        # What a failed dbt build used to leave behind: the warehouse open in this process
        # with another configuration than the report's read-only one.
        _held.append(duckdb.connect(self.rt.settings.warehouse_path))
        raise RuntimeError(f"{name} broke on purpose")

    step.__name__ = name
    return step


def test_the_stubbed_day_succeeds(env: Path) -> None:
    result = CliRunner().invoke(main, ["daily", "--date", RUN_DATE])
    assert result.exit_code == ExitCode.OK, result.output
    assert f"condvest daily {RUN_DATE}: SUCCEEDED" in result.stdout


def _report(stdout: str) -> list[str]:
    """The report's lines: after the line per state that a quiet run prints as it goes."""
    lines = stdout.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("condvest daily "))
    return lines[start:]


@pytest.mark.parametrize("failing", ["ResolveRunDate", *HAPPY_STEPS, "NotifySuccess"])
def test_every_failing_step_prints_the_failed_report(
    env: Path, monkeypatch: pytest.MonkeyPatch, failing: str
) -> None:
    monkeypatch.setattr(LocalSteps, failing, _failing(failing))
    result = CliRunner().invoke(main, ["daily", "--date", RUN_DATE])
    assert result.exit_code == ExitCode.FAILED, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    report = _report(result.stdout)
    assert report[0].startswith(f"condvest daily {RUN_DATE}: FAILED")
    assert "NotifyFailure -> Failed" in report[1]
    (error,) = [line for line in report if line.startswith("  error: ")]
    assert f"{failing} broke on purpose" in error and f"'State': '{failing}'" in error
    # The warehouse was not readable under the report's configuration: said, not raised.
    assert any(line.startswith("  warehouse: not read (") for line in report)
    with closing(sqlite3.connect(env / "wm.sqlite")) as con:
        recorded = con.execute("select status from ingestion_runs where dataset = 'daily'")
        assert recorded.fetchall() == [("failed",)]


def test_a_failing_failure_notification_still_prints_the_failed_report(
    env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(LocalSteps, "DbtBuild", _failing("DbtBuild"))
    monkeypatch.setattr(LocalSteps, "NotifyFailure", _failing("NotifyFailure"))
    result = CliRunner().invoke(main, ["daily", "--date", RUN_DATE])
    assert result.exit_code == ExitCode.FAILED, result.output
    assert ": FAILED" in _report(result.stdout)[0]
    assert "DbtBuild broke on purpose" in result.stdout
