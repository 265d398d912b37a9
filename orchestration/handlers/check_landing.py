"""Lambda CheckLanding: set aside the landing files dbt could not read, before the build.

Event: {} (the state machine passes nothing; any key is refused).
Environment: LAKE_ROOT (s3://...), AWS_REGION.
Returns `ingestion.quarantine.LandingCheck.to_dict()`: files checked, files read this time,
each quarantined file with where it went and why, and the manifest naming them.
"""

from __future__ import annotations

from typing import Any

from core.clock import utcnow
from core.lake import Lake
from core.logs import lambda_entry
from core.settings import Settings
from ingestion.quarantine import check_landing
from orchestration.handlers.events import Event


@lambda_entry
def lambda_handler(event: dict[str, Any] | None, context: Any) -> dict[str, Any]:
    Event.parse(event, allowed=())
    settings = Settings.from_env()
    return check_landing(Lake.open(settings.lake_root, settings.aws_region), utcnow()).to_dict()
