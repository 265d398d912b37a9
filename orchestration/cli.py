"""`condvest`: one subcommand per pipeline step.

Settings come from the environment (LAKE_ROOT, WAREHOUSE_PATH, WATERMARK_DSN, MARKET_SOURCE,
...; see core.settings), read and checked once when the command starts. Each command prints
a JSON summary on stdout.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
from pathlib import Path
from typing import Any

import click

from core.clock import utcnow
from core.lake import Lake
from core.logs import configure_cli, log_context
from core.settings import Settings, SettingsError
from ingestion.athena_ddl import (
    LANDING_TABLES,
    PREDICTIONS_TABLE,
    landing_table_ddl,
    predictions_table_ddl,
    trino_table_ddl,
)
from ingestion.events import EventError, parse_meta_event, parse_ohlcv_event
from ingestion.fetch import fetch_ohlcv, fetch_tickers
from ingestion.file_import import FileImportError, ingest_file
from ingestion.runtime import SOURCES, runtime
from ingestion.symbols import InvalidSymbolError
from ml.features import AthenaFeatureStore, DuckDBFeatureStore, FeatureStore
from ml.registry import ModelNotFoundError
from orchestration.asl import DefinitionError
from orchestration.daily import (
    DailyResult,
    LocalSteps,
    new_execution_name,
    run_daily,
)
from orchestration.dbt import preload as dbt_preload
from orchestration.ml_steps import predict_from_store, train_from_store
from orchestration.plan import PlanError
from orchestration.report import format_report, warehouse_counts
from orchestration.summary import SUCCEEDED
from orchestration.vacuum import consolidation_check, vacuum


def _emit(payload: dict[str, Any]) -> None:
    click.echo(json.dumps(payload, indent=2, default=str))


def _iso(value: dt.datetime | None) -> str | None:
    return value.date().isoformat() if value else None


def _settings() -> Settings:
    """The settings `main` read and checked when the command started."""
    settings = click.get_current_context().find_root().obj
    assert isinstance(settings, Settings)
    return settings


@click.group()
@click.option("-v", "--verbose", is_flag=True, help="Log progress to stderr.")
@click.pass_context
def main(ctx: click.Context, verbose: bool) -> None:
    """Condvest market-data lakehouse: ingestion, dbt build, ML and orchestration steps."""
    configure_cli(verbose)
    try:
        ctx.obj = Settings.from_env()
    except SettingsError as exc:  # a bad value stops the command before any step runs
        raise click.ClickException(str(exc)) from None


@main.command()
@click.option("--source", type=click.Choice(SOURCES), help="Default: $MARKET_SOURCE or sample.")
@click.option(
    "--dataset",
    type=click.Choice(["all", "ohlcv", "tickers"]),
    default="all",
    show_default=True,
)
@click.option("--date", "day", type=click.DateTime(["%Y-%m-%d"]), help="One session.")
@click.option("--from", "start", type=click.DateTime(["%Y-%m-%d"]), help="First session.")
@click.option("--to", "end", type=click.DateTime(["%Y-%m-%d"]), help="Last session.")
@click.option("--symbols", help="Comma-separated tickers: per-ticker fetch, not the market.")
@click.option("--backfill", is_flag=True, help="Refetch even what is already landed.")
def ingest(
    source: str | None,
    dataset: str,
    day: dt.datetime | None,
    start: dt.datetime | None,
    end: dt.datetime | None,
    symbols: str | None,
    backfill: bool,
) -> None:
    """Fetch from a market source into Bronze, filling every session since the watermark."""
    event: dict[str, Any] = {"date": _iso(day), "from": _iso(start), "to": _iso(end)}
    event = {key: value for key, value in event.items() if value}
    if symbols:
        event["symbols"] = [s.strip() for s in symbols.split(",") if s.strip()]
    if backfill:
        event["backfill"] = True
    try:
        with runtime(_settings(), source=source) as rt:
            request = parse_ohlcv_event(event, rt.default_date())
            result: dict[str, Any] = {}
            if dataset in ("all", "tickers"):
                as_of = parse_meta_event({"date": request.end.isoformat()}, request.end)
                result["tickers"] = fetch_tickers(
                    rt.source, rt.lake, rt.store, as_of, refresh=request.backfill
                )
            if dataset in ("all", "ohlcv"):
                result["ohlcv"] = fetch_ohlcv(rt.source, rt.lake, rt.store, rt.calendar, request)
    except (EventError, InvalidSymbolError) as exc:
        raise click.UsageError(str(exc)) from None
    _emit(result)
    if any(part["status"] == "partial" for part in result.values()):
        click.echo("warning: some sessions had no data yet; rerun later to fill them", err=True)


@main.command("ingest-file")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def ingest_file_command(path: Path) -> None:
    """Validate and land a CSV or parquet file of daily bars into Bronze.

    Columns: symbol,date,open,high,low,close,volume[,vwap,transactions]. Rows that break a
    price rule are landed with a reason (dbt quarantines them); unparseable values or
    unknown columns refuse the whole file with the offending rows named.
    """
    try:
        with runtime(_settings(), source="sample") as rt:
            _emit(ingest_file(path, rt.lake, rt.store, rt.calendar))
    except FileImportError as exc:
        raise click.ClickException(str(exc)) from None


@main.command("landing-ddl")
@click.option(
    "--lake-root",
    default=lambda: _settings().lake_root,
    show_default="$LAKE_ROOT",
    help="s3:// lake root (Trino also takes its local:/// file system).",
)
@click.option(
    "--database",
    default=lambda: _settings().schema("landing"),
    show_default="$DBT_SCHEMA_PREFIX + landing",
    help="The schema dbt's sources read (on Trino: qualify it with the Hive catalog).",
)
@click.option(
    "--dialect",
    type=click.Choice(["athena", "trino"]),
    default="athena",
    show_default=True,
    help="Athena's Glue DDL, or Trino's Hive connector DDL (run in the Hive catalog).",
)
def landing_ddl(lake_root: str, database: str, dialect: str) -> None:
    """Print the DDL of the lake's tables: dbt's sources on the athena and trino targets."""
    try:
        if dialect == "trino":
            tables = [*LANDING_TABLES, PREDICTIONS_TABLE]
            statements = [trino_table_ddl(table, lake_root, database) for table in tables]
        else:
            statements = [landing_table_ddl(table, lake_root, database) for table in LANDING_TABLES]
            statements.append(predictions_table_ddl(lake_root, database))
    except ValueError as exc:
        raise click.UsageError(str(exc)) from None
    click.echo(";\n\n".join(statements) + ";")


def _feature_store(target: str) -> FeatureStore:
    """gold.ml_features on the dbt target: the DuckDB file, or Athena (as profiles.yml)."""
    settings = _settings()
    if target == "dev":
        return DuckDBFeatureStore(settings.warehouse_path)
    return AthenaFeatureStore(
        s3_staging_dir=settings.athena_s3_staging_dir,
        region=settings.aws_region,
        schema=settings.schema("gold"),
        work_group=settings.athena_workgroup,
    )


TARGET = click.option(
    "--target",
    type=click.Choice(["dev", "athena"]),
    default=lambda: _settings().dbt_target,
    show_default="$DBT_TARGET or dev",
    help="Where gold.ml_features is read from.",
)


@main.command()
@TARGET
@click.option(
    "--model",
    type=click.Choice(["best", "random_forest", "hist_gradient_boosting"]),
    default="best",
    show_default=True,
    help="best: validate both, keep the higher mean AUC.",
)
@click.option(
    "--horizon",
    type=int,
    default=5,
    show_default=True,
    help="Label horizon in sessions: dbt's ml_label_horizon (the embargo is at least this).",
)
@click.option("--seed", type=int, default=7, show_default=True)
@click.option("--max-train-rows", type=int, help="Sample the labelled rows above this many.")
def train(target: str, model: str, horizon: int, seed: int, max_train_rows: int | None) -> None:
    """Train on gold.ml_features through the SageMaker entry point; publish the model."""
    hyperparameters: dict[str, Any] = {"model": model, "horizon": horizon, "seed": seed}
    if max_train_rows:
        hyperparameters["max_train_rows"] = max_train_rows
    try:
        result = train_from_store(
            _feature_store(target), Lake.open(_settings().lake_root), hyperparameters, utcnow()
        )
    except ValueError as exc:  # bad features, hyperparameters, folds or registry state
        raise click.ClickException(str(exc)) from None
    _emit(result)


@main.command()
@TARGET
@click.option("--date", "day", type=click.DateTime(["%Y-%m-%d"]), help="Default: latest.")
@click.option("--model-version", help="Default: the latest published model.")
def predict(target: str, day: dt.datetime | None, model_version: str | None) -> None:
    """Score one session's features with a published model into gold/predictions/."""
    try:
        result = predict_from_store(
            _feature_store(target),
            Lake.open(_settings().lake_root),
            now=utcnow(),
            date=day.date() if day else None,
            version=model_version,
        )
    except (ValueError, ModelNotFoundError) as exc:
        raise click.ClickException(str(exc)) from None
    _emit(result)


