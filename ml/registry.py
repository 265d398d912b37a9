"""Model versions in the lake: `ml/models/<version>/model.joblib + metrics.json + model_card.md`.

A version is published by copying its files and then writing a `_SUCCESS` marker last;
readers only see versions that have the marker, so a publish that dies half-way is invisible.
Versions sort by time: `<UTC timestamp>-<8 hex of the training data and hyperparameters>`.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import json
import re
import tarfile
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd

    # Only a type here: SageMaker jobs import this module without the `ingestion` package.
    from core.lake import Lake

# dt.UTC is Python 3.11+; the SageMaker scikit-learn container runs 3.10.
UTC = dt.timezone.utc  # noqa: UP017
MODELS_PREFIX = "ml/models"
MODEL_FILE = "model.joblib"
METRICS_FILE = "metrics.json"
ARTIFACTS = (MODEL_FILE, METRICS_FILE, "model_card.md")
SUCCESS_MARKER = "_SUCCESS"
BUNDLE_KEYS = ("model", "feature_columns", "horizon", "version", "trained_through", "model_type")

# A version names a lake directory (and a predictions partition): no separators, no dots first.
_VERSION = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
# The registry's own names: `<YYYYMMDD>T<HHMMSS>Z-<8 hex>`.
_VERSION_TIME = re.compile(r"^(\d{8})T\d{6}Z-")


class ModelNotFoundError(LookupError):
    """No published model (or not the requested version)."""


class RegistryError(ValueError):
    """A version cannot be published or loaded as asked."""


def fingerprint(frame: pd.DataFrame, hyperparameters: Mapping[str, Any]) -> str:
    """sha256 of the rows, their columns and dtypes, and the hyperparameters."""
    digest = hashlib.sha256()
    header = {
        "columns": [[str(name), str(dtype)] for name, dtype in frame.dtypes.items()],
        "hyperparameters": dict(hyperparameters),
    }
    digest.update(json.dumps(header, sort_keys=True, default=str).encode())
    # pandas and joblib are imported where used: the PublishModel Lambda imports this
    # module to copy files and ships neither.
    import pandas as pd

    digest.update(pd.util.hash_pandas_object(frame, index=False).to_numpy().tobytes())
    return digest.hexdigest()


def new_version(now: dt.datetime, fingerprint: str) -> str:
    return f"{now.astimezone(UTC):%Y%m%dT%H%M%SZ}-{fingerprint[:8]}"


def check_version(version: str) -> str:
    if not _VERSION.match(version):
        raise RegistryError(
            f"invalid model version {version!r}: use letters, digits, '.', '_' and '-'"
        )
    return version


def publish(lake: Lake, version: str, local_model_dir: str | Path) -> str:
    """Copy the model files of `local_model_dir` to the lake, then mark the version complete."""
    directory = lake.path(MODELS_PREFIX, check_version(version))
    marker = f"{directory}/{SUCCESS_MARKER}"
    if lake.exists(marker):
        raise RegistryError(
            f"model version {version} is already published at {lake.display(directory)}"
        )
    source = Path(local_model_dir)
    missing = [name for name in ARTIFACTS if not (source / name).is_file()]
    if missing:
        raise RegistryError(f"{source} lacks model file(s): {', '.join(missing)}")
    # Predictions are partitioned by the version inside the model, so it must be this one.
    trained_as = json.loads((source / METRICS_FILE).read_text()).get("version")
    if trained_as != version:
        raise RegistryError(f"{source} holds model version {trained_as}, not {version}")
    for name in ARTIFACTS:
        lake.write_bytes(f"{directory}/{name}", (source / name).read_bytes())
    lake.write_bytes(marker, b"")
    return lake.display(directory)


def publish_archive(lake: Lake, version: str, archive: str) -> str:
    """Publish the `model.tar.gz` a SageMaker training job left at `archive` (a path or an
    s3:// URI inside the lake's filesystem, as the launcher's output path is)."""
    path = archive.removeprefix("s3://") if not lake.is_local else archive
    if not lake.exists(path):
        raise ModelNotFoundError(f"no model archive at {archive}")
    data = lake.read_bytes(path)
    with tempfile.TemporaryDirectory(prefix="condvest-model-") as scratch:
        with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as bundle:
            for member in bundle.getmembers():
                # Only the model's own files, flat: nothing may land outside the scratch dir.
                name = member.name.removeprefix("./")
                if member.isfile() and name in ARTIFACTS:
                    extracted = bundle.extractfile(member)
                    if extracted is not None:
                        (Path(scratch) / name).write_bytes(extracted.read())
        return publish(lake, version, scratch)


def published_versions(lake: Lake) -> list[str]:
    """Every complete version, oldest first."""
    root = lake.path(MODELS_PREFIX)
    versions = []
    for path in lake.list_files(MODELS_PREFIX, suffix=f"/{SUCCESS_MARKER}"):
        parts = path.removeprefix(f"{root}/").split("/")
        if len(parts) == 2:
            versions.append(parts[0])
    return sorted(versions)


def latest_version(lake: Lake) -> str:
    versions = published_versions(lake)
    if not versions:
        raise ModelNotFoundError(
            f"no published model under {lake.display(lake.path(MODELS_PREFIX))}; train one first"
        )
    return versions[-1]


def load(lake: Lake, version: str) -> dict[str, Any]:
    """The model bundle of a published version."""
    directory = lake.path(MODELS_PREFIX, check_version(version))
    marker = f"{directory}/{SUCCESS_MARKER}"
    if not lake.exists(marker):
        raise ModelNotFoundError(
            f"model version {version} is not published: {lake.display(marker)} does not exist"
        )
    data = lake.read_bytes(f"{directory}/{MODEL_FILE}")
    import joblib

    return _check_bundle(joblib.load(io.BytesIO(data)), lake.display(directory))


def load_local(model_dir: str | Path) -> dict[str, Any]:
    """The model bundle in a local directory (a SageMaker job's model input)."""
    path = Path(model_dir) / MODEL_FILE
    if not path.is_file():
        raise ModelNotFoundError(f"no model bundle: {path} does not exist")
    import joblib

    return _check_bundle(joblib.load(path), str(path))


def _check_bundle(bundle: object, where: str) -> dict[str, Any]:
    if not isinstance(bundle, dict) or not set(BUNDLE_KEYS) <= bundle.keys():
        raise RegistryError(f"{where} is not a model bundle with keys {', '.join(BUNDLE_KEYS)}")
    return bundle


class LookAheadError(RegistryError):
    """A model would score a date before the last date it learned from."""


def knew_through(lake: Lake, version: str) -> dt.date:
    """The last date a published version learned anything from: metrics.json `data.as_of`.

    Versions trained before `as_of` was recorded trained on the whole feature table, so what
    they knew ends at its last row, `data.last_date`."""
    directory = lake.path(MODELS_PREFIX, check_version(version))
    if not lake.exists(f"{directory}/{SUCCESS_MARKER}"):
        raise ModelNotFoundError(f"model version {version} is not published")
    metrics = f"{directory}/{METRICS_FILE}"
    data = (json.loads(lake.read_bytes(metrics)).get("data") or {}) if lake.exists(metrics) else {}
    known = data.get("as_of") or data.get("last_date")
    if known:
        return dt.date.fromisoformat(known)
    # No record: a version named by its training time knew nothing after that day.
    stamp = _VERSION_TIME.match(version)
    if stamp:
        return dt.datetime.strptime(stamp.group(1), "%Y%m%d").date()
    raise RegistryError(
        f"{lake.display(metrics)} records neither data.as_of nor data.last_date, and the "
        f"version {version} is not named by its time: the model cannot be placed in time"
    )


def model_timeline(lake: Lake) -> list[tuple[dt.date, str]]:
    """Every published version with the last date it knew, in the order they could be used."""
    return sorted((knew_through(lake, version), version) for version in published_versions(lake))


def model_for_date(timeline: list[tuple[dt.date, str]], day: dt.date) -> str | None:
    """The model that existed at `day`'s close: of the versions that knew nothing after `day`,
    the one that knew the most (the later version on a tie); None when there is none.

    A model trained as of `day` may score `day`: its labels all ended by that close, and
    the row it scores looks forward from it."""
    eligible = [version for known, version in timeline if known <= day]
    return eligible[-1] if eligible else None


def check_not_ahead(lake: Lake, version: str, day: dt.date) -> None:
    """Raise LookAheadError if `version` learned from anything after `day`."""
    known = knew_through(lake, version)
    if known > day:
        raise LookAheadError(
            f"model {version} learned from data through {known.isoformat()}, after "
            f"{day.isoformat()}: scoring that date with it would look ahead; omit the version "
            f"(the model of the date is chosen) or train one with --as-of {day.isoformat()}"
        )
