"""Out-of-sample history: training as of a past date, scoring each date with the model of its
time, the walk-forward track record, the label horizon's one owner and the model's verdict
against its baselines, on synthetic feature rows (tests/python/ml_data.py)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.dataset as ds
import pytest
from click.testing import CliRunner

from condvest import cli
from core.lake import Lake
from ingestion.calendar import TradingCalendar
from ml import registry, train
from ml.features import DuckDBFeatureStore, FeatureError, known_as_of, label_horizon
from ml.verdict import edge_verdict
from orchestration.ml_steps import (
    predict_from_store,
    predict_range,
    train_from_store,
    walk_forward_track_record,
)
from orchestration.periods import training_dates
from orchestration.plan import resolve_run
from tests.python.ml_data import (
    feature_frame,
    single_openmp_thread,  # noqa: F401 - an autouse fixture
    write_warehouse,
)

NOW = dt.datetime(2026, 12, 4, 21, 0, tzinfo=dt.UTC)
FAST = {"model": "random_forest", "n_estimators": 10, "max_depth": 4, "min_samples_leaf": 20}


@pytest.fixture(scope="module")
def frame() -> pd.DataFrame:
    return feature_frame(symbols=30, sessions=160, signal=0.5)


def _dates(frame: pd.DataFrame) -> list[dt.date]:
    return [pd.Timestamp(day).date() for day in sorted(frame["date"].unique())]


def _predictions(lake_dir: Path) -> pd.DataFrame:
    root = lake_dir / "gold" / "predictions"
    table = ds.dataset(root, format="parquet").to_table()  # the files hold every column
    rows = table.to_pandas()
    rows["date"] = pd.to_datetime(rows["date"]).dt.date
    return rows


def test_known_as_of_keeps_only_what_was_known_at_the_close(frame: pd.DataFrame) -> None:
    as_of = _dates(frame)[100]
    known = known_as_of(frame, as_of)
    assert known["date"].max().date() == as_of
    assert len(known) == 101 * 30
    labelled = known[known["label_up"].notna()]
    # Labels end 5 dates ahead: the last 5 known dates are still pending.
    assert labelled["label_end_date"].max().date() == as_of
    assert labelled["date"].max().date() == _dates(frame)[95]
    assert (
        known.loc[known["label_up"].isna(), ["forward_return", "label_end_date"]].isna().all().all()
    )
    # Features are never touched.
    same = frame[frame["date"] <= pd.Timestamp(as_of)]
    pd.testing.assert_series_equal(known["return_5d"], same["return_5d"])


def test_training_as_of_a_date_ignores_everything_after_it(
    tmp_path: Path, frame: pd.DataFrame
) -> None:
    """Whatever happened after the as-of date (here: every later feature and label replaced
    by noise), the model trained as of it is the same model."""
    as_of = _dates(frame)[100]
    rng = np.random.default_rng(3)
    spoiled = frame.copy()
    after = spoiled["date"] > pd.Timestamp(as_of)
    spoiled.loc[after, "return_5d"] = rng.normal(0, 1, int(after.sum()))
    looks_past = spoiled["label_end_date"] > pd.Timestamp(as_of)
    spoiled.loc[looks_past, "label_up"] = rng.integers(0, 2, int(looks_past.sum()))
    params = train.Hyperparameters.from_mapping(FAST)
    first = train.fit_set(train.prepare(frame, params, NOW, as_of), params)
    second = train.fit_set(train.prepare(spoiled, params, NOW, as_of), params)
    assert first.metrics == second.metrics
    assert first.metrics["data"]["as_of"] == as_of.isoformat()
    assert first.metrics["data"]["last_date"] == as_of.isoformat()
    assert first.metrics["version"].startswith(f"{as_of:%Y%m%d}T000000Z-")
    # every training label ended by the as-of date
    assert first.metrics["data"]["trained_through"] == _dates(frame)[95].isoformat()
    with pytest.raises(FeatureError, match="no feature rows on or before --as-of 2020-01-01"):
        train.prepare(frame, params, NOW, dt.date(2020, 1, 1))


def test_each_date_is_scored_only_by_a_model_of_its_time(
    tmp_path: Path, frame: pd.DataFrame
) -> None:
    store = DuckDBFeatureStore(write_warehouse(frame, tmp_path / "warehouse.duckdb"))
    lake = Lake.open(str(tmp_path / "lake"))
    dates = _dates(frame)
    early, middle = dates[80], dates[120]
    versions = {
        as_of: train_from_store(store, lake, FAST, NOW, as_of=as_of).to_dict()["version"]
        for as_of in (early, middle)
    }
    # A model trained on the whole table: it knows every date, so it may score the last only.
    latest = train_from_store(store, lake, FAST, NOW).to_dict()["version"]
    timeline = registry.model_timeline(lake)
    assert timeline == [(early, versions[early]), (middle, versions[middle]), (dates[-1], latest)]

    result = predict_range(store, lake, now=NOW, start=dates[0], end=dates[-1]).to_dict()
    assert result["skipped_no_model_of_their_time"] == [d.isoformat() for d in dates[:80]]
    assert result["dates_scored"] == len(dates) - 80
    rows = _predictions(tmp_path / "lake")
    assert rows.groupby("date")["model_version"].nunique().max() == 1
    for (version, day), _ in rows.groupby(["model_version", "date"]):
        # never a model trained after the date; always the newest that was not
        assert registry.knew_through(lake, version) <= day
        assert version == registry.model_for_date(timeline, day)
    assert set(rows.loc[rows["date"] < middle, "model_version"]) == {versions[early]}
    assert set(rows.loc[rows["date"] == dates[-1], "model_version"]) == {latest}
    assert len(rows) == 30 * (len(dates) - 80)

    # One date: the same rule, and an explicit later model is refused.
    assert (
        predict_from_store(store, lake, now=NOW, date=dates[100]).to_dict()["version"]
        == versions[early]
    )
    with pytest.raises(registry.LookAheadError, match="would look ahead"):
        predict_from_store(store, lake, now=NOW, date=dates[100], version=versions[middle])
    with pytest.raises(registry.ModelNotFoundError, match=f"--as-of {dates[10]}"):
        predict_from_store(store, lake, now=NOW, date=dates[10])


def test_a_walk_forward_track_record_fills_history_and_reruns_reuse_its_models(
    tmp_path: Path, frame: pd.DataFrame
) -> None:
    store = DuckDBFeatureStore(write_warehouse(frame, tmp_path / "warehouse.duckdb"))
    lake = Lake.open(str(tmp_path / "lake"))
    dates = _dates(frame)  # 2024-01-02 .. 2024-08-12, weekdays
    start, end = dt.date(2024, 5, 1), dates[-1]
    assert end > dt.date(2024, 8, 1)
    result = walk_forward_track_record(
        store, lake, FAST, now=NOW, start=start, end=end, every="month"
    ).to_dict()
    as_of = [dt.date(2024, 4, 30), dt.date(2024, 5, 31), dt.date(2024, 6, 30), dt.date(2024, 7, 31)]
    assert [model["as_of"] for model in result["trained"]] == [d.isoformat() for d in as_of]
    assert result["failed"] == [] and result["reused"] == 0
    scored = [d for d in dates if start <= d <= end]
    assert result["predictions"]["dates_scored"] == len(scored) > 60
    rows = _predictions(tmp_path / "lake")
    assert sorted(set(rows["date"])) == scored
    timeline = registry.model_timeline(lake)
    for (version, day), _ in rows.groupby(["model_version", "date"]):
        # the model trained at a date's close may score it (as the daily run does)
        assert registry.knew_through(lake, version) <= day
        assert version == registry.model_for_date(timeline, day)

    again = walk_forward_track_record(
        store, lake, FAST, now=NOW, start=start, end=end, every="month"
    ).to_dict()
    assert again["trained"] == [] and again["reused"] == 4


def test_an_as_of_date_with_too_little_history_is_reported_and_the_rest_go_on(
    tmp_path: Path, frame: pd.DataFrame
) -> None:
    store = DuckDBFeatureStore(write_warehouse(frame, tmp_path / "warehouse.duckdb"))
    lake = Lake.open(str(tmp_path / "lake"))
    result = walk_forward_track_record(
        store, lake, FAST, now=NOW, start=dt.date(2024, 1, 8), end=dt.date(2024, 5, 10)
    ).to_dict()
    # No label known yet by the first as-of date, too few dates for four folds by the next.
    assert [f["as_of"] for f in result["failed"]] == ["2024-01-07", "2024-01-31"]
    assert "none of the" in result["failed"][0]["error"]
    assert "too few for 4 walk-forward folds" in result["failed"][1]["error"]
    assert result["trained"], "later months still get their model"
    skipped = result["predictions"]["skipped_no_model_of_their_time"]
    assert skipped and all(day < result["trained"][0]["as_of"] for day in skipped)


def test_training_dates_are_the_eves_of_each_period() -> None:
    assert training_dates(dt.date(2024, 5, 15), dt.date(2024, 7, 2), "month") == [
        dt.date(2024, 5, 14),
        dt.date(2024, 5, 31),
        dt.date(2024, 6, 30),
    ]
    assert training_dates(dt.date(2024, 5, 1), dt.date(2024, 5, 14), "week") == [
        dt.date(2024, 4, 30),
        dt.date(2024, 5, 5),
        dt.date(2024, 5, 12),
    ]
    with pytest.raises(ValueError, match="--every must be one of month, week"):
        training_dates(dt.date(2024, 5, 1), dt.date(2024, 5, 14), "day")


def test_a_past_day_of_the_daily_run_is_never_scored_by_a_later_model(
    calendar: TradingCalendar, tmp_path: Path
) -> None:
    lake = Lake.open(str(tmp_path / "lake"))
    for version in ("20261113T000000Z-0123abcd", "20261125T000000Z-4567cdef"):
        directory = Path(lake.path("ml", "models", version))
        directory.mkdir(parents=True)
        (directory / "_SUCCESS").write_text("")

    def model_of(day: dt.date) -> str | None:
        return resolve_run(
            day, calendar=calendar, lake=lake, now=NOW, execution="daily-1"
        ).model_version

    assert model_of(dt.date(2026, 11, 24)) == "20261113T000000Z-0123abcd"
    assert model_of(dt.date(2026, 11, 30)) == "20261125T000000Z-4567cdef"
    assert model_of(dt.date(2026, 11, 10)) is None


def test_the_label_horizon_has_one_owner_the_feature_rows(frame: pd.DataFrame) -> None:
    """No horizon default in Python: it comes from the rows (dbt's var), and a given one
    that disagrees, or rows built with two, stop training."""
    assert train.Hyperparameters().horizon is None
    assert train.parse_hyperparameters([]).horizon is None
    horizon_option = next(p for p in cli.train.params if p.name == "horizon")
    # no default of its own (click's "unset"), and nothing passed on when it is not given
    assert not isinstance(horizon_option.default, int)
    assert "horizon" not in cli._hyperparameters("best", None, 7, None)
    assert label_horizon(frame) == 5
    params = train.Hyperparameters.from_mapping(FAST)
    trained = train.fit(frame, params, NOW)
    assert trained.bundle["horizon"] == 5
    assert trained.metrics["validation"]["embargo_sessions"] == 5
    with pytest.raises(train.TrainingError, match="--horizon 3 disagrees with the feature rows"):
        train.prepare(frame, train.Hyperparameters.from_mapping({**FAST, "horizon": 3}), NOW)
    mixed = frame.assign(label_horizon=np.where(frame.index % 2 == 0, 5, 10))
    with pytest.raises(FeatureError, match=r"label_horizon must hold one value, found \[5, 10\]"):
        train.prepare(mixed, params, NOW)
    with pytest.raises(FeatureError, match="lacks column"):
        train.prepare(frame.drop(columns="label_horizon"), params, NOW)


def test_the_cli_trains_as_of_a_date_and_predicts_a_range(
    tmp_path: Path, frame: pd.DataFrame, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_warehouse(frame, tmp_path / "warehouse.duckdb")
    monkeypatch.setenv("WAREHOUSE_PATH", str(tmp_path / "warehouse.duckdb"))
    monkeypatch.setenv("LAKE_ROOT", str(tmp_path / "lake"))
    monkeypatch.delenv("DBT_TARGET", raising=False)
    runner = CliRunner()
    trained = runner.invoke(
        cli.main, ["train", "--json", "--model", "random_forest", "--as-of", "2024-05-31"]
    )
    assert trained.exit_code == 0, trained.output
    assert '"version": "20240531T000000Z-' in trained.output
    predicted = runner.invoke(
        cli.main, ["predict", "--json", "--from", "2024-05-01", "--to", "2024-06-07"]
    )
    assert predicted.exit_code == 0, predicted.output
    # 2024-05-31 (the model's own date) .. 2024-06-07; the dates before it are skipped
    assert '"dates_scored": 6' in predicted.output
    assert '"2024-05-30"' in predicted.output
    refused = runner.invoke(cli.main, ["predict", "--from", "2024-05-01"])
    assert refused.exit_code == 2 and "--from and --to go together" in refused.output


def _metrics(auc: float, momentum_auc: float) -> dict:
    return {
        "chosen": {"auc": auc, "accuracy": 0.5, "precision_at_k": 0.52},
        "baselines": {
            "prior": {"mean": {"auc": 0.5, "accuracy": 0.51, "precision_at_k": 0.5}},
            "momentum": {"mean": {"auc": momentum_auc, "accuracy": 0.5, "precision_at_k": 0.5}},
        },
    }


def test_the_verdict_says_plainly_when_the_model_has_no_edge() -> None:
    none = edge_verdict(_metrics(0.515, 0.51))
    assert not none["has_edge"] and none["best_baseline"] == "momentum"
    assert none["verdict"].startswith("no edge: validation AUC 0.515 is not above momentum's 0.510")
    assert none["baselines"]["prior"] == {"auc": 0.5, "precision_at_k": 0.5}
    edge = edge_verdict(_metrics(0.56, 0.51))
    assert edge["has_edge"] and edge["verdict"] == (
        "edge: validation AUC 0.560, +0.050 over momentum (0.510)"
    )
    # Below chance is no edge over the prior's 0.5 either.
    assert not edge_verdict(_metrics(0.49, 0.45))["has_edge"]
