"""What the report and the charts read from the warehouse: plain rows, one function per
question, each through a `Warehouse`, the one narrow interface the report reads tables
by. It has two implementations: `DuckDBWarehouse`, the dev target's DuckDB file (opened
read-only by `connect`), and `reports.iceberg.IcebergWarehouse`, the Iceberg tables an
Athena build wrote, read by DuckDB's iceberg extension. Both answer the same SQL over
`<layer>.<table>` names (DuckDB's dialect), and say which tables exist.

Every query names its table through `exists` first where the table may legitimately be
missing (a fresh warehouse, gold.prediction_performance before its model exists), so a
missing table is "nothing yet", never a crash; a missing required table is an error that
names it and how to build it.
"""

from __future__ import annotations

import datetime as dt
from abc import ABC, abstractmethod
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


class Warehouse(ABC):
    """The tables the report reads: DuckDB SQL over `<layer>.<name>` relations (tables,
    and the views the report reads, silver.candlestick_events), and which exist."""

    def __init__(self, con: duckdb.DuckDBPyConnection, source: str) -> None:
        self.con = con
        self.source = source  # where the rows come from, as the report names it

    @abstractmethod
    def exists(self, schema: str, name: str) -> bool:
        """Whether the relation `schema.name` can be queried (a table or a view)."""

    @abstractmethod
    def tables(self) -> dict[str, list[str]]:
        """The tables (not views) of each layer of LAYERS, by name."""


class DuckDBWarehouse(Warehouse):
    """The dev target: the DuckDB file dbt builds, its relations as dbt named them."""

    def exists(self, schema: str, name: str) -> bool:
        found = self.con.execute(
            "select count(*) from information_schema.tables "
            "where table_schema = ? and table_name = ?",
            [schema, name],
        ).fetchone()
        return bool(found and found[0])

    def tables(self) -> dict[str, list[str]]:
        found: dict[str, list[str]] = {layer: [] for layer in LAYERS}
        for schema, name in self.con.execute(
            "select table_schema, table_name from information_schema.tables "
            "where table_schema in ? and table_type = 'BASE TABLE' order by 1, 2",
            [list(LAYERS)],
        ).fetchall():
            found[schema].append(name)
        return found


@contextmanager
def connect(warehouse_path: str) -> Iterator[DuckDBWarehouse]:
    if not Path(warehouse_path).exists():
        raise WarehouseError(
            f"no warehouse at {warehouse_path} (WAREHOUSE_PATH): run `condvest daily` first"
        )
    with duckdb.connect(warehouse_path, read_only=True) as con:
        yield DuckDBWarehouse(con, warehouse_path)


def _require(wh: Warehouse, schema: str, table: str) -> None:
    if not wh.exists(schema, table):
        raise WarehouseError(
            f"the warehouse has no {schema}.{table}: run `condvest daily` (or `dbt build`) first"
        )


def rows_per_layer(wh: Warehouse) -> dict[str, dict[str, int]]:
    """Rows of every table (not view) per layer, as the run report counts them."""
    layers: dict[str, dict[str, int]] = {}
    for layer, names in wh.tables().items():
        layers[layer] = {}
        for name in names:
            # Names come from the catalog; quoting keeps odd ones safe.
            count = wh.con.execute(f'select count(*) from "{layer}"."{name}"').fetchone()
            layers[layer][name] = int(count[0]) if count else 0
    return layers


def latest_date(wh: Warehouse) -> dt.date:
    _require(wh, "bronze", "ohlcv_daily")
    found = wh.con.execute("select max(date) from bronze.ohlcv_daily").fetchone()
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


def breadth(wh: Warehouse, day: dt.date) -> Breadth:
    _require(wh, "bronze", "ohlcv_daily")
    row = wh.con.execute(
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


def fired_patterns(wh: Warehouse, day: dt.date) -> list[PatternCount]:
    """The day's events per (pattern, direction), with the catalog's meaning; most first."""
    if not wh.exists("silver", "candlestick_events"):
        return []
    rows = wh.con.execute(
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


def top_predictions(wh: Warehouse, day: dt.date, n: int) -> list[Prediction]:
    """The day's best-ranked symbols of the newest model that scored the day."""
    if not wh.exists("gold", "predictions"):
        return []
    rows = wh.con.execute(
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


def daily_bars(wh: Warehouse, symbol: str, start: dt.date, end: dt.date) -> list[Bar]:
    _require(wh, "bronze", "ohlcv_daily")
    rows = wh.con.execute(
        "select date, open, high, low, close from bronze.ohlcv_daily "
        "where symbol = ? and date between ? and ? order by date",
        [symbol, start, end],
    ).fetchall()
    return [Bar(d, d, float(o), float(h), float(lo), float(c)) for d, o, h, lo, c in rows]


def sessions_before(wh: Warehouse, symbol: str, end: dt.date, n: int) -> dt.date:
    """The date of the symbol's n-th bar counting back from `end` (its first bar if fewer)."""
    _require(wh, "bronze", "ohlcv_daily")
    found = wh.con.execute(
        "select min(date) from (select date from bronze.ohlcv_daily "
        "where symbol = ? and date <= ? order by date desc limit ?)",
        [symbol, end, n],
    ).fetchone()
    return found[0] if found and found[0] is not None else end


def resample_bars(wh: Warehouse, symbol: str, end: dt.date, n: int) -> dict[int, list[Bar]]:
    """The last `n` bars of each Fibonacci size that start on or before `end`."""
    bars: dict[int, list[Bar]] = {}
    for size in RESAMPLE_SIZES:
        table = f"ohlcv_{size}d"
        if not wh.exists("silver", table):
            continue
        rows = wh.con.execute(
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


def symbol_events(wh: Warehouse, symbol: str, start: dt.date, end: dt.date) -> list[Event]:
    if not wh.exists("silver", "candlestick_events"):
        return []
    rows = wh.con.execute(
        "select date, pattern, display_name, direction, signal from silver.candlestick_events "
        "where symbol = ? and date between ? and ? order by date, pattern",
        [symbol, start, end],
    ).fetchall()
    return [Event(d, p, name or p, direction, int(s)) for d, p, name, direction, s in rows]


def known_symbol(wh: Warehouse, symbol: str) -> bool:
    _require(wh, "bronze", "ohlcv_daily")
    found = wh.con.execute(
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


def performance(wh: Warehouse, through: dt.date) -> list[Performance]:
    """gold.prediction_performance up to `through`, by date; [] when it does not exist yet."""
    if not wh.exists("gold", "prediction_performance"):
        return []
    rows = wh.con.execute(
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
