"""Lambda: land the tickers reference (active and delisted) into the landing area.

Event: {"date": "YYYY-MM-DD"} (optional; default the latest published session).
A snapshot already landed for that date is not fetched again.
Returns the run summary: run_id, status, rows landed, invalid rows, file written.
"""

from __future__ import annotations

from typing import Any

from core.logs import lambda_entry
from ingestion.events import parse_meta_event
from ingestion.fetch import fetch_tickers
from ingestion.runtime import exclusive_run, runtime


@lambda_entry
def lambda_handler(event: dict[str, Any] | None, context: Any) -> dict[str, Any]:
    # Never two fetches at once on one lake and store: a second execution fails BUSY.
    with runtime() as rt, exclusive_run(rt, "lambda FetchMetadata"):
        as_of = parse_meta_event(event, rt.default_date())
        return fetch_tickers(rt.source, rt.lake, rt.stores, as_of).to_dict()
