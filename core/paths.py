"""Where the repository is: dbt's project, the seeds and the profiles live under it."""

from __future__ import annotations

from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
