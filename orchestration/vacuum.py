"""Vacuum: delete landing files past retention, once bronze's tables provably hold them.

Landing files (`bronze/raw_ohlcv/ingest_date=D/<batch_id>.parquet`) are the lake's raw
record; dbt consolidates them into `bronze.ohlcv_daily` (valid bars, one per symbol and
date) and `bronze.ohlcv_rejected` (invalid rows, one per landing row). A file whose
partition is older than the retention is deleted only when every one of its rows is
consolidated and settled by the dbt model `bronze.landing_consolidation`
(models/bronze/landing_consolidation.sql), the rule the reconciliation test
`assert_landing_rows_are_all_accounted_for` checks too: a green test is what vacuum
deletes by. One query over the candidate partitions (`ConsolidationCheck`) reads the
model, on DuckDB or Athena.

Anything else under the lake (ticker snapshots, predictions, models, partitions within
retention, temp files, files off the layout) is never touched. Before deleting, a JSON
manifest of what goes (rows, bytes, proof) and what stays (and why) is written under
`_manifests/vacuum/`, so an interrupted run still leaves its record. Once vacuumed, the
landing no longer holds the full history: bronze must never be rebuilt from scratch.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import re
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Protocol

import pyarrow.fs as pafs
import pyarrow.parquet as pq

from core.clock import UTC, utcnow
from core.contracts import Contract
from core.lake import Lake
from core.layout import LANDING_PREFIXES, VACUUM_MANIFEST_PREFIX
from core.settings import Settings

log = logging.getLogger(__name__)

LANDING_PREFIX = LANDING_PREFIXES["ohlcv"]
# The dbt model that judges every landing row (its schema is bronze's).
CONSOLIDATION_MODEL = "landing_consolidation"
BRONZE_RELATIONS = ("ohlcv_daily", "ohlcv_rejected", CONSOLIDATION_MODEL)

_PARTITION = re.compile(r"ingest_date=(\d{4}-\d{2}-\d{2})")
# Batch files are <batch_id>.parquet (letters, digits, '-', '_'). Anything else is not ours
# to delete, and no DuckDB glob character (* ? [ ] { }) can reach read_parquet.
_FILE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.=-]*\.parquet")
_IDENTIFIER = re.compile(r"[A-Za-z0-9_]*")
_NOT_FOUND = ("TABLE_NOT_FOUND", "SCHEMA_NOT_FOUND", "does not exist")


class ProofUnavailable(Exception):  # noqa: N818 (a state, not a failure of the run)
    """The warehouse cannot prove anything (no bronze tables yet): nothing is deleted."""


@dataclass(frozen=True)
class FileProof:
    """What the warehouse says about one landing file's rows."""

    rows: int
    # rows landing_consolidation finds in neither bronze table (nor superseded)
    unconsolidated: int = 0
    first_unconsolidated: str | None = None  # "SYMBOL YYYY-MM-DD" of the first such row
    # valid rows consolidated but not settled: still inside dbt's look-back of the cursor
    near_cursor: int = 0
    daily_cursor: dt.datetime | None = None

    @property
    def proven(self) -> int:
        return self.rows - self.unconsolidated - self.near_cursor

    def reason(self) -> str | None:
        """Why the file must stay, or None when every row is proven."""
        reasons = []
        if self.unconsolidated:
            reasons.append(
                f"{self.unconsolidated} of {self.rows} rows not in bronze.ohlcv_daily or "
                f"bronze.ohlcv_rejected (first: {self.first_unconsolidated})"
            )
        if self.near_cursor:
            reasons.append(
                f"{self.near_cursor} of {self.rows} rows landed within the look-back margin "
                f"of bronze.ohlcv_daily's cursor ({self.daily_cursor}); dbt still re-reads them"
            )
        return "; ".join(reasons) or None


class ConsolidationCheck(Protocol):
    def describe(self) -> str:
        """Where the proof comes from, for the manifest."""
        ...

    def unproven_rows(self, lake: Lake, files: Sequence[str]) -> dict[str, FileProof]:
        """One proof per file of `files` (lake paths) the check saw rows in, in one query.

        A file missing from the answer showed no rows (vacuum then keeps it unless its
        footer says it is empty). Raises ProofUnavailable when the warehouse has no
        bronze tables to prove anything with.
        """
        ...


