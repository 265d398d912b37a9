"""Lambda Vacuum: delete landing files past retention that bronze's tables provably hold.

Event (every key optional):
    {"date": "YYYY-MM-DD"}     the day the retention counts back from (default: today, UTC)
    {"retention_days": 30}     default: the settings' VACUUM_RETENTION_DAYS
    {"dry_run": true}          report what would be deleted; write and delete nothing
Environment: LAKE_ROOT (s3://...), and the Athena settings dbt's athena target reads
(ATHENA_WORKGROUP, ATHENA_S3_STAGING_DIR, ATHENA_CATALOG, DBT_SCHEMA_PREFIX, AWS_REGION).
Returns `orchestration.vacuum.VacuumResult.to_dict()`: deleted files, kept files and why, manifest.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from core.clock import utcnow
from core.lake import Lake
from core.logs import lambda_entry
from core.settings import Settings
from orchestration.handlers.events import Event
from orchestration.vacuum import consolidation_check, vacuum

EVENT_KEYS = frozenset({"date", "retention_days", "dry_run"})


@dataclass(frozen=True)
class VacuumRequest:
    today: dt.date
    retention_days: int
    dry_run: bool


def parse_event(event: Any, default_today: dt.date, settings: Settings) -> VacuumRequest:
    """The event's settings, with defaults; unknown keys are refused (a typo must not
    silently vacuum with the default retention)."""
    checked = Event.parse(event, allowed=EVENT_KEYS)
    retention = checked.positive_int("retention_days")
    return VacuumRequest(
        checked.date("date") or default_today,
        settings.vacuum_retention_days if retention is None else retention,
        checked.flag("dry_run"),
    )


@lambda_entry
def lambda_handler(event: dict[str, Any] | None, context: Any) -> dict[str, Any]:
    now = utcnow()
    settings = Settings.from_env()
    request = parse_event(event, now.date(), settings)
    return vacuum(
        Lake.open(settings.lake_root, settings.aws_region),
        consolidation_check("athena", settings),
        today=request.today,
        retention_days=request.retention_days,
        dry_run=request.dry_run,
        now=now,
    ).to_dict()
