"""The model beside its baselines, from the model registry in the lake
(`ml/models/<version>/metrics.json`, written by ml.train), and a plain verdict.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from core.lake import Lake
from core.layout import MODELS_PREFIX

# ml.registry's file names (tests/python/test_reports.py keeps them equal; reports does
# not import ml, which ships to the SageMaker containers on its own).
METRICS_FILE = "metrics.json"
SUCCESS_MARKER = "_SUCCESS"
METRICS = ("auc", "accuracy", "precision_at_k")
# How far the model must beat the best baseline on AUC and on precision at top-k to be
# said to have an edge: below a point, fold-to-fold noise on this data is larger.
EDGE_MARGIN = 0.01


@dataclass(frozen=True)
class ModelCard:
    version: str
    model_type: str
    trained_through: str | None
    top_k: int | None
    model: dict[str, float]
    baselines: dict[str, dict[str, float]]

    def best_baseline(self, metric: str) -> tuple[str, float] | None:
        scored = [(name, m[metric]) for name, m in self.baselines.items() if metric in m]
        return max(scored, key=lambda item: item[1]) if scored else None

    def verdict(self) -> tuple[bool, str]:
        """(has an edge, the sentence that says so)."""
        gaps = []
        for metric in ("auc", "precision_at_k"):
            best = self.best_baseline(metric)
            if best is None or metric not in self.model:
                continue
            gaps.append((metric, self.model[metric] - best[1], best[0], best[1]))
        if not gaps:
            return False, "The model card has no baseline to compare with."
        described = "; ".join(
            f"{metric} {self.model[metric]:.3f} against {name}'s {value:.3f}"
            for metric, _, name, value in gaps
        )
        if all(gap >= EDGE_MARGIN for _, gap, _, _ in gaps):
            return True, f"The model beats its baselines in validation: {described}."
        return False, (
            f"The model has no edge over its baselines: {described} (an edge needs "
            f"{EDGE_MARGIN:.2f} more on each). Do not trade on these predictions."
        )


def published_versions(lake: Lake) -> list[str]:
    root = lake.path(MODELS_PREFIX)
    found = lake.list_files(MODELS_PREFIX, suffix=f"/{SUCCESS_MARKER}")
    return sorted(
        parts[0]
        for parts in (path.removeprefix(f"{root}/").split("/") for path in found)
        if len(parts) == 2
    )


def model_card(lake: Lake, version: str | None) -> ModelCard | None:
    """The version's validation metrics and baselines (the latest version when None);
    None when there is no such published model."""
    versions = published_versions(lake)
    if version is None:
        version = versions[-1] if versions else None
    if version not in versions:
        return None
    chosen = version
    try:
        metrics = json.loads(lake.read_bytes(lake.path(MODELS_PREFIX, chosen, METRICS_FILE)))
    except (OSError, json.JSONDecodeError):
        return None
    baselines = {
        name: {m: float(v) for m, v in (summary.get("mean") or {}).items() if m in METRICS}
        for name, summary in (metrics.get("baselines") or {}).items()
    }
    return ModelCard(
        version=chosen,
        model_type=str(metrics.get("model_type")),
        trained_through=(metrics.get("data") or {}).get("trained_through"),
        top_k=(metrics.get("validation") or {}).get("top_k"),
        model={m: float(v) for m, v in (metrics.get("chosen") or {}).items() if m in METRICS},
        baselines=baselines,
    )