def proof_sql(relation: str, partitions: Sequence[dt.date]) -> str:
    """The proof query over the model `relation` (bronze.landing_consolidation), one for
    DuckDB and Athena (Trino): one row per landing file of the `partitions` (ingest dates,
    so safe literals; only they are scanned) with file, row_count, unconsolidated,
    near_cursor, first_unconsolidated and daily_cursor. The rule itself is the model's."""
    dates = ", ".join(f"'{day.isoformat()}'" for day in sorted(set(partitions)))
    return f"""
with

judged as (
    select * from {relation}
    where cast(ingest_date as varchar) in ({dates})
)

select
    judged.landing_file as file,
    count(*) as row_count,
    sum(case when judged.is_consolidated then 0 else 1 end) as unconsolidated,
    sum(case when judged.is_consolidated and not judged.is_settled then 1 else 0 end)
        as near_cursor,
    min(
        case
            when not judged.is_consolidated
                then judged.symbol || ' ' || cast(judged.date as varchar)
        end
    ) as first_unconsolidated,
    max(judged.bronze_cursor) as daily_cursor
from judged
group by judged.landing_file
""".strip()


def _proofs(
    lake: Lake, files: Sequence[str], rows: Sequence[Mapping[str, Any]]
) -> dict[str, FileProof]:
    """The answers about `files`: the query sees every file of their partitions."""
    by_uri = {lake.display(path): path for path in files}
    return {by_uri[row["file"]]: _proof_from_row(row) for row in rows if row["file"] in by_uri}


def _proof_from_row(row: Mapping[str, Any]) -> FileProof:
    cursor = row["daily_cursor"]
    if isinstance(cursor, str):  # Athena answers in text
        cursor = dt.datetime.fromisoformat(cursor)
    return FileProof(
        rows=int(row["row_count"]),
        unconsolidated=int(row["unconsolidated"] or 0),
        first_unconsolidated=row["first_unconsolidated"],
        near_cursor=int(row["near_cursor"] or 0),
        daily_cursor=cursor,
    )


def _schema_prefix(value: str) -> str:
    # The prefix is spliced into SQL as part of an identifier: letters, digits, '_' only.
    if not _IDENTIFIER.fullmatch(value):
        raise ValueError(f"invalid DBT_SCHEMA_PREFIX {value!r}")
    return value


@dataclass(frozen=True)
class DuckDBConsolidationCheck:
    """Dev target: the warehouse DuckDB file dbt builds (opened read-only)."""

    warehouse_path: str
    schema_prefix: str = ""

    def __post_init__(self) -> None:
        _schema_prefix(self.schema_prefix)

    def describe(self) -> str:
        return f"duckdb:{os.path.abspath(self.warehouse_path)}"

    def query(self, lake: Lake, files: Sequence[str]) -> str:
        relation = f'"{self.schema_prefix}bronze".{CONSOLIDATION_MODEL}'
        return proof_sql(relation, [_ingest_date(lake, path) for path in files])

    def unproven_rows(self, lake: Lake, files: Sequence[str]) -> dict[str, FileProof]:
        import duckdb  # not needed by the Lambda, which checks through Athena

        from core.duckdb_extensions import configure_s3
        from ingestion.duckdb_lake import define_lake_macros

        if not files:
            return {}
        if not Path(self.warehouse_path).is_file():
            raise ProofUnavailable(
                f"warehouse {self.warehouse_path} does not exist; build bronze with dbt first"
            )
        with duckdb.connect(self.warehouse_path, read_only=True) as con:
            # bronze stores ingested_at as UTC wall time; compare landing's in UTC too
            con.execute("set TimeZone = 'UTC'")
            self._require_tables(con)
            if not lake.is_local:
                configure_s3(con, lake.region or Settings.from_env().aws_region)
            # The model reads landing through the lake macros; point them at this lake.
            define_lake_macros(con, lake.uri, temporary=True)
            cursor = con.execute(self.query(lake, files))
            names = [column[0] for column in cursor.description]
            rows = [dict(zip(names, values, strict=True)) for values in cursor.fetchall()]
        return _proofs(lake, files, rows)

    def _require_tables(self, con: Any) -> None:
        schema = f"{self.schema_prefix}bronze"
        found = {
            name
            for (name,) in con.execute(
                "select table_name from information_schema.tables where table_schema = ?",
                [schema],
            ).fetchall()
        }
        missing = [f"{schema}.{t}" for t in BRONZE_RELATIONS if t not in found]
        if missing:
            tables = ", ".join(missing[:-1]) + " and " + missing[-1] if missing[1:] else missing[0]
            raise ProofUnavailable(
                f"warehouse {self.warehouse_path} has no {tables}; build bronze with dbt first"
            )


