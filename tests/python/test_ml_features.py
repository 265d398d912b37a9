"""gold.ml_features on the sample market: past-only features, and labels from the future.

Two lakes hold the same sample market; in the second, every bar after CUTOFF is then
restated by a later landing batch (prices moved, volumes changed), as a correction
would. dbt builds the features from each: no feature at or before CUTOFF may change,
while the later features and the labels that look past CUTOFF must.
"""

from __future__ import annotations

import datetime as dt
import re
import shutil

import duckdb
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as ds
import pytest

from core.lake import Lake
from core.paths import REPO_ROOT
from ingestion import landing_pipeline
from ingestion.fetch import OhlcvRequest, fetch_ohlcv, fetch_tickers
from ingestion.landing import land_bars
from ingestion.sample_market import SAMPLE_END, SampleMarket
from ingestion.stores import Stores
from ml.features import DuckDBFeatureStore
from orchestration.ml_steps import walk_forward_track_record
from tests.python.dbt_helpers import content_sql, dbt, landed_at

START = dt.date(2024, 1, 2)
CUTOFF = dt.date(2025, 6, 30)
# Trading halts that end at the cutoff: the labels the restatement changes then belong to
# bars before the halt. Six weeks leaves a symbol some of the bars an incremental run
# reads before its first new one; five months leaves it none.
HALTS = {
    "AURA": (dt.date(2025, 5, 16), CUTOFF),
    "SPRC": (dt.date(2025, 2, 3), CUTOFF),
}
HORIZON = 5  # the dbt var's default
LABELS = ["forward_return", "label_up", "label_end_date"]
SELECT = (
    "--select", "+ml_features", "--exclude", "candlestick_patterns_talib",
    "--indirect-selection", "cautious",
)  # fmt: skip


class _HaltedMarket(SampleMarket):
    """The sample market without the HALTS' bars."""

    def _trading(self, bars: pa.Table) -> pa.Table:
        halted = pa.array([False] * bars.num_rows)
        for symbol, (first, last) in HALTS.items():
            in_halt = pc.and_(
                pc.equal(bars["symbol"], symbol),
                pc.and_(
                    pc.greater_equal(bars["date"], pa.scalar(first, pa.date32())),
                    pc.less_equal(bars["date"], pa.scalar(last, pa.date32())),
                ),
            )
            halted = pc.or_(halted, in_halt)
        return bars.filter(pc.invert(halted))

    def grouped_daily(self, day: dt.date) -> pa.Table:
        return self._trading(super().grouped_daily(day))

    def ticker_range(self, symbol: str, start: dt.date, end: dt.date) -> pa.Table:
        return self._trading(super().ticker_range(symbol, start, end))


def _features(warehouse) -> pa.Table:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        content = content_sql(con, "gold.ml_features")
        return con.execute(f"{content} order by symbol, date").to_arrow_table()


def _restate_after(lake_dir, calendar, cutoff: dt.date) -> int:
    """Land every bar after `cutoff` again with other prices and volumes, one batch."""
    landed = ds.dataset(lake_dir / "bronze" / "raw_ohlcv", partitioning="hive").to_table()
    later = landed.filter(pc.field("date") > cutoff).sort_by(
        [("symbol", "ascending"), ("date", "ascending"), ("ingested_at", "descending")]
    )
    columns = ["symbol", "date", "open", "high", "low", "close", "volume", "vwap", "transactions"]
    bars = later.select(columns).to_pandas().drop_duplicates(["symbol", "date"])
    for price in ("open", "high", "low", "close", "vwap"):
        bars[price] = (bars[price] * 1.25).round(4)
    bars["volume"] = bars["volume"] * 3
    restated_at = landed_at(SAMPLE_END) + dt.timedelta(days=1)
    land_bars(
        Lake.open(str(lake_dir)),
        calendar,
        pa.Table.from_pandas(bars, preserve_index=False),
        "test",
        restated_at,
    )
    return len(bars)


