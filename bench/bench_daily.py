"""The main job as a user runs it: `dbt build` from empty, then `condvest daily` for a day.

    python -m bench.bench_daily --symbols 10000 --sessions 2520

On the generated market (bench.generate_market), in a lake of its own: hard links to the
market's landing files except the last session's, so what the run writes, and what its
vacuum deletes, never reaches the shared market.

1. First build, timed: `dbt build` with the default selection (seed, every model, unit
   and data tests) into an empty DuckDB warehouse, its own process under GNU time.
2. The state yesterday's run left, untimed: the local Polygon server (bench.market_server)
   starts, serving the held-back session; yesterday's ticker snapshot is landed through
   it; the watermark store holds the market watermark at the previous session (and each
   symbol's at its last bar), so the daily fetch has exactly one session to get; the
   landing files past retention are vacuumed as of yesterday (a routine day's vacuum
   only sees the day that just left retention); a model is published (Predict needs one).
3. The day, timed: `condvest -v daily --date <held-back session> --source polygon --json`
   as one process under GNU time: ResolveRunDate, fetch from the server, `dbt build`
   (default selection), Predict, the predictions mart, vacuum, notify. The session is not
   a training day: TRAINING_WEEKDAY is set to another weekday.

The day's per-state seconds come from the `-v` log's timestamps (`condvest daily --json`
reports the states, not their times), its per-model seconds from dbt's JSON log file.
Writes JSON to stdout and <out>/daily_<S>x<M>.json.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import re
import shutil
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb

from bench.bench_dbt import row_counts
from bench.dbt_runs import Dbt, Market, Timed, market, node_timings, run_timed, save_result
from bench.market_server import session_server
from core.lake import Lake
from core.paths import REPO_ROOT
from core.settings import Settings
from ingestion.calendar import load_calendar
from ingestion.fetch import fetch_tickers
from ingestion.polygon import PolygonClient
from ingestion.runs import OHLCV
from ingestion.stores import Stores
from ingestion.watermarks import MARKET
from ml.features import DuckDBFeatureStore
from orchestration import asl
from orchestration.ml_steps import train_from_store
from orchestration.plan import WEEKDAYS
from orchestration.vacuum import DuckDBConsolidationCheck, vacuum

# The published model only has to exist for Predict to run. Its cost to predict is set by
# its capacity (the default max_depth, max_iter), not by the rows it was fitted on, and
# either candidate scores 10,000 rows in under 0.1 s; so it is one gradient-boosting fit
# (one validation fold) on the last quarter of features, sampled: seconds, where a full
# training takes minutes (bench_ml times that).
MODEL_FEATURE_SESSIONS = 63
MODEL_HYPERPARAMETERS = {"model": "hist_gradient_boosting", "folds": 1, "max_train_rows": 100_000}
SETUP_RUN_ID = "bench-setup"
# Settings of the user's environment that would send the bench's run elsewhere: a real
# watermark database, a real API key, notifications, another dbt target or retention.
FOREIGN_SETTINGS = ("RDS_SECRET_ARN", "POLYGON_API_KEY_SECRET_ARN", "SNS_TOPIC_ARN",
                    "VACUUM_RETENTION_DAYS", "DBT_TARGET")  # fmt: skip
# dbt's info-level events with a node's result (the file log is kept at info: `condvest
# daily` runs dbt with --log-level none, which turns the file log off too).
RESULT_EVENTS = ("LogModelResult", "LogTestResult", "LogSeedResult")
# core.logs' terminal format: "<local time> INFO orchestration.daily: daily step step=..."
_STEP_LOG = re.compile(
    r"^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3}) INFO orchestration\.daily: daily step ",
    re.M,
)


@dataclass(frozen=True)
class Day:
    """The held-back session the daily run gets, and the session before it."""

    session: dt.date
    previous: dt.date
    first: dt.date  # the market's first session: the daily's DAILY_HISTORY_START

    @classmethod
    def of(cls, generated: Market) -> Day:
        calendar = load_calendar(REPO_ROOT / "seeds" / "trading_calendar.csv")
        session = dt.date.fromisoformat(str(generated.info["last_session"]))
        previous = calendar.sessions_between(calendar.first, session)[-2]
        return cls(session, previous, dt.date.fromisoformat(str(generated.info["first_session"])))

    @property
    def training_weekday(self) -> str:
        """A weekday the session is not, so the timed run does not train."""
        return WEEKDAYS[(self.session.weekday() + 1) % 5]


def linked_lake(generated: Market, lake: Path) -> None:
    """`lake` as the market's lake without its last session, by hard links: landing files
    are never rewritten, and deleting a link (vacuum) leaves the market's file alone."""
    shutil.rmtree(lake, ignore_errors=True)

    def held_back(directory: str, names: list[str]) -> list[str]:
        return [name for name in names if Path(directory, name) == generated.last_partition]

    shutil.copytree(generated.lake, lake, ignore=held_back, copy_function=_link)


