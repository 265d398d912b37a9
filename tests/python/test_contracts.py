"""The one JSON contract of the typed results (core.contracts.Contract): a missing key fails
naming itself, the declared departures (another key, an optional key, a key left out when
None) hold, and nested results, dates and the summary's two build shapes read back whole."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest

from orchestration.dbt import DbtBuildResult
from orchestration.results import ModelSpan, PredictRangeResult
from orchestration.summary import (
    DailySummary,
    EcsBuildBrief,
    LandedBrief,
    LocalBuildBrief,
    ModelBrief,
)
from orchestration.vacuum import Skipped, VacuumResult

RANGE = PredictRangeResult(
    "2024-05-01", "2024-06-07", 6, 60, 6, {"v1": ModelSpan("2024-05-31", "2024-06-07", 6)}, []
)


def _through_json(data: dict[str, Any]) -> dict[str, Any]:
    return json.loads(json.dumps(data))


def test_a_missing_key_fails_naming_itself() -> None:
    data = RANGE.to_dict()
    del data["from"], data["rows"]
    with pytest.raises(ValueError, match=r"PredictRangeResult needs \['from', 'rows'\]"):
        PredictRangeResult.from_dict(data)
    with pytest.raises(ValueError, match="must be a JSON object, got list"):
        ModelSpan.from_dict([])  # type: ignore[arg-type]


def test_nested_results_and_dates_read_back_whole() -> None:
    vacuumed = VacuumResult(
        30, dt.date(2025, 12, 31), dt.date(2025, 12, 1), False, 2, ["a"], [Skipped("b", "c")], [],
        3, 10, None,
    )  # fmt: skip
    data = vacuumed.to_dict()
    assert data["today"] == "2025-12-31" and data["kept"] == [{"file": "b", "reason": "c"}]
    assert VacuumResult.from_dict(_through_json(data)) == vacuumed
    assert list(RANGE.to_dict())[:2] == ["from", "to"]
    assert PredictRangeResult.from_dict(_through_json(RANGE.to_dict())) == RANGE


def test_a_key_left_out_when_none_is_optional_when_read() -> None:
    built = DbtBuildResult({"success": 2}, 1.5, None, [])
    assert "log_file" not in built.to_dict()
    assert DbtBuildResult.from_dict(built.to_dict()) == built
    logged = DbtBuildResult({"success": 2}, 1.5, None, [], log_file="/l/dbt.log")
    assert DbtBuildResult.from_dict(logged.to_dict()) == logged


@pytest.mark.parametrize(
    "build",
    [
        LocalBuildBrief("success", {"success": 3}, 2.5, "Done.", ["t"], None, 0),
        LocalBuildBrief("success", {}, 0.5, None, [], "/l/dbt.log", 0),
        EcsBuildBrief("arn:aws:ecs:us-east-1:1:task/condvest/abc", 1),
        None,
    ],
)
def test_the_summary_reads_back_the_build_of_either_place(build: Any) -> None:
    summary = DailySummary(
        "SUCCEEDED", "e", "2025-12-31", True, LandedBrief.of(None), 0, None, build,
        ModelBrief(None, False, None), [], None, None, None,
    )  # fmt: skip
    data = _through_json(summary.to_dict())
    assert DailySummary.from_dict(data) == summary
    del data["landing_check"]  # older audits' summaries lack it
    assert DailySummary.from_dict(data).landing_check is None
    if build is not None:
        data["build"] = {"exit_code": 0}
        with pytest.raises(ValueError, match="expected LocalBuildBrief or EcsBuildBrief"):
            DailySummary.from_dict(data)
