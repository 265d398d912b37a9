"""Landing files dbt cannot read, set aside before the build: one bad file never stops it.

dbt reads every landing file of a dataset through one glob (DuckDB's table macros, the
Athena/Trino Hive tables over the landing prefix), so a truncated or garbage `.parquet`, a
file whose column types drifted, one missing a required column or one with a corrupt data
page would fail the whole build, or put rows without a price into bronze's tables.
`check_landing` opens each new landing file, compares its footer's schema with the landing
schema and reads every row group of the landing columns it holds (a corrupt page fails only
when read); a file that fails is moved under `bronze/quarantine/`, in the landing area but
outside every landing glob (so every engine stops reading it, and vacuum never deletes it),
and recorded with its reason in a manifest under `_manifests/quarantine/`. Nothing is
deleted before its copy and its manifest are written. Files that passed are remembered by
path, size and modification time in `CHECKED_INDEX`, so a daily run reads only the files
that are new or changed since.

The local `condvest daily` and the AWS state machine run it as the same state,
CheckLanding, before the dbt build (`orchestration.handlers.check_landing` on AWS).
"""

from __future__ import annotations

import datetime as dt
import json
import logging

import pyarrow as pa
import pyarrow.parquet as pq

from core.lake import Lake
from core.layout import LANDING_PREFIX, LANDING_PREFIXES
from ingestion.bars import LANDING_OHLCV_SCHEMA, LANDING_TICKERS_SCHEMA
from ingestion.results import LandingCheck, QuarantinedFile

log = logging.getLogger(__name__)

QUARANTINE_PREFIX = f"{LANDING_PREFIX}/quarantine"
QUARANTINE_MANIFEST_PREFIX = "_manifests/quarantine"
# The landing files already checked and found readable: {path in the lake: "size:mtime_ns"}.
CHECKED_INDEX = f"{QUARANTINE_MANIFEST_PREFIX}/checked/landing.json"
SCHEMAS = {"ohlcv": LANDING_OHLCV_SCHEMA, "tickers": LANDING_TICKERS_SCHEMA}
# Columns a landing file may lack (older writers, other tools): read as nulls. Every other
# column of the landing schema is required: without it a row cannot be a bar (a price),
# or cannot be traced to its batch.
OPTIONAL = {
    "ohlcv": {"vwap", "transactions", "invalid_reason"},
    "tickers": set(LANDING_TICKERS_SCHEMA.names)
    - {"symbol", "as_of_date", "source", "ingested_at", "batch_id", "batch_row"},
}


def _readable(actual: pa.DataType, expected: pa.DataType) -> bool:
    """Whether every engine reads `actual` as `expected` without loss or error."""
    if actual == expected:
        return True
    if pa.types.is_floating(expected):
        return pa.types.is_integer(actual) or pa.types.is_floating(actual)
    if pa.types.is_integer(expected):
        return pa.types.is_integer(actual)
    if pa.types.is_timestamp(expected):
        return pa.types.is_timestamp(actual)
    if pa.types.is_string(expected):
        return pa.types.is_string(actual) or pa.types.is_large_string(actual)
    return False


def landing_problem(lake: Lake, path: str, dataset: str) -> str | None:
    """Why dbt could not read this landing file, or None: its footer's schema, then every
    row group of the landing columns it holds (what dbt reads)."""
    try:
        with lake.fs.open_input_file(path) as handle:
            parquet = pq.ParquetFile(handle)
            schema = parquet.schema_arrow
            problem = schema_problem(schema, dataset)
            if problem is not None:
                return problem
            columns = [name for name in SCHEMAS[dataset].names if name in schema.names]
            for group in range(parquet.num_row_groups):
                try:
                    parquet.read_row_group(group, columns=columns)
                except (pa.ArrowException, OSError) as exc:
                    return f"corrupt data in row group {group}: {_first_line(exc)}"
    except (pa.ArrowException, OSError) as exc:
        return f"unreadable parquet: {_first_line(exc)}"
    return None


def _first_line(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0]


def schema_problem(schema: pa.Schema, dataset: str) -> str | None:
    """Why a file of this schema is not a landing file of `dataset`, or None."""
    expected = SCHEMAS[dataset]
    missing = [
        name
        for name in expected.names
        if name not in schema.names and name not in OPTIONAL[dataset]
    ]
    if missing:
        return f"missing required column(s) {', '.join(missing)}"
    drifted = [
        f"{name} is {schema.field(name).type}, expected {expected.field(name).type}"
        for name in expected.names
        if name in schema.names
        and not _readable(schema.field(name).type, expected.field(name).type)
    ]
    if drifted:
        return f"column types drifted: {'; '.join(drifted)}"
    return None


def check_landing(lake: Lake, now: dt.datetime) -> LandingCheck:
    """Quarantine every landing file dbt could not read; describe what was checked. Only
    files new or changed since the last check are read."""
    result = LandingCheck()
    known = _read_index(lake)
    readable: dict[str, str] = {}
    moves: list[tuple[str, str]] = []
    for dataset, prefix in LANDING_PREFIXES.items():
        for info in lake.list_file_infos(prefix):
            result.checked += 1
            key = info.path.removeprefix(lake.path(""))  # relative to the lake root
            stamp = f"{info.size}:{info.mtime_ns}"
            if known.get(key) == stamp:
                readable[key] = stamp
                continue
            result.read += 1
            reason = landing_problem(lake, info.path, dataset)
            if reason is None:
                readable[key] = stamp
                continue
            target = lake.path(
                QUARANTINE_PREFIX, info.path.removeprefix(lake.path(LANDING_PREFIX) + "/")
            )
            moves.append((info.path, target))
            result.quarantined.append(
                QuarantinedFile(dataset, lake.display(info.path), lake.display(target), reason)
            )
    if moves:
        # Copies first, then the manifest that names them, then the landing originals go:
        # at every moment each file is in landing or in quarantine, named by the manifest.
        for path, target in moves:
            lake.write_bytes(target, lake.read_bytes(path))
        result.manifest = _write_manifest(lake, result, now)
        lake.delete([path for path, _ in moves])
        for item in result.quarantined:
            log.warning(
                f"landing file quarantined: {item.path} ({item.reason}); kept at {item.moved_to}",
                extra={"file": item.path, "moved_to": item.moved_to, "reason": item.reason},
            )
    if readable != known:
        # Files gone from landing (vacuumed, quarantined) drop out of the index.
        body = json.dumps({"files": readable}, indent=0, sort_keys=True).encode()
        lake.write_bytes(lake.path(CHECKED_INDEX), body, "application/json")
    return result


def _read_index(lake: Lake) -> dict[str, str]:
    """The files checked before; a missing or unreadable index only means reading again."""
    path = lake.path(CHECKED_INDEX)
    try:
        files = json.loads(lake.read_bytes(path))["files"]
    except (FileNotFoundError, OSError, ValueError, KeyError, TypeError):
        return {}
    return {str(key): str(value) for key, value in files.items()} if isinstance(files, dict) else {}


def _write_manifest(lake: Lake, result: LandingCheck, now: dt.datetime) -> str:
    stamp = now.astimezone(dt.UTC).strftime("%Y%m%dT%H%M%S%fZ")
    path = lake.path(QUARANTINE_MANIFEST_PREFIX, f"{stamp}.json")
    body = {"quarantined_at": now.isoformat(), **result.to_dict()}
    lake.write_bytes(path, json.dumps(body, indent=2).encode(), "application/json")
    return lake.display(path)