def _link(source: str, destination: str) -> None:
    try:
        os.link(source, destination)
    except OSError:  # another file system: a copy is slower, not different
        shutil.copy2(source, destination)


def watermark_dsn(dbt: Dbt) -> str:
    return f"sqlite:///{dbt.work / 'watermarks.sqlite'}"


def land_ticker_snapshot(dbt: Dbt, server: dict[str, Any], day: dt.date) -> dict[str, Any]:
    """Yesterday's ticker list, landed from the server as FetchMetadata lands it."""
    stores = Stores.connect(watermark_dsn(dbt))
    try:
        client = PolygonClient(server["api_key"], server["base_url"])
        return fetch_tickers(client, Lake.open(str(dbt.lake)), stores, day).to_dict()
    finally:
        stores.close()


def set_watermarks(dbt: Dbt, day: Day) -> dict[str, Any]:
    """The marks yesterday's fetch left: the market's at the previous session, each
    symbol's at its last bar in Bronze."""
    with duckdb.connect(str(dbt.warehouse), read_only=True) as con:
        last_bars = con.execute(
            "select symbol, max(date) from bronze.ohlcv_daily group by symbol"
        ).fetchall()
    stores = Stores.connect(watermark_dsn(dbt))
    try:
        stores.watermarks.advance(OHLCV, dict(last_bars), SETUP_RUN_ID)
        stores.watermarks.advance(OHLCV, {MARKET: day.previous}, SETUP_RUN_ID)
        market_mark = stores.watermarks.get(OHLCV, MARKET)
    finally:
        stores.close()
    return {"market": str(market_mark), "symbols": len(last_bars)}


def vacuum_as_of(dbt: Dbt, day: dt.date) -> dict[str, Any]:
    """Yesterday's vacuum: what a routine day finds already gone."""
    result = vacuum(
        Lake.open(str(dbt.lake)),
        DuckDBConsolidationCheck(str(dbt.warehouse)),
        today=day,
        retention_days=Settings().vacuum_retention_days,
    )
    return {
        "today": result.today.isoformat(),
        "cutoff": result.cutoff.isoformat(),
        "candidates": result.candidates,
        "rows_deleted": result.rows_deleted,
        "deleted": len(result.deleted),
        "kept": len(result.kept),
    }


@dataclass(frozen=True)
class RecentFeatures:
    """gold.ml_features from `since` on (a FeatureStore)."""

    store: DuckDBFeatureStore
    since: dt.date

    def read(self, start: dt.date | None, end: dt.date | None) -> Any:
        return self.store.read(max(start or self.since, self.since), end)

    def latest_date(self) -> dt.date | None:
        return self.store.latest_date()


def publish_model(warehouse: Path, lake: Path, since: dt.date) -> dict[str, Any]:
    """Train on the features since `since` and publish the model (`condvest train`'s
    function, on fewer rows: see MODEL_HYPERPARAMETERS)."""
    store = RecentFeatures(DuckDBFeatureStore(warehouse), since)
    now = dt.datetime.now(dt.UTC)
    result = train_from_store(store, Lake.open(str(lake)), MODEL_HYPERPARAMETERS, now).to_dict()
    return {"version": result["version"], "model_type": result["metrics"]["model_type"]}


def publish_model_process(dbt: Dbt, day: Day) -> dict[str, Any]:
    """publish_model in its own process (its memory is not the driver's)."""
    calendar = load_calendar(REPO_ROOT / "seeds" / "trading_calendar.csv")
    sessions = calendar.sessions_between(day.first, day.previous)
    since = sessions[-min(MODEL_FEATURE_SESSIONS, len(sessions))]
    out = dbt.work / "model.json"
    command = [sys.executable, "-m", "bench.bench_daily", "publish-model",
               "--warehouse", str(dbt.warehouse), "--lake", str(dbt.lake),
               "--since", since.isoformat(), "--json", str(out)]  # fmt: skip
    # One OpenMP thread: with both cores taken by anything else, scikit-learn's threads
    # wait on each other and the fit took ten times as long (it is set-up, not timed).
    timed = run_timed(command, {**os.environ, "OMP_NUM_THREADS": "1"}, "publish a model")
    return {**json.loads(out.read_text()), "features_since": since.isoformat(),
            "seconds": timed.seconds, "peak_rss_mib": timed.peak_rss_mib}  # fmt: skip


