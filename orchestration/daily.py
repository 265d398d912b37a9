"""`condvest daily`: the state machine's states, run locally in the same order.

The runner walks `orchestration/statemachine/daily.asl.json` itself: a Task state runs the
local step of the same name (a method of `LocalSteps`), a Choice state is evaluated on the
run's document as Step Functions would, a Catch routes a failure to NotifyFailure. A state
without a local step is an error before anything runs, so the ASL and this list cannot
drift. What differs from AWS is only where each step runs: the dev target (DuckDB and the
local lake) instead of Lambda, ECS, Athena and SageMaker. Retries are AWS's business
(throttling and transient service errors); locally a failure is reported at once.
"""

from __future__ import annotations

import datetime as dt
import logging
import shutil
import tempfile
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from core.clock import utcnow
from ingestion.events import parse_meta_event, parse_ohlcv_event
from ingestion.fetch import fetch_ohlcv, fetch_tickers
from ingestion.quarantine import check_landing
from ingestion.run_ledger import RunRecord
from ingestion.runtime import Runtime
from ml.features import DuckDBFeatureStore
from ml.registry import publish
from orchestration import asl
from orchestration.dbt import dbt_build
from orchestration.ml_steps import predict_from_store, train_to_dir
from orchestration.plan import RunPlan, parse_run_date, resolve_run
from orchestration.results import PublishedModel, TrainStepResult
from orchestration.summary import DAILY, FAILED, SUCCEEDED, DailySummary, report_run
from orchestration.vacuum import consolidation_check, vacuum

log = logging.getLogger(__name__)

PREDICTIONS_MART = "stg_ml__predictions+"

# Told of every Task state as it ends: its name, wall seconds, and its result or its error.
StateListener = Callable[[str, float, dict[str, Any] | None, Exception | None], None]


@dataclass
class DailyResult:
    status: str
    states: list[str]
    document: dict[str, Any]
    summary: DailySummary | None = None
    error: dict[str, str] | None = None
    # Wall seconds of each Task state run, in order: where a day's time went.
    state_seconds: dict[str, float] = field(default_factory=dict)


