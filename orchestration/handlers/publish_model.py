"""Lambda PublishModel: a SageMaker training job's model.tar.gz becomes a registry version.

Event: {"version": "<model version>", "model_data": "s3://.../output/model.tar.gz"}.
Environment: LAKE_ROOT. Returns {"version", "published"} (the version's lake directory).
"""

from __future__ import annotations

from typing import Any

from core.lake import Lake
from core.logs import lambda_entry
from core.settings import Settings
from ml.registry import RegistryError, check_version, publish_archive


@lambda_entry
def lambda_handler(event: dict[str, Any] | None, context: Any) -> dict[str, Any]:
    event = event or {}
    version, model_data = event.get("version"), event.get("model_data")
    if not isinstance(version, str) or not isinstance(model_data, str):
        raise RegistryError("PublishModel needs string 'version' and 'model_data' fields")
    lake = Lake.open(Settings.from_env().lake_root)
    return {
        "version": version,
        "published": publish_archive(lake, check_version(version), model_data),
    }
