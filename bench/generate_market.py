"""Generate a realistic market as landing files, deterministic by seed.

N symbols x M NYSE sessions (default 10,000 x 2,520 = 25.2M bars): Student-t returns
(heavy tails) with per-symbol volatility, listings and delistings spread over the window,
random missing sessions, and splits whose restatement lands as a per-symbol backfill batch
(adjusted history), exactly as the fetchers land them: one file per grouped-daily session,
one file per restatement.

The window ends with the last session before `end` (default: today), and each batch is
stamped half an hour after its session's close, so the lake looks like one a daily pipeline
has kept up to date: the newest batch landed yesterday, as for a user's daily run, and the
incremental cursors' look-back windows (macros/engine/cursor_lookback.sql) behave as they
do in production. Deterministic by seed and end date.

    python -m bench.generate_market --symbols 10000 --sessions 2520 --out bench/out/market
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import time
from pathlib import Path

import numpy as np
import pyarrow as pa

from core.lake import Lake
from core.paths import REPO_ROOT
from ingestion.calendar import load_calendar
from ingestion.landing import land_bars

SOURCE = "bench"


def _stamp(session: dt.date, minutes: int = 0) -> dt.datetime:
    # Landed half an hour after the close, as the daily fetcher does.
    return dt.datetime.combine(session, dt.time(21, 30), tzinfo=dt.UTC) + dt.timedelta(
        minutes=minutes
    )


class MarketGenerator:
    """Walks the market forward one session at a time (vectorised across symbols)."""

    def __init__(self, symbols: int, seed: int) -> None:
        self.rng = np.random.default_rng(seed)
        self.n = symbols
        self.symbols = np.array([f"G{i:05d}" for i in range(symbols)])
        self.log_price = np.log(self.rng.uniform(5, 400, symbols))
        self.volatility = self.rng.uniform(0.008, 0.04, symbols)
        self.drift = self.rng.normal(0.0002, 0.0003, symbols)
        self.base_volume = self.rng.lognormal(12, 1.2, symbols)
        self.factor = np.ones(symbols)  # cumulative split factor (raw = economic x factor)

    def lifetimes(self, sessions: int) -> tuple[np.ndarray, np.ndarray]:
        """First and last session index per symbol: 85% live all along."""
        first = np.zeros(self.n, dtype=int)
        last = np.full(self.n, sessions - 1)
        listed = self.rng.random(self.n) < 0.10
        first[listed] = self.rng.integers(1, sessions - 20, listed.sum())
        delisted = self.rng.random(self.n) < 0.05
        last[delisted] = np.maximum(
            first[delisted] + 20, self.rng.integers(sessions // 3, sessions, delisted.sum())
        )
        return first, np.minimum(last, sessions - 1)

    def step(self) -> dict[str, np.ndarray]:
        shocks = self.rng.standard_t(df=3, size=self.n) / np.sqrt(3.0)
        open_ = np.exp(self.log_price + self.rng.normal(0, self.volatility / 4))
        self.log_price = self.log_price + self.drift + self.volatility * shocks
        close = np.exp(self.log_price)
        wick = np.abs(self.rng.normal(0, self.volatility / 2, size=(2, self.n)))
        high = np.maximum(open_, close) * np.exp(wick[0])
        low = np.minimum(open_, close) * np.exp(-wick[1])
        volume = np.round(self.base_volume * self.rng.lognormal(0, 0.5, self.n))
        return {"open": open_, "high": high, "low": low, "close": close, "volume": volume}


def _restatement(symbol: str, past: list[dict[str, object]], factor: float) -> pa.Table:
    """A symbol's whole history in today's split-adjusted prices, as one batch."""
    column = {key: np.array([p[key] for p in past], dtype=float) for key in
              ("open", "high", "low", "close", "volume")}  # fmt: skip
    prices = {key: np.round(column[key] * factor, 4) for key in ("open", "high", "low", "close")}
    volume = np.round(column["volume"] / factor)
    return pa.table(
        {
            "symbol": [symbol] * len(past),
            "date": pa.array([p["date"] for p in past], pa.date32()),
            **prices,
            "volume": volume,
            "vwap": np.round((prices["high"] + prices["low"] + prices["close"]) / 3, 4),
            "transactions": (volume // 100).astype("int64") + 1,
        }
    )


def generate(
    symbols: int, sessions: int, out: Path, seed: int = 7, end: dt.date | None = None
) -> dict[str, object]:
    calendar = load_calendar(REPO_ROOT / "seeds" / "trading_calendar.csv")
    end = end or dt.datetime.now(dt.UTC).date()
    days = [day for day in calendar.sessions if day < end][-sessions:]
    if len(days) < sessions:
        raise ValueError(f"the calendar has only {len(days)} sessions before {end}")
    market = MarketGenerator(symbols, seed)
    first, last = market.lifetimes(sessions)
    split_at = {int(i): market.rng.choice([2.0, 3.0, 4.0, 0.1]) for i in
                market.rng.choice(symbols, size=max(1, symbols // 200), replace=False)}  # fmt: skip
    split_day = {i: int(market.rng.integers(sessions // 4, sessions)) for i in split_at}
    history: dict[int, list[dict[str, object]]] = {i: [] for i in split_at}
    lake = Lake.open(str(out))
    rows = files = 0
    started = time.perf_counter()
    for index, day in enumerate(days):
        bar = market.step()
        for symbol, when in split_day.items():
            if when == index:
                market.factor[symbol] /= split_at[symbol]
        raw = {k: v * market.factor if k != "volume" else v / market.factor for k, v in bar.items()}
        live = (first <= index) & (index <= last) & (market.rng.random(symbols) > 0.003)
        table = pa.table(
            {
                "symbol": market.symbols[live],
                "date": pa.array([day] * int(live.sum()), pa.date32()),
                **{k: np.round(raw[k][live], 4) for k in ("open", "high", "low", "close")},
                "volume": np.round(raw["volume"][live]),
                "vwap": np.round(((raw["high"] + raw["low"] + raw["close"]) / 3)[live], 4),
                "transactions": (raw["volume"][live] // 100).astype("int64") + 1,
            }
        )
        land_bars(lake, calendar, table, SOURCE, _stamp(day))
        rows += table.num_rows
        files += 1
        for symbol in split_at:
            if live[symbol]:
                history[symbol].append({"date": day, **{k: float(bar[k][symbol]) for k in bar}})
            if split_day[symbol] == index and history[symbol]:
                # The fetcher's split restatement: the whole history, adjusted as of today.
                restated = _restatement(
                    str(market.symbols[symbol]), history[symbol], market.factor[symbol]
                )
                land_bars(lake, calendar, restated, SOURCE, _stamp(day, 5))
                rows += restated.num_rows
                files += 1
    return {
        "symbols": symbols,
        "sessions": sessions,
        "first_session": days[0].isoformat(),
        "last_session": days[-1].isoformat(),
        "rows": rows,
        "files": files,
        "splits": len(split_at),
        "seconds": round(time.perf_counter() - started, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--symbols", type=int, default=10_000)
    parser.add_argument("--sessions", type=int, default=2_520)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--end", type=dt.date.fromisoformat, help="sessions before this date (default: today)"
    )
    parser.add_argument("--out", type=Path, default=Path("bench/out/market"))
    args = parser.parse_args()
    info = generate(args.symbols, args.sessions, args.out, args.seed, args.end)
    print(json.dumps(info, indent=2))


if __name__ == "__main__":
    main()
