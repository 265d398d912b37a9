"""The exit codes every `condvest` command documents, and the error type that carries one.

Cron, Step Functions and shell scripts read the exit code, so each outcome an operator acts
on differently gets its own code. Modules raise `OperationalError` (or a subclass) with a
one-line message that names the file, row, variable or service and says what to do; the CLI
prints that line and exits with its code, and shows a traceback only with `-v`.
"""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    """What a command's exit status means (README "Exit codes" lists the same table)."""

    OK = 0
    FAILED = 1  # a step failed: the run is recorded FAILED, its report says which step
    USAGE = 2  # bad arguments or settings (click uses 2 for usage errors too)
    PARTIAL = 3  # ran, but stopped short (sessions without data yet); rerun later to finish
    BUSY = 4  # another run holds the lake's run lock
    BAD_INPUT = 5  # an input file or record could not be read (named in the message)
    UNAVAILABLE = 6  # a service or store is unreachable: PostgreSQL, the vendor API, the lake


class OperationalError(Exception):
    """A failure the operator fixes outside the code: one line, and the exit code to use."""

    exit_code: ExitCode = ExitCode.FAILED

    def __init__(self, message: str, exit_code: ExitCode | None = None) -> None:
        super().__init__(message)
        if exit_code is not None:
            self.exit_code = exit_code