@dataclass
class LocalSteps:
    """One method per Task state of the ASL, each taking and returning plain JSON."""

    rt: Runtime
    execution: str
    env: Mapping[str, str]
    now: Callable[[], dt.datetime] = utcnow
    # Where dbt's log goes: None streams it to stderr; a quiet run appends it to this file.
    dbt_log: Path | None = None
    scratch: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="condvest-")))
    # The run's audit row, opened when the run starts: a run killed before it reports
    # leaves it `running`, and the next run marks it `abandoned`.
    record: RunRecord | None = None

    def ResolveRunDate(self, document: dict[str, Any]) -> dict[str, Any]:  # noqa: N802
        settings = self.rt.settings
        plan = resolve_run(
            parse_run_date((document.get("input") or {}).get("date")),
            calendar=self.rt.calendar,
            lake=self.rt.lake,
            now=self.now(),
            execution=self.execution,
            train_weekday=settings.training_weekday,
            history_start=settings.daily_history_start or self.rt.source.first_session,
            last_available=self.rt.source.last_session,
            gold_schema=settings.schema("gold"),
        )
        return plan.to_dict()

    def FetchMetadata(self, document: dict[str, Any]) -> dict[str, Any]:  # noqa: N802
        day = parse_meta_event({"date": _plan(document).date.isoformat()}, self.rt.default_date())
        return fetch_tickers(self.rt.source, self.rt.lake, self.rt.stores, day).to_dict()

    def FetchOhlcv(self, document: dict[str, Any]) -> dict[str, Any]:  # noqa: N802
        run = _plan(document)
        request = parse_ohlcv_event(
            {"from": run.history_start.isoformat(), "to": run.date.isoformat()},
            self.rt.default_date(),
        )
        rt = self.rt
        return fetch_ohlcv(rt.source, rt.lake, rt.stores, rt.calendar, request).to_dict()

    def CheckLanding(self, document: dict[str, Any]) -> dict[str, Any]:  # noqa: N802
        # A landing file dbt cannot read would fail the build for the whole lake: set it
        # aside (named, never lost) and build the rest.
        return check_landing(self.rt.lake, self.now()).to_dict()

    def DbtBuild(self, document: dict[str, Any]) -> dict[str, Any]:  # noqa: N802
        return dbt_build(log_file=self.dbt_log).to_dict()

    def ExportFeatures(self, document: dict[str, Any]) -> dict[str, Any]:  # noqa: N802
        # In AWS an Athena UNLOAD hands the features to the SageMaker jobs; here Train and
        # Predict read gold.ml_features from the DuckDB file directly.
        return {"skipped": "dev target: Train and Predict read gold.ml_features from DuckDB"}

    def Train(self, document: dict[str, Any]) -> dict[str, Any]:  # noqa: N802
        run = _plan(document)
        if run.model_version is None:
            raise ValueError(f"the run plan of {run.date} trains no model")
        model_dir = self.scratch / "model"
        shutil.rmtree(model_dir, ignore_errors=True)
        trained = train_to_dir(
            self._features(),
            {"model": "best", "version": run.model_version},
            self.now(),
            model_dir,
            as_of=run.date,
        )
        return TrainStepResult(run.model_version, str(model_dir), trained).to_dict()

    def PublishModel(self, document: dict[str, Any]) -> dict[str, Any]:  # noqa: N802
        train = TrainStepResult.from_dict(document["steps"]["Train"])
        path = publish(self.rt.lake, train.version, train.model_dir)
        return PublishedModel(train.version, path).to_dict()

    def Predict(self, document: dict[str, Any]) -> dict[str, Any]:  # noqa: N802
        run = _plan(document)
        return predict_from_store(
            self._features(),
            self.rt.lake,
            now=self.now(),
            date=run.date,
            version=run.model_version,
        ).to_dict()

    def DbtBuildPredictions(self, document: dict[str, Any]) -> dict[str, Any]:  # noqa: N802
        return dbt_build(["--select", PREDICTIONS_MART], log_file=self.dbt_log).to_dict()

    def Vacuum(self, document: dict[str, Any]) -> dict[str, Any]:  # noqa: N802
        return vacuum(
            self.rt.lake,
            consolidation_check("dev", self.rt.settings),
            today=_plan(document).date,
            retention_days=self.rt.settings.vacuum_retention_days,
            now=self.now(),
        ).to_dict()

    def Report(self, document: dict[str, Any]) -> dict[str, Any]:  # noqa: N802
        # In AWS an ECS task draws the report from the Iceberg tables (reports.aws_report);
        # here `condvest daily` draws it from DuckDB once the walk ends, with every state's
        # seconds (orchestration.daily_report.write_run_report).
        return {"skipped": "dev target: condvest daily draws the report after the run"}

    def NotifySuccess(self, document: dict[str, Any]) -> dict[str, Any]:  # noqa: N802
        return self._notify(SUCCEEDED, document)

    def NotifyFailure(self, document: dict[str, Any]) -> dict[str, Any]:  # noqa: N802
        return self._notify(FAILED, document)

    def _notify(self, status: str, document: dict[str, Any]) -> dict[str, Any]:
        return report_run(
            status,
            document,
            lake=self.rt.lake,
            ledger=self.rt.stores.ledger,
            source=self.rt.source.name,
            execution=self.execution,
            env=self.env,
            now=self.now,
            record=self.record,
        )

    def _features(self) -> DuckDBFeatureStore:
        return DuckDBFeatureStore(self.rt.settings.warehouse_path)


def _plan(document: Mapping[str, Any]) -> RunPlan:
    """The run document's plan (ResolveRunDate's result), read once per step."""
    return RunPlan.from_dict(document["run"])


def step_names() -> list[str]:
    """The local steps: exactly the ASL's Task states (checked, not assumed)."""
    tasks = asl.task_states()
    missing = [name for name in tasks if not callable(getattr(LocalSteps, name, None))]
    if missing:
        raise asl.DefinitionError(f"no local step for ASL state(s): {', '.join(missing)}")
    return tasks