@main.command()
@click.option("--date", "day", type=click.DateTime(["%Y-%m-%d"]), help="Default: today (NY).")
@click.option("--from", "start", type=click.DateTime(["%Y-%m-%d"]), help="First date to run.")
@click.option("--to", "end", type=click.DateTime(["%Y-%m-%d"]), help="Last date to run.")
@click.option("--source", type=click.Choice(SOURCES), help="Default: $MARKET_SOURCE or sample.")
@click.option("--json", "as_json", is_flag=True, help="Print the runs' JSON, not the report.")
def daily(
    day: dt.datetime | None,
    start: dt.datetime | None,
    end: dt.datetime | None,
    source: str | None,
    as_json: bool,
) -> None:
    """Run the daily state machine's steps locally, in its order, on the dev target.

    One run per date: --date, or every session --from .. --to (a catch-up, stopping at the
    first failed day), or today in America/New_York (capped at the sample's last session).
    """
    if day and (start or end):
        raise click.UsageError("give either --date or --from/--to, not both")
    if bool(start) != bool(end):
        raise click.UsageError("--from and --to go together")
    env = dict(os.environ)
    results = []
    dbt_preload()
    settings = _settings()
    with runtime(settings, source=source) as rt:
        if start and end:
            dates: list[dt.date | None] = list(
                rt.calendar.sessions_between(start.date(), end.date())
            )
            if not dates:
                raise click.UsageError(f"no session between {start.date()} and {end.date()}")
        else:
            dates = [day.date() if day else None]
        for requested in dates:
            steps = LocalSteps(rt, new_execution_name(utcnow()), env)
            try:
                with log_context(execution=steps.execution, requested=requested):
                    result = run_daily(steps, requested)
            except (DefinitionError, PlanError) as exc:
                raise click.ClickException(str(exc)) from None
            finally:
                shutil.rmtree(steps.scratch, ignore_errors=True)
            results.append(result)
            if result.status != SUCCEEDED:
                break
    last = results[-1]
    report = {
        "status": last.status,
        "states": last.states,
        "summary": last.summary,
        "error": last.error,
        "document": last.document,
        "state_seconds": last.state_seconds,
    }
    if Path(settings.warehouse_path).exists():
        report["warehouse"] = warehouse_counts(
            settings.warehouse_path, (last.summary or {}).get("date")
        )
    if as_json:
        _emit(
            {
                "runs": [_run_json(result) for result in results],
                "warehouse": report.get("warehouse"),
            }
        )
    else:
        click.echo(format_report(report))
    if last.status != SUCCEEDED:
        raise SystemExit(1)


def _run_json(result: DailyResult) -> dict[str, Any]:
    return {
        "status": result.status,
        "states": result.states,
        "error": result.error,
        "summary": result.summary,
        "state_seconds": result.state_seconds,
    }


@main.command("vacuum")
@click.option(
    "--retention-days",
    type=click.IntRange(min=1),
    default=lambda: _settings().vacuum_retention_days,
    show_default="$VACUUM_RETENTION_DAYS or 30",
)
@click.option("--dry-run", is_flag=True, help="Report what would be deleted; delete nothing.")
@TARGET
def vacuum_command(retention_days: int, dry_run: bool, target: str) -> None:
    """Delete Bronze OHLCV landing files older than the retention whose every row is proven
    in bronze.ohlcv_daily (or quarantined in bronze.ohlcv_rejected); writes a manifest."""
    settings = _settings()
    _emit(
        vacuum(
            Lake.open(settings.lake_root),
            consolidation_check(target, settings),
            today=utcnow().date(),
            retention_days=retention_days,
            dry_run=dry_run,
            now=utcnow(),
        ).to_dict()
    )
