"""Fail when a dbt model, seed, source, column or macro is undocumented, or the docs
site's overview page lacks the pattern catalog.

Compares what the warehouse really has (catalog.json from `dbt docs generate`) with
what the YAML documents (manifest.json), so a column added to SQL but not to YAML is
caught as surely as an undocumented model.

    python tests/lint/check_dbt_docs.py target/
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

from core.layout import PREDICTIONS_SCHEMA
from ingestion.bars import LANDING_OHLCV_SCHEMA, LANDING_TICKERS_SCHEMA
from reports.catalog import load_catalog, overview_table

# DuckDB reads the lake's files in place, so they are not in its catalog: their columns
# are what ingestion (and ml/) writes, plus the hive partition of the landing files.
LAKE_COLUMNS = {
    "raw_ohlcv": [*LANDING_OHLCV_SCHEMA.names, "ingest_date"],
    "raw_tickers": [*LANDING_TICKERS_SCHEMA.names, "ingest_date"],
    "predictions": PREDICTIONS_SCHEMA.names,
}


def undocumented(manifest: dict, catalog: dict) -> list[str]:
    problems: list[str] = []
    nodes = {**manifest["nodes"], **manifest["sources"]}
    tables = {**catalog["nodes"], **catalog["sources"]}
    for unique_id, node in sorted(nodes.items()):
        if node["resource_type"] not in {"model", "seed", "source"}:
            continue
        if node["package_name"] != manifest["metadata"].get("project_name", node["package_name"]):
            continue
        name = unique_id.split(".", 2)[-1]
        if not (node.get("description") or "").strip():
            problems.append(f"{node['resource_type']} {name}: no description")
        documented = {
            column.lower()
            for column, spec in node.get("columns", {}).items()
            if (spec.get("description") or "").strip()
        }
        actual = tables.get(unique_id, {}).get("columns", {})
        if not actual and node["resource_type"] == "source":
            # a source may declare the same files twice (raw_ohlcv_sessions: another freshness)
            actual = LAKE_COLUMNS.get(node.get("identifier") or node["name"], [])
        if not actual:
            problems.append(f"{node['resource_type']} {name}: not in the catalog (not built?)")
        problems.extend(
            f"{node['resource_type']} {name}: column {column.lower()} undocumented"
            for column in actual
            if column.lower() not in documented
        )
    return problems


# A macro's signature: {% macro name(args) %} or {% test name(args) %} (macro test_<name>).
_SIGNATURE = re.compile(r"\{%-?\s*(?:macro|test)\s+\w+\s*\((.*?)\)\s*-?%\}", re.S)


def _argument_names(macro_sql: str) -> list[str]:
    """The parameter names of a macro's signature (defaults dropped)."""
    match = _SIGNATURE.search(macro_sql)
    if match is None:
        return []
    names, depth, current = [], 0, ""
    for char in match[1] + ",":
        depth += char in "([{"
        depth -= char in ")]}"
        if char == "," and depth == 0:
            if current.strip():
                names.append(current.split("=")[0].strip())
            current = ""
        else:
            current += char
    return names


def undocumented_macros(manifest: dict) -> list[str]:
    """Every macro of the project (macros/_macros.yml): a description, and each argument of
    its signature documented, in order, with no argument the signature lacks."""
    problems: list[str] = []
    project = manifest["metadata"].get("project_name")
    for macro in sorted(manifest["macros"].values(), key=lambda m: m["unique_id"]):
        if macro["package_name"] != project:
            continue
        name = macro["name"]
        if not (macro.get("description") or "").strip():
            problems.append(f"macro {name}: no description")
        documented = [arg["name"] for arg in macro.get("arguments") or []]
        expected = _argument_names(macro["macro_sql"])
        if documented != expected:
            problems.append(f"macro {name}: arguments documented {documented}, not {expected}")
        problems.extend(
            f"macro {name}: argument {arg['name']} undocumented"
            for arg in macro.get("arguments") or []
            if not (arg.get("description") or "").strip()
        )
    return problems


def overview_problems(manifest: dict) -> list[str]:
    """The overview page as dbt rendered it (the `__overview__` docs block): the pattern
    catalog's table as reports.catalog generates it, and no Jinja left over."""
    project = manifest["metadata"].get("project_name")
    overview = manifest["docs"].get(f"doc.{project}.__overview__")
    if overview is None:
        return ["docs: no __overview__ block (models/_overview.md)"]
    text = overview["block_contents"]
    problems = []
    if overview_table(load_catalog()) not in text + "\n":
        problems.append("docs overview: the pattern catalog table is missing or stale")
    if "{#" in text or "{%" in text or "{{" in text:
        problems.append("docs overview: unrendered Jinja")
    return problems


def main(target: str) -> int:
    root = Path(target)
    manifest = json.loads((root / "manifest.json").read_text())
    catalog = json.loads((root / "catalog.json").read_text())
    problems = [
        *undocumented(manifest, catalog),
        *undocumented_macros(manifest),
        *overview_problems(manifest),
    ]
    for problem in problems:
        print(problem)
    checked = sum(
        1 for n in [*manifest["nodes"].values(), *manifest["sources"].values()]
        if n["resource_type"] in {"model", "seed", "source"}
    )  # fmt: skip
    print(f"dbt docs: {checked} models/seeds/sources checked, {len(problems)} problems")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else "target"))
