"""The candlestick SQL without dbt: the frame and pattern macros rendered by the same
Jinja macros dbt compiles (through the sqlfluff library's `context`), run on any DuckDB
relation with symbol, date, open, high, low, close. Lets a test check all 61 patterns
against TA-Lib on hundreds of thousands of bars in seconds."""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Callable
from functools import cache
from pathlib import Path
from types import ModuleType
from typing import Any

import duckdb
import pandas as pd

CONTEXT_PY = Path(__file__).resolve().parents[1] / "lint" / "sqlfluff_library" / "context.py"


@cache
def _context() -> ModuleType:
    spec = importlib.util.spec_from_file_location("context", CONTEXT_PY)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["context"] = module  # the macros look themselves up by this name
    spec.loader.exec_module(module)
    module.adapter().use("duckdb")  # the rendered SQL runs on DuckDB
    return module


def macro(name: str) -> Callable[..., Any]:
    found = _context().get(name)
    if found is None:
        raise KeyError(name)
    return found


def pattern_names() -> list[str]:
    return list(macro("candle_pattern_names")())


def patterns_sql(relation: str, patterns: list[str] | None = None) -> str:
    """SELECT symbol, date and one integer column per pattern over `relation`."""
    chosen = patterns or pattern_names()
    columns = ",\n".join(f"cast({macro(p)()} as integer) as {p}" for p in chosen)
    inputs = (
        "select symbol, date, cast(open as double) as o0, cast(high as double) as h0, "
        f"cast(low as double) as l0, cast(close as double) as c0 from {relation}"
    )
    frame = macro("candle_frame")("candle_inputs")
    return (
        f"with candle_inputs as ({inputs}),\ncandles as ({frame})\n"
        f"select symbol, date,\n{columns}\nfrom candles order by symbol, date"
    )


def run_patterns(bars: pd.DataFrame, patterns: list[str] | None = None) -> pd.DataFrame:
    """The SQL patterns of `bars` (symbol, date, open, high, low, close), by symbol and date."""
    with duckdb.connect() as con:
        con.register("bars", bars)
        return con.sql(patterns_sql("bars", patterns)).df()
