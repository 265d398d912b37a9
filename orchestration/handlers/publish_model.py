"""Lambda PublishModel: a SageMaker training job's model.tar.gz becomes a registry version.

Event: {"version": "<model version>", "model_data": "s3://.../output/model.tar.gz"}.
Environment: LAKE_ROOT. Returns {"version", "published"} (the version's lake directory).
"""

from __future__ import annotations

from typing import Any

from core.lake import Lake
from core.logs import lambda_entry
from core.settings import Settings
from ml.registry import check_version, publish_archive
from orchestration.handlers.events import Event
from orchestration.results import PublishedModel

EVENT_KEYS = frozenset({"version", "model_data"})


@lambda_entry
def lambda_handler(event: dict[str, Any] | None, context: Any) -> dict[str, Any]:
    checked = Event.parse(event, allowed=EVENT_KEYS)
    version, model_data = checked.required_text("version"), checked.required_text("model_data")
    lake = Lake.open(Settings.from_env().lake_root)
    return PublishedModel(
        version, publish_archive(lake, check_version(version), model_data)
    ).to_dict()
