"""ResolveRunDate: what one daily run does, decided once at its start.

The plan is the `run` object of the state machine's document (and of `condvest daily`):
the run's date (default: today in America/New_York, the exchange's day), whether it is a
session (weekday holidays skip the day's work), whether to train (on the training weekday,
or when no model is published yet), the model version the day is scored with, and where
the first fetch starts when nothing is landed yet.

Everything is a pure function of its inputs, so a re-run of the same date plans the same
work: the daily model version is derived from the date, and once it is published the
re-run predicts with it instead of training again.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from dataclasses import dataclass
from typing import Any

from core.contracts import Contract
from core.lake import Lake
from core.layout import PREDICTIONS_PREFIX
from core.settings import Settings
from ingestion.calendar import NEW_YORK, TradingCalendar
from ml.registry import model_for_date, model_timeline, published_versions

WEEKDAYS = ("MON", "TUE", "WED", "THU", "FRI", "SAT", "SUN")
# SageMaker job names: at most 63 characters of letters, digits and hyphens; the longest
# prefix the state machine puts before the suffix is "condvest-predict-" (17).
_SUFFIX_HASH_LENGTH = 12
_EXECUTION = re.compile(r"^[A-Za-z0-9_.:-]{1,80}$")
_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


class PlanError(ValueError):
    """The run cannot be planned as asked (bad date, weekday or execution name)."""


@dataclass(frozen=True)
class RunPlan(Contract):
    date: dt.date
    is_session: bool
    train: bool
    # None only when no model exists and none will be trained (not a session).
    model_version: str | None
    # False when the day already has predictions from model_version: a re-run scores
    # nothing twice.
    predict: bool
    history_start: dt.date
    job_suffix: str
    execution: str
    # Where ExportFeatures UNLOADs gold.ml_features for the SageMaker jobs (AWS only),
    # and the query that does it: built here, not with States.Format, to keep the SQL's
    # quotes out of the ASL's intrinsic-function escaping.
    features_uri: str
    features_query: str


def today_in_new_york(now: dt.datetime) -> dt.date:
    return now.astimezone(NEW_YORK).date()


def training_weekday(value: str) -> int:
    """`FRI` (any case) as Python's weekday number."""
    key = value.strip().upper()[:3]
    if key not in WEEKDAYS:
        raise PlanError(f"training weekday must be one of {', '.join(WEEKDAYS)}, got {value!r}")
    return WEEKDAYS.index(key)


def daily_model_version(day: dt.date) -> str:
    """The model a daily run trains on `day`: same shape and sort order as the registry's
    versions (`<UTC timestamp>-<8 hex>`), but fixed by the date, so a re-run finds it."""
    digest = hashlib.sha256(f"daily:{day.isoformat()}".encode()).hexdigest()
    return f"{day:%Y%m%d}T000000Z-{digest[:8]}"


def parse_run_date(value: Any) -> dt.date | None:
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise PlanError(f"'date' must be a YYYY-MM-DD string, got {value!r}")
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise PlanError(f"'date' must be a YYYY-MM-DD string, got {value!r}") from None


def resolve_run(
    requested: dt.date | None,
    *,
    calendar: TradingCalendar,
    lake: Lake,
    now: dt.datetime,
    execution: str,
    train_weekday: str = Settings().training_weekday,
    history_start: dt.date | None = None,
    last_available: dt.date | None = None,
    gold_schema: str = "gold",
) -> RunPlan:
    """Plan the run of `requested` (default: today in New York, capped at the source's
    last session when it has one, as the fixed sample market does)."""
    if not _EXECUTION.match(execution):
        raise PlanError(f"execution name {execution!r} is not a Step Functions name")
    day = requested or today_in_new_york(now)
    if requested is None and last_available is not None:
        day = min(day, last_available)
    if not calendar.first <= day <= calendar.last:
        raise PlanError(
            f"{day} is outside the trading calendar ({calendar.first} .. {calendar.last})"
        )
    is_session = calendar.is_session(day)
    versions = published_versions(lake)
    daily_version = daily_model_version(day)
    train = (
        is_session
        and daily_version not in versions
        and (day.weekday() == training_weekday(train_weekday) or not versions)
    )
    if train:
        model_version: str | None = daily_version
    elif daily_version in versions:
        # A re-run of a training day scores with the model that day trained.
        model_version = daily_version
    else:
        # The model of the day's time: a past day is never scored by a later model.
        model_version = model_for_date(model_timeline(lake), day)
    predict = (
        is_session
        and model_version is not None
        and (train or not _predicted(lake, model_version, day))
    )
    digest = hashlib.sha256(execution.encode()).hexdigest()[:_SUFFIX_HASH_LENGTH]
    features_uri, features_query = _features_export(lake.uri, gold_schema, execution)
    return RunPlan(
        date=day,
        is_session=is_session,
        train=train,
        model_version=model_version,
        predict=predict,
        history_start=min(history_start or day, day),
        job_suffix=f"{day:%Y%m%d}-{digest}",
        execution=execution,
        features_uri=features_uri,
        features_query=features_query,
    )


def _predicted(lake: Lake, version: str, day: dt.date) -> bool:
    prefix = f"{PREDICTIONS_PREFIX}/model_version={version}/date={day.isoformat()}"
    return bool(lake.list_files(prefix))


def _features_export(lake_root: str, gold_schema: str, execution: str) -> tuple[str, str]:
    """The run's feature export location and its Athena UNLOAD (a fresh prefix per
    execution: UNLOAD refuses a non-empty target). `execution` is already checked."""
    if not _IDENTIFIER.match(gold_schema):
        raise PlanError(f"invalid gold schema name {gold_schema!r}")
    if "'" in lake_root:
        raise PlanError(f"cannot export features to {lake_root!r}: it would end the SQL string")
    uri = f"{lake_root.rstrip('/')}/ml/features/run={execution}/"
    query = (
        f"UNLOAD (SELECT * FROM {gold_schema}.ml_features) TO '{uri}' "
        "WITH (format = 'PARQUET', compression = 'ZSTD')"
    )
    return uri, query
