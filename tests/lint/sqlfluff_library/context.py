"""dbt's `context`: the project's candlestick macros by name, for `candle_pattern`, which
calls the macro named like a pattern. sqlfluff's templater has no such lookup; this
module loads macros/candles (and the engine macros they dispatch) into one Jinja
environment (with dbt's `return`, `do`, `exceptions` and this library's `adapter`) so
the linted SQL is the SQL dbt compiles. tests/python/candle_sql.py
renders the patterns through it too, to test them without a dbt run."""

from __future__ import annotations

import importlib.util
import re
import sys
from collections.abc import Callable
from functools import cache
from pathlib import Path
from types import ModuleType
from typing import Any

import jinja2

MACROS = Path(__file__).resolve().parents[3] / "macros"
MACRO_DIRS = [MACROS / "candles", MACROS / "engine"]
_MACRO = re.compile(r"({%-?\s*macro\s+(\w+).*?{%-?\s*endmacro\s*-?%})", re.DOTALL)


class _Return(Exception):  # noqa: N818 - mirrors dbt's `return()` control flow
    def __init__(self, value: Any) -> None:
        self.value = value


def _return(value: Any) -> None:
    raise _Return(value)


class _Exceptions:
    @staticmethod
    def raise_compiler_error(message: str) -> None:
        raise jinja2.TemplateError(message)


def _returning(name: str, macros: dict[str, Any]) -> Callable[..., Any]:
    # Looked up at call time: a macro may call one defined in a later file, as in dbt.
    def call(*args: Any, **kwargs: Any) -> Any:
        try:
            return macros[name](*args, **kwargs)
        except _Return as result:
            return result.value

    return call


@cache
def adapter() -> ModuleType:
    """This library's `adapter` (sqlfluff imports it by name; tests load it from here)."""
    if "adapter" in sys.modules:
        return sys.modules["adapter"]
    spec = importlib.util.spec_from_file_location("adapter", Path(__file__).with_name("adapter.py"))
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    sys.modules["adapter"] = module
    return module


@cache
def _macros() -> dict[str, Callable[..., Any]]:
    env = jinja2.Environment(autoescape=False, extensions=["jinja2.ext.do"])  # SQL, not HTML
    # One template per macro: a call between two macros of one file must go through the
    # returning wrapper too, which a shared template module would bypass.
    blocks = {
        match.group(2): match.group(1)
        for directory in MACRO_DIRS
        for path in sorted(directory.rglob("*.sql"))
        for match in _MACRO.finditer(path.read_text())
    }
    defined: dict[str, Any] = {}
    found = {name: _returning(name, defined) for name in blocks}
    env.globals.update(
        {
            "return": _return,
            "exceptions": _Exceptions,
            "context": __import__(__name__),
            "adapter": adapter(),
            **found,
        }
    )
    for name, block in blocks.items():
        defined[name] = getattr(env.from_string(block).module, name)
    return found


def get(name: str) -> Callable[..., Any] | None:
    return _macros().get(name)
