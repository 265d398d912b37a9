"""sqlfluff's Jinja templater has no dbt `adapter`: this one resolves `adapter.dispatch`
to the project's own `default__` macro (the Athena/Trino flavour), so the linted SQL is
exactly what Athena would run, without a second copy of any macro. A test that runs the
rendered SQL on DuckDB selects the `duckdb__` flavour with `use("duckdb")`."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

import jinja2

# Dispatched macros live in macros/engine; nothing else there needs dbt-only Jinja tags.
MACRO_DIR = Path(__file__).resolve().parents[3] / "macros" / "engine"
_flavour = ["default"]


class _Return(Exception):  # noqa: N818 - mirrors dbt's `return()` control flow
    def __init__(self, value: Any) -> None:
        self.value = value


def _return(value: Any) -> None:
    raise _Return(value)


@cache
def _macros() -> dict[str, Any]:
    env = jinja2.Environment(autoescape=False)  # renders SQL, not HTML
    env.globals["return"] = _return
    env.globals["adapter"] = __import__(__name__)
    found: dict[str, Any] = {}
    for path in sorted(MACRO_DIR.rglob("*.sql")):
        module = env.from_string(path.read_text()).module
        found.update({name: getattr(module, name) for name in dir(module) if "__" in name})
    return found


def use(flavour: str) -> None:
    """Resolve dispatched macros to `<flavour>__` where the project has one."""
    _flavour[0] = flavour


def dispatch(name: str, macro_namespace: str | None = None) -> Any:
    macros = _macros()
    macro = macros.get(f"{_flavour[0]}__{name}", macros[f"default__{name}"])

    def call(*args: Any, **kwargs: Any) -> Any:
        try:
            return macro(*args, **kwargs)
        except _Return as result:
            return result.value

    return call
