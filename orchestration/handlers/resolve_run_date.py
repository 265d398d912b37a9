"""Lambda ResolveRunDate: plan the daily run (see orchestration.plan).

Event (the state machine passes it): {"input": <the execution's input>, "execution": <its
name>, "execution_arn": <its ARN>}; the input may name {"date": "YYYY-MM-DD"}, default today
in America/New_York. With `execution_arn`, an execution started after another one still
running the same date raises DuplicateRunError (orchestration.executions).
Environment: LAKE_ROOT (to find published models), TRAINING_WEEKDAY (default FRI),
DAILY_HISTORY_START (first session to fetch when nothing is landed yet).
"""

from __future__ import annotations

from typing import Any

import boto3

from core.clock import utcnow
from core.lake import Lake
from core.logs import lambda_entry
from core.settings import Settings
from ingestion.calendar import load_calendar
from orchestration.executions import refuse_a_second_run
from orchestration.handlers.events import Event
from orchestration.plan import resolve_run

EVENT_KEYS = frozenset({"input", "execution", "execution_arn"})
INPUT_KEYS = frozenset({"date"})


@lambda_entry
def lambda_handler(event: dict[str, Any] | None, context: Any) -> dict[str, Any]:
    checked = Event.parse(event, allowed=EVENT_KEYS)
    execution_input = Event.parse(checked.object("input"), allowed=INPUT_KEYS)
    settings = Settings.from_env()
    plan = resolve_run(
        execution_input.date("date"),
        calendar=load_calendar(settings.trading_calendar_path),
        lake=Lake.open(settings.lake_root),
        now=utcnow(),
        execution=checked.text("execution") or "manual",
        train_weekday=settings.training_weekday,
        history_start=settings.daily_history_start,
        gold_schema=settings.schema("gold"),
    )
    execution_arn = checked.text("execution_arn")
    if execution_arn:
        # One execution per date: a later one for a date already running stops here.
        sfn = boto3.client("stepfunctions", region_name=settings.aws_region)
        refuse_a_second_run(sfn, execution_arn, plan.date)
    return plan.to_dict()
