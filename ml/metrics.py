"""Classification metrics for up/down scores, and the naive baselines a model must beat.

Precision at top-k per day is the metric closest to how predictions are used: each day, act
on the k symbols ranked highest; what fraction of them went up?
"""

from __future__ import annotations

import numpy as np
from sklearn.metrics import roc_auc_score

METRIC_NAMES = ("auc", "accuracy", "precision_at_k")
# The momentum baseline scores with the trailing 5-session return, when the table has it.
MOMENTUM_COLUMN = "return_5d"


def precision_at_k(dates: np.ndarray, labels: np.ndarray, scores: np.ndarray, k: int) -> float:
    """Per date, the fraction of the k highest-scored rows that went up; averaged over dates.

    A date with fewer than k rows counts all of them. Ties keep the rows' order (the canonical
    frame is sorted by symbol within a date), so the result is deterministic.
    """
    # lexsort is stable: primary key date, then score descending, then input order.
    order = np.lexsort((-scores, dates))
    _, group, counts = np.unique(dates[order], return_inverse=True, return_counts=True)
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
    rank = np.arange(len(order)) - starts[group]
    top = rank < k
    hits = np.bincount(group[top], weights=labels[order][top], minlength=len(counts))
    return float(np.mean(hits / np.minimum(counts, k)))


def evaluate(
    labels: np.ndarray, scores: np.ndarray, dates: np.ndarray, *, threshold: float, top_k: int
) -> dict[str, float]:
    """AUC, accuracy of `score >= threshold` as the up call, and precision at top-k per day."""
    return {
        "auc": float(roc_auc_score(labels, scores)),
        "accuracy": float(np.mean((scores >= threshold) == labels)),
        "precision_at_k": precision_at_k(dates, labels, scores, top_k),
    }


def evaluate_baselines(
    train_labels: np.ndarray,
    labels: np.ndarray,
    dates: np.ndarray,
    momentum: np.ndarray | None,
    top_k: int,
) -> dict[str, dict[str, float]]:
    """The naive scores on the validation rows (`labels`, `dates`, `momentum` align).

    prior: the training up-rate as a constant score (AUC 0.5 by construction; its accuracy is
    the majority class's). momentum: the trailing 5-session return (None when the table has
    no MOMENTUM_COLUMN), calling up when it is not negative.
    """
    prior = np.full(len(labels), float(np.mean(train_labels)))
    results = {"prior": evaluate(labels, prior, dates, threshold=0.5, top_k=top_k)}
    if momentum is not None:
        results["momentum"] = evaluate(labels, momentum, dates, threshold=0.0, top_k=top_k)
    return results


def mean_metrics(folds: list[dict[str, float]]) -> dict[str, float]:
    return {name: float(np.mean([fold[name] for fold in folds])) for name in METRIC_NAMES}
