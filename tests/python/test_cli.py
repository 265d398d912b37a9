"""The condvest CLI as a user runs it: settings from the environment, JSON on stdout."""

import json

import pyarrow.dataset as ds
import pytest
from click.testing import CliRunner

from orchestration.cli import main


@pytest.fixture
def env(tmp_path, monkeypatch):
    monkeypatch.setenv("LAKE_ROOT", str(tmp_path / "lake"))
    monkeypatch.setenv("WATERMARK_DSN", f"sqlite:///{tmp_path / 'wm.sqlite'}")
    monkeypatch.setenv("MARKET_SOURCE", "sample")
    return tmp_path


def run(*args):
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def test_ingest_lands_tickers_and_bars_where_lake_root_says(env):
    result = run("ingest", "--from", "2025-12-01", "--to", "2025-12-05")
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert summary["ohlcv"]["sessions_landed"] == 5
    assert summary["tickers"]["status"] == "succeeded"
    bars = ds.dataset(env / "lake" / "bronze" / "raw_ohlcv", format="parquet").to_table()
    assert bars.num_rows == summary["ohlcv"]["rows_landed"]
    again = json.loads(run("ingest", "--dataset", "ohlcv", "--to", "2025-12-05").stdout)
    assert again["ohlcv"]["files_written"] == 0


def test_ingest_defaults_to_the_samples_last_session(env):
    summary = json.loads(run("ingest", "--dataset", "ohlcv").stdout)
    assert summary["ohlcv"]["last_session"] == "2025-12-31"


def test_bad_arguments_are_usage_errors(env):
    result = CliRunner().invoke(main, ["ingest", "--symbols", "AAPL,../etc"])
    assert result.exit_code == 2 and "invalid symbol" in result.output
    result = CliRunner().invoke(main, ["ingest", "--from", "2025-12-05", "--to", "2025-12-01"])
    assert result.exit_code == 2 and "after end" in result.output


def test_ingest_file_reports_errors_without_a_traceback(env):
    path = env / "bars.csv"
    path.write_text("symbol,date,open,high,low,close,volume,extra\n")
    result = CliRunner().invoke(main, ["ingest-file", str(path)])
    assert result.exit_code == 5  # ExitCode.BAD_INPUT
    assert "unknown columns ['extra']" in result.output
    assert "Traceback" not in result.output
    path.write_text("symbol,date,open,high,low,close,volume\nAAPL,2025-12-01,1,2,0.5,1.5,10\n")
    ok = run("ingest-file", str(path))
    assert json.loads(ok.stdout)["rows_landed"] == 1
