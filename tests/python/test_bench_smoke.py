"""`python -m bench` end to end at a small size: every stage measured, beside its peer,
on the same work (pandas and polars equal the dbt resamples, TA-Lib the dbt patterns),
`condvest daily` timed on a routine day, and the JSON and markdown written. The timings
at this size say nothing about the targets."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from bench.bench_trino import reader_settings, statement_node
from bench.report import Row, Side, busy_seconds
from core.paths import REPO_ROOT

SYMBOLS, SESSIONS = 200, 500
# ML on one year instead of two, and a smaller sample of seed files: the same code paths,
# two minutes less.
COMMAND = ["--symbols", str(SYMBOLS), "--sessions", str(SESSIONS), "--scale", "none",
           "--ml-years", "1", "--seed-files", "1000"]  # fmt: skip
STAGES = {
    "first_build": False,
    "consolidation": True,
    "daily": False,
    "silver_daily_update": True,
    "candlestick_daily": False,
    "resamples_full": True,
    "resamples_full_pandas": True,
    "candlestick_patterns": True,
    "ml_training": False,
    "ml_prediction": False,
    "ingestion_one_session": False,
    "ingestion_backfill": False,
    "cli_help": False,
}  # stage -> has a peer
ROWLESS = {"cli_help"}  # timed, but over no data rows


@pytest.fixture(scope="module")
def bench_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict, str]:
    out = tmp_path_factory.mktemp("bench")
    result = subprocess.run(
        [sys.executable, "-m", "bench", *COMMAND, "--out", str(out)],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    stem = out / f"bench_{SYMBOLS}x{SESSIONS}"
    return json.loads(Path(f"{stem}.json").read_text()), Path(f"{stem}.md").read_text()


@pytest.mark.slow
@pytest.mark.timeout(900)
def test_every_stage_is_timed_beside_its_peer(bench_run: tuple[dict, str]) -> None:
    result, _ = bench_run
    rows = {row["stage"]: row for row in result["table"]}
    assert set(rows) == set(STAGES)
    for stage, has_peer in STAGES.items():
        row = rows[stage]
        ours = row["ours"]
        assert ours["seconds"] > 0, stage
        assert stage in ROWLESS or ours["rows"] > 0, stage
        assert ours["peak_rss_mib"] > 0, stage
        assert isinstance(row["met"], bool), stage  # every condition was measured
        if has_peer:
            assert row["peer"]["seconds"] > 0, stage
            assert row["peer"]["peak_rss_mib"] > 0, stage
            assert row["ratio_peer_over_ours"] > 0, stage
        else:
            assert row["peer"] is None, stage
    assert result["market"]["symbols"] == SYMBOLS
    assert result["stages"]["per_file_consolidation"]["files"] == 1000
    assert rows["resamples_full"]["peer"]["name"] == "polars group_by"
    assert rows["resamples_full_pandas"]["peer"]["name"] == "pandas groupby"


@pytest.mark.slow
@pytest.mark.timeout(900)
def test_the_first_build_and_the_day_are_what_users_run(bench_run: tuple[dict, str]) -> None:
    stages = bench_run[0]["stages"]
    first = stages["first_build"]
    # every seed loads: the trading calendar and the pattern catalog
    assert first["nodes"]["seed success"] == len(list((REPO_ROOT / "seeds").glob("*.csv")))
    assert first["nodes"].get("test pass", 0) > 0  # `dbt build`: the data tests ran
    daily = stages["daily"]
    assert daily["status"] == "SUCCEEDED"
    # A routine day: the held-back session fetched from the server, no training, predictions.
    assert daily["rows_fetched"] == stages["setup"]["served_rows"] == daily["new_bars"] > 0
    assert "Train" not in daily["states"]
    assert {"FetchOhlcv", "DbtBuild", "Predict", "Vacuum"} <= set(daily["states"])
    assert daily["predictions"] > 0
    seconds = daily["state_seconds"]  # from the -v log: every Task state was found in it
    assert set(seconds) >= {"start-up", "FetchOhlcv", "DbtBuild", "Predict", "Vacuum"}
    assert min(seconds.values()) >= 0
    # The day's dbt build ran every model, its resamples among them (the breakdown rows).
    assert set(daily["dbt_build"]["model_seconds"]) >= {"ohlcv_daily", "ohlcv_3d", "ml_features"}
    assert daily["dbt_build"]["nodes"].get("test pass", 0) > 0


@pytest.mark.slow
@pytest.mark.timeout(900)
def test_the_peers_did_the_same_work(bench_run: tuple[dict, str]) -> None:
    result, _ = bench_run
    agreement = result["stages"]["resample_agreement"]
    assert set(agreement) == {"pandas", "polars"}
    for resample in agreement.values():
        assert resample["agree"]
        for size in resample["sizes"].values():
            assert size["dbt_rows"] == size["peer_rows"] > 0
    candles = result["stages"]["candle_agreement"]
    assert candles["not_ties"] == []
    assert candles["unmatched_rows"] == 0
    bars = result["stages"]["rows_after_daily"]["bronze.ohlcv_daily"]
    assert result["stages"]["talib_per_symbol"]["rows"] == bars
    assert result["agreement_ok"]


@pytest.mark.slow
@pytest.mark.timeout(900)
def test_the_markdown_table_has_a_line_per_stage(bench_run: tuple[dict, str]) -> None:
    result, text = bench_run
    assert "| stage | ours wall s | ours rows/s |" in text
    for row in result["table"]:
        assert f"| {row['label']} |" in text
    assert "pandas equals dbt" in text
    assert "polars equals dbt" in text
    assert "| DbtBuild |" in text  # the day's seconds per state


def test_a_target_is_met_only_when_every_condition_was_measured() -> None:
    fast = Side("ours", 10.0, 1000, 100, "")
    peer = Side("peer", 300.0, 1000, 100, "")
    assert Row("silver_daily_update", "x", fast, peer).met is True  # ratio 30 >= 20
    slow = Side("ours", 20.0, 1000, 100, "")
    assert Row("silver_daily_update", "x", slow, peer).met is False  # ratio 15
    unmeasured = Side("peer", None, 1000, 100, "")
    assert Row("silver_daily_update", "x", fast, unmeasured).met is None
    too_big = Side("ours", 10.0, 1000, 9 * 1024, "")  # peak above 8 GiB
    assert Row("daily", "x", too_big, None).met is False
    too_slow = Side("ours", 21.0, 1000, 100, "")
    assert Row("daily", "x", too_slow, None).met is False  # wall above 20 s
    assert Row("daily", "x", None, None, "skipped").met is None


def test_models_are_timed_by_the_wall_seconds_any_of_them_ran() -> None:
    spans = {
        "a": ["2026-01-01T00:00:00Z", "2026-01-01T00:00:02Z"],
        "b": ["2026-01-01T00:00:01Z", "2026-01-01T00:00:03Z"],  # overlaps a: counted once
        "other": ["2026-01-01T00:00:03Z", "2026-01-01T00:00:10Z"],  # not one of ours
        "c": ["2026-01-01T00:00:10Z", "2026-01-01T00:00:11.5Z"],
    }
    assert busy_seconds({"model_spans": spans}, ["c", "a", "b"]) == 4.5


@pytest.mark.parametrize(
    ("sql", "node"),
    [
        ('/* {"node_id": "model.condvest.ohlcv_3d"} */ create table "c"."s"."ohlcv_3d"',
         "model.condvest.ohlcv_3d"),
        ('insert into "c"."gold"."ml_features__dbt_tmp" (select 1)', "model.condvest.ml_features"),
        ('\n insert into "c"."gold"."ml_features"\n (select 1)', "model.condvest.ml_features"),
        ('select 1 from "c"."gold"."ml_features"', "(dbt's own queries)"),
        ('insert into "c"."staging"."pattern_catalog" (name, kind) values', "(dbt's own queries)"),
    ],
)  # fmt: skip
def test_the_trino_bench_counts_each_statement_under_the_model_it_writes(sql, node):
    """The statements dbt sends without its query comment (a contracted model's inserts,
    into its staging table or, on its first build, into itself) count for that model."""
    assert statement_node(sql) == node


def test_the_trino_bench_reads_whole_the_files_that_would_be_small_at_10000_symbols():
    """Trino's 3 MB small-file threshold, scaled: files grow linearly in symbols."""
    assert reader_settings(1_000, whole_small_files=False) == {
        "parquet.small-file-threshold": f"{3 * 2**20 // 10}B"
    }
    assert reader_settings(25_000, whole_small_files=False) == {
        "parquet.small-file-threshold": f"{3 * 2**20}B"
    }
    assert reader_settings(1_000, whole_small_files=True) == {}  # Trino's default
