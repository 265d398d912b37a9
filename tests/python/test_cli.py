"""The condvest CLI as a user runs it: settings from the environment, a short summary on
stdout, or the full JSON with --json."""

import json

import pyarrow.dataset as ds
import pytest
from click.testing import CliRunner

from condvest.cli import main


@pytest.fixture
def env(tmp_path, monkeypatch):
    monkeypatch.setenv("LAKE_ROOT", str(tmp_path / "lake"))
    monkeypatch.setenv("WATERMARK_DSN", f"sqlite:///{tmp_path / 'wm.sqlite'}")
    monkeypatch.setenv("MARKET_SOURCE", "sample")
    return tmp_path


def run(*args):
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def test_ingest_lands_tickers_and_bars_where_lake_root_says(env):
    result = run("ingest", "--from", "2025-12-01", "--to", "2025-12-05", "--json")
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert summary["ohlcv"]["sessions_landed"] == 5
    assert summary["tickers"]["status"] == "succeeded"
    bars = ds.dataset(env / "lake" / "bronze" / "raw_ohlcv", format="parquet").to_table()
    assert bars.num_rows == summary["ohlcv"]["rows_landed"]
    again = json.loads(run("ingest", "--dataset", "ohlcv", "--to", "2025-12-05", "--json").stdout)
    assert again["ohlcv"]["files_written"] == 0


def test_ingest_defaults_to_the_samples_last_session(env):
    summary = json.loads(run("ingest", "--dataset", "ohlcv", "--json").stdout)
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
    ok = run("ingest-file", str(path), "--json")
    assert json.loads(ok.stdout)["rows_landed"] == 1
    text = run("ingest-file", str(path)).stdout
    assert text.startswith("ohlcv: succeeded, 1 rows landed (0 invalid)")


def test_ingest_prints_a_short_summary_without_json(env):
    result = run("ingest", "--from", "2025-12-01", "--to", "2025-12-05")
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert len(lines) == 2
    assert lines[0].startswith("tickers: succeeded, ")
    assert lines[1].startswith("ohlcv: succeeded, ")
    assert "over 5 session(s) 2025-12-01..2025-12-05" in lines[1]
    assert lines[1].endswith("watermark 2025-12-05")
    # the summary's numbers are the JSON's
    args = ("ingest", "--from", "2025-12-01", "--to", "2025-12-05", "--backfill", "--json")
    again = json.loads(run(*args).stdout)
    assert f"{again['ohlcv']['rows_landed']:,} rows landed" in lines[1]


def test_lower_case_symbols_are_upper_cased(env):
    summary = json.loads(run("ingest", "--dataset", "ohlcv", "--json").stdout)
    assert summary["ohlcv"]["status"] == "succeeded"
    bars = ds.dataset(env / "lake" / "bronze" / "raw_ohlcv", format="parquet").to_table()
    symbol = sorted(set(bars["symbol"].to_pylist()))[0]
    result = run("ingest", "--dataset", "ohlcv", "--symbols", symbol.lower(), "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["ohlcv"]["unknown_symbols"] == []


def test_vacuum_prints_a_short_summary_and_json_on_request(env):
    assert run("ingest", "--from", "2025-12-01", "--to", "2025-12-02").exit_code == 0
    text = run("vacuum", "--dry-run").stdout
    assert text.startswith("vacuum (retention 30 days, cutoff ")
    assert "would delete 0 of 0 old landing file(s)" in text
    assert json.loads(run("vacuum", "--dry-run", "--json").stdout)["dry_run"] is True
