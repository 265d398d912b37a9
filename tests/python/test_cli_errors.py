"""Operational errors through the CLI: one stderr line naming what and the fix, the exit
code of its kind (README "Exit codes"), a traceback only with -v."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from condvest.cli import main
from core.errors import ExitCode

GOOD_CSV = "symbol,date,open,high,low,close,volume\nAAPL,2025-12-01,1,2,0.5,1.5,10\n"


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("LAKE_ROOT", str(tmp_path / "lake"))
    monkeypatch.setenv("WATERMARK_DSN", f"sqlite:///{tmp_path / 'wm.sqlite'}")
    monkeypatch.setenv("MARKET_SOURCE", "sample")
    monkeypatch.delenv("POLYGON_API_KEY", raising=False)
    monkeypatch.delenv("POLYGON_API_KEY_SECRET_ARN", raising=False)
    monkeypatch.delenv("RDS_SECRET_ARN", raising=False)
    return tmp_path


def invoke(*args: str) -> Result:
    return CliRunner().invoke(main, list(args))


def one_error_line(result: Result) -> str:
    """The whole stderr: exactly one line, `error: ...`, and no traceback."""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: ")
    assert result.exception is None or isinstance(result.exception, SystemExit)
    return lines[0]


def write(path: Path, content: bytes | str) -> Path:
    if isinstance(content, str):
        path.write_text(content, encoding="utf-8")
    else:
        path.write_bytes(content)
    return path


@pytest.mark.parametrize(
    ("name", "content", "expected"),
    [
        ("empty.csv", b"", "the file is empty"),
        ("garbage.parquet", b"PAR1 not really parquet", "cannot be read"),
        (
            "latin1.csv",
            "symbol,date,open,high,low,close,volume\nNESTL\xc9,2025-12-01,1,2,0.5,1.5,10\n".encode(
                "latin-1"
            ),
            "not UTF-8 text (byte 0xc9",
        ),
        (
            "ragged.csv",
            "symbol,date,open,high,low,close,volume\nAAPL,2025-12-01,1,2,0.5,1.5,10\n"
            "MSFT,2025-12-01,1,2,0.5,1,500,10\n",
            "row 3 has 8 fields, the header has 7",
        ),
    ],
)
def test_an_unreadable_import_file_is_one_line_naming_it(
    env: Path, name: str, content: bytes | str, expected: str
) -> None:
    path = write(env / name, content)
    result = invoke("ingest-file", str(path))
    assert result.exit_code == ExitCode.BAD_INPUT
    line = one_error_line(result)
    assert line.startswith(f"error: {path}: ") and expected in line
    assert result.stdout == ""


def test_minus_v_adds_the_traceback(env: Path) -> None:
    path = write(env / "empty.csv", b"")
    result = invoke("-v", "ingest-file", str(path))
    assert result.exit_code == ExitCode.BAD_INPUT
    assert "Traceback (most recent call last)" in result.stderr
    assert result.stderr.strip().splitlines()[-1].startswith(f"error: {path}: the file is empty")


def test_an_unreachable_postgresql_is_one_line_without_its_password(
    env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("WATERMARK_DSN", "postgresql://etl:hunter2@127.0.0.1:1/marks")
    result = invoke("ingest", "--dataset", "ohlcv")
    assert result.exit_code == ExitCode.UNAVAILABLE
    line = one_error_line(result)
    assert line.startswith("error: watermark store 127.0.0.1:1/marks is unreachable")
    assert "hunter2" not in result.output


def test_an_unusable_lake_root_is_one_line_naming_it(
    env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = write(env / "not-a-directory", "x")
    monkeypatch.setenv("LAKE_ROOT", str(root))
    result = invoke("ingest", "--dataset", "ohlcv")
    assert result.exit_code == ExitCode.UNAVAILABLE
    assert one_error_line(result).startswith(f"error: LAKE_ROOT {root}: cannot create")
    assert not (env / "wm.sqlite").exists()  # stopped before anything was opened


def test_a_missing_api_key_is_one_line_naming_the_variables(
    env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MARKET_SOURCE", "polygon")
    result = invoke("ingest", "--dataset", "ohlcv")
    assert result.exit_code == ExitCode.USAGE
    assert "POLYGON_API_KEY" in one_error_line(result)


def test_a_bad_settings_value_is_a_usage_error(env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("POLYGON_HTTP_TIMEOUT", "soon")
    result = invoke("ingest", "--dataset", "ohlcv")
    assert result.exit_code == ExitCode.USAGE
    assert one_error_line(result).startswith("error: POLYGON_HTTP_TIMEOUT must be")


def test_a_partial_fetch_exits_partial_after_printing_its_summary(env: Path) -> None:
    # The sample market ends on 2025-12-31: the sessions after it have no bars yet.
    result = invoke(
        "ingest", "--json", "--dataset", "ohlcv", "--from", "2025-12-30", "--to", "2026-01-05"
    )
    assert result.exit_code == ExitCode.PARTIAL == 3
    summary = json.loads(result.stdout)["ohlcv"]
    assert summary["status"] == "partial" and summary["empty_sessions"] == ["2026-01-02"]
    assert "rerun later" in result.stderr


def test_a_good_file_still_exits_ok(env: Path) -> None:
    result = invoke("ingest-file", "--json", str(write(env / "bars.csv", GOOD_CSV)))
    assert result.exit_code == ExitCode.OK, result.output
    assert json.loads(result.stdout)["rows_landed"] == 1
