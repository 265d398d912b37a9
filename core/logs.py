"""One logging style for every process: a record's fields are always printed.

Code logs a message and its fields with `extra=` (`log.info("split restated",
extra={"symbol": s})`), and a run binds its keys once with `log_context(run=..., date=...,
dataset=...)`; every record inside carries them. Two renderings of the same records:
- `configure_lambda()`: one JSON object per line (CloudWatch Logs Insights queries the keys);
- `configure_cli(verbose)`: `YYYY-MM-DD HH:MM:SS.mmm LEVEL logger: message key=value ...`
  on stderr (local time). Quiet (the default) shows warnings and errors, and the progress
  of slow steps (`progress(log, "sessions landed", 3, 20)`) a line every 15 seconds.
"""

from __future__ import annotations

import contextlib
import contextvars
import datetime as dt
import functools
import json
import logging
import sys
import time
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

from core.clock import UTC

# Immutable by use: log_context sets a new dict, never updates the current one.
_CONTEXT: contextvars.ContextVar[dict[str, Any] | None] = contextvars.ContextVar(
    "condvest_log_context", default=None
)
# Attributes every LogRecord has; anything else on a record came from `extra=`.
_STANDARD = frozenset(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {
    "message",
    "asctime",
    "taskName",  # Python 3.12+
}


@contextlib.contextmanager
def log_context(**fields: Any) -> Iterator[None]:
    """Add `fields` (None values left out) to every record logged inside the block."""
    bound = {key: value for key, value in fields.items() if value is not None}
    token = _CONTEXT.set({**(_CONTEXT.get() or {}), **bound})
    try:
        yield
    finally:
        _CONTEXT.reset(token)


def record_fields(record: logging.LogRecord) -> dict[str, Any]:
    """The record's context keys (as bound when it was logged), then its `extra=` fields."""
    extra = {k: v for k, v in vars(record).items() if k not in _STANDARD and k[0] != "_"}
    return {**getattr(record, "_context", {}), **extra}


def _stamp_context(factory: Callable[..., logging.LogRecord]) -> Callable[..., logging.LogRecord]:
    """A record factory that keeps the context of the moment a record is made: handlers may
    format it later, in another thread, after the block ended."""

    def make(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = factory(*args, **kwargs)
        record._context = _CONTEXT.get() or {}  # one attribute: extras may reuse the names
        return record

    return make


logging.setLogRecordFactory(_stamp_context(logging.getLogRecordFactory()))


class JsonFormatter(logging.Formatter):
    """One JSON object per record: time, level, logger, message, the fields, the error."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": dt.datetime.fromtimestamp(record.created, UTC).isoformat(
                timespec="milliseconds"
            ),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            **record_fields(record),
        }
        if record.exc_info:
            entry["error"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str)


class FieldsFormatter(logging.Formatter):
    """`YYYY-MM-DD HH:MM:SS.mmm LEVEL logger: message key=value ...` (local time), for
    people at a terminal."""

    def format(self, record: logging.LogRecord) -> str:
        when = dt.datetime.fromtimestamp(record.created).isoformat(" ", timespec="milliseconds")
        fields = " ".join(f"{key}={value}" for key, value in record_fields(record).items())
        line = f"{when} {record.levelname} {record.name}: {record.getMessage()}"
        line = f"{line} {fields}" if fields else line
        if record.exc_info:
            line = f"{line}\n{self.formatException(record.exc_info)}"
        return line


# The field a progress record carries: "done/total".
PROGRESS = "progress"
# A quiet CLI shows a progress series at most this often (and always its last record).
PROGRESS_INTERVAL_SECONDS = 15.0


def progress(logger: logging.Logger, message: str, done: int, total: int, **fields: Any) -> None:
    """Log how far a long step is (`done` of `total` sessions, folds...) at INFO. A quiet CLI
    shows these records, throttled, where it hides other INFO records; keep `message` the
    same for every record of one series."""
    logger.info(message, extra={PROGRESS: f"{done}/{total}", **fields})


def _progress_of(record: logging.LogRecord) -> tuple[int, int] | None:
    value = getattr(record, PROGRESS, None)
    if not isinstance(value, str):
        return None
    done, _, total = value.partition("/")
    try:
        return int(done), int(total)
    except ValueError:
        return None


class _QuietFilter(logging.Filter):
    """Warnings and errors; of the INFO records, the progress of slow steps only: a series
    is shown every PROGRESS_INTERVAL_SECONDS, and its last record if any was shown (a
    1,000-session backfill prints a handful of lines; a one-session fetch none)."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        super().__init__()
        self._clock = clock
        # Per series: when it last showed a line (or started), and whether it has shown one.
        self._series: dict[tuple[str, str], tuple[float, bool]] = {}

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno >= logging.WARNING:
            return True
        counts = _progress_of(record)
        if record.levelno < logging.INFO or counts is None:
            return False
        done, total = counts
        key = (record.name, str(record.msg))
        now = self._clock()
        last, shown = self._series.setdefault(key, (now, False))
        if done >= total:
            del self._series[key]
            return shown
        if now - last >= PROGRESS_INTERVAL_SECONDS:
            self._series[key] = (now, True)
            return True
        return False


class QuietFormatter(FieldsFormatter):
    """Progress as `  message done/total key=value` (its own fields, not the context);
    anything else as FieldsFormatter."""

    def format(self, record: logging.LogRecord) -> str:
        if record.levelno >= logging.WARNING or _progress_of(record) is None:
            return super().format(record)
        # The record's own fields only: the run's context (execution, run ids) is noise here.
        fields = {
            key: value
            for key, value in vars(record).items()
            if key not in _STANDARD and key[0] != "_" and key != PROGRESS
        }
        extra = "".join(f" {key}={value}" for key, value in fields.items())
        return f"  {record.getMessage()} {getattr(record, PROGRESS)}{extra}"


def configure_lambda(level: int = logging.INFO) -> None:
    """JSON lines through the root logger's handlers (the Lambda runtime installs one)."""
    _configure(JsonFormatter(), level)


_Handler = TypeVar("_Handler", bound=Callable[[Any, Any], Any])


def lambda_entry(handler: _Handler) -> _Handler:
    """A Lambda handler's wrapper: JSON logs, and the invocation's request id and function
    name on every record it logs."""
    configure_lambda()

    @functools.wraps(handler)
    def entry(event: Any, context: Any) -> Any:
        with log_context(
            request=getattr(context, "aws_request_id", None),
            function=getattr(context, "function_name", None),
        ):
            return handler(event, context)

    return entry  # type: ignore[return-value]  # same signature, wrapped


def configure_cli(verbose: bool) -> None:
    """Fields shown on stderr; every INFO record with -v, else warnings, errors and the
    progress of long steps."""
    if verbose:
        _configure(FieldsFormatter(), logging.INFO)
    else:
        _configure(QuietFormatter(), logging.INFO, _QuietFilter())


class _CliHandler(logging.StreamHandler):
    """The stderr handler the project installs when the process has none (a test runner or
    the Lambda runtime brings its own, which keep every record they are given)."""


def _configure(
    formatter: logging.Formatter, level: int, quiet: logging.Filter | None = None
) -> None:
    root = logging.getLogger()
    if not root.handlers:
        root.addHandler(_CliHandler(sys.stderr))
    for handler in root.handlers:
        handler.setFormatter(formatter)
        if isinstance(handler, _CliHandler):
            # Configured again (a second command in one process): one quiet filter at most.
            for old in [f for f in handler.filters if isinstance(f, _QuietFilter)]:
                handler.removeFilter(old)
            if quiet is not None:
                handler.addFilter(quiet)
    root.setLevel(level)
