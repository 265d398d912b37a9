"""A synthetic `gold.ml_features` table for the ml tests: deterministic, fast, contract-shaped.

Every symbol trades every session. Features are noise except that, with `signal > 0`, the
forward return leans on today's `return_5d`, so there is something to learn (and the
momentum baseline sees it too). `feature_frame` returns the canonical frame that the feature
stores return; `feature_table` is the same rows with the dbt model's column types.
"""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from threadpoolctl import threadpool_limits

from core.paths import REPO_ROOT
from ml import train

BARS = (3, 5, 8, 13, 21, 34)
CANDLE_COLUMNS = tuple(
    sorted(path.stem for path in (REPO_ROOT / "macros" / "candles" / "patterns").glob("cdl*.sql"))
)
DOUBLE_FEATURES = (
    "return_1d",
    "return_5d",
    "return_21d",
    "return_63d",
    "volatility_5d",
    "volatility_21d",
    "volatility_63d",
    "high_low_range",
    "volume_zscore_21d",
    *(f"previous_bar_return_{n}d" for n in BARS),
)
START = dt.date(2024, 1, 2)
# Only the order of session_index matters to the ml code; any increasing run will do.
FIRST_SESSION = 8565
# Runs `python -m <module> <args>` as in a SageMaker container, where only the `ml` package
# ships beside third-party libraries: importing `ingestion`, `duckdb` (or the tests) fails.
_CONTAINER_PRELUDE = """
import runpy, sys

class NotInTheContainer:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in ("ingestion", "duckdb", "tests"):
            raise ModuleNotFoundError(f"{name} is not in the SageMaker container")

sys.meta_path.insert(0, NotInTheContainer())
runpy.run_module(sys.argv.pop(1), run_name="__main__", alter_sys=True)
"""
# Small models keep a test's training run to about a second.
FAST = ["--n-estimators", "20", "--max-depth", "4", "--min-samples-leaf", "20", "--max-iter", "20"]


def feature_frame(
    symbols: int = 120,
    sessions: int = 120,
    *,
    horizon: int = 5,
    signal: float = 0.0,
    seed: int = 0,
) -> pd.DataFrame:
    """`symbols` x `sessions` rows sorted by (date, symbol); the last `horizon` dates unlabelled."""
    rng = np.random.default_rng(seed)
    shape = (sessions, symbols)
    dates = pd.bdate_range(START, periods=sessions).to_numpy().astype("datetime64[ns]")
    names = np.array([f"S{number:04d}" for number in range(symbols)], dtype=object)
    sessions_index = np.arange(sessions, dtype=np.int64) + FIRST_SESSION
    columns: dict[str, np.ndarray] = {
        "symbol": np.tile(names, sessions),
        "date": np.repeat(dates, symbols),
        "session_index": np.repeat(sessions_index, symbols),
    }
    for name in DOUBLE_FEATURES:
        columns[name] = rng.normal(0.0, 0.02, shape).ravel()
    for n in BARS:
        columns[f"session_in_bar_{n}d"] = np.repeat(sessions_index % n, symbols).astype(np.int32)
    signals = np.array([0, 100, -100, 80, -80, 200, -200], dtype=np.int16)
    weights = [0.9, 0.04, 0.04, 0.005, 0.005, 0.005, 0.005]
    candles = rng.choice(signals, size=(sessions * symbols, len(CANDLE_COLUMNS)), p=weights)
    for index, name in enumerate(CANDLE_COLUMNS):
        columns[name] = candles[:, index]
    columns["bullish_patterns"] = (candles > 0).sum(axis=1).astype(np.int32)
    columns["bearish_patterns"] = (candles < 0).sum(axis=1).astype(np.int32)

    forward = signal * columns["return_5d"] + rng.normal(0.0, 0.02, sessions * symbols)
    unlabelled = np.repeat(np.arange(sessions) >= sessions - horizon, symbols)
    forward[unlabelled] = np.nan
    columns["forward_return"] = forward
    # every symbol trades every date here, so the label ends `horizon` dates ahead
    ends = np.concatenate([dates[horizon:], np.full(horizon, np.datetime64("NaT"), "M8[ns]")])
    columns["label_end_date"] = np.repeat(ends, symbols)
    columns["label_up"] = np.where(unlabelled, np.nan, (forward > 0).astype(np.float64))
    columns["label_horizon"] = np.full(sessions * symbols, horizon, dtype=np.int64)
    return pd.DataFrame(columns)


def feature_table(frame: pd.DataFrame) -> pa.Table:
    """The rows typed as the dbt model types them (date, integer keys and labels)."""
    table = pa.Table.from_pandas(frame, preserve_index=False)
    casts = {
        "date": pa.date32(),
        "session_index": pa.int32(),
        "label_up": pa.int32(),
        "label_end_date": pa.date32(),
        "label_horizon": pa.int32(),
    }
    for name, type_ in casts.items():
        table = table.set_column(table.schema.get_field_index(name), name, table[name].cast(type_))
    return table


def write_channel(frame: pd.DataFrame, directory: Path, files: int = 1) -> Path:
    """The rows as a SageMaker channel: `files` parquet files cut by date."""
    directory.mkdir(parents=True, exist_ok=True)
    dates = np.unique(frame["date"])
    for index, chunk in enumerate(np.array_split(dates, files)):
        part = frame[frame["date"].isin(chunk)]
        pq.write_table(feature_table(part), directory / f"part-{index:03d}.parquet")
    return directory


def write_warehouse(frame: pd.DataFrame, path: Path) -> Path:
    """A DuckDB file holding the rows as `gold.ml_features`, as the dbt build leaves it."""
    with duckdb.connect(str(path)) as con:
        con.register("rows", feature_table(frame))
        con.execute("create schema gold")
        con.execute("create table gold.ml_features as select * from rows")
    return path


def job_env(root: Path, channel: Path) -> dict[str, str]:
    return {
        train.CHANNEL_ENV: str(channel),
        train.MODEL_DIR_ENV: str(root / "model"),
        train.OUTPUT_DIR_ENV: str(root / "output"),
    }


def run_training(root: Path, frame: pd.DataFrame, *args: str, files: int = 1) -> dict:
    """train.main on `frame` written as a channel under `root`; artifacts in root/model."""
    channel = write_channel(frame, root / "train", files)
    return train.main([*FAST, *args], env=job_env(root, channel))


def run_as_sagemaker_job(
    module: str, args: list[str], env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", _CONTAINER_PRELUDE, module, *args],
        cwd=REPO_ROOT,
        env={**os.environ, **(env or {})},
        capture_output=True,
        text=True,
        check=False,
    )


@pytest.fixture(autouse=True)
def single_openmp_thread() -> Iterator[None]:
    """HistGradientBoosting on one OpenMP thread: when other suites share the two cores, its
    spinning threads make it 4-5x slower. The fitted model does not depend on the count."""
    with threadpool_limits(limits=1, user_api="openmp"):
        yield
