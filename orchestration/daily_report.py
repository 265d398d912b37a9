"""The daily report from orchestration's side: its inputs (the run `condvest daily` just
walked, or the run records of a date in the watermark store's audit table for `condvest
report` on its own) and where it is written. reports/ draws the page; it knows nothing of
the store or the state machine. The CLI imports this module inside its commands, so
matplotlib is loaded only when a report is drawn.
"""

from __future__ import annotations

import datetime as dt
import json
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from core.lake import Lake
from core.settings import Settings
from ingestion.credentials import watermark_dsn
from ingestion.stores import Stores
from orchestration.daily import DailyResult
from reports.daily import RunInfo, RunStep, build_daily_report, write_daily_report
from reports.warehouse import connect, latest_date

DAILY = "daily"


def run_info_from_walk(
    status: str,
    states: list[str],
    state_seconds: Mapping[str, float],
    execution: str | None,
    rows_per_layer: Mapping[str, Mapping[str, int]] | None,
) -> RunInfo:
    """The run just walked: every state visited, with the seconds of each Task state."""
    return RunInfo(
        status=status,
        steps=tuple(RunStep(name, state_seconds.get(name)) for name in states),
        origin="this run",
        execution=execution,
        rows_per_layer=rows_per_layer,
    )


def _seconds(record: Mapping[str, Any]) -> float | None:
    if not record.get("finished_at"):
        return None
    started = dt.datetime.fromisoformat(str(record["started_at"]))
    finished = dt.datetime.fromisoformat(str(record["finished_at"]))
    return round((finished - started).total_seconds(), 2)


def run_info_from_records(settings: Settings, day: dt.date) -> RunInfo | None:
    """The date's audited runs (ingestion and daily), oldest first; None if there are none.

    The audit keeps each run's status and start and end, not the daily run's states: the
    steps listed are the recorded runs themselves."""
    stores = Stores.connect(watermark_dsn(settings.watermark_dsn, settings.rds_secret_arn))
    try:
        records = [
            r for r in stores.ledger.runs() if str(r.get("requested_to"))[:10] == day.isoformat()
        ]
    finally:
        stores.close()
    if not records:
        return None
    daily = [r for r in records if r["dataset"] == DAILY]
    last = (daily or records)[-1]
    execution = None
    if daily:
        execution = (json.loads(daily[-1].get("detail") or "{}") or {}).get("execution")
    return RunInfo(
        status=str(last["status"]).upper(),
        steps=tuple(
            RunStep(
                f"{r['dataset']} ({r['source']})",
                # the daily record is written by its Notify step: its span is not the run's
                None if r["dataset"] == DAILY else _seconds(r),
                str(r["status"]),
            )
            for r in records
        ),
        origin="run records",
        execution=execution,
    )


def write_run_report(
    settings: Settings,
    result: DailyResult,
    warehouse: Mapping[str, Any] | None,
    now: dt.datetime,
) -> str | None:
    """`condvest daily`'s last local step (not an ASL state: AWS draws no report): the run's
    report in the lake, or None on a day that is not a session. A report that cannot be
    drawn is a warning on stderr, not a failed run: the day's data are built and recorded."""
    summary = result.summary
    if summary is None or summary.date is None:
        return None
    if not summary.is_session or not Path(settings.warehouse_path).exists():
        return None
    run = run_info_from_walk(
        result.status,
        result.states,
        result.state_seconds,
        summary.execution,
        (warehouse or {}).get("rows_per_layer"),
    )
    try:
        lake = Lake.open(settings.lake_root, settings.aws_region)
        day = dt.date.fromisoformat(summary.date)
        with connect(settings.warehouse_path) as tables:
            built = build_daily_report(tables, lake, day, run, now=now)
        return write_daily_report(lake, built)
    except Exception as exc:  # reported, never fails a finished run
        print(f"warning: the html report was not written: {exc}", file=sys.stderr)
        return None


def report_for_date(
    settings: Settings, day: dt.date | None, symbols: list[str], now: dt.datetime
) -> dict[str, Any]:
    """`condvest report`: the date's report (default: the last bar date) from the warehouse,
    the registry and the date's run records; returns where it is and its key figures."""
    lake = Lake.open(settings.lake_root, settings.aws_region)
    with connect(settings.warehouse_path) as warehouse:
        day = day or latest_date(warehouse)
        built = build_daily_report(
            warehouse,
            lake,
            day,
            run_info_from_records(settings, day),
            symbols=symbols,
            now=now,
        )
    return {"path": write_daily_report(lake, built), **built.facts}