def daily_env(dbt: Dbt, server: dict[str, Any], day: Day) -> dict[str, str]:
    """`condvest daily`'s environment: the bench's lake, warehouse and watermark store, the
    local server as Polygon, training on another weekday; dbt's target and log files in
    the work directory (its JSON log gives the per-model seconds)."""
    env = {key: value for key, value in dbt.env().items()
           if key not in FOREIGN_SETTINGS and not key.startswith("NOTIFY_")}  # fmt: skip
    return {
        **env,
        "WATERMARK_DSN": watermark_dsn(dbt),
        "MARKET_SOURCE": "polygon",
        "POLYGON_BASE_URL": server["base_url"],
        "POLYGON_API_KEY": server["api_key"],
        "TRAINING_WEEKDAY": day.training_weekday,
        "DAILY_HISTORY_START": day.first.isoformat(),
        # The first build's target: its partial parse is what a user's next run finds.
        "DBT_TARGET_PATH": str(dbt.target),
        "DBT_LOG_PATH": str(dbt.work / "daily_logs"),
        "DBT_LOG_FORMAT_FILE": "json",
        "DBT_LOG_LEVEL_FILE": "info",
    }


def run_daily(dbt: Dbt, server: dict[str, Any], day: Day) -> dict[str, Any]:
    """`condvest daily` for the held-back session, timed end to end, checked to have done
    a routine day: one session fetched, no training, predictions made."""
    condvest = str(Path(sys.executable).with_name("condvest"))
    command = [condvest, "-v", "daily", "--date", day.session.isoformat(), "--source",
               "polygon", "--json"]  # fmt: skip
    shutil.rmtree(dbt.work / "daily_logs", ignore_errors=True)
    timed = run_timed(command, daily_env(dbt, server, day), "condvest daily")
    run = json.loads(timed.stdout)["runs"][-1]
    _check_routine_day(run, server["rows"])
    builds = dbt_log_invocations(dbt.work / "daily_logs" / "dbt.log")
    summary = run["summary"]
    return {
        "seconds": timed.seconds,
        "peak_rss_mib": timed.peak_rss_mib,
        "date": day.session.isoformat(),
        "training_weekday": day.training_weekday,
        "status": run["status"],
        "states": run["states"],
        "state_seconds": state_seconds(timed, run["states"]),
        "rows_fetched": summary["ohlcv"]["rows_landed"],
        "tickers_landed": summary["tickers_landed"],
        "model_version": summary["model"]["version"],
        "predictions": len(summary["top_predictions"]),
        "vacuum": summary["vacuum"],
        # DbtBuild, then DbtBuildPredictions (the mart over the day's predictions).
        "dbt_build": builds[0] if builds else None,
        "dbt_build_predictions": builds[1] if len(builds) > 1 else None,
    }


def _check_routine_day(run: dict[str, Any], served_rows: int) -> None:
    ohlcv = run["summary"]["ohlcv"]
    checks = {
        f"status {run['status']}": run["status"] == "SUCCEEDED",
        "it trained": "Train" not in run["states"],
        "it did not predict": "Predict" in run["states"],
        f"it fetched {ohlcv['sessions_landed']} sessions, not 1": ohlcv["sessions_landed"] == 1,
        f"it landed {ohlcv['rows_landed']} rows of the {served_rows} served": (
            ohlcv["rows_landed"] == served_rows
        ),
    }
    if problems := [problem for problem, ok in checks.items() if not ok]:
        raise RuntimeError(f"condvest daily did not run a routine day: {'; '.join(problems)}")


