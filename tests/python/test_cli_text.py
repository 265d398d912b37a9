"""The short summaries `condvest` prints without --json, from the commands' JSON results
(shaped as ml_steps, vacuum and dbt_build return them)."""

from __future__ import annotations

from condvest.cli_text import (
    predict_range_text,
    predict_text,
    state_line,
    track_record_text,
    train_text,
    vacuum_text,
)
from core.lake import Lake
from ingestion.results import LandingCheck, QuarantinedFile
from ml.results import PredictionSummary
from orchestration.daily import DailyResult
from orchestration.report import format_report
from orchestration.results import PredictRangeResult, TrackRecordResult, TrainResult
from orchestration.summary import SUCCEEDED, DailySummary, build_summary
from orchestration.vacuum import VacuumResult

TRAINED = {
    "version": "20251231T000000Z-368658ef",
    "metrics": {
        "version": "20251231T000000Z-368658ef",
        "model_type": "random_forest",
        "trained_through": "2025-12-23",
        "training_rows": 52_105,
        "validation": {"auc": 0.501511, "accuracy": 0.504865, "precision_at_k": 0.509759},
        "baselines": {
            "up_rate": {"auc": 0.5, "accuracy": 0.51, "precision_at_k": 0.51},
            "momentum_5d": {"auc": 0.4987, "accuracy": 0.4999, "precision_at_k": 0.5},
        },
    },
    "model_path": "/lake/ml/models/20251231T000000Z-368658ef",
}


def test_train_shows_the_model_beside_its_baselines():
    assert train_text(TrainResult.from_dict(TRAINED)).splitlines() == [
        "model 20251231T000000Z-368658ef: random_forest, trained through 2025-12-23 on 52,105 rows",
        "  validation: AUC 0.5015, accuracy 0.5049, precision@k 0.5098",
        "  baseline up_rate: AUC 0.5000, accuracy 0.5100, precision@k 0.5100",
        "  baseline momentum_5d: AUC 0.4987, accuracy 0.4999, precision@k 0.5000",
        "  published: /lake/ml/models/20251231T000000Z-368658ef",
    ]


def test_predict_names_the_day_the_model_and_the_top_picks():
    result = {
        "version": "v1",
        "date": "2025-12-31",
        "rows": 56,
        "files": ["/lake/gold/predictions/model_version=v1/date=2025-12-31/b.parquet"],
        "top": [
            {"symbol": "LNTR", "probability_up": 0.5471, "rank_in_day": 1},
            {"symbol": "PLSM", "probability_up": 0.5312, "rank_in_day": 2},
        ],
    }
    assert predict_text(PredictionSummary.from_dict(result)).splitlines() == [
        "predictions 2025-12-31: 56 symbols scored by model v1",
        "  top: LNTR 0.547, PLSM 0.531",
        "  written: /lake/gold/predictions/model_version=v1/date=2025-12-31/b.parquet",
    ]


def test_vacuum_says_what_it_deleted_and_why_it_kept():
    result = {
        "retention_days": 30,
        "today": "2025-12-31",
        "cutoff": "2025-12-01",
        "dry_run": False,
        "candidates": 3,
        "deleted": ["a.parquet", "b.parquet"],
        "kept": [{"file": "c.parquet", "reason": "2 rows not in bronze.ohlcv_daily"}],
        "ignored": [],
        "rows_deleted": 1_200,
        "bytes_deleted": 64_000,
        "manifest": "/lake/_manifests/vacuum/x.json",
    }
    assert vacuum_text(VacuumResult.from_dict(result)).splitlines() == [
        "vacuum (retention 30 days, cutoff 2025-12-01): deleted 2 of 3 old landing file(s), "
        "1,200 rows, 64,000 bytes",
        "  kept 1: first c.parquet (2 rows not in bronze.ohlcv_daily)",
        "  manifest: /lake/_manifests/vacuum/x.json",
    ]


def test_a_state_line_carries_dbts_summary_its_warnings_and_the_log():
    build = {
        "container": {"ExitCode": 0},
        "status": "success",
        "results": {"pass": 75, "warn": 1},
        "elapsed_seconds": 7.9,
        "stats": "Done. PASS=75 WARN=1 ERROR=0 SKIP=0 NO-OP=0 TOTAL=76",
        "warned": ["assert_active_symbols_have_no_session_gaps"],
        "log_file": "/data/logs/dbt.log",
    }
    assert state_line("DbtBuild", 12.61, build, None) == (
        "  DbtBuild                   12.6 s  Done. PASS=75 WARN=1 ERROR=0 SKIP=0 NO-OP=0 "
        "TOTAL=76; warned: assert_active_symbols_have_no_session_gaps (log: /data/logs/dbt.log)"
    )
    failed = state_line("Predict", 0.2, None, ValueError("no feature rows for 2025-12-31"))
    assert failed.endswith("0.2 s  FAILED ValueError: no feature rows for 2025-12-31")