def _place(document: dict[str, Any], name: str, result: dict[str, Any]) -> dict[str, Any]:
    """Put a step's result where the ASL's ResultSelector/ResultPath put it: a Lambda's
    payload under `result`, a service's selected fields as they are."""
    state = asl.states()[name]
    selector = state.get("ResultSelector", {})
    if "run.$" in selector:  # ResolveRunDate: the plan becomes the whole document
        return {"run": result, "steps": {}}
    value = {"result": result} if "result.$" in selector else result
    path = state["ResultPath"]
    if path == "$.notify":
        return {**document, "notify": value}
    if not path.startswith("$.steps."):
        raise asl.DefinitionError(f"state {name}: ResultPath {path} is not placed locally")
    document.setdefault("steps", {})[path.removeprefix("$.steps.")] = value
    return document


def run_daily(
    steps: LocalSteps, requested: dt.date | None, on_state: StateListener | None = None
) -> DailyResult:
    """Walk the state machine from StartAt to a Succeed or Fail state; `on_state` hears of
    each Task state as it ends (the CLI prints a line per state). The run is in the audit
    (dataset `daily`) from its start, and recorded `failed` if the walk itself breaks."""
    step_names()
    if steps.record is None:
        steps.record = steps.rt.stores.ledger.start_run(
            DAILY, steps.rt.source.name, requested, requested
        )
    try:
        return _walk(steps, requested, on_state)
    except Exception as exc:
        detail = {"status": FAILED, "error": f"{type(exc).__name__}: {exc}"}
        steps.rt.stores.ledger.finish_run(steps.record, "failed", 0, 0, 0, detail)
        raise


def _walk(
    steps: LocalSteps, requested: dt.date | None, on_state: StateListener | None
) -> DailyResult:
    states = asl.states()
    document: dict[str, Any] = {"input": {"date": requested.isoformat()} if requested else {}}
    visited: list[str] = []
    seconds: dict[str, float] = {}
    name = asl.definition()["StartAt"]
    while True:
        state = states[name]
        visited.append(name)
        kind = state["Type"]
        if kind == "Task":
            log.info("daily step", extra={"step": name, "execution": steps.execution})
            started = time.perf_counter()
            try:
                result = getattr(steps, name)(document)
            except Exception as exc:
                seconds[name] = round(time.perf_counter() - started, 2)
                if on_state is not None:
                    on_state(name, seconds[name], None, exc)
                target = asl.catch_target(state)
                if target is None:
                    raise
                log.exception("daily step failed", extra={"step": name})
                error = {"Error": type(exc).__name__, "Cause": str(exc), "State": name}
                if name == asl.FAILURE_STATE:
                    document["notify_error"] = error
                else:
                    document["error"] = error
                name = target
                continue
            seconds[name] = round(time.perf_counter() - started, 2)
            if on_state is not None:
                on_state(name, seconds[name], result, None)
            document = _place(document, name, result)
            name = state["Next"]
        elif kind == "Choice":
            name = asl.choose(state, document)
        elif kind == "Pass":
            document = asl.pass_result(state, document)
            name = state["Next"]
        elif kind == "Succeed":
            return DailyResult(
                SUCCEEDED, visited, document, _summary(document), state_seconds=seconds
            )
        elif kind == "Fail":
            return DailyResult(
                FAILED,
                visited,
                document,
                _summary(document),
                {"Error": state["Error"], "Cause": state["Cause"]},
                state_seconds=seconds,
            )
        else:
            raise asl.DefinitionError(f"state {name}: type {kind} is not run locally")


def _summary(document: Mapping[str, Any]) -> DailySummary | None:
    """The Notify step's summary, read back from the document (None if it did not run)."""
    notified = (document.get("notify") or {}).get("result") or {}
    return DailySummary.from_dict(notified["summary"]) if "summary" in notified else None


def new_execution_name(now: dt.datetime) -> str:
    """Like a Step Functions execution name: unique, sortable by start time."""
    return f"local-{now:%Y%m%dT%H%M%SZ}-{uuid.uuid4().hex[:8]}"