@dataclass
class AthenaConsolidationCheck:
    """AWS target: one Athena query over the landing table and the bronze Iceberg tables.

    Uses plain boto3 (no pyathena) so the Lambda needs nothing beyond its runtime.
    """

    work_group: str = "primary"
    s3_staging_dir: str | None = None
    schema_prefix: str = ""
    catalog: str = "awsdatacatalog"
    region: str | None = None
    client: Any = None  # a boto3 Athena client; built on first use when None
    poll_seconds: float = 1.0
    timeout_seconds: float = 600.0
    sleep: Callable[[float], None] = field(default=time.sleep, repr=False)

    def __post_init__(self) -> None:
        _schema_prefix(self.schema_prefix)
        if not _IDENTIFIER.fullmatch(self.catalog):
            raise ValueError(f"invalid Athena catalog {self.catalog!r}")

    @classmethod
    def from_settings(cls, settings: Settings, client: Any = None) -> AthenaConsolidationCheck:
        """The Athena that dbt's athena target uses (profiles.yml reads the same settings)."""
        return cls(
            work_group=settings.athena_workgroup,
            s3_staging_dir=settings.athena_s3_staging_dir,
            schema_prefix=settings.dbt_schema_prefix,
            catalog=settings.athena_catalog,
            region=settings.aws_region,
            client=client,
        )

    def describe(self) -> str:
        return f"athena:{self.catalog}.{self.schema_prefix}bronze (work group {self.work_group})"

    def query(self, lake: Lake, files: Sequence[str]) -> str:
        relation = f'"{self.schema_prefix}bronze"."{CONSOLIDATION_MODEL}"'
        return proof_sql(relation, [_ingest_date(lake, path) for path in files])

    def unproven_rows(self, lake: Lake, files: Sequence[str]) -> dict[str, FileProof]:
        if not files:
            return {}
        return _proofs(lake, files, self._run(self.query(lake, files)))

    def _athena(self) -> Any:
        if self.client is None:
            import boto3

            self.client = boto3.client("athena", region_name=self.region)
        return self.client

    def _run(self, sql: str) -> list[dict[str, Any]]:
        athena = self._athena()
        request: dict[str, Any] = {
            "QueryString": sql,
            "WorkGroup": self.work_group,
            "QueryExecutionContext": {"Catalog": self.catalog},
        }
        if self.s3_staging_dir:
            request["ResultConfiguration"] = {"OutputLocation": self.s3_staging_dir}
        query_id = athena.start_query_execution(**request)["QueryExecutionId"]
        self._wait(query_id)
        return self._results(query_id)

    def _wait(self, query_id: str) -> None:
        deadline = time.monotonic() + self.timeout_seconds
        while True:
            execution = self._athena().get_query_execution(QueryExecutionId=query_id)
            status = execution["QueryExecution"]["Status"]
            state = status["State"]
            if state == "SUCCEEDED":
                return
            if state in ("FAILED", "CANCELLED"):
                reason = status.get("StateChangeReason", state)
                if any(marker in reason for marker in _NOT_FOUND):
                    raise ProofUnavailable(f"Athena cannot read the bronze tables: {reason}")
                raise RuntimeError(f"Athena query {query_id} {state.lower()}: {reason}")
            if time.monotonic() > deadline:
                self._athena().stop_query_execution(QueryExecutionId=query_id)
                raise TimeoutError(f"Athena query {query_id} still {state} after timeout")
            self.sleep(self.poll_seconds)

    def _results(self, query_id: str) -> list[dict[str, Any]]:
        rows: list[dict[str, Any]] = []
        names: list[str] | None = None
        token: str | None = None
        while True:
            kwargs: dict[str, Any] = {"QueryExecutionId": query_id}
            if token:
                kwargs["NextToken"] = token
            page = self._athena().get_query_results(**kwargs)
            result = page["ResultSet"]
            data = result["Rows"]
            if names is None:
                names = [c["Name"] for c in result["ResultSetMetadata"]["ColumnInfo"]]
                data = data[1:]  # the first page opens with the header row
            rows.extend(
                {
                    name: cell.get("VarCharValue")
                    for name, cell in zip(names, row["Data"], strict=True)
                }
                for row in data
            )
            token = page.get("NextToken")
            if not token:
                return rows


