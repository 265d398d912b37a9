"""Landing files dbt cannot read, set aside before the build: one bad file never stops it.

dbt reads every landing file of a dataset through one glob (DuckDB's table macros, the
Athena/Trino Hive tables over the landing prefix), so a truncated or garbage `.parquet`, a
file whose column types drifted or one missing a required column would fail the whole
build, or put rows without a price into Bronze. `check_landing` opens each landing file's
footer and compares its schema with the landing schema; a file that fails is moved under
`bronze/quarantine/` (outside every landing glob, so every engine stops reading it, and
vacuum never deletes it), and recorded with its reason in a manifest under
`_manifests/quarantine/`. Nothing is deleted before its copy and its manifest are written.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from dataclasses import asdict, dataclass, field
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from core.lake import Lake
from core.layout import LANDING_PREFIXES
from ingestion.bars import LANDING_OHLCV_SCHEMA, LANDING_TICKERS_SCHEMA

log = logging.getLogger(__name__)

QUARANTINE_PREFIX = "bronze/quarantine"
QUARANTINE_MANIFEST_PREFIX = "_manifests/quarantine"
SCHEMAS = {"ohlcv": LANDING_OHLCV_SCHEMA, "tickers": LANDING_TICKERS_SCHEMA}
# Columns a landing file may lack (older writers, other tools): read as nulls. Every other
# column of the landing schema is required: without it a row cannot be a bar (a price),
# or cannot be traced to its batch.
OPTIONAL = {
    "ohlcv": {"vwap", "transactions", "invalid_reason"},
    "tickers": set(LANDING_TICKERS_SCHEMA.names)
    - {"symbol", "as_of_date", "source", "ingested_at", "batch_id", "batch_row"},
}


@dataclass(frozen=True)
class QuarantinedFile:
    dataset: str
    path: str  # where it was, in landing
    moved_to: str
    reason: str


@dataclass
class LandingCheck:
    checked: int = 0
    quarantined: list[QuarantinedFile] = field(default_factory=list)
    manifest: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "checked": self.checked,
            "quarantined": [asdict(item) for item in self.quarantined],
            "manifest": self.manifest,
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


def schema_problem(lake: Lake, path: str, dataset: str) -> str | None:
    """Why dbt could not read this landing file, or None. Reads the footer only."""
    try:
        with lake.fs.open_input_file(path) as handle:
            schema = pq.ParquetFile(handle).schema_arrow
    except (pa.ArrowInvalid, OSError) as exc:
        return f"unreadable parquet: {str(exc).strip().splitlines()[0]}"
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
    """Quarantine every landing file dbt could not read; describe what was checked."""
    result = LandingCheck()
    moves: list[tuple[str, str]] = []
    for dataset, prefix in LANDING_PREFIXES.items():
        for path in lake.list_files(prefix):
            result.checked += 1
            reason = schema_problem(lake, path, dataset)
            if reason is None:
                continue
            target = lake.path(QUARANTINE_PREFIX, path.removeprefix(lake.path("bronze") + "/"))
            moves.append((path, target))
            result.quarantined.append(
                QuarantinedFile(dataset, lake.display(path), lake.display(target), reason)
            )
    if not moves:
        return result
    # Copies first, then the manifest that names them, then the landing originals go: at
    # every moment each file is in landing or in quarantine, named by the manifest.
    for path, target in moves:
        lake.write_bytes(target, lake.read_bytes(path))
    result.manifest = _write_manifest(lake, result, now)
    lake.delete([path for path, _ in moves])
    for item in result.quarantined:
        log.warning(
            "landing file quarantined",
            extra={"file": item.path, "moved_to": item.moved_to, "reason": item.reason},
        )
    return result


def _write_manifest(lake: Lake, result: LandingCheck, now: dt.datetime) -> str:
    stamp = now.astimezone(dt.UTC).strftime("%Y%m%dT%H%M%S%fZ")
    path = lake.path(QUARANTINE_MANIFEST_PREFIX, f"{stamp}.json")
    body = {"quarantined_at": now.isoformat(), **result.as_dict()}
    lake.write_bytes(path, json.dumps(body, indent=2).encode(), "application/json")
    return lake.display(path)
