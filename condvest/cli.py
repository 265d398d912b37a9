"""`condvest`: one subcommand per pipeline step.

Settings come from the environment (LAKE_ROOT, WAREHOUSE_PATH, WATERMARK_DSN, MARKET_SOURCE,
...; see core.settings), read and checked once when the command starts. Each command prints
a short summary on stdout, or its full JSON result with `--json`.

Heavy modules (dbt, pandas, scikit-learn, DuckDB, pyarrow, boto3) are imported inside the
command that needs them, never at the top of this file: `condvest --help` and a mistyped
option answer at once (tests/python/test_cli_startup.py holds this).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import sys
import traceback
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from condvest.cli_text import (
    ingest_text,
    predict_range_text,
    predict_text,
    state_line,
    track_record_text,
    train_text,
    vacuum_text,
)
from core.errors import ExitCode, OperationalError
from core.logs import configure_cli, log_context
from core.settings import MARKET_SOURCES, Settings
from orchestration.periods import DEFAULT_PERIOD, PERIODS

if TYPE_CHECKING:
    from ingestion.runtime import Runtime
    from ml.features import FeatureStore
    from orchestration.daily import DailyResult

SOURCES = MARKET_SOURCES
PACKAGE = "condvest-lakehouse"


def _emit(
    payload: dict[str, Any], as_json: bool = True, text: Callable[[], str] | None = None
) -> None:
    """The command's result: its JSON form with --json (or when it has no short form), else
    `text()`, the short summary of the same typed result."""
    if as_json or text is None:
        click.echo(json.dumps(payload, indent=2, default=str))
    else:
        click.echo(text())


JSON = click.option("--json", "as_json", is_flag=True, help="Print the full result as JSON.")
DAY = click.DateTime(["%Y-%m-%d"])


def _iso(value: dt.datetime | None) -> str | None:
    return value.date().isoformat() if value else None


def _settings() -> Settings:
    """The settings `main` read and checked when the command started."""
    settings = click.get_current_context().find_root().obj
    assert isinstance(settings, Settings)
    return settings


class _Commands(click.Group):
    """The one place an OperationalError becomes what the operator sees: one line on
    stderr, `error: <what and the fix>`, and its exit code (README "Exit codes"); the
    traceback only with -v."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except OperationalError as exc:
            if ctx.params.get("verbose"):
                traceback.print_exc(file=sys.stderr)
            click.echo(f"error: {exc}", err=True)
            ctx.exit(int(exc.exit_code))


@click.group(cls=_Commands)
@click.version_option(package_name=PACKAGE, prog_name="condvest")
@click.option(
    "-v", "--verbose", is_flag=True, help="Log every step, dbt's log and tracebacks to stderr."
)
@click.pass_context
def main(ctx: click.Context, verbose: bool) -> None:
    """Condvest market-data lakehouse: ingestion, dbt build, ML and orchestration steps."""
    configure_cli(verbose)
    # A bad value (SettingsError, an OperationalError) stops the command before any step.
    ctx.obj = Settings.from_env()


WAIT = click.option(
    "--wait", is_flag=True, help="Queue behind a run holding the lake's run lock (default: exit 4)."
)


@contextmanager
def _exclusive(rt: Runtime, command: str, wait: bool) -> Iterator[None]:
    """The lake's run lock for the command, and a word about stale runs it marked."""

    from ingestion.run_ledger import LockHolder
    from ingestion.runtime import exclusive_run

    def waiting(holder: LockHolder) -> None:
        click.echo(f"waiting: the run lock is held by {holder.describe()}", err=True)

    with exclusive_run(rt, f"condvest {command}", wait=wait, on_wait=waiting) as abandoned:
        if abandoned:
            click.echo(f"note: marked stale run(s) abandoned: {', '.join(abandoned)}", err=True)
        yield


