"""Lambda ResolveRunDate: plan the daily run (see orchestration.plan).

Event (the state machine passes it): {"input": <the execution's input>, "execution": <its
name>}; the input may name {"date": "YYYY-MM-DD"}, default today in America/New_York.
Environment: LAKE_ROOT (to find published models), TRAINING_WEEKDAY (default FRI),
DAILY_HISTORY_START (first session to fetch when nothing is landed yet).
"""

from __future__ import annotations

import datetime as dt
import logging
import os
from typing import Any

from ingestion.calendar import load_calendar
from ingestion.config import Settings
from ingestion.lake import Lake
from orchestration.plan import PlanError, parse_run_date, plan_settings, resolve_run

logging.getLogger().setLevel(logging.INFO)


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
        now=dt.datetime.now(dt.UTC),
        execution=str(event.get("execution") or "manual"),
        **plan_settings(os.environ),
    )
    return plan.as_dict()
