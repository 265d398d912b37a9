"""Lambda Notify: record the daily run, publish its summary to SNS, POST it downstream.

Event (the state machine passes it): {"status": "SUCCEEDED" | "FAILED", "execution": <the
execution's ARN>, "document": <the run's document: run, steps, and error after a failure>}.
Environment: LAKE_ROOT and the watermark store (RDS_SECRET_ARN) for the record, and the
notification settings of orchestration.notify (SNS_TOPIC_ARN, NOTIFY_*).
Returns the delivery result; `delivered` false makes the execution fail visibly after the
run has been recorded and announced on SNS.
"""

from __future__ import annotations

import os
from typing import Any

from core.lake import Lake
from core.logs import lambda_entry
from core.settings import Settings
from ingestion.credentials import watermark_dsn
from ingestion.stores import Stores
from orchestration.handlers.events import Event
from orchestration.summary import FAILED, SUCCEEDED, report_run

EVENT_KEYS = frozenset({"status", "execution", "document"})


@lambda_entry
def lambda_handler(event: dict[str, Any] | None, context: Any) -> dict[str, Any]:
    checked = Event.parse(event, allowed=EVENT_KEYS)
    status = checked.required_text("status", choices=(SUCCEEDED, FAILED))
    settings = Settings.from_env()
    # The watermark database only: the market source (and its API key) is not needed here.
    stores = Stores.connect(watermark_dsn(settings.watermark_dsn, settings.rds_secret_arn))
    try:
        return report_run(
            status,
            checked.object("document"),
            lake=Lake.open(settings.lake_root),
            ledger=stores.ledger,
            source=settings.market_source,
            execution=checked.text("execution") or "",
            env=os.environ,
        )
    finally:
        stores.close()