def consolidation_check(
    target: str, settings: Settings
) -> DuckDBConsolidationCheck | AthenaConsolidationCheck:
    """The check for a dbt target: "dev" (the DuckDB warehouse) or "athena"."""
    if target == "dev":
        return DuckDBConsolidationCheck(
            settings.warehouse_path, schema_prefix=settings.dbt_schema_prefix
        )
    if target == "athena":
        return AthenaConsolidationCheck.from_settings(settings)
    raise ValueError(f"unknown target {target!r}; expected 'dev' or 'athena'")


# -- the lake side ------------------------------------------------------------------------


@dataclass(frozen=True)
class LandingFile:
    path: str  # lake path (no scheme)
    ingest_date: dt.date
    size: int


def _ingest_date(lake: Lake, path: str) -> dt.date:
    """The partition date of a landing file at the documented place, else ValueError."""
    relative = path.removeprefix(lake.path(LANDING_PREFIX) + "/")
    parts = relative.split("/")
    if relative == path or len(parts) != 2:
        raise ValueError("not directly inside an ingest_date= partition")
    partition, name = parts
    match = _PARTITION.fullmatch(partition)
    if not match:
        raise ValueError(f"malformed partition {partition!r}")
    if not _FILE_NAME.fullmatch(name):
        raise ValueError(f"unexpected file name {name!r}")
    return dt.date.fromisoformat(match[1])


def _landing_files(lake: Lake) -> tuple[list[LandingFile], list[Skipped]]:
    """Every parquet file under the landing prefix: the well-formed, and the rest (why)."""
    selector = pafs.FileSelector(lake.path(LANDING_PREFIX), recursive=True, allow_not_found=True)
    files: list[LandingFile] = []
    ignored: list[Skipped] = []
    for info in lake.fs.get_file_info(selector):
        if info.type != pafs.FileType.File or not info.path.endswith(".parquet"):
            continue  # temp files, markers, notes: not landing files
        try:
            day = _ingest_date(lake, info.path)
        except ValueError as exc:
            ignored.append(Skipped(lake.display(info.path), str(exc)))
            continue
        files.append(LandingFile(info.path, day, int(info.size or 0)))
    files.sort(key=lambda f: f.path)
    ignored.sort(key=lambda item: item.file)
    return files, ignored


def _fill_missing(
    lake: Lake, files: Sequence[LandingFile], proofs: dict[str, FileProof]
) -> dict[str, FileProof]:
    """A file the query saw no row of is proven only if it really has none."""
    out = dict(proofs)
    for file in files:
        if file.path not in out:
            with lake.fs.open_input_file(file.path) as handle:
                rows = pq.ParquetFile(handle).metadata.num_rows
            if rows == 0:
                out[file.path] = FileProof(rows=0)
    return out


def _write_manifest(lake: Lake, manifest: dict[str, Any], now: dt.datetime) -> str:
    """The manifest under its UTC time, written whole or not at all (Lake.write_bytes)."""
    stamp = now.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")
    path = lake.path(VACUUM_MANIFEST_PREFIX, f"{stamp}-{uuid.uuid4().hex[:8]}.json")
    lake.write_bytes(path, json.dumps(manifest, indent=2).encode(), "application/json")
    return path


@dataclass(frozen=True)
class Skipped(Contract):
    """A landing file vacuum leaves in place, and why."""

    file: str
    reason: str


