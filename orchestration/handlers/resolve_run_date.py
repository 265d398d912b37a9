"""Lambda ResolveRunDate: plan the daily run (see orchestration.plan).

Event (the state machine passes it): {"input": <the execution's input>, "execution": <its
name>}; the input may name {"date": "YYYY-MM-DD"}, default today in America/New_York.
Environment: LAKE_ROOT (to find published models), TRAINING_WEEKDAY (default FRI),
DAILY_HISTORY_START (first session to fetch when nothing is landed yet).
"""

from __future__ import annotations

from typing import Any

from core.clock import utcnow
from core.lake import Lake
from core.logs import lambda_entry
from core.settings import Settings
from ingestion.calendar import load_calendar
from orchestration.plan import PlanError, parse_run_date, resolve_run


@lambda_entry
def lambda_handler(event: dict[str, Any] | None, context: Any) -> dict[str, Any]:
    event = event or {}
    execution_input = event.get("input") or {}
    if not isinstance(execution_input, dict):
        raise PlanError(f"the execution input must be a JSON object, got {execution_input!r}")
    settings = Settings.from_env()
    plan = resolve_run(
        parse_run_date(execution_input.get("date")),
        calendar=load_calendar(settings.trading_calendar_path),
        lake=Lake.open(settings.lake_root),
        now=utcnow(),
        execution=str(event.get("execution") or "manual"),
        train_weekday=settings.training_weekday,
        history_start=settings.daily_history_start,
        gold_schema=settings.schema("gold"),
    )
    return plan.as_dict()
