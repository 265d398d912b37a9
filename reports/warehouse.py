"""What the report and the charts read from the DuckDB warehouse: plain rows, one function
per question, each on a read-only connection the caller opens (`connect`).

Every query names its table through `_exists` first where the table may legitimately be
missing (a fresh warehouse, gold.prediction_performance before its model exists), so a
missing table is "nothing yet", never a crash; a missing required table is an error that
names it and how to build it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import duckdb

from core.errors import ExitCode, OperationalError

LAYERS = ("staging", "bronze", "silver", "gold")
RESAMPLE_SIZES = (3, 5, 8, 13, 21, 34)
# gold.prediction_performance: one row per date (the ML mart's contract).
PERFORMANCE_COLUMNS = (
    "date",
    "model_version",
    "symbols_scored",
    "hit_rate",
    "top_k",
    "top_k_forward_return",
    "market_forward_return",
    "top_k_excess_return",
)


class WarehouseError(OperationalError):
    """The warehouse is missing, or lacks a table the report needs."""

    exit_code = ExitCode.BAD_INPUT


@contextmanager
def connect(warehouse_path: str) -> Iterator[duckdb.DuckDBPyConnection]:
    if not Path(warehouse_path).exists():
        raise WarehouseError(
            f"no warehouse at {warehouse_path} (WAREHOUSE_PATH): run `condvest daily` first"
        )
    with duckdb.connect(warehouse_path, read_only=True) as con:
        yield con


def _exists(con: duckdb.DuckDBPyConnection, schema: str, table: str) -> bool:
    found = con.execute(
        "select count(*) from information_schema.tables where table_schema = ? and table_name = ?",
        [schema, table],
    ).fetchone()
    return bool(found and found[0])


def _require(con: duckdb.DuckDBPyConnection, schema: str, table: str) -> None:
    if not _exists(con, schema, table):
        raise WarehouseError(
            f"the warehouse has no {schema}.{table}: run `condvest daily` (or `dbt build`) first"
        )


def rows_per_layer(con: duckdb.DuckDBPyConnection) -> dict[str, dict[str, int]]:
    """Rows of every table (not view) per layer, as the run report counts them."""
    relations = con.execute(
        "select table_schema, table_name from information_schema.tables "
        "where table_schema in ? and table_type = 'BASE TABLE' order by 1, 2",
        [list(LAYERS)],
    ).fetchall()
    layers: dict[str, dict[str, int]] = {layer: {} for layer in LAYERS}
    for schema, name in relations:
        # Names come from the catalog; quoting keeps odd ones safe.
        count = con.execute(f'select count(*) from "{schema}"."{name}"').fetchone()
        layers[schema][name] = int(count[0]) if count else 0
    return layers


def latest_date(con: duckdb.DuckDBPyConnection) -> dt.date:
    _require(con, "bronze", "ohlcv_daily")
    found = con.execute("select max(date) from bronze.ohlcv_daily").fetchone()
    if not found or found[0] is None:
        raise WarehouseError("bronze.ohlcv_daily is empty: land some bars first")
    return found[0]


@dataclass(frozen=True)
class Breadth:
    """The day's bars against each symbol's previous bar."""

    advancers: int
    decliners: int
    unchanged: int
    first_bars: int  # symbols whose first bar this is: no previous close to compare

    @property
    def symbols(self) -> int:
        return self.advancers + self.decliners + self.unchanged + self.first_bars


def breadth(con: duckdb.DuckDBPyConnection, day: dt.date) -> Breadth:
    _require(con, "bronze", "ohlcv_daily")
    row = con.execute(
        """
        with today as (
            select symbol, close from bronze.ohlcv_daily where date = ?
        ),
        previous as (
            select symbol, arg_max(close, date) as close
            from bronze.ohlcv_daily
            where date < ? and symbol in (select symbol from today)
            group by symbol
        )
        select
            count(*) filter (where today.close > previous.close),
            count(*) filter (where today.close < previous.close),
            count(*) filter (where today.close = previous.close),
            count(*) filter (where previous.close is null)
        from today left join previous using (symbol)
        """,
        [day, day],
    ).fetchone()
    assert row is not None
    return Breadth(*(int(value) for value in row))


@dataclass(frozen=True)
class PatternCount:
    pattern: str
    display_name: str
    kind: str
    direction: str
    signals: int
    symbols: tuple[str, ...]


def fired_patterns(con: duckdb.DuckDBPyConnection, day: dt.date) -> list[PatternCount]:
    """The day's events per (pattern, direction), with the catalog's meaning; most first."""
    if not _exists(con, "silver", "candlestick_events"):
        return []
    rows = con.execute(
        """
        select pattern, display_name, kind, direction, count(*) as signals,
               list(symbol order by symbol) as symbols
        from silver.candlestick_events
        where date = ?
        group by pattern, display_name, kind, direction
        order by signals desc, pattern, direction
        """,
        [day],
    ).fetchall()
    return [
        PatternCount(p, name or p, kind or "unknown", direction, int(n), tuple(symbols))
        for p, name, kind, direction, n, symbols in rows
    ]


@dataclass(frozen=True)
class Prediction:
    symbol: str
    name: str | None
    rank_in_day: int
    probability_up: float
    model_version: str


def top_predictions(con: duckdb.DuckDBPyConnection, day: dt.date, n: int) -> list[Prediction]:
    """The day's best-ranked symbols of the newest model that scored the day."""
    if not _exists(con, "gold", "predictions"):
        return []
    rows = con.execute(
        """
        select symbol, symbol_name, rank_in_day, probability_up, model_version
        from gold.predictions
        where date = ?
          and model_version = (select max(model_version) from gold.predictions where date = ?)
        order by rank_in_day, symbol
        limit ?
        """,
        [day, day, n],
    ).fetchall()
    return [Prediction(s, name, int(r), float(p), v) for s, name, r, p, v in rows]


