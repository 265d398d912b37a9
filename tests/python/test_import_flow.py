"""Imports flow one way: core <- ingestion, ml, reports <- orchestration <- condvest.

`core` is the bottom (it also ships to the SageMaker containers, with `ml` alone), the
ingestion and ML packages build on it without knowing each other, orchestration sits on
them, and the `condvest` CLI on top: nothing imports it (orchestration included, so the
Lambda zip never carries the CLI). Every import counts, those inside functions too.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from core.paths import REPO_ROOT

# What each package may import from the repository's own packages.
ALLOWED = {
    "core": {"core"},
    "ingestion": {"core", "ingestion"},
    "ml": {"core", "ml"},
    "oracle": {"oracle"},
    "orchestration": {"core", "ingestion", "ml", "oracle", "orchestration", "reports"},
    "reports": {"core", "reports"},
    "condvest": {"core", "ingestion", "ml", "oracle", "orchestration", "reports", "condvest"},
}
OWN = set(ALLOWED) | {"bench", "tests"}


def _own_imports(path: Path) -> list[tuple[int, str]]:
    """(line, top-level package) of every import of a repository package in `path`."""
    found: list[tuple[int, str]] = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name.split(".")[0]) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            found.append((node.lineno, node.module.split(".")[0]))
    return [(line, top) for line, top in found if top in OWN]


def _modules(package: str) -> list[Path]:
    return sorted((REPO_ROOT / package).rglob("*.py"))


@pytest.mark.parametrize("package", sorted(ALLOWED))
def test_a_package_imports_only_what_lies_below_it(package: str) -> None:
    against_the_flow = [
        f"{path.relative_to(REPO_ROOT)}:{line} imports {top}"
        for path in _modules(package)
        for line, top in _own_imports(path)
        if top not in ALLOWED[package]
    ]
    assert against_the_flow == []


def test_the_rule_sees_an_import_inside_a_function(tmp_path: Path) -> None:
    module = tmp_path / "m.py"
    module.write_text("def f():\n    from orchestration import asl\n    import ml.train\n")
    assert _own_imports(module) == [(2, "orchestration"), (3, "ml")]