@dataclass(frozen=True)
class VacuumResult(Contract):
    """What one vacuum did (or, on a dry run, would do).

    cutoff is the first ingest_date kept; candidates counts the files past retention;
    deleted lists their paths; kept the candidates not proven; ignored the parquet files
    off the landing layout (never deleted); manifest is its path (None on a dry run or
    when nothing is deleted).
    """

    retention_days: int
    today: dt.date
    cutoff: dt.date
    dry_run: bool
    candidates: int
    deleted: list[str]
    kept: list[Skipped]
    ignored: list[Skipped]
    rows_deleted: int
    bytes_deleted: int
    manifest: str | None = None


def _prove(
    lake: Lake, check: ConsolidationCheck, candidates: Sequence[LandingFile]
) -> tuple[list[tuple[LandingFile, FileProof]], list[Skipped]]:
    """Split the candidates into the proven (with their proof) and the kept (with why)."""
    if not candidates:
        return [], []
    try:
        proofs = check.unproven_rows(lake, [file.path for file in candidates])
    except ProofUnavailable as exc:
        return [], [Skipped(lake.display(file.path), str(exc)) for file in candidates]
    proofs = _fill_missing(lake, candidates, proofs)
    proven, kept = [], []
    for file in candidates:
        proof = proofs.get(file.path)
        reason = proof.reason() if proof else "the consolidation check saw none of its rows"
        if proof is not None and reason is None:
            proven.append((file, proof))
        else:
            kept.append(Skipped(lake.display(file.path), str(reason)))
    return proven, kept


def _manifest(
    lake: Lake,
    check: ConsolidationCheck,
    result: VacuumResult,
    proven: Sequence[tuple[LandingFile, FileProof]],
    now: dt.datetime,
) -> dict[str, Any]:
    return {
        "kind": "condvest.vacuum",
        "version": 1,
        "created_at": now.astimezone(UTC).isoformat(),
        "lake": lake.uri,
        "check": check.describe(),
        "today": result.today.isoformat(),
        "retention_days": result.retention_days,
        "cutoff": result.cutoff.isoformat(),
        "deleted": [
            {
                "file": lake.display(file.path),
                "ingest_date": file.ingest_date.isoformat(),
                "rows": proof.rows,
                "bytes": file.size,
                "rows_proven": proof.proven,
            }
            for file, proof in proven
        ],
        "kept": [item.to_dict() for item in result.kept],
        "rows_deleted": result.rows_deleted,
        "bytes_deleted": result.bytes_deleted,
    }


def vacuum(
    lake: Lake,
    check: ConsolidationCheck,
    *,
    today: dt.date,
    retention_days: int,
    dry_run: bool = False,
    now: dt.datetime | None = None,
) -> VacuumResult:
    """Delete landing files of partitions before `today - retention_days` that bronze holds.

    A dry run reports exactly what a real run would do, and writes nothing.
    """
    if isinstance(retention_days, bool) or not isinstance(retention_days, int):
        raise ValueError(f"retention_days must be an integer, got {retention_days!r}")
    if retention_days < 1:
        # Today's partition is still being written to; a day is the least retention.
        raise ValueError(f"retention_days must be at least 1, got {retention_days}")
    now = now or utcnow()
    cutoff = today - dt.timedelta(days=retention_days)
    files, ignored = _landing_files(lake)
    candidates = [file for file in files if file.ingest_date < cutoff]
    proven, kept = _prove(lake, check, candidates)
    result = VacuumResult(
        retention_days=retention_days,
        today=today,
        cutoff=cutoff,
        dry_run=dry_run,
        candidates=len(candidates),
        deleted=[lake.display(file.path) for file, _ in proven],
        kept=kept,
        ignored=ignored,
        rows_deleted=sum(proof.rows for _, proof in proven),
        bytes_deleted=sum(file.size for file, _ in proven),
    )
    if dry_run or not proven:
        return result
    # The record first: a crash while deleting still leaves what was meant to go.
    manifest = _write_manifest(lake, _manifest(lake, check, result, proven, now), now)
    lake.delete([file.path for file, _ in proven])
    log.info(
        "vacuum deleted landing files",
        extra={"files": len(proven), "rows": result.rows_deleted, "kept": len(kept)},
    )
    return replace(result, manifest=lake.display(manifest))
