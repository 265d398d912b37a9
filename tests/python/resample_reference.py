"""A pandas reference for the Silver Fibonacci resamples.

Written from the definition in DESIGN.md ("Fibonacci resample semantics"), not from the dbt
macro, so the two can check each other:

- sessions are numbered by the trading calendar seed (`session_index` 0 = 1990-01-02);
- a bar of N sessions is the bucket floor(session_index / N), whatever the symbol;
- per (symbol, bucket): bucket_start / bucket_end are the first / last *calendar* session
  of the bucket, open the first available open, high the max, low the min, close the last
  available close, volume the sum, n_sessions the sessions with data, vwap the sum of
  vwap x volume over the sum of volume over the sessions that have a vwap (null if none),
  is_complete whether bucket_end is on or before the latest date loaded for any symbol.
"""

from __future__ import annotations

import pandas as pd

FIBONACCI_SESSIONS = (3, 5, 8, 13, 21, 34)
KEY = ["symbol", "bucket_start"]
COLUMNS = [
    "symbol",
    "bucket_start",
    "bucket_end",
    "bucket_number",
    "open",
    "high",
    "low",
    "close",
    "volume",
    "vwap",
    "n_sessions",
    "is_complete",
    "max_ingested_at",
]


def load_calendar_frame(path: str) -> pd.DataFrame:
    """The seed as (session_date, session_index), dates as datetime64."""
    frame = pd.read_csv(path, usecols=["session_date", "session_index"])
    frame["session_date"] = pd.to_datetime(frame["session_date"])
    return frame.sort_values("session_index", ignore_index=True)


def calendar_buckets(calendar: pd.DataFrame, sessions: int) -> pd.DataFrame:
    """Every calendar session with its bucket number and its bucket's first/last session."""
    frame = calendar[["session_date", "session_index"]].copy()
    frame["bucket_number"] = frame["session_index"] // sessions
    span = frame.groupby("bucket_number")["session_date"].agg(bucket_start="min", bucket_end="max")
    return frame.join(span, on="bucket_number")


def resample(daily: pd.DataFrame, calendar: pd.DataFrame, sessions: int) -> pd.DataFrame:
    """Bars of `sessions` sessions from daily bars.

    `daily` has one row per (symbol, date) with date on a calendar session and the columns
    open, high, low, close, volume, vwap (nullable) and ingested_at.
    """
    buckets = calendar_buckets(calendar, sessions)
    bars = daily.merge(
        buckets, left_on="date", right_on="session_date", how="left", validate="many_to_one"
    )
    if bars["bucket_number"].isna().any():
        raise ValueError("daily bars on dates that are not calendar sessions")
    bars = bars.sort_values(["symbol", "date"], kind="stable")
    has_vwap = bars["vwap"].notna()
    bars["vwap_x_volume"] = (bars["vwap"] * bars["volume"]).where(has_vwap)
    bars["volume_with_vwap"] = bars["volume"].where(has_vwap)
    out = (
        bars.groupby(["symbol", "bucket_number"], sort=True)
        .agg(
            bucket_start=("bucket_start", "first"),
            bucket_end=("bucket_end", "first"),
            # groupby first/last skip nulls: the first / last *available* value.
            open=("open", "first"),
            high=("high", "max"),
            low=("low", "min"),
            close=("close", "last"),
            volume=("volume", "sum"),
            n_sessions=("date", "size"),
            vwap_numerator=("vwap_x_volume", "sum"),
            vwap_denominator=("volume_with_vwap", "sum"),
            sessions_with_vwap=("vwap", "count"),
            max_ingested_at=("ingested_at", "max"),
        )
        .reset_index()
    )
    # No session with a vwap: null. (Sessions with a vwap but zero total volume give 0/0,
    # which is NaN here, i.e. null too.)
    out["vwap"] = (out["vwap_numerator"] / out["vwap_denominator"]).where(
        out["sessions_with_vwap"] > 0
    )
    out["is_complete"] = out["bucket_end"] <= daily["date"].max()
    out["bucket_number"] = out["bucket_number"].astype("int64")
    out["n_sessions"] = out["n_sessions"].astype("int64")
    return out[COLUMNS].sort_values(KEY, ignore_index=True)
