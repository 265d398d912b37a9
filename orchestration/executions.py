"""One execution of the daily state machine per date (issue 19, class 7, on AWS).

The schedule starts an execution every weekday and anyone may start one for a date by hand;
two running for the same date would fetch, build and train side by side. ResolveRunDate asks
Step Functions which executions of its state machine are running and what date each runs
(its input's `date`, else the New York day it started on, as `orchestration.plan` decides):
of two for the same date the later-started one refuses with DuplicateRunError, which the
state machine ends without touching anything (state AlreadyRunning). Locally `condvest
daily` holds the run lock for the whole run instead.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from orchestration.plan import today_in_new_york


class DuplicateRunError(RuntimeError):
    """Another execution of the state machine is running the same date."""


def state_machine_arn(execution_arn: str) -> str:
    """arn:aws:states:<region>:<account>:execution:<machine>:<name> -> the machine's ARN."""
    parts = execution_arn.split(":")
    if len(parts) != 8 or parts[5] != "execution":
        raise ValueError(f"not a Step Functions execution ARN: {execution_arn!r}")
    return ":".join([*parts[:5], "stateMachine", parts[6]])


def _run_date(execution: dict[str, Any]) -> dt.date | None:
    """The date an execution runs: its input's, else the New York day it started; None
    for an input ResolveRunDate will refuse anyway."""
    try:
        requested = json.loads(execution.get("input") or "{}").get("date")
        return (
            dt.date.fromisoformat(requested)
            if requested
            else today_in_new_york(execution["startDate"])
        )
    except (ValueError, TypeError, AttributeError):
        return None


def refuse_a_second_run(sfn: Any, execution_arn: str, day: dt.date) -> None:
    """Raise DuplicateRunError when an execution started before this one runs `day`."""
    me = sfn.describe_execution(executionArn=execution_arn)
    mine = (me["startDate"], execution_arn)
    pages = sfn.get_paginator("list_executions").paginate(
        stateMachineArn=state_machine_arn(execution_arn), statusFilter="RUNNING"
    )
    for page in pages:
        for other in page["executions"]:
            if (other["startDate"], other["executionArn"]) >= mine:
                continue
            if _run_date(sfn.describe_execution(executionArn=other["executionArn"])) == day:
                raise DuplicateRunError(
                    f"execution {other['name']} (started {other['startDate']:%Y-%m-%d %H:%M:%S}"
                    f" UTC) is already running {day}; this one stops without doing anything"
                )