@dataclass(frozen=True)
class Bar:
    start: dt.date
    end: dt.date
    open: float
    high: float
    low: float
    close: float
    complete: bool = True


def daily_bars(
    con: duckdb.DuckDBPyConnection, symbol: str, start: dt.date, end: dt.date
) -> list[Bar]:
    _require(con, "bronze", "ohlcv_daily")
    rows = con.execute(
        "select date, open, high, low, close from bronze.ohlcv_daily "
        "where symbol = ? and date between ? and ? order by date",
        [symbol, start, end],
    ).fetchall()
    return [Bar(d, d, float(o), float(h), float(lo), float(c)) for d, o, h, lo, c in rows]


def sessions_before(con: duckdb.DuckDBPyConnection, symbol: str, end: dt.date, n: int) -> dt.date:
    """The date of the symbol's n-th bar counting back from `end` (its first bar if fewer)."""
    _require(con, "bronze", "ohlcv_daily")
    found = con.execute(
        "select min(date) from (select date from bronze.ohlcv_daily "
        "where symbol = ? and date <= ? order by date desc limit ?)",
        [symbol, end, n],
    ).fetchone()
    return found[0] if found and found[0] is not None else end


def resample_bars(
    con: duckdb.DuckDBPyConnection, symbol: str, end: dt.date, n: int
) -> dict[int, list[Bar]]:
    """The last `n` bars of each Fibonacci size that start on or before `end`."""
    bars: dict[int, list[Bar]] = {}
    for size in RESAMPLE_SIZES:
        table = f"ohlcv_{size}d"
        if not _exists(con, "silver", table):
            continue
        rows = con.execute(
            f"select bucket_start, bucket_end, open, high, low, close, is_complete "
            f"from silver.{table} where symbol = ? and bucket_start <= ? "
            f"order by bucket_start desc limit ?",
            [symbol, end, n],
        ).fetchall()
        bars[size] = [
            Bar(s, e, float(o), float(h), float(lo), float(c), bool(done))
            for s, e, o, h, lo, c, done in reversed(rows)
        ]
    return bars


@dataclass(frozen=True)
class Event:
    date: dt.date
    pattern: str
    display_name: str
    direction: str
    signal: int


def symbol_events(
    con: duckdb.DuckDBPyConnection, symbol: str, start: dt.date, end: dt.date
) -> list[Event]:
    if not _exists(con, "silver", "candlestick_events"):
        return []
    rows = con.execute(
        "select date, pattern, display_name, direction, signal from silver.candlestick_events "
        "where symbol = ? and date between ? and ? order by date, pattern",
        [symbol, start, end],
    ).fetchall()
    return [Event(d, p, name or p, direction, int(s)) for d, p, name, direction, s in rows]


def known_symbol(con: duckdb.DuckDBPyConnection, symbol: str) -> bool:
    _require(con, "bronze", "ohlcv_daily")
    found = con.execute(
        "select count(*) from (select 1 from bronze.ohlcv_daily where symbol = ? limit 1)",
        [symbol],
    ).fetchone()
    return bool(found and found[0])


@dataclass(frozen=True)
class Performance:
    date: dt.date
    model_version: str
    symbols_scored: int
    hit_rate: float | None
    top_k: int
    top_k_forward_return: float | None
    market_forward_return: float | None
    top_k_excess_return: float | None


def performance(con: duckdb.DuckDBPyConnection, through: dt.date) -> list[Performance]:
    """gold.prediction_performance up to `through`, by date; [] when it does not exist yet."""
    if not _exists(con, "gold", "prediction_performance"):
        return []
    rows = con.execute(
        f"select {', '.join(PERFORMANCE_COLUMNS)} from gold.prediction_performance "
        "where date <= ? order by date, model_version",
        [through],
    ).fetchall()

    def number(value: float | None) -> float | None:
        return None if value is None else float(value)

    return [
        Performance(
            d, v, int(scored), number(hit), int(k), number(top), number(market), number(excess)
        )
        for d, v, scored, hit, k, top, market, excess in rows
    ]
