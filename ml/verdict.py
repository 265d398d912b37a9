"""Has the model an edge? Its validation metrics beside its baselines', in plain words.

Pure Python on a metrics.json: the Notify Lambda's summary imports it without scikit-learn.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

# The validation AUC a model must add to its best baseline's to be said to have an edge:
# below it, fold-to-fold noise on a daily up/down label explains the difference.
EDGE_MARGIN = 0.01


def edge_verdict(metrics: Mapping[str, Any], margin: float = EDGE_MARGIN) -> dict[str, Any]:
    """The model beside its baselines (mean validation AUC and precision at top-k, from a
    metrics.json), and a plain verdict: an edge only when its AUC beats every baseline's by
    at least `margin`."""
    chosen = metrics["chosen"]
    baselines = {name: summary["mean"] for name, summary in metrics["baselines"].items()}
    best = max(baselines, key=lambda name: (baselines[name]["auc"], name))
    auc, best_auc = float(chosen["auc"]), float(baselines[best]["auc"])
    has_edge = auc - best_auc >= margin
    if has_edge:
        text = f"edge: validation AUC {auc:.3f}, {auc - best_auc:+.3f} over {best} ({best_auc:.3f})"
    else:
        text = (
            f"no edge: validation AUC {auc:.3f} is not above {best}'s {best_auc:.3f} by "
            f"{margin}; its predictions are no better than the baseline's"
        )
    return {
        "has_edge": has_edge,
        "margin": margin,
        "model": {name: round(float(chosen[name]), 4) for name in ("auc", "precision_at_k")},
        "baselines": {
            name: {key: round(float(values[key]), 4) for key in ("auc", "precision_at_k")}
            for name, values in baselines.items()
        },
        "best_baseline": best,
        "verdict": text,
    }
