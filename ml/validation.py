"""Walk-forward validation by date, with an embargo between training and validation.

A row's label looks `horizon` sessions ahead, so a training row dated just before a
validation block has a label that overlaps the block: it would leak the validation period's
returns into training. Dropping the last `embargo >= horizon` dates before each block closes
that gap. Training never uses dates after the block either (expanding window, forward only).
Counting the table's distinct dates errs on the safe side: a session missing from the table
only widens the gap in calendar sessions. A label counts a symbol's bars, though, so across a
symbol's gap it reaches further than `horizon` sessions: training rows are also purged when
their label ends on or after the validation block's first date.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


class ValidationError(ValueError):
    """The dates cannot be cut into the requested folds."""


@dataclass(frozen=True)
class Fold:
    """Train on dates train_start .. train_end; validate on validation_start .. validation_end."""

    index: int
    train_start: np.datetime64
    train_end: np.datetime64
    validation_start: np.datetime64
    validation_end: np.datetime64

    def train_mask(self, dates: np.ndarray, label_ends: np.ndarray) -> np.ndarray:
        """Rows dated in the training span whose label is known before validation begins."""
        in_span = (dates >= self.train_start) & (dates <= self.train_end)
        return in_span & (label_ends < self.validation_start)

    def validation_mask(self, dates: np.ndarray) -> np.ndarray:
        return (dates >= self.validation_start) & (dates <= self.validation_end)


def walk_forward_folds(dates: np.ndarray, folds: int, embargo: int) -> list[Fold]:
    """Cut the distinct sorted dates into `folds + 1` consecutive blocks; fold i validates on
    block i + 1 and trains on every earlier date except the last `embargo` distinct ones."""
    if folds < 1:
        raise ValidationError(f"folds must be at least 1, got {folds}")
    if embargo < 0:
        raise ValidationError(f"embargo must not be negative, got {embargo}")
    distinct = np.unique(dates)
    blocks = np.array_split(distinct, folds + 1)
    if len(distinct) < folds + 1 or len(blocks[0]) <= embargo:
        raise ValidationError(
            f"{len(distinct)} distinct dates are too few for {folds} walk-forward folds with "
            f"an embargo of {embargo}: the first training block would have "
            f"{max(len(blocks[0]) - embargo, 0)} dates; need more dates, fewer folds or a "
            "shorter horizon"
        )
    result = []
    for index in range(folds):
        validation = blocks[index + 1]
        history = np.concatenate(blocks[: index + 1])
        train = history[: len(history) - embargo]
        result.append(Fold(index, train[0], train[-1], validation[0], validation[-1]))
    return result
