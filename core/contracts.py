"""The one check every typed step result makes when it reads its JSON form back.

A step's result crosses a JSON boundary (a Lambda's payload, the run document of the state
machine or `condvest daily`, `--json`) as a plain dict; the reader parses it once, there,
into the step's frozen dataclass. Every key is required, so a renamed key fails at the
boundary, naming itself, instead of reading as zero further on.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import fields
from typing import Any, TypeVar

T = TypeVar("T")


def require_keys(
    what: str, cls: Any, data: Mapping[str, Any], optional: Collection[str] = ()
) -> None:
    """Raise ValueError unless `data` has every field of the dataclass `cls` (but the
    `optional` ones)."""
    if not isinstance(data, Mapping):
        raise ValueError(f"{what} must be a JSON object, got {type(data).__name__}")
    missing = sorted({f.name for f in fields(cls)} - set(data) - set(optional))
    if missing:
        raise ValueError(f"{what} needs {missing}; got keys {sorted(data)}")


def from_fields(what: str, cls: type[T], data: Mapping[str, Any]) -> T:
    """`cls` built from the values of `data` under its field names, each required: for a
    result whose JSON form is its fields as they are."""
    require_keys(what, cls, data)
    return cls(**{f.name: data[f.name] for f in fields(cls)})  # type: ignore[arg-type]