@pytest.fixture(scope="module")
def built(tmp_path_factory, calendar):
    tmp = tmp_path_factory.mktemp("ml_features")
    lake_dir = tmp / "lake"
    lake = Lake.open(str(lake_dir))
    stores = Stores.connect(f"sqlite:///{tmp / 'wm.sqlite'}")
    market = _HaltedMarket(calendar)
    # Landed as a daily pipeline lands: the history one evening, the last session the
    # next, the restatement a day later. The models' cursor look-back then reaches only
    # the last session, and the incremental build recomputes only what the restatement
    # reaches (landed at once, all of history would be new to it).
    eve = max(day for day in calendar.sessions if day < SAMPLE_END)
    with pytest.MonkeyPatch.context() as clock:
        clock.setattr(landing_pipeline, "utcnow", lambda: landed_at(eve))
        fetch_tickers(market, lake, stores, SAMPLE_END)
        request = OhlcvRequest(start=START, end=eve, history_start=START)
        fetch_ohlcv(market, lake, stores, calendar, request)
        clock.setattr(landing_pipeline, "utcnow", lambda: landed_at(SAMPLE_END))
        request = OhlcvRequest(end=SAMPLE_END, history_start=START)
        fetch_ohlcv(market, lake, stores, calendar, request)
    changed_lake = tmp / "changed_lake"
    shutil.copytree(lake_dir, changed_lake)
    restated = _restate_after(changed_lake, calendar, CUTOFF)
    dbt(tmp, lake_dir, tmp / "original.duckdb", "build", *SELECT)
    dbt(tmp, changed_lake, tmp / "changed.duckdb", "build", *SELECT)
    # the original warehouse, then the restatement built incrementally on top of it
    shutil.copy(tmp / "original.duckdb", tmp / "incremental.duckdb")
    dbt(tmp, changed_lake, tmp / "incremental.duckdb", "build", *SELECT)
    return {
        "original": _features(tmp / "original.duckdb"),
        "changed": _features(tmp / "changed.duckdb"),
        "incremental": _features(tmp / "incremental.duckdb"),
        "restated": restated,
        "tmp": tmp,
        "lake": lake_dir,
    }


def _split(table: pa.Table) -> tuple[pa.Table, pa.Table]:
    before = pc.less_equal(table["date"], pa.scalar(CUTOFF, pa.date32()))
    return table.filter(before), table.filter(pc.invert(before))


def test_no_feature_at_or_before_the_cutoff_changes(built):
    original, changed = _split(built["original"])[0], _split(built["changed"])[0]
    assert built["restated"] > 1000 and original.num_rows > 10_000
    assert original.drop_columns(LABELS).equals(changed.drop_columns(LABELS))


def test_later_features_and_the_labels_that_look_past_the_cutoff_change(built):
    original_after, changed_after = _split(built["original"])[1], _split(built["changed"])[1]
    assert original_after.num_rows == changed_after.num_rows > 0
    # the volume z-score of the first restated session moves with the tripled volumes
    assert not original_after["volume_zscore_21d"].equals(changed_after["volume_zscore_21d"])
    # prices scaled by 1.25 from one session on: the return across the cutoff moves
    assert not original_after["return_1d"].equals(changed_after["return_1d"])
    # labels of the last HORIZON bars before the cutoff compare a close after it
    original_before, changed_before = _split(built["original"])[0], _split(built["changed"])[0]
    moved = pc.sum(
        pc.not_equal(original_before["forward_return"], changed_before["forward_return"])
    ).as_py()
    symbols = len(set(original_before["symbol"].to_pylist()))
    assert 0 < moved <= HORIZON * symbols


def test_an_incremental_build_over_the_restatement_equals_a_full_build(built):
    """Keys, dates, integers (label_up among them) exactly; doubles, forward_return among
    them, to 1e-9 relative: a rolling window's sum depends, in its last bits, on where the
    rows read begin."""
    assert built["incremental"].num_rows == built["changed"].num_rows > 10_000
    pd.testing.assert_frame_equal(
        built["incremental"].to_pandas(), built["changed"].to_pandas(), rtol=1e-9, atol=1e-12
    )


