"""Lambda Vacuum: delete Bronze landing files past retention that bronze provably holds.

Event (every key optional):
    {"date": "YYYY-MM-DD"}     the day the retention counts back from (default: today, UTC)
    {"retention_days": 30}     default $VACUUM_RETENTION_DAYS, else 30
    {"dry_run": true}          report what would be deleted; write and delete nothing
Environment: LAKE_ROOT (s3://...), and the Athena settings dbt's athena target reads
(ATHENA_WORKGROUP, ATHENA_S3_STAGING_DIR, ATHENA_CATALOG, DBT_SCHEMA_PREFIX, AWS_REGION).
Returns `orchestration.vacuum.vacuum`'s report: deleted files, kept files and why, manifest.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ingestion.config import Settings
from ingestion.events import EventError
from ingestion.lake import Lake
from orchestration.vacuum import DEFAULT_RETENTION_DAYS, consolidation_check, vacuum

logging.getLogger().setLevel(logging.INFO)

EVENT_KEYS = frozenset({"date", "retention_days", "dry_run"})


@dataclass(frozen=True)
class VacuumRequest:
    today: dt.date
    retention_days: int
    dry_run: bool


def parse_event(event: Any, default_today: dt.date, env: Mapping[str, str]) -> VacuumRequest:
    """The event's settings, with defaults; unknown keys are refused (a typo must not
    silently vacuum with the default retention)."""
    event = event or {}
    if not isinstance(event, dict):
        raise EventError(f"the event must be a JSON object, got {type(event).__name__}")
    unknown = sorted(set(event) - EVENT_KEYS)
    if unknown:
        raise EventError(f"unknown event keys {unknown}; allowed: {sorted(EVENT_KEYS)}")
    today = default_today
    if event.get("date") is not None:
        try:
            today = dt.date.fromisoformat(str(event["date"]))
        except ValueError:
            raise EventError(f"'date' must be YYYY-MM-DD, got {event['date']!r}") from None
    retention = event.get("retention_days")
    if retention is None:
        setting = env.get("VACUUM_RETENTION_DAYS") or str(DEFAULT_RETENTION_DAYS)
        if not setting.strip().isdigit():
            raise EventError(f"VACUUM_RETENTION_DAYS must be an integer, got {setting!r}")
        retention = int(setting)
    if isinstance(retention, bool) or not isinstance(retention, int) or retention < 1:
        raise EventError(f"'retention_days' must be an integer >= 1, got {retention!r}")
    dry_run = event.get("dry_run", False)
    if not isinstance(dry_run, bool):
        raise EventError("'dry_run' must be true or false")
    return VacuumRequest(today, retention, dry_run)


def lambda_handler(event: dict[str, Any] | None, context: Any) -> dict[str, Any]:
    now = dt.datetime.now(dt.UTC)
    request = parse_event(event, now.date(), os.environ)
    return vacuum(
        Lake.open(Settings.from_env().lake_root),
        consolidation_check("athena"),
        today=request.today,
        retention_days=request.retention_days,
        dry_run=request.dry_run,
        now=now,
    )
