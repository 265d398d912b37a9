"""Lambda: land daily OHLCV bars into the landing area. Event shape: `ingestion.events`.

Returns the run summary (plain JSON for Step Functions): run_id, status, sessions landed,
files written, rows landed, invalid rows by reason, restated symbols, new watermark.
"""

from __future__ import annotations

from typing import Any

from core.logs import lambda_entry
from ingestion.events import parse_ohlcv_event
from ingestion.fetch import fetch_ohlcv
from ingestion.runtime import exclusive_run, runtime


@lambda_entry
def lambda_handler(event: dict[str, Any] | None, context: Any) -> dict[str, Any]:
    # Never two fetches at once on one lake and store: a second execution fails BUSY.
    with runtime() as rt, exclusive_run(rt, "lambda FetchOhlcv"):
        request = parse_ohlcv_event(event, rt.default_date())
        return fetch_ohlcv(rt.source, rt.lake, rt.stores, rt.calendar, request).to_dict()