def state_seconds(timed: Timed, states: list[str]) -> dict[str, float]:
    """Seconds per Task state, from the `-v` log line each one starts with: start-up is
    the process start to the first state; the last state runs to the process's end (the
    report and interpreter exit included). Choice states take no time of their own and
    are not listed. Empty if the log does not match the states."""
    tasks = [name for name in states if asl.states()[name]["Type"] == "Task"]
    stamps = [
        dt.datetime.strptime(stamp, "%Y-%m-%d %H:%M:%S.%f").timestamp()
        for stamp in _STEP_LOG.findall(timed.stderr)
    ]
    if len(stamps) != len(tasks) or not tasks:
        return {}
    names = ["start-up", *tasks[:-1], f"{tasks[-1]}, report and exit"]
    bounds = [timed.started_at, *stamps, timed.started_at + timed.seconds]
    return {name: round(bounds[i + 1] - bounds[i], 2) for i, name in enumerate(names)}


def dbt_log_invocations(log: Path) -> list[dict[str, Any]]:
    """Per dbt invocation in a JSON log file, in order: its per-model seconds and spans and
    its node counts, as Dbt reports them from run_results.json (which the day's second
    build overwrites). From the info-level result events: one per node."""
    nodes: dict[str, list[tuple[str, str, float, list[dict[str, str]]]]] = {}
    for event in _json_lines(log):
        if event.get("info", {}).get("name") not in RESULT_EVENTS:
            continue
        data, node = event["data"], event["data"]["node_info"]
        is_model = node["resource_type"] == "model"
        status = node["node_status"] if is_model else str(data.get("status", "")).lower()
        span = [{"started_at": node["node_started_at"], "completed_at": node["node_finished_at"]}]
        nodes.setdefault(event["info"]["invocation_id"], []).append(
            (node["unique_id"], status, data["execution_time"], span if is_model else [])
        )
    return [node_timings(invocation) for invocation in nodes.values()]


def _json_lines(path: Path) -> Iterator[dict[str, Any]]:
    if not path.exists():
        return
    with path.open() as lines:
        for line in lines:
            try:
                yield json.loads(line)
            except json.JSONDecodeError:
                continue


def run_stage(generated: Market, dbt: Dbt) -> dict[str, Any]:
    """First build, the state yesterday left, the timed day; `dbt`'s warehouse is left
    holding the whole market (and the day's predictions)."""
    day = Day.of(generated)
    linked_lake(generated, dbt.lake)
    symbols = int(str(generated.info["symbols"]))
    with session_server(generated.last_partition, day.session, symbols) as server:
        setup: dict[str, Any] = {"tickers": land_ticker_snapshot(dbt, server, day.previous)}
        first_build = dbt("build")
        rows_after_first = row_counts(dbt.warehouse)
        setup["watermarks"] = set_watermarks(dbt, day)
        setup["vacuum"] = vacuum_as_of(dbt, day.previous)
        setup["model"] = publish_model_process(dbt, day)
        daily = run_daily(dbt, server, day)
    rows_after_daily = row_counts(dbt.warehouse)
    landed = rows_after_first["bronze.ohlcv_daily"] + rows_after_first["bronze.ohlcv_rejected"]
    return {
        "first_build": {**first_build, "rows_landed": landed},
        "daily": {
            **daily,
            "new_bars": rows_after_daily["bronze.ohlcv_daily"]
            - rows_after_first["bronze.ohlcv_daily"],
        },
        "setup": {**setup, "served_rows": server["rows"]},
        "rows_after_first_build": rows_after_first,
        "rows_after_daily": rows_after_daily,
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command")
    model = commands.add_parser("publish-model", help="(the stage's untimed set-up step)")
    model.add_argument("--warehouse", type=Path, required=True)
    model.add_argument("--lake", type=Path, required=True)
    model.add_argument("--since", type=dt.date.fromisoformat, required=True)
    model.add_argument("--json", type=Path, required=True)
    parser.add_argument("--symbols", type=int, default=10_000)
    parser.add_argument("--sessions", type=int, default=2_520)
    parser.add_argument("--out", type=Path, default=Path("bench/out"))
    args = parser.parse_args(argv)
    if args.command == "publish-model":
        args.json.write_text(json.dumps(publish_model(args.warehouse, args.lake, args.since)))
        return
    out = args.out.resolve()
    generated = market(args.symbols, args.sessions, out)
    work = out / f"daily_work_{args.symbols}x{args.sessions}"
    result = {"market": generated.info, **run_stage(generated, Dbt.fresh(work / "lake", work))}
    save_result(result, out / f"daily_{args.symbols}x{args.sessions}.json")


if __name__ == "__main__":
    main()
