"""Run bookkeeping shared by every ingestion job: the summary and its audit row."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

from core.logs import log_context
from ingestion.landing import LandedBatch
from ingestion.results import FetchResult
from ingestion.run_ledger import RunLedger, RunRecord

OHLCV, TICKERS = "ohlcv", "tickers"


@dataclass
class RunSummary:
    run_id: str
    dataset: str
    source: str
    status: str = "running"
    sessions: list[str] = field(default_factory=list)
    symbols: list[str] = field(default_factory=list)
    empty_sessions: list[str] = field(default_factory=list)
    files: list[str] = field(default_factory=list)
    rows_landed: int = 0
    invalid_rows: int = 0
    reasons: Counter[str] = field(default_factory=Counter)
    restated_symbols: list[str] = field(default_factory=list)
    # Asked for, never landed, and the source had nothing: likely not a ticker it knows.
    unknown_symbols: list[str] = field(default_factory=list)
    malformed_records: list[str] = field(default_factory=list)
    # Owed work (see ingestion.settle): settled by this run, and still pending with its error.
    followups_done: list[str] = field(default_factory=list)
    followups_pending: list[str] = field(default_factory=list)
    watermark: str | None = None
    error: str | None = None

    def add(self, batch: LandedBatch) -> None:
        self.files.append(batch.path)
        self.rows_landed += batch.rows
        self.invalid_rows += batch.invalid_rows
        self.reasons.update(batch.reasons)
        self.malformed_records.extend(batch.malformed)

    def result(self) -> FetchResult:
        return FetchResult(
            run_id=self.run_id,
            dataset=self.dataset,
            source=self.source,
            status=self.status,
            sessions_landed=len(self.sessions),
            first_session=self.sessions[0] if self.sessions else None,
            last_session=self.sessions[-1] if self.sessions else None,
            symbols_fetched=list(self.symbols),
            empty_sessions=list(self.empty_sessions),
            files_written=len(self.files),
            rows_landed=self.rows_landed,
            invalid_rows=self.invalid_rows,
            invalid_reasons=dict(sorted(self.reasons.items())),
            restated_symbols=list(self.restated_symbols),
            unknown_symbols=list(self.unknown_symbols),
            malformed_records=list(self.malformed_records),
            followups_done=list(self.followups_done),
            followups_pending=list(self.followups_pending),
            watermark=self.watermark,
            error=self.error,
        )


def audited(
    ledger: RunLedger, summary: RunSummary, run: RunRecord, body: Callable[[], None]
) -> FetchResult:
    """Run `body` (its log records carry the run and dataset), then record the outcome in
    the audit row, failures included."""
    try:
        with log_context(run=summary.run_id, dataset=summary.dataset, source=summary.source):
            body()
    except Exception as exc:
        summary.status = "failed"
        summary.error = f"{type(exc).__name__}: {exc}"
        raise
    finally:
        ledger.finish_run(
            run,
            summary.status,
            len(summary.sessions),
            summary.rows_landed,
            len(summary.files),
            summary.result().to_dict(),
        )
    return summary.result()
