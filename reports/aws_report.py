"""The Report state of the AWS daily run: `python -m reports.aws_report`, in the dbt image
(orchestration/docker/Dockerfile) on ECS, after the predictions mart and vacuum.

It draws the day's report from the tables the Athena build wrote: the Iceberg tables of
the Glue databases `<DBT_SCHEMA_PREFIX><layer>`, found by their `metadata_location` and
read by DuckDB (reports.iceberg), with the model registry in the lake, and writes it to
`LAKE_ROOT/reports/daily/<date>.html`, as `condvest daily` does locally. The state machine
passes the run date and the execution (RUN_DATE, EXECUTION_ID); the run's states and
their seconds are in the execution's history, not in the report.

Prints the report's path and key figures as JSON; exits 0, or with the error's exit code
(core.errors.ExitCode) and one `error:` line on stderr.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import sys
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any

import duckdb

from core.duckdb_extensions import configure_s3, load_packaged_extension
from core.errors import OperationalError
from core.lake import Lake
from core.settings import Settings
from reports.daily import RunInfo, build_daily_report, write_daily_report
from reports.iceberg import IcebergWarehouse, glue_metadata_locations
from reports.warehouse import LAYERS

ORIGIN = "the Step Functions execution"


@contextmanager
def iceberg_warehouse(
    locations: Mapping[tuple[str, str], str], source: str, region: str | None = None
) -> Iterator[IcebergWarehouse]:
    """The tables at `locations` on an in-memory DuckDB with the iceberg extension (and S3
    access in `region` when any location is on S3)."""
    with duckdb.connect() as con:
        load_packaged_extension(con, "avro")
        load_packaged_extension(con, "iceberg")
        if region and any(location.startswith("s3://") for location in locations.values()):
            configure_s3(con, region)
        yield IcebergWarehouse(con, locations, source)


def glue_source(schema_prefix: str) -> str:
    return f"the Iceberg tables of Glue databases {schema_prefix}{{{','.join(LAYERS)}}}"


def report(
    settings: Settings,
    glue: Any,
    day: dt.date | None,
    execution: str | None,
    now: dt.datetime,
    locate: Callable[[str], str] = str,
) -> dict[str, Any]:
    """Draw and write the report of `day` (default: the last bar date); where it is, and
    its key figures. `locate`: where DuckDB reads a metadata location Glue gives (as it
    is on S3; the tests' Trino writes local:/// URIs under its lake root)."""
    lake = Lake.open(settings.lake_root, settings.aws_region)
    found = glue_metadata_locations(glue, settings.dbt_schema_prefix)
    locations = {table: locate(location) for table, location in found.items()}
    run = RunInfo(status="RUNNING", steps=(), origin=ORIGIN, execution=execution)
    source = glue_source(settings.dbt_schema_prefix)
    with iceberg_warehouse(locations, source, settings.aws_region) as warehouse:
        built = build_daily_report(warehouse, lake, day, run, now=now)
    return {"path": write_daily_report(lake, built), **built.facts}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m reports.aws_report", description=__doc__)
    parser.add_argument(
        "--date",
        default=os.environ.get("RUN_DATE") or None,
        help="the run date (default: RUN_DATE, else the last bar date)",
    )
    parser.add_argument(
        "--execution",
        default=os.environ.get("EXECUTION_ID") or None,
        help="the execution the report belongs to (default: EXECUTION_ID)",
    )
    args = parser.parse_args(argv)
    import boto3  # the dbt image has it (dbt-athena); the dev install need not

    try:
        settings = Settings.from_env()
        day = dt.date.fromisoformat(args.date) if args.date else None
        glue = boto3.client("glue", region_name=settings.aws_region)
        result = report(settings, glue, day, args.execution, dt.datetime.now(dt.UTC))
    except OperationalError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return int(exc.exit_code)
    print(json.dumps(result, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
