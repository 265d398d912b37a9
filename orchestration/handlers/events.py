"""The one reader of the orchestration Lambdas' events.

Every handler states its keys once (`Event.parse(event, allowed=...)`) and reads each value
through a typed accessor, so every handler refuses the same way: an event that is not a
JSON object, an unknown key (a typo must not silently take a default) or a value of the
wrong type is an EventError that names the key, what it must be and what it got.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Any

from ingestion.events import EventError


@dataclass(frozen=True)
class Event:
    """A checked event: only allowed keys; values read by type."""

    values: Mapping[str, Any]

    @classmethod
    def parse(cls, event: Any, *, allowed: Collection[str]) -> Event:
        """`None` (an invocation without payload) reads as an empty event."""
        if event is None:
            return cls({})
        if not isinstance(event, dict):
            raise EventError(f"the event must be a JSON object, got {type(event).__name__}")
        unknown = sorted(set(event) - set(allowed))
        if unknown:
            raise EventError(f"unknown event keys {unknown}; allowed: {sorted(allowed)}")
        return cls(event)

    def text(self, key: str, choices: Collection[str] = ()) -> str | None:
        """A string, or None when absent; with `choices`, one of them."""
        value = self.values.get(key)
        if value is None:
            return None
        if not isinstance(value, str) or (choices and value not in choices):
            expected = f"one of {sorted(choices)}" if choices else "a string"
            raise EventError(f"'{key}' must be {expected}, got {value!r}")
        return value

    def required_text(self, key: str, choices: Collection[str] = ()) -> str:
        value = self.text(key, choices)
        if value is None:
            raise EventError(f"the event needs '{key}'")
        return value

    def date(self, key: str) -> dt.date | None:
        value = self.values.get(key)
        if value is None or value == "":
            return None
        try:
            if not isinstance(value, str):
                raise ValueError
            return dt.date.fromisoformat(value)
        except ValueError:
            raise EventError(f"'{key}' must be a YYYY-MM-DD string, got {value!r}") from None

    def positive_int(self, key: str) -> int | None:
        value = self.values.get(key)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise EventError(f"'{key}' must be an integer >= 1, got {value!r}")
        return value

    def flag(self, key: str) -> bool:
        value = self.values.get(key)
        if value is None:
            return False
        if not isinstance(value, bool):
            raise EventError(f"'{key}' must be true or false, got {value!r}")
        return value

    def object(self, key: str) -> dict[str, Any]:
        value = self.values.get(key)
        if value is None:
            return {}
        if not isinstance(value, dict):
            raise EventError(f"'{key}' must be a JSON object, got {type(value).__name__}")
        return value
