"""The typed results of ingestion (a run; the landing check) and their JSON form.

Light on purpose (the standard library and core only): the CLI's summaries and the daily
run's summary read it without loading pyarrow.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from core.contracts import Contract


@dataclass(frozen=True)
class FetchResult(Contract):
    """What one ingestion run (a fetch or a file import) did: the fetch Lambdas' payload,
    the FetchMetadata and FetchOhlcv steps of the run document, `condvest ingest --json`."""

    run_id: str
    dataset: str
    source: str
    status: str
    sessions_landed: int
    first_session: str | None
    last_session: str | None
    symbols_fetched: list[str]
    empty_sessions: list[str]
    files_written: int
    rows_landed: int
    invalid_rows: int
    invalid_reasons: dict[str, int]
    restated_symbols: list[str]
    unknown_symbols: list[str]
    malformed_records: list[str]
    followups_done: list[str]
    followups_pending: list[str]
    watermark: str | None
    error: str | None


@dataclass(frozen=True)
class QuarantinedFile(Contract):
    """A landing file set aside: where it was, where it is kept, and why."""

    dataset: str
    path: str  # where it was, in landing
    moved_to: str
    reason: str


@dataclass
class LandingCheck(Contract):
    """What the landing check did (ingestion.quarantine.check_landing): the CheckLanding
    step's result."""

    # Landing files found; of them, those read this time (new or changed since checked).
    checked: int = 0
    read: int = 0
    quarantined: list[QuarantinedFile] = field(default_factory=list)
    manifest: str | None = None