@main.command()
@click.option("--source", type=click.Choice(SOURCES), help="Default: $MARKET_SOURCE or sample.")
@click.option(
    "--dataset",
    type=click.Choice(["all", "ohlcv", "tickers"]),
    default="all",
    show_default=True,
)
@click.option("--date", "day", type=DAY, help="One session.")
@click.option("--from", "start", type=DAY, help="First session.")
@click.option("--to", "end", type=DAY, help="Last session.")
@click.option("--symbols", help="Comma-separated tickers: per-ticker fetch, not the market.")
@click.option("--backfill", is_flag=True, help="Refetch even what is already landed.")
@JSON
@WAIT
def ingest(
    source: str | None,
    dataset: str,
    day: dt.datetime | None,
    start: dt.datetime | None,
    end: dt.datetime | None,
    symbols: str | None,
    backfill: bool,
    as_json: bool,
    wait: bool,
) -> None:
    """Fetch from a market source into the landing area, every session since the watermark."""
    from ingestion.events import EventError, parse_meta_event, parse_ohlcv_event
    from ingestion.fetch import fetch_ohlcv, fetch_tickers
    from ingestion.results import FetchResult
    from ingestion.runtime import runtime
    from ingestion.symbols import InvalidSymbolError

    event: dict[str, Any] = {"date": _iso(day), "from": _iso(start), "to": _iso(end)}
    event = {key: value for key, value in event.items() if value}
    if symbols:
        event["symbols"] = [s.strip() for s in symbols.split(",") if s.strip()]
    if backfill:
        event["backfill"] = True
    try:
        with runtime(_settings(), source=source) as rt, _exclusive(rt, "ingest", wait):
            request = parse_ohlcv_event(event, rt.default_date())
            result: dict[str, FetchResult] = {}
            if dataset in ("all", "tickers"):
                as_of = parse_meta_event({"date": request.end.isoformat()}, request.end)
                result["tickers"] = fetch_tickers(
                    rt.source, rt.lake, rt.stores, as_of, refresh=request.backfill
                )
            if dataset in ("all", "ohlcv"):
                result["ohlcv"] = fetch_ohlcv(rt.source, rt.lake, rt.stores, rt.calendar, request)
    except (EventError, InvalidSymbolError) as exc:
        raise click.UsageError(str(exc)) from None
    _emit(
        {name: part.to_dict() for name, part in result.items()},
        as_json,
        lambda: ingest_text(result),
    )
    if any(part.status == "partial" for part in result.values()):
        # A stall must be visible to cron: its own exit code, not 0.
        click.echo("warning: some sessions had no data yet; rerun later to fill them", err=True)
        raise SystemExit(ExitCode.PARTIAL)


@main.command("ingest-file")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@JSON
def ingest_file_command(path: Path, as_json: bool) -> None:
    """Validate and land a CSV or parquet file of daily bars into the landing area.

    Columns: symbol,date,open,high,low,close,volume[,vwap,transactions]. Rows that break a
    price rule are landed with a reason (dbt quarantines them); unparseable values or
    unknown columns refuse the whole file with the offending rows named.
    """
    from ingestion.file_import import ingest_file
    from ingestion.runtime import runtime

    with runtime(_settings(), source="sample") as rt, _exclusive(rt, "ingest-file", False):
        result = ingest_file(path, rt.lake, rt.stores.ledger, rt.calendar)
    _emit(result.to_dict(), as_json, lambda: ingest_text({result.dataset: result}))


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
    from ingestion.athena_ddl import (
        LANDING_TABLES,
        PREDICTIONS_TABLE,
        landing_table_ddl,
        predictions_table_ddl,
        trino_table_ddl,
    )

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
    from ml.features import AthenaFeatureStore, DuckDBFeatureStore

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


