"""Lambda PublishModel: a SageMaker training job's model.tar.gz becomes a registry version.

Event: {"version": "<model version>", "model_data": "s3://.../output/model.tar.gz"}.
Environment: LAKE_ROOT. Returns {"version", "published"} (the version's lake directory).
"""

from __future__ import annotations

import logging
from typing import Any

from ingestion.config import Settings
from ingestion.lake import Lake
from ml.registry import RegistryError, check_version, publish_archive

logging.getLogger().setLevel(logging.INFO)


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
