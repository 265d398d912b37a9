"""The dbt cross-database macros our models call, rendered as dbt-athena renders them."""

from __future__ import annotations


def dateadd(datepart: str, interval: object, from_date_or_timestamp: str) -> str:
    return f"date_add('{datepart}', {interval}, {from_date_or_timestamp})"
