"""dbt's `run_started_at` (a datetime) for the linter: the compiled SQL only formats it."""


def strftime(fmt: str) -> str:
    return "2026-01-01 00:00:00.000000"