HYPERPARAMETER_OPTIONS = (
    click.option(
        "--model",
        type=click.Choice(["best", "random_forest", "hist_gradient_boosting"]),
        default="best",
        show_default=True,
        help="best: validate both, keep the higher mean AUC.",
    ),
    click.option(
        "--horizon",
        type=int,
        help="Label horizon in sessions; default and check: gold.ml_features.label_horizon "
        "(dbt's ml_label_horizon). The embargo is at least this.",
    ),
    click.option("--seed", type=int, default=7, show_default=True),
    click.option("--max-train-rows", type=int, help="Sample the labelled rows above this many."),
)


def _hyperparameters(
    model: str, horizon: int | None, seed: int, max_train_rows: int | None
) -> dict[str, Any]:
    hyperparameters: dict[str, Any] = {"model": model, "seed": seed}
    if horizon is not None:
        hyperparameters["horizon"] = horizon
    if max_train_rows:
        hyperparameters["max_train_rows"] = max_train_rows
    return hyperparameters


def _with_hyperparameters(command: Any) -> Any:
    for option in reversed(HYPERPARAMETER_OPTIONS):
        command = option(command)
    return command


@main.command()
@TARGET
@_with_hyperparameters
@click.option(
    "--as-of",
    type=DAY,
    help="Train as at this date's close: its features and the labels known by then only.",
)
@JSON
def train(
    target: str,
    model: str,
    horizon: int | None,
    seed: int,
    max_train_rows: int | None,
    as_of: dt.datetime | None,
    as_json: bool,
) -> None:
    """Train on gold.ml_features through the SageMaker entry point; publish the model."""
    from core.clock import utcnow
    from core.lake import Lake
    from orchestration.ml_steps import train_from_store

    try:
        result = train_from_store(
            _feature_store(target),
            Lake.open(_settings().lake_root),
            _hyperparameters(model, horizon, seed, max_train_rows),
            utcnow(),
            as_of=as_of.date() if as_of else None,
        )
    except ValueError as exc:  # bad features, hyperparameters, folds or registry state
        raise click.ClickException(str(exc)) from None
    _emit(result.to_dict(), as_json, lambda: train_text(result))


@main.command()
@TARGET
@click.option("--date", "day", type=DAY, help="Default: latest.")
@click.option("--from", "start", type=DAY, help="First date of a range (with --to).")
@click.option("--to", "end", type=DAY, help="Last date of a range (with --from).")
@click.option("--model-version", help="Default: the model of the date's time.")
@JSON
def predict(
    target: str,
    day: dt.datetime | None,
    start: dt.datetime | None,
    end: dt.datetime | None,
    model_version: str | None,
    as_json: bool,
) -> None:
    """Score features with published models into gold/predictions/.

    One date (--date, default the latest), or every date of --from .. --to; each date is
    scored by the model of its time, one that learned nothing after it (out of sample).
    """
    from core.clock import utcnow
    from core.lake import Lake
    from ml.registry import ModelNotFoundError
    from orchestration.ml_steps import predict_from_store, predict_range

    if bool(start) != bool(end):
        raise click.UsageError("--from and --to go together")
    if start and (day or model_version):
        raise click.UsageError("--from/--to choose each date's model: no --date or --model-version")
    store, lake = _feature_store(target), Lake.open(_settings().lake_root)
    try:
        if start and end:
            scored = predict_range(store, lake, now=utcnow(), start=start.date(), end=end.date())
            _emit(scored.to_dict(), as_json, lambda: predict_range_text(scored))
            return
        result = predict_from_store(
            store, lake, now=utcnow(), date=day.date() if day else None, version=model_version
        )
    except (ValueError, ModelNotFoundError) as exc:
        raise click.ClickException(str(exc)) from None
    _emit(result.to_dict(), as_json, lambda: predict_text(result))


