"""Benchmark ml/: training on two years of features for the whole market, then one day's
predictions.

    python -m bench.bench_ml --symbols 10000 --years 2

Generates (or reuses) a market of `years` x 252 sessions plus the features' 63-bar
warm-up (bench.generate_market), builds it through gold.ml_features with dbt, then runs
`condvest train` and `condvest predict` as their functions (orchestration.ml_steps):
training with the default hyperparameters (both candidates, walk-forward validation, the
default cap on training rows, which samples), and predictions for the latest session. Reports wall
time, rows per second and peak RSS of this process for each step, as JSON.
Targets (issue 5): training under 10 minutes on 2 cores, one day's predictions under 5 s.
"""

from __future__ import annotations

import argparse
import datetime as dt
import resource
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import duckdb

from bench.dbt_runs import ORACLE, Dbt, market, save_result
from core.lake import Lake
from ml.features import DuckDBFeatureStore
from orchestration.ml_steps import predict_from_store, train_from_store

WARM_UP = 63  # bars before a symbol's first feature row (models/gold/ml_features.sql)
FEATURES = ["--select", "+ml_features", "trading_calendar", "--exclude", ORACLE]


def _timed(step: Callable[[], Any]) -> tuple[Any, dict[str, float]]:
    started = time.perf_counter()
    result = step()
    seconds = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024
    return result, {"seconds": round(seconds, 2), "peak_rss_mib_so_far": peak}


def run(symbols: int, years: int, out: Path) -> dict[str, object]:
    generated = market(symbols, years * 252 + WARM_UP, out)
    generated.land_last_session()
    dbt = Dbt.fresh(generated.lake, out / "ml_work")
    dbt("seed")
    build = dbt("run", *FEATURES)
    with duckdb.connect(str(dbt.warehouse), read_only=True) as con:
        counts = con.execute(
            "select count(*), count(label_up), count(distinct date) from gold.ml_features"
        ).fetchone()
    assert counts is not None  # an aggregate without GROUP BY returns one row
    rows, labelled, dates = counts
    store = DuckDBFeatureStore(dbt.warehouse)
    lake = Lake.open(str(out / "ml_lake"))
    now = dt.datetime.now(dt.UTC)
    trained, training = _timed(lambda: train_from_store(store, lake, {}, now).to_dict())
    predicted, prediction = _timed(lambda: predict_from_store(store, lake, now=now).to_dict())
    return {
        "market": generated.info,
        "features_build": build,
        "feature_rows": rows,
        "labelled_rows": labelled,
        "feature_dates": dates,
        "training": {
            **training,
            "labelled_rows_per_second": round(labelled / training["seconds"]),
            "version": trained["version"],
            "metrics": trained["metrics"],
        },
        "prediction": {
            **prediction,
            "rows": predicted["rows"],
            "date": str(predicted["date"]),
        },
        "targets": {"training_s": 600, "prediction_s": 5},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--symbols", type=int, default=10_000)
    parser.add_argument("--years", type=int, default=2)
    parser.add_argument("--out", type=Path, default=Path("bench/out"))
    args = parser.parse_args()
    result = run(args.symbols, args.years, args.out)
    save_result(result, args.out / f"ml_{args.symbols}x{args.years}y.json")


if __name__ == "__main__":
    main()