def test_the_labels_of_the_bars_before_a_halt_follow_the_restatement_after_it(built):
    """The HORIZON bars before a halt take their labels from the restated bars after it,
    however long the halt: the incremental run rewrites them too (the equality above)."""
    original, changed = built["original"].to_pandas(), built["changed"].to_pandas()
    for symbol, (first, last) in HALTS.items():
        before = original[(original["symbol"] == symbol) & (original["date"] < first)]
        assert not ((original["symbol"] == symbol) & original["date"].between(first, last)).any()
        moved = before.tail(HORIZON).merge(
            changed[changed["symbol"] == symbol], on=["symbol", "date"], suffixes=("", "_new")
        )
        assert len(moved) == HORIZON
        assert (moved["forward_return"] != moved["forward_return_new"]).all()


def test_labels_are_null_only_for_the_last_bars_of_each_symbol(built):
    table = built["original"].to_pandas()
    for _, rows in table.groupby("symbol"):
        missing = rows["label_up"].isna().to_numpy()
        assert not missing[: max(0, len(rows) - HORIZON)].any()
        assert missing[-HORIZON:].all()
    assert table["label_up"].dropna().isin([0, 1]).all()


def test_the_rows_carry_the_label_horizon_dbts_var_built_them_with(built):
    """The horizon's one owner is the var; training reads it from these rows."""
    project = (REPO_ROOT / "dbt_project.yml").read_text()
    var = re.search(r"^\s+ml_label_horizon: (\d+)$", project, re.MULTILINE)
    assert var, "dbt_project.yml sets vars.ml_label_horizon"
    horizon = int(var.group(1))
    assert set(built["original"]["label_horizon"].to_pylist()) == {horizon} == {HORIZON}


def test_an_out_of_sample_track_record_feeds_prediction_performance(built):
    """Train as of each month's eve, score every date with the model of its time, and the
    mart's numbers are those of gold.predictions' realized rows (the dbt build also runs the
    mart's unit test)."""
    tmp, lake_dir = built["tmp"], built["lake"]
    warehouse = tmp / "original.duckdb"
    lake = Lake.open(str(lake_dir))
    fast = {"model": "random_forest", "n_estimators": 10, "max_depth": 4, "min_samples_leaf": 20}
    now = dt.datetime(2026, 12, 4, 21, 0, tzinfo=dt.UTC)
    start = dt.date(2025, 10, 1)
    result = walk_forward_track_record(
        DuckDBFeatureStore(warehouse), lake, fast, now=now, start=start, end=SAMPLE_END
    ).to_dict()
    assert [m["as_of"] for m in result["trained"]] == ["2025-09-30", "2025-10-31", "2025-11-30"]
    assert result["failed"] == [] and result["predictions"]["skipped_no_model_of_their_time"] == []
    # dim_symbol and its parents: the module built +ml_features only
    selection = ("--select", "+dim_symbol", "stg_ml__predictions+", "--indirect-selection")
    dbt(tmp, lake_dir, warehouse, "build", *selection, "cautious")
    with duckdb.connect(str(warehouse), read_only=True) as con:
        predictions = con.execute("select * from gold.predictions").df()
        mart = con.execute("select * from gold.prediction_performance order by date").df()
    dates = sorted(predictions["date"].unique())
    assert len(dates) == result["predictions"]["dates_scored"] > 60
    realized = predictions[predictions["realized_up"].notna()]
    # only realized labels: the last HORIZON sessions have none yet, and no row
    assert list(mart["date"]) == sorted(realized["date"].unique()) == dates[:-HORIZON]
    for row in mart.itertuples():
        day = realized[realized["date"] == row.date]
        top = day[day["rank_in_day"] <= 10]
        assert row.symbols_scored == (predictions["date"] == row.date).sum()
        assert row.symbols_realized == len(day)
        assert row.hit_rate == pytest.approx(day["is_correct"].mean())
        assert row.top_k_forward_return == pytest.approx(top["realized_forward_return"].mean())
        assert row.market_forward_return == pytest.approx(day["realized_forward_return"].mean())
        assert row.top_k_excess_return == pytest.approx(
            row.top_k_forward_return - row.market_forward_return
        )
