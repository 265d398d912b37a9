"""The dbt docs site's overview page shows the pattern catalog: dbt renders the generated
section of models/_overview.md (tests/lint/check_dbt_docs.py's check, as `make test` runs
it), and Debian's chromium shows it as a table with a row per pattern on the static site
`dbt docs generate --static` writes. No warehouse is needed: the manifest is parsed and
the catalog left empty."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any

import pytest

from reports.catalog import OVERVIEW_BEGIN, OVERVIEW_PATH, load_catalog, overview_with_table
from tests.lint.check_dbt_docs import overview_problems
from tests.python import browser
from tests.python.dbt_helpers import run_dbt


@pytest.fixture(scope="module")
def docs_site(tmp_path_factory) -> Path:
    tmp = tmp_path_factory.mktemp("docs")
    env = {**os.environ, "LAKE_ROOT": str(tmp / "lake"), "WAREHOUSE_PATH": str(tmp / "w.duckdb")}
    env.pop("DBT_TARGET", None)
    run_dbt(tmp, env, "parse")
    run_dbt(tmp, env, "docs", "generate", "--no-compile", "--empty-catalog", "--static")
    return tmp / "target"


def test_the_overview_section_is_generated_from_the_catalog():
    text = OVERVIEW_PATH.read_text()
    assert text.count(OVERVIEW_BEGIN) == 1
    assert overview_with_table(text, load_catalog()) == text


def test_dbt_renders_the_catalog_into_the_overview(docs_site):
    manifest = json.loads((docs_site / "manifest.json").read_text())
    assert overview_problems(manifest) == []
    stale = json.loads(json.dumps(manifest).replace("Three Black Crows", "Three Crows"))
    assert overview_problems(stale) == [
        "docs overview: the pattern catalog table is missing or stale"
    ]


def _rows(driver: Any) -> list[list[str]]:
    script = (
        "return Array.from(document.querySelectorAll('table tr'),"
        " r => Array.from(r.cells, c => c.innerText.trim()))"
    )
    for _ in range(60):  # the page renders the manifest after its load
        rows = list(driver.execute_script(script))
        if rows:
            return rows
        time.sleep(0.5)
    return []


@pytest.mark.skipif(not browser.available(), reason="no /usr/bin/chromium (.ci/run installs it)")
def test_the_overview_page_shows_the_catalog_in_a_browser(docs_site):
    with browser.chromium() as driver:
        browser.open_page(driver, docs_site / "static_index.html")
        rows = _rows(driver)
        headings = driver.execute_script(
            "return Array.from(document.querySelectorAll('h2'), h => h.innerText)"
        )
    assert "The candlestick pattern catalog" in headings
    header = ["Pattern", "Column", "Candles", "Kind", "Values", "When positive", "When negative"]
    start = [row[:7] for row in rows].index([h.upper() for h in header])
    shown = rows[start + 1 : start + 62]
    catalog = load_catalog()
    assert [(row[0], row[1], int(row[2])) for row in shown] == [
        (p.display_name, p.pattern, p.candles) for p in catalog
    ]
    doji = shown[[p.pattern for p in catalog].index("cdldoji")]
    assert doji[3] == "indecision, descriptor"
