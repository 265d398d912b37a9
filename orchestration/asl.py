"""The daily state machine's definition (Amazon States Language) and the little of it the
local runner interprets: the order of states and the Choice rules.

The ASL file is the one list of steps. AWS runs it as deployed; `condvest daily` walks the
same file, running a local implementation for each Task state, so the two cannot drift
apart without `orchestration.daily` failing to find a state's step.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from functools import cache
from pathlib import Path
from typing import Any

ASL_PATH = Path(__file__).parent / "statemachine" / "daily.asl.json"
FAILURE_STATE = "NotifyFailure"


class DefinitionError(ValueError):
    """The definition uses something the local runner does not interpret."""


@cache
def definition() -> dict[str, Any]:
    return json.loads(ASL_PATH.read_text())


def states() -> dict[str, dict[str, Any]]:
    return definition()["States"]


def task_states() -> list[str]:
    """Every Task state, in the order of the file (the happy path, then the failure path)."""
    return [name for name, state in states().items() if state["Type"] == "Task"]


def happy_path_tasks() -> list[str]:
    """Task states reachable from StartAt when every Choice takes every branch, in the
    order a run visits them (each Choice's branches merge back)."""
    seen: list[str] = []
    frontier = [definition()["StartAt"]]
    while frontier:
        name = frontier.pop(0)
        if name in seen or name == FAILURE_STATE:
            continue
        seen.append(name)
        state = states()[name]
        frontier.extend(successors(state))
    return [name for name in seen if states()[name]["Type"] == "Task"]


def successors(state: Mapping[str, Any]) -> list[str]:
    nexts = [choice["Next"] for choice in state.get("Choices", [])]
    nexts += [state[key] for key in ("Next", "Default") if key in state]
    return nexts


def json_path(document: Mapping[str, Any], path: str) -> Any:
    """`$.a.b` in `document` (the only JSONPath form the Choice rules use)."""
    if not path.startswith("$."):
        raise DefinitionError(f"unsupported JSONPath {path!r}")
    value: Any = document
    for key in path[2:].split("."):
        if not isinstance(value, Mapping) or key not in value:
            raise DefinitionError(f"{path} is not in the run's document")
        value = value[key]
    return value


_COMPARISONS = {
    # As Step Functions compares: a value of another type never matches.
    "BooleanEquals": lambda value, expected: value is expected,
    "NumericEquals": lambda value, expected: (
        isinstance(value, int | float) and not isinstance(value, bool) and value == expected
    ),
}


def choose(state: Mapping[str, Any], document: Mapping[str, Any]) -> str:
    """The next state of a Choice state whose rules are `Variable` + BooleanEquals or
    NumericEquals."""
    for rule in state["Choices"]:
        (operator,) = set(rule) - {"Variable", "Next"} or {None}
        if operator not in _COMPARISONS:
            raise DefinitionError(f"unsupported Choice rule {sorted(rule)}")
        if _COMPARISONS[operator](json_path(document, rule["Variable"]), rule[operator]):
            return rule["Next"]
    return state["Default"]


def pass_result(state: Mapping[str, Any], document: dict[str, Any]) -> dict[str, Any]:
    """A Pass state with a static Result at a top-level ResultPath (`$.error`)."""
    path = state.get("ResultPath", "$")
    if "Parameters" in state or not path.startswith("$.") or "." in path[2:]:
        raise DefinitionError(f"unsupported Pass state {sorted(state)}")
    return {**document, path[2:]: state["Result"]}


def catch_target(state: Mapping[str, Any]) -> str | None:
    """Where a failure of this Task state goes (every Catch here is States.ALL)."""
    for catcher in state.get("Catch", []):
        if "States.ALL" in catcher["ErrorEquals"]:
            return catcher["Next"]
    return None
