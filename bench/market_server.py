"""The local Polygon server serving one session of the generated market.

    python -m bench.market_server --partition DIR --session YYYY-MM-DD --symbols N

It is the test stub (tests/python/fixtures/polygon_server.py: the same HTTP stack, auth,
gzip, paging and answer cache) with its synthetic market swapped for the held-back
session of bench.generate_market: the grouped-daily answer for that session carries the
generated bars exactly (so `condvest daily` lands what the generator would have), every
other session answers as a closed day, and the ticker list names the generated symbols
(those trading that session active, the rest delisted). No per-ticker ranges and no
splits: a split executed on the held-back session (about one symbol in 200 splits over
the whole window) is served as a plain bar, not restated.

Like the stub, it runs in its own process (its CPU and memory are not the client's),
prints one JSON line (base_url, api_key, rows) when ready and serves until its stdin closes.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import subprocess
import sys
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import Any

import pyarrow.compute as pc
import pyarrow.parquet as pq

from core.paths import REPO_ROOT
from ingestion.calendar import NEW_YORK, TradingCalendar, load_calendar
from tests.python.fixtures.polygon_server import PolygonStub, SyntheticMarket

BAR_COLUMNS = ["symbol", "open", "high", "low", "close", "volume", "vwap", "transactions"]


def grouped_rows(partition: Path, session: dt.date) -> list[dict[str, Any]]:
    """The session's bars from its landing files, as Polygon's grouped-daily results. A
    split's restatement in the same partition repeats the symbol's bar: the first wins."""
    # Grouped bars are stamped at the 16:00 New York close, like the real API.
    stamp = int(dt.datetime.combine(session, dt.time(16), tzinfo=NEW_YORK).timestamp() * 1000)
    rows: dict[str, dict[str, Any]] = {}
    for path in sorted(partition.glob("*.parquet")):
        table = pq.read_table(path, columns=[*BAR_COLUMNS, "date"])
        table = table.filter(pc.equal(table["date"], session)).select(BAR_COLUMNS)
        for bar in table.to_pylist():
            rows.setdefault(bar["symbol"], _polygon_row(bar, stamp))
    return list(rows.values())


def _polygon_row(bar: dict[str, Any], stamp: int) -> dict[str, Any]:
    row = {"T": bar["symbol"], "v": bar["volume"], "vw": bar["vwap"], "o": bar["open"],
           "c": bar["close"], "h": bar["high"], "l": bar["low"], "t": stamp}  # fmt: skip
    if bar["transactions"] is not None:
        row["n"] = bar["transactions"]
    return {key: value for key, value in row.items() if value is not None}


class HeldBackSession(SyntheticMarket):
    """The stub's market, answering for one generated session only."""

    def __init__(
        self, calendar: TradingCalendar, session: dt.date, rows: list[dict[str, Any]], symbols: int
    ) -> None:
        super().__init__(calendar, n_symbols=0)
        self.session = session
        self._rows = rows
        traded = {row["T"] for row in rows}
        # bench.generate_market names its symbols G00000, G00001, ...
        everyone = [f"G{i:05d}" for i in range(symbols)]
        self.listed = [symbol for symbol in everyone if symbol in traded]
        self.delisted = [symbol for symbol in everyone if symbol not in traded]

    def grouped_rows(self, day: dt.date, include_otc: bool = False) -> list[dict[str, Any]]:
        return self._rows if day == self.session else []

    def trades(self, symbol: str) -> bool:
        return False  # no per-ticker history: nothing to restate


def serve(partition: Path, session: dt.date, symbols: int) -> None:
    calendar = load_calendar(REPO_ROOT / "seeds" / "trading_calendar.csv")
    stub = PolygonStub(calendar)
    rows = grouped_rows(partition, session)
    stub.market = HeldBackSession(calendar, session, rows, symbols)
    stub.warm(session, session)  # the answer is built and gzipped before anyone asks
    with stub:
        ready = {"base_url": stub.base_url, "api_key": stub.api_key, "rows": len(rows)}
        print(json.dumps(ready), flush=True)
        sys.stdin.read()


@contextmanager
def server_process(module: str, *args: str) -> Iterator[dict[str, Any]]:
    """Run a server module (`python -m module *args`) in its own process; yield the JSON
    line it prints when ready, plus its pid. It stops when its stdin closes."""
    command = [sys.executable, "-m", module, *args]
    process = subprocess.Popen(
        command, cwd=REPO_ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    assert process.stdin is not None
    assert process.stdout is not None
    try:
        ready = process.stdout.readline()
        if not ready:
            raise RuntimeError(f"{module} exited with {process.wait()} before it was ready")
        yield {**json.loads(ready), "pid": process.pid}
    finally:
        process.stdin.close()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def session_server(
    partition: Path, session: dt.date, symbols: int
) -> AbstractContextManager[dict[str, Any]]:
    """This module's server in its own process, as server_process."""
    return server_process(
        "bench.market_server",
        f"--partition={partition}",
        f"--session={session}",
        f"--symbols={symbols}",
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--partition", type=Path, required=True)
    parser.add_argument("--session", type=dt.date.fromisoformat, required=True)
    parser.add_argument("--symbols", type=int, required=True)
    args = parser.parse_args(argv)
    serve(args.partition, args.session, args.symbols)


if __name__ == "__main__":
    main()
