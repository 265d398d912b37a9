"""The model card: metrics.json told for a person (model_card.md beside the model)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ml.verdict import edge_verdict


def model_card(metrics: Mapping[str, Any]) -> str:
    """A short human summary of metrics.json."""
    data, validation = metrics["data"], metrics["validation"]
    sampling, horizon = data["sampling"], validation["horizon_sessions"]
    if sampling["sampled"]:
        sampled = (
            f"{sampling['training_rows']:,} of {sampling['labelled_rows']:,} labelled rows, "
            f"drawn uniformly with seed {sampling['seed']} (max_train_rows "
            f"{sampling['max_train_rows']:,}); validation metrics are measured on the sample"
        )
    else:
        sampled = f"none: all {sampling['labelled_rows']:,} labelled rows"
    candidates = ", ".join(metrics["candidates"])
    lines = [
        f"# Model {metrics['version']}",
        "",
        f"**{metrics['model_type']}** classifier of `label_up`: does a symbol's return over the "
        f"next {horizon} sessions come out positive? Chosen by {metrics['selection']} "
        f"(candidates: {candidates}).",
        "",
        "## Data",
        "",
        f"- `gold.ml_features`: {data['rows']:,} rows, {data['symbols']:,} symbols, "
        f"{data['first_date']} .. {data['last_date']}; trained through {data['trained_through']}; "
        f"knew nothing after {data.get('as_of', data['last_date'])}.",
        f"- Sampling: {sampled}.",
        f"- Features ({len(metrics['feature_columns'])}): "
        + ", ".join(f"`{column}`" for column in metrics["feature_columns"]),
        "- Hyperparameters: "
        + ", ".join(f"{name} {value}" for name, value in metrics["hyperparameters"].items()),
        "",
        "## Validation",
        "",
        f"Walk-forward over distinct dates, expanding window, {len(validation['folds'])} folds. "
        f"Each fold trains on every date before its validation block except the last "
        f"{validation['embargo_sessions']} (the embargo; labels look {horizon} sessions ahead, "
        "so no training label overlaps the validation block) and never on later dates. "
        f"Precision is over the top {validation['top_k']} symbols per day.",
        "",
        "| fold | train | validation | train rows | validation rows |",
        "|---:|---|---|---:|---:|",
        *(
            f"| {f['fold']} | {f['train_start']} .. {f['train_end']} | "
            f"{f['validation_start']} .. {f['validation_end']} | {f['train_rows']:,} | "
            f"{f['validation_rows']:,} |"
            for f in validation["folds"]
        ),
        "",
        "## Metrics (mean over folds)",
        "",
        "| scorer | AUC | accuracy | precision at top-k |",
        "|---|---:|---:|---:|",
    ]
    scorers = {
        **{
            (f"{name} (chosen)" if name == metrics["model_type"] else name): summary["mean"]
            for name, summary in metrics["candidates"].items()
        },
        **{f"baseline: {name}": s["mean"] for name, s in metrics["baselines"].items()},
    }
    lines += [
        f"| {name} | {m['auc']:.4f} | {m['accuracy']:.4f} | {m['precision_at_k']:.4f} |"
        for name, m in scorers.items()
    ]
    lines += [
        "",
        f"**Verdict** ({edge_verdict(metrics)['verdict']}).",
        "",
        "## Intended use and limits",
        "",
        f"- Ranks symbols each day by the chance of rising over the next {horizon} sessions, "
        "for research and screening; it is not investment advice and ignores costs, "
        "liquidity and position sizing.",
        "- Only as good as its margin over the baselines above; markets drift, so retrain "
        "and compare regularly. Predictions for dates up to the trained-through date are "
        "in-sample: `condvest predict` never scores a date before the as-of date with it.",
        "- Prediction needs exactly the feature columns above, with no NaN or infinite "
        "values; rows are never dropped or imputed.",
        "",
    ]
    return "\n".join(lines)
