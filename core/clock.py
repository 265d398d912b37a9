"""The one clock: every timestamp the project writes is timezone-aware UTC."""

from __future__ import annotations

import datetime as dt

# dt.UTC is Python 3.11+; the SageMaker scikit-learn container runs 3.10.
UTC = dt.timezone.utc  # noqa: UP017


def utcnow() -> dt.datetime:
    return dt.datetime.now(UTC)