def test_the_landing_check_line_names_each_quarantined_file_and_why():
    check = LandingCheck(checked=120, read=2)
    check.quarantined.append(
        QuarantinedFile("ohlcv", "/lake/bronze/raw_ohlcv/x.parquet", "/q/x.parquet", "truncated")
    )
    assert state_line("CheckLanding", 0.31, check.to_dict(), None) == (
        "  CheckLanding                0.3 s  120 landing file(s), 2 read; "
        "quarantined /lake/bronze/raw_ohlcv/x.parquet (truncated)"
    )


SCORED_RANGE = {
    "from": "2024-05-01",
    "to": "2024-06-07",
    "dates_scored": 6,
    "rows": 1_230,
    "files": 0,
    "models": {"v1": {"first_date": "2024-05-31", "last_date": "2024-06-07", "dates": 6}},
    "skipped_no_model_of_their_time": ["2024-05-01", "2024-05-02"],
}


def test_a_scored_range_names_each_model_and_the_dates_it_skipped():
    assert predict_range_text(PredictRangeResult.from_dict(SCORED_RANGE)).splitlines() == [
        "predictions 2024-05-01 .. 2024-06-07: 6 date(s), 1,230 rows, each scored by the model "
        "of its time",
        "  v1: 6 date(s) 2024-05-31 .. 2024-06-07",
        "  skipped 2 date(s) with no model of their time",
    ]


def test_a_track_record_counts_trained_reused_and_failed_models():
    result = {
        "trained": [{"as_of": "2024-05-31", "version": "v1"}],
        "failed": [{"as_of": "2024-04-30", "error": "too few folds"}],
        "reused": 2,
        "predictions": SCORED_RANGE,
    }
    lines = track_record_text(TrackRecordResult.from_dict(result)).splitlines()
    assert lines[:2] == [
        "track record: 1 model(s) trained, 2 reused, 1 as-of date(s) with too little history",
        "  no model as of 2024-04-30: too few folds",
    ]
    assert lines[2].startswith("predictions 2024-05-01 .. 2024-06-07: 6 date(s)")


def test_the_daily_report_says_plainly_whether_the_model_has_an_edge():
    verdict = "no edge: validation AUC 0.5015 does not beat momentum's 0.4987 by 0.01"
    summary = {
        "status": "SUCCEEDED",
        "date": "2025-12-31",
        "execution": "local-1",
        "is_session": True,
        "ohlcv": {
            "status": "succeeded",
            "sessions_landed": 1,
            "rows_landed": 60,
            "invalid_rows": 0,
            "malformed_records": [],
            "watermark": "2025-12-31",
        },
        "tickers_landed": 0,
        "build": None,
        "model": {
            "version": "v1",
            "trained": True,
            "metrics": {"validation": {"auc": 0.5015}, "against_baselines": {"verdict": verdict}},
        },
        "top_predictions": [],
        "vacuum": None,
        "last_completed_step": "Vacuum",
        "error": None,
    }
    run = DailyResult("SUCCEEDED", ["Notify"], {}, DailySummary.from_dict(summary))
    report = format_report(run, None)
    assert f"  against the baselines: {verdict}" in report.splitlines()


def test_the_daily_report_names_the_landing_files_the_check_set_aside(tmp_path):
    # As the Notify Lambda and `condvest daily` build it: CheckLanding's result, by state name.
    check = LandingCheck(checked=3, read=3)
    check.quarantined.append(
        QuarantinedFile("ohlcv", "s3://b/lake/bronze/raw_ohlcv/x.parquet", "s3://b/q", "bad page")
    )
    steps = {"CheckLanding": {"result": check.to_dict()}}
    document = {"input": {"date": "2025-12-31"}, "steps": steps}
    summary = build_summary(SUCCEEDED, document, lake=Lake.open(str(tmp_path)), execution="e")
    assert summary.landing_check is not None
    assert summary.landing_check.quarantined[0].reason == "bad page"
    assert DailySummary.from_dict(summary.to_dict()) == summary
    report = format_report(DailyResult("SUCCEEDED", ["Notify"], {}, summary), None)
    assert (
        "  quarantined landing file: s3://b/lake/bronze/raw_ohlcv/x.parquet (bad page); "
        "kept at s3://b/q"
    ) in report.splitlines()
