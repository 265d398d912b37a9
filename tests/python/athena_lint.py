"""What Trino accepts but Athena (engine 3) rejects or reads differently.

A real Trino runs the project's SQL in the tests; these checks cover the gap between Trino
and Athena, which no local engine can:
- Athena parses a bare decimal literal (`0.5`) as DOUBLE where Trino makes it DECIMAL, so
  arithmetic and comparisons change type between the two (write `cast(0.5 as double)` or
  `decimal '0.5'`; a literal with an exponent, `1e-9`, is a double on both);
- Athena has no `CREATE OR REPLACE TABLE`;
- Athena's CTAS takes no column list (`CREATE TABLE t (a, b) AS ...`);
- Athena's Hive DDL (CREATE EXTERNAL TABLE) quotes names with backticks: a double-quoted
  name there is a syntax error;
- Athena refuses a query longer than 262,144 bytes; the project keeps every statement
  under 200 KB, leaving room for what dbt wraps around a model's select.
"""

from __future__ import annotations

import re

import sqlglot
from sqlglot import exp

MAX_STATEMENT_BYTES = 200_000

_CREATE_OR_REPLACE_TABLE = re.compile(r"\bcreate\s+or\s+replace\s+table\b", re.I)
_CTAS_COLUMN_LIST = re.compile(
    r"\bcreate\s+table\s+(if\s+not\s+exists\s+)?[\w.\"`]+\s*\([^()]*\)\s*(with\s*\(.*?\)\s*)?as\b",
    re.I | re.S,
)
_HIVE_DDL = re.compile(r"\bcreate\s+external\s+table\b", re.I)
# Athena's UNLOAD (query) TO 'location' WITH (...): the query is Trino SQL.
_UNLOAD = re.compile(r"^\s*unload\s*\((.*)\)\s*to\s+'", re.I | re.S)


def athena_problems(sql: str) -> list[str]:
    """Why `sql` would fail, or mean something else, on Athena (empty when it would not)."""
    problems = []
    size = len(sql.encode())
    if size > MAX_STATEMENT_BYTES:
        problems.append(f"{size:,} bytes: over the {MAX_STATEMENT_BYTES:,}-byte budget")
    if _CREATE_OR_REPLACE_TABLE.search(sql):
        problems.append("CREATE OR REPLACE TABLE")
    if _CTAS_COLUMN_LIST.search(sql):
        problems.append("a column list in CREATE TABLE ... AS")
    if _HIVE_DDL.search(sql):
        if '"' in _strip_strings(sql):
            problems.append("a double-quoted name in Hive DDL (Athena wants backticks)")
        return problems  # Hive DDL is not SQL sqlglot reads as Trino
    unload = _UNLOAD.match(sql)
    query = unload.group(1) if unload else sql
    problems.extend(
        f"bare decimal literal {literal}" for literal in sorted(set(bare_decimals(query)))
    )
    return problems


def bare_decimals(sql: str) -> list[str]:
    """Numeric literals with a decimal point and no exponent outside a cast."""
    found = []
    for statement in sqlglot.parse(sql, read="trino"):
        if statement is None:
            continue
        for literal in statement.find_all(exp.Literal):
            text = literal.this
            if literal.is_string or "." not in text or "e" in text.lower():
                continue
            node: exp.Expression = literal
            while isinstance(node.parent, (exp.Neg, exp.Paren)):  # cast(-0.5 as double)
                node = node.parent
            if not isinstance(node.parent, exp.Cast):
                found.append(text)
    return found


def _strip_strings(sql: str) -> str:
    return re.sub(r"'(?:[^']|'')*'", "''", sql)
