"""The project on Trino (the engine under Athena): what a full build and one daily run read.

    python -m bench.bench_trino --symbols 1000 --sessions 2520 --out bench/out [--results]

On the generated market (bench.generate_market) with its last session held back: the
cached Trino 476 (scripts/trino/install.sh) starts with the tests' configuration
(tests/python/fixtures/trino.py: Iceberg catalog `awsdatacatalog`, Hive catalog for the
landing files, 100 open partitions per write as Athena) and a larger heap; the landing
tables are created from ingestion/athena_ddl.py; then `dbt build --target trino` from
empty (the full build, data tests included) and, with the last session landed, the same
`dbt build` again (the daily incremental run: MERGE into every incremental model).

Bytes read are Trino's own figures for every query of each run
(`physicalInputDataSize` from /v1/query: the bytes read from files, what Athena bills
as "data scanned"), grouped by the dbt node named in dbt's query comment. Athena's price
is $5 per TB scanned with a 10 MB minimum per query; the cost of a daily run and of a
full rebuild is estimated from these bytes at this size and extrapolated to 10,000
symbols (bytes read grow linearly in symbols, every model reads each symbol's rows
alike; the per-query minimums do not grow). Target: the daily run
reads under 2% of what a full rebuild reads.

One setting differs from the tests: Trino reads a Parquet file under 3 MB whole
(`parquet.small-file-threshold`), every column of it, and a file's size grows with the
symbols it holds. At 1,000 symbols every month's file of a table is under 3 MB; at 10,000
only the newest ones are (the current month early in the month, each day's MERGE output).
The bench scales the threshold with the market (3 MB x symbols / 10,000: 315 kB at
1,000), so the files read whole are those that would be at 10,000 symbols, and the others
are read by the column chunks a query needs, as Athena bills columnar data.
`--whole-small-files` keeps Trino's 3 MB at this size.

Writes <out>/bench_trino_<S>x<M>.json and .md; --results copies them to bench/results/.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import re
import shutil
import sys
import time
import urllib.request
from collections import defaultdict
from pathlib import Path
from typing import Any

from bench.dbt_runs import market
from core.paths import REPO_ROOT
from tests.python.dbt_helpers import run_dbt
from tests.python.fixtures.trino import Memory, TrinoServer, running_trino
from tests.python.trino_helpers import create_landing_tables, dbt_environment

RESULTS = REPO_ROOT / "bench" / "results"
DOLLARS_PER_TB = 5.0
ATHENA_MINIMUM_BYTES = 10 * 10**6  # Athena bills at least 10 MB per query
TARGET_SYMBOLS = 10_000
DAILY_SHARE_TARGET = 0.02
# A 1,000-symbol market's window models need more than the tests' 1 GB of query memory;
# 6 GB of heap leaves the machine's other work room (the JVM's RSS stays near the heap).
MEMORY = Memory(heap_gb=6, query_gb=4)
# Keep every query of both runs in /v1/query until they are read.
HISTORY = {"query.max-history": "100000", "query.min-expire-age": "6h"}
TRINO_SMALL_FILE_BYTES = 3 * 2**20  # parquet.small-file-threshold's default, "3MB"
_COMMENT = re.compile(r"/\*.*?\*/", re.S)
HEAVIEST = 25  # queries kept per run, with the start of their SQL, to see what reads
HEAD_CHARS = 600
_NODE = re.compile(r'"node_id": "([^"]+)"')
# A statement dbt sends without its query comment (the insert into a contracted model's
# staging table, or into the model itself on its first build) belongs to that model.
_STAGING = re.compile(r'"(\w+)__dbt_tmp"')
# (A seed's insert names its columns: it stays dbt's own.)
_FIRST_INSERT = re.compile(r'\s*insert into "\w+"\."\w+"\."(\w+)"\s*\(\s*select\b')
_UNITS = {"B": 1, "kB": 2**10, "MB": 2**20, "GB": 2**30, "TB": 2**40, "PB": 2**50}


def data_size(text: str) -> int:
    """Bytes of an airlift DataSize as /v1/query writes it ("647692B", "1.5MB")."""
    number, unit = re.fullmatch(r"([\d.]+)\s*([kMGTP]?B)", text).groups()  # type: ignore[union-attr]
    return round(float(number) * _UNITS[unit])


def _get(server: TrinoServer, path: str) -> Any:
    request = urllib.request.Request(
        f"http://{server.host}:{server.port}{path}", headers={"X-Trino-User": "bench"}
    )
    with urllib.request.urlopen(request, timeout=60) as response:
        return json.loads(response.read())


def queries(server: TrinoServer) -> list[dict[str, Any]]:
    return _get(server, "/v1/query")


def bytes_by_node(
    server: TrinoServer, seen: set[str], heaviest: list[dict[str, Any]]
) -> dict[str, dict[str, int]]:
    """Per dbt node, over the finished queries not in `seen` (which it extends): queries,
    bytes read from files, raw input bytes, and Athena's billed bytes (10 MB minimum).
    `heaviest` receives the queries that read the most (node, bytes, the SQL's start)."""
    per_node: dict[str, dict[str, int]] = defaultdict(
        lambda: {"queries": 0, "physical_input_bytes": 0, "raw_input_bytes": 0, "billed_bytes": 0}
    )
    read: list[dict[str, Any]] = []
    for query in queries(server):
        if query["queryId"] in seen or query["state"] not in ("FINISHED", "FAILED"):
            continue
        seen.add(query["queryId"])
        node = statement_node(query["query"])
        stats = query["queryStats"]
        physical = data_size(stats["physicalInputDataSize"])
        totals = per_node[node]
        totals["queries"] += 1
        totals["physical_input_bytes"] += physical
        totals["raw_input_bytes"] += data_size(stats["rawInputDataSize"])
        totals["billed_bytes"] += max(physical, ATHENA_MINIMUM_BYTES) if physical else 0
        sql = _COMMENT.sub("", query["query"]).strip()
        read.append(
            {
                "node": node,
                "query_id": query["queryId"],
                "physical_input_bytes": physical,
                "sql": sql[:HEAD_CHARS],
            }
        )
    for entry in sorted(read, key=lambda q: -q["physical_input_bytes"])[:HEAVIEST]:
        heaviest.append({**entry, "bytes_by_table": bytes_by_table(server, entry["query_id"])})
    return dict(per_node)


def statement_node(sql: str) -> str:
    """The dbt node a statement ran for, from its query comment or its staging table."""
    if found := _NODE.search(sql):
        return found.group(1)
    if staged := _STAGING.search(sql) or _FIRST_INSERT.match(sql):
        return f"model.condvest.{staged.group(1)}"
    return "(dbt's own queries)"


def bytes_by_table(server: TrinoServer, query_id: str) -> dict[str, int]:
    """The bytes one query read per table: its scans' operator figures, by plan node."""
    info = _get(server, f"/v1/query/{query_id}")
    tables = {
        item["planNodeId"]: f"{item['schema']}.{item['table']}" for item in info.get("inputs", [])
    }
    read: dict[str, int] = defaultdict(int)
    for operator in info["queryStats"].get("operatorSummaries", []):
        table = tables.get(operator["planNodeId"])
        if table:
            read[table] += data_size(operator["physicalInputDataSize"])
    return dict(read)


def build(server: TrinoServer, work: Path, env: dict[str, str], seen: set[str]) -> dict[str, Any]:
    started = time.perf_counter()
    run_dbt(work, env, "build", "--target", "trino")
    seconds = time.perf_counter() - started
    results = json.loads((work / "target" / "run_results.json").read_text())["results"]
    heaviest: list[dict[str, Any]] = []
    nodes = bytes_by_node(server, seen, heaviest)
    total = {
        key: sum(node[key] for node in nodes.values())
        for key in ("queries", "physical_input_bytes", "raw_input_bytes", "billed_bytes")
    }
    return {
        "seconds": round(seconds, 1),
        "statuses": {r["unique_id"]: r["status"] for r in results},
        "execution_seconds": {r["unique_id"]: round(r["execution_time"], 2) for r in results},
        "bytes_by_node": nodes,
        "heaviest_queries": heaviest,
        "total": total,
    }


def athena_dollars(total: dict[str, int], scale: float) -> float:
    """Athena's price of a run's queries with the market `scale` times larger: the bytes
    read grow with the symbols, the 10 MB minimums of small queries do not (an upper
    bound: some of them would pass the minimum at the larger size)."""
    minimums = total["billed_bytes"] - total["physical_input_bytes"]
    return (total["physical_input_bytes"] * scale + minimums) / 1e12 * DOLLARS_PER_TB


def reader_settings(symbols: int, whole_small_files: bool) -> dict[str, str]:
    """The Parquet reader's catalog settings: Trino's small-file threshold scaled to the
    market, so that a file is read whole when its counterpart at TARGET_SYMBOLS would be
    (files grow linearly in symbols), or Trino's default with `whole_small_files`."""
    if whole_small_files:
        return {}
    scaled = TRINO_SMALL_FILE_BYTES * min(symbols, TARGET_SYMBOLS) // TARGET_SYMBOLS
    return {"parquet.small-file-threshold": f"{scaled}B"}


def run(symbols: int, sessions: int, out: Path, whole_small_files: bool = False) -> dict[str, Any]:
    generated = market(symbols, sessions, out)
    work = out / f"trino_{symbols}x{sessions}"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    # The server's local:/// root must hold the market's lake: `out` does. Its metastore
    # and tables (<out>/warehouse) start empty: the full build is from empty.
    shutil.rmtree(out / "warehouse", ignore_errors=True)
    readers = reader_settings(symbols, whole_small_files)
    with running_trino(work / "server", out, MEMORY, HISTORY, readers) as server:
        prefix = f"bench{symbols}_"
        create_landing_tables(server, generated.lake, f"{prefix}landing")
        env = dbt_environment(server, prefix, generated.lake)
        seen = {query["queryId"] for query in queries(server)}
        with generated.last_session_held_back():
            full = build(server, work / "full", env, seen)
        daily = build(server, work / "daily", env, seen)
    scale = TARGET_SYMBOLS / symbols
    share = daily["total"]["physical_input_bytes"] / full["total"]["physical_input_bytes"]
    return {
        "size": {"symbols": symbols, "sessions": sessions},
        "measured_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "trino": {
            "version": "476",
            "heap_gb": MEMORY.heap_gb,
            "query_memory_gb": MEMORY.query_gb,
            "catalog": readers,
        },
        "cpus": os.cpu_count(),
        "market": generated.info,
        "full": full,
        "daily": daily,
        "daily_share_of_full": share,
        "target_daily_share": DAILY_SHARE_TARGET,
        "target_met": share < DAILY_SHARE_TARGET,
        "athena_dollars": {
            "full_rebuild_here": athena_dollars(full["total"], 1.0),
            "daily_here": athena_dollars(daily["total"], 1.0),
            f"full_rebuild_at_{TARGET_SYMBOLS}": athena_dollars(full["total"], scale),
            f"daily_at_{TARGET_SYMBOLS}": athena_dollars(daily["total"], scale),
        },
    }


