"""The JSON form of every typed step result, written and read back by one mixin.

A step's result crosses a JSON boundary (a Lambda's payload, the run document of the state
machine or `condvest daily`, `--json`) as a plain dict; the reader parses it once, there,
into the step's dataclass. `Contract` gives each result dataclass both directions, so no
result carries its own copy: `to_dict` writes the fields in order (nested results as their
own `to_dict`, dates as ISO strings) and `from_dict` reads them back by the fields' types.
Every key is required, so a renamed key fails at the boundary, naming itself, instead of
reading as zero further on.

A field of a union of results (`A | B`, one shape per place a step runs) reads as the
first whose keys the object has. A field says how its key differs with its metadata:
`json_key("from")` (a key that is not a Python name), `OPTIONAL` (a key older JSON may
lack: read as None) or `OMITTED_WHEN_NONE` (not written when None, so optional when read).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import types
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, ClassVar, Union, get_args, get_origin, get_type_hints

if TYPE_CHECKING:
    # typing.Self is Python 3.11+: core ships to the SageMaker containers, which run 3.10.
    from typing import Self

OPTIONAL: Mapping[str, Any] = {"optional": True}
OMITTED_WHEN_NONE: Mapping[str, Any] = {"optional": True, "omit_none": True}


def json_key(key: str) -> Mapping[str, Any]:
    """Field metadata: the field's key in the JSON form, when it is not the field's name."""
    return {"key": key}


class Contract:
    """Mixin of a result dataclass: its JSON form (`to_dict`) and the parse back
    (`from_dict`, every key required but the optional ones)."""

    __dataclass_fields__: ClassVar[dict[str, dataclasses.Field[Any]]]

    def to_dict(self) -> dict[str, Any]:
        """The JSON form: the fields in order, under their keys."""
        return {
            _key(field): _encode(getattr(self, field.name))
            for field in dataclasses.fields(self)
            if not (field.metadata.get("omit_none") and getattr(self, field.name) is None)
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Self:
        """Read `to_dict`'s form back; ValueError naming any key it lacks."""
        _require_keys(cls, data)
        hints = get_type_hints(cls)  # the modules postpone their annotations: resolve them
        values: dict[str, Any] = {}
        for field in dataclasses.fields(cls):
            if _key(field) in data:
                values[field.name] = _decode(hints[field.name], data[_key(field)])
            elif _without_default(field):
                values[field.name] = None  # an optional key absent: None
        return cls(**values)


def _key(field: dataclasses.Field[Any]) -> str:
    return str(field.metadata.get("key", field.name))


def _without_default(field: dataclasses.Field[Any]) -> bool:
    return field.default is dataclasses.MISSING and field.default_factory is dataclasses.MISSING


def _missing_keys(cls: type[Contract], data: Mapping[str, Any]) -> list[str]:
    return sorted(
        _key(field)
        for field in dataclasses.fields(cls)
        if _key(field) not in data and not field.metadata.get("optional")
    )


def _require_keys(cls: type[Contract], data: Any) -> None:
    if not isinstance(data, Mapping):
        raise ValueError(f"{cls.__name__} must be a JSON object, got {type(data).__name__}")
    missing = _missing_keys(cls, data)
    if missing:
        raise ValueError(f"{cls.__name__} needs {missing}; got keys {sorted(data)}")


def _encode(value: Any) -> Any:
    if isinstance(value, Contract):
        return value.to_dict()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, list | tuple):
        return type(value)(_encode(item) for item in value)
    if isinstance(value, dict):
        return {key: _encode(item) for key, item in value.items()}
    return value


def _decode(kind: Any, value: Any) -> Any:
    """`value` of the JSON form as the declared type `kind`: results, dates, and lists,
    dicts and optionals of them; anything else is taken as it is."""
    if value is None:
        return None
    origin = get_origin(kind)
    if origin in (Union, types.UnionType):
        alternatives = [arg for arg in get_args(kind) if arg is not type(None)]
        return _decode(_alternative(alternatives, value), value)
    if origin is list:
        (item,) = get_args(kind)
        return [_decode(item, element) for element in value]
    if origin is dict:
        _, item = get_args(kind)
        return {key: _decode(item, element) for key, element in value.items()}
    if isinstance(kind, type) and issubclass(kind, Contract):
        return kind.from_dict(value)
    if kind is dt.date:
        return dt.date.fromisoformat(value)
    return value


def _alternative(alternatives: list[Any], value: Any) -> Any:
    """Which type of a union `value` is: the only one (an optional), or, of a union of
    results, the first whose every required key `value` has (they differ in their keys). A
    union of plain JSON types takes the value as it is."""
    if len(alternatives) == 1:
        return alternatives[0]
    if not all(isinstance(kind, type) and issubclass(kind, Contract) for kind in alternatives):
        return Any
    for kind in alternatives:
        if isinstance(value, Mapping) and not _missing_keys(kind, value):
            return kind
    names = " or ".join(kind.__name__ for kind in alternatives)
    keys = sorted(value) if isinstance(value, Mapping) else type(value).__name__
    raise ValueError(f"expected {names}, got {keys}")
