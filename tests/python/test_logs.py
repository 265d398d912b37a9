"""One logging style: the fields of every record reach the operator, as JSON in Lambda and
as key=value at the terminal."""

from __future__ import annotations

import json
import logging
from types import SimpleNamespace
from typing import Any

import pytest

from core import logs
from core.logs import FieldsFormatter, JsonFormatter, lambda_entry, log_context

log = logging.getLogger("condvest.test")


def _record(caplog: pytest.LogCaptureFixture, emit: Any) -> logging.LogRecord:
    caplog.set_level(logging.INFO)
    caplog.clear()
    emit()
    (record,) = caplog.records
    return record


def test_json_lines_carry_the_context_and_the_extras(caplog: pytest.LogCaptureFixture) -> None:
    def emit() -> None:
        with log_context(run="r1", date="2025-01-08", dataset="ohlcv", unset=None):
            log.info("split restated", extra={"symbol": "NVLX", "executed": "2024-06-10"})

    entry = json.loads(JsonFormatter().format(_record(caplog, emit)))
    assert entry["level"] == "INFO" and entry["logger"] == "condvest.test"
    assert entry["message"] == "split restated"
    assert {k: entry[k] for k in ("run", "date", "dataset", "symbol", "executed")} == {
        "run": "r1",
        "date": "2025-01-08",
        "dataset": "ohlcv",
        "symbol": "NVLX",
        "executed": "2024-06-10",
    }
    assert "unset" not in entry


def test_the_terminal_line_shows_the_fields(caplog: pytest.LogCaptureFixture) -> None:
    def emit() -> None:
        with log_context(run="r1"):
            log.warning("polygon retry", extra={"attempt": 2, "status": 429})

    line = FieldsFormatter().format(_record(caplog, emit))
    assert line.endswith("WARNING condvest.test: polygon retry run=r1 attempt=2 status=429")


def test_the_context_ends_with_its_block(caplog: pytest.LogCaptureFixture) -> None:
    with log_context(run="r1"):
        pass
    entry = json.loads(JsonFormatter().format(_record(caplog, lambda: log.info("after"))))
    assert "run" not in entry


def test_an_error_is_logged_with_its_traceback(caplog: pytest.LogCaptureFixture) -> None:
    def emit() -> None:
        try:
            raise ValueError("bad bar")
        except ValueError:
            log.exception("step failed", extra={"step": "FetchOhlcv"})

    entry = json.loads(JsonFormatter().format(_record(caplog, emit)))
    assert entry["step"] == "FetchOhlcv"
    assert "ValueError: bad bar" in entry["error"]


def test_a_lambda_entry_binds_the_request(caplog: pytest.LogCaptureFixture) -> None:
    @lambda_entry
    def handler(event: Any, context: Any) -> str:
        log.info("handled", extra={"event": event})
        return "ok"

    context = SimpleNamespace(aws_request_id="req-1", function_name="condvest-vacuum")
    record = _record(caplog, lambda: handler({"dry_run": True}, context))
    entry = json.loads(JsonFormatter().format(record))
    assert (entry["request"], entry["function"]) == ("req-1", "condvest-vacuum")
    assert entry["event"] == {"dry_run": True}
    assert isinstance(logging.getLogger().handlers[0].formatter, JsonFormatter)


def test_a_quiet_cli_shows_warnings_and_the_progress_of_slow_steps() -> None:
    """Quiet: plain INFO records are hidden, warnings shown, and a slow progress series
    shown every PROGRESS_INTERVAL_SECONDS and at its end; a quick one not at all."""
    now = [0.0]
    quiet = logs._QuietFilter(clock=lambda: now[0])
    formatter = logs.QuietFormatter()
    logger = logging.getLogger("condvest.test.quiet")
    shown: list[str] = []

    def emit(level: int, message: str, **extra: Any) -> None:
        record = logger.makeRecord(logger.name, level, __file__, 0, message, (), None, extra=extra)
        if quiet.filter(record):
            shown.append(formatter.format(record))

    emit(logging.INFO, "daily step")
    with log_context(run="r1"):
        for done in range(1, 101):
            emit(logging.INFO, "ohlcv sessions landed", progress=f"{done}/100", session=done)
            now[0] += 1.0
        for done in range(1, 4):  # a quick series: its state line says enough
            emit(logging.INFO, "folds validated", progress=f"{done}/3")
    emit(logging.WARNING, "polygon retry")

    assert shown[:-1] == [
        *(f"  ohlcv sessions landed {n}/100 session={n}" for n in range(16, 100, 15)),
        "  ohlcv sessions landed 100/100 session=100",
    ]
    assert shown[-1].endswith("WARNING condvest.test.quiet: polygon retry")