@main.command("track-record")
@TARGET
@_with_hyperparameters
@click.option("--from", "start", type=DAY, required=True, help="First date to score.")
@click.option("--to", "end", type=DAY, required=True, help="Last date to score.")
@click.option(
    "--every",
    type=click.Choice(PERIODS),
    default=DEFAULT_PERIOD,
    show_default=True,
    help="Train a model as of the eve of each period.",
)
@JSON
def track_record(
    target: str,
    model: str,
    horizon: int | None,
    seed: int,
    max_train_rows: int | None,
    start: dt.datetime,
    end: dt.datetime,
    every: str,
    as_json: bool,
) -> None:
    """Backfill an out-of-sample track record: train as of the eve of each period of
    --from .. --to (models already published for a date are reused), then score every date
    with the model of its time. Then `dbt build --select stg_ml__predictions+`."""
    from core.clock import utcnow
    from core.lake import Lake
    from ml.registry import ModelNotFoundError
    from orchestration.ml_steps import walk_forward_track_record

    try:
        result = walk_forward_track_record(
            _feature_store(target),
            Lake.open(_settings().lake_root),
            _hyperparameters(model, horizon, seed, max_train_rows),
            now=utcnow(),
            start=start.date(),
            end=end.date(),
            every=every,
        )
    except (ValueError, ModelNotFoundError) as exc:
        raise click.ClickException(str(exc)) from None
    _emit(result.to_dict(), as_json, lambda: track_record_text(result))


@main.command()
@click.option("--date", "day", type=DAY, help="Default: today (NY).")
@click.option("--from", "start", type=DAY, help="First date to run.")
@click.option("--to", "end", type=DAY, help="Last date to run.")
@click.option("--source", type=click.Choice(SOURCES), help="Default: $MARKET_SOURCE or sample.")
@click.option("--json", "as_json", is_flag=True, help="Print the runs' JSON, not the report.")
@click.option("-v", "--verbose", is_flag=True, help="Stream every log line and dbt's log.")
@WAIT
def daily(
    day: dt.datetime | None,
    start: dt.datetime | None,
    end: dt.datetime | None,
    source: str | None,
    as_json: bool,
    verbose: bool,
    wait: bool,
) -> None:
    """Run the daily state machine's steps locally, in its order, on the dev target.

    One run per date: --date, or every session --from .. --to (a catch-up, stopping at the
    first failed day), or today in America/New_York (capped at the sample's last session).
    Prints a line per state as it ends and the report; dbt's log goes to dbt.log beside
    the warehouse (streamed to stderr with --verbose).
    """
    from core.clock import utcnow
    from ingestion.runtime import runtime
    from orchestration.asl import DefinitionError
    from orchestration.daily import LocalSteps, new_execution_name, run_daily
    from orchestration.daily_report import write_run_report
    from orchestration.dbt import preload as dbt_preload
    from orchestration.plan import PlanError
    from orchestration.report import format_report, warehouse_counts
    from orchestration.summary import SUCCEEDED

    if day and (start or end):
        raise click.UsageError("give either --date or --from/--to, not both")
    if bool(start) != bool(end):
        raise click.UsageError("--from and --to go together")
    verbose = verbose or bool(click.get_current_context().find_root().params.get("verbose"))
    if verbose:
        configure_cli(verbose=True)
    env = dict(os.environ)
    results = []
    dbt_preload()
    settings = _settings()
    dbt_log = None if verbose else _dbt_log_file(settings)

    def on_state(
        name: str, seconds: float, result: dict[str, Any] | None, error: Exception | None
    ) -> None:
        if not as_json:
            click.echo(state_line(name, seconds, result, error))

    with runtime(settings, source=source) as rt, _exclusive(rt, "daily", wait):
        if start and end:
            dates: list[dt.date | None] = list(
                rt.calendar.sessions_between(start.date(), end.date())
            )
            if not dates:
                raise click.UsageError(f"no session between {start.date()} and {end.date()}")
        else:
            dates = [day.date() if day else None]
        for requested in dates:
            steps = LocalSteps(rt, new_execution_name(utcnow()), env, dbt_log=dbt_log)
            try:
                with log_context(execution=steps.execution, requested=requested):
                    result = run_daily(steps, requested, on_state)
            except (DefinitionError, PlanError) as exc:
                raise click.ClickException(str(exc)) from None
            finally:
                shutil.rmtree(steps.scratch, ignore_errors=True)
            results.append(result)
            if result.status != SUCCEEDED:
                break
    last = results[-1]
    counts = None
    if Path(settings.warehouse_path).exists():
        counts = warehouse_counts(
            settings.warehouse_path, last.summary.date if last.summary else None
        )
    html_report = write_run_report(settings, last, counts, utcnow())
    if as_json:
        _emit(
            {
                "runs": [_run_json(result) for result in results],
                "warehouse": counts,
                "report": html_report,
            }
        )
    else:
        click.echo(format_report(last, counts))
        if html_report:
            click.echo(f"  html report: {html_report}")
    if last.status != SUCCEEDED:
        raise SystemExit(ExitCode.FAILED)


