"""The typed result of an ingestion run and its JSON form.

Light on purpose (the standard library and core only): the CLI's summaries and the daily
run's summary read it without loading pyarrow.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

from core.contracts import from_fields


@dataclass(frozen=True)
class FetchResult:
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

    def to_dict(self) -> dict[str, Any]:
        """The JSON form (its keys are the fields, in order)."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> FetchResult:
        """Read `to_dict`'s form back (a fetch step of the run document)."""
        return from_fields("a fetch result", cls, data)