def _mib(value: int) -> str:
    return f"{value / 2**20:,.1f}"


def _reader_note(catalog: dict[str, str]) -> str:
    threshold = catalog.get("parquet.small-file-threshold")
    if threshold is None:
        return "Files under 3 MB are read whole (Trino's default at this size)."
    return (
        f"Files under {data_size(threshold) / 1e3:,.0f} kB are read whole, the others by the "
        f"column chunks a query needs (parquet.small-file-threshold={threshold}: Trino's "
        f"3 MB scaled to this market, so the files read whole are those that would be at "
        f"{TARGET_SYMBOLS:,} symbols)."
    )


def markdown(result: dict[str, Any]) -> str:
    size, full, daily = result["size"], result["full"], result["daily"]
    cost = result["athena_dollars"]
    lines = [
        f"# dbt on Trino 476: {size['symbols']:,} symbols x {size['sessions']:,} sessions",
        "",
        f"Measured {result['measured_at']} on {result['cpus']} CPUs, Trino heap "
        f"{result['trino']['heap_gb']} GB. Bytes are Trino's physicalInputDataSize (read "
        "from files: what Athena bills as data scanned), per dbt node from its query "
        "comment. Athena: $5/TB scanned, 10 MB minimum per query; at 10,000 symbols the "
        "bytes read grow linearly, the minimums stay. "
        + _reader_note(result["trino"].get("catalog", {})),
        "",
        "| Run | Wall s | Queries | Read MiB | Billed MiB | Athena $ here | "
        f"Athena $ at {TARGET_SYMBOLS:,} symbols |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for name, run_ in (("full build (from empty, tests included)", full), ("daily run", daily)):
        key = "full_rebuild" if run_ is full else "daily"
        lines.append(
            f"| {name} | {run_['seconds']:,.0f} | {run_['total']['queries']:,} | "
            f"{_mib(run_['total']['physical_input_bytes'])} | "
            f"{_mib(run_['total']['billed_bytes'])} | {cost[f'{key}_here']:.4f} | "
            f"{cost[f'{key}_at_{TARGET_SYMBOLS}']:.4f} |"
        )
    met = "met" if result["target_met"] else "NOT met"
    lines += [
        "",
        f"Daily run reads {result['daily_share_of_full']:.2%} of the full build "
        f"(target < {result['target_daily_share']:.0%}: {met}).",
        "",
        "## Bytes read per model (MiB)",
        "",
        "| Model | Full build | Daily run | Daily / full |",
        "|---|---:|---:|---:|",
    ]
    models = sorted(
        node
        for node in {*full["bytes_by_node"], *daily["bytes_by_node"]}
        if node.startswith(("model.", "seed."))
    )
    for node in models:
        f_bytes = full["bytes_by_node"].get(node, {}).get("physical_input_bytes", 0)
        d_bytes = daily["bytes_by_node"].get(node, {}).get("physical_input_bytes", 0)
        ratio = f"{d_bytes / f_bytes:.1%}" if f_bytes else "-"
        lines.append(f"| {node.split('.')[-1]} | {_mib(f_bytes)} | {_mib(d_bytes)} | {ratio} |")
    tests = {
        run_name: sum(
            v["physical_input_bytes"]
            for k, v in run_["bytes_by_node"].items()
            if k.startswith(("test.", "unit_test."))
        )
        for run_name, run_ in (("full", full), ("daily", daily))
    }
    ratio = f"{tests['daily'] / tests['full']:.1%}" if tests["full"] else "-"
    lines.append(f"| all data tests | {_mib(tests['full'])} | {_mib(tests['daily'])} | {ratio} |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--symbols", type=int, default=1_000)
    parser.add_argument("--sessions", type=int, default=2_520)
    parser.add_argument("--out", type=Path, default=Path("bench/out"))
    parser.add_argument("--results", action="store_true", help="also copy to bench/results/")
    parser.add_argument(
        "--whole-small-files",
        action="store_true",
        help="keep Trino's default: a Parquet file under 3 MB is read whole",
    )
    args = parser.parse_args(argv)
    out = args.out.resolve()
    out.mkdir(parents=True, exist_ok=True)
    result = run(args.symbols, args.sessions, out, args.whole_small_files)
    stem = f"bench_trino_{args.symbols}x{args.sessions}" + (
        "_whole_small_files" if args.whole_small_files else ""
    )
    paths = [out / f"{stem}.json", out / f"{stem}.md"]
    paths[0].write_text(json.dumps(result, indent=2, default=str) + "\n")
    paths[1].write_text(markdown(result))
    if args.results:
        RESULTS.mkdir(exist_ok=True)
        for path in paths:
            shutil.copy2(path, RESULTS / path.name)
    print(paths[1].read_text())
    return 0


if __name__ == "__main__":
    sys.exit(main())