def _dbt_log_file(settings: Settings) -> Path:
    """dbt's log of this `condvest daily`: `dbt.log` in a `logs/` folder beside the
    warehouse (./data/logs/dbt.log by default), started afresh by each invocation."""
    path = Path(settings.warehouse_path).resolve().parent / "logs" / "dbt.log"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("", encoding="utf-8")
    return path


def _run_json(result: DailyResult) -> dict[str, Any]:
    return {
        "status": result.status,
        "states": result.states,
        "error": result.error,
        "summary": result.summary.to_dict() if result.summary else None,
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
@JSON
def vacuum_command(retention_days: int, dry_run: bool, target: str, as_json: bool) -> None:
    """Delete OHLCV landing files older than the retention whose every row is proven
    in bronze.ohlcv_daily (or quarantined in bronze.ohlcv_rejected); writes a manifest."""
    from core.clock import utcnow
    from core.lake import Lake
    from orchestration.vacuum import consolidation_check, vacuum

    settings = _settings()
    result = vacuum(
        Lake.open(settings.lake_root),
        consolidation_check(target, settings),
        today=utcnow().date(),
        retention_days=retention_days,
        dry_run=dry_run,
        now=utcnow(),
    )
    _emit(result.to_dict(), as_json, lambda: vacuum_text(result))


@main.command("report")
@click.option("--date", "day", type=DAY, help="Default: the last bar date.")
@click.option("--symbols", help="Comma-separated tickers to chart besides the top predictions.")
def report_command(day: dt.datetime | None, symbols: str | None) -> None:
    """Write the day's self-contained HTML report to the lake (reports/daily/<date>.html),
    from the warehouse, the model registry and the date's run records."""
    from core.clock import utcnow
    from orchestration.daily_report import report_for_date

    chosen = [s.strip().upper() for s in (symbols or "").split(",") if s.strip()]
    _emit(report_for_date(_settings(), day.date() if day else None, chosen, utcnow()))


@main.command("chart")
@click.argument("symbol")
@click.option("--from", "start", type=DAY, help="First date.")
@click.option("--to", "end", type=DAY, help="Last date.")
def chart_command(symbol: str, start: dt.datetime | None, end: dt.datetime | None) -> None:
    """Write SYMBOL's candlestick chart (PNG and HTML) to the lake (reports/charts/): daily
    candles with pattern markers, over its 3d..34d bars. Default: its last 63 sessions."""
    from core.lake import Lake
    from reports.chart import build_symbol_chart, write_symbol_chart

    settings = _settings()
    first, last = (start.date() if start else None), (end.date() if end else None)
    chart = build_symbol_chart(settings.warehouse_path, symbol, first, last)
    lake = Lake.open(settings.lake_root, settings.aws_region)
    _emit(
        {
            "symbol": chart.symbol,
            "from": chart.start.isoformat(),
            "to": chart.end.isoformat(),
            "bars": chart.bars,
            **write_symbol_chart(lake, chart),
        }
    )
