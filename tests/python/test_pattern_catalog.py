"""The pattern catalog is the one place patterns are described: the macro list, both
models' YAML, the generated docs blocks and TA-Lib agree with it, and a broken catalog
row is refused with its line named."""

from __future__ import annotations

from pathlib import Path

import pytest
import talib
import talib.abstract
import yaml  # type: ignore[import-untyped]  # no stubs in the lock

from core.paths import REPO_ROOT
from reports.catalog import (
    CATALOG_PATH,
    COLUMNS,
    DOCS_PATH,
    KINDS,
    CatalogError,
    docs_markdown,
    load_catalog,
)
from reports.catalog import main as catalog_main
from tests.python import candle_sql

YAML_PATH = REPO_ROOT / "models" / "silver" / "_candlestick__models.yml"
# The single-candle descriptors: TA-Lib's sign is the candle's colour, or always +100.
DESCRIPTORS = {
    "cdlbelthold",
    "cdlclosingmarubozu",
    "cdldoji",
    "cdldragonflydoji",
    "cdlgravestonedoji",
    "cdlhighwave",
    "cdllongleggeddoji",
    "cdllongline",
    "cdlmarubozu",
    "cdlrickshawman",
    "cdlshortline",
    "cdlspinningtop",
    "cdltakuri",
}


def _models() -> dict[str, dict]:
    return {model["name"]: model for model in yaml.safe_load(YAML_PATH.read_text())["models"]}


def test_the_catalog_lists_the_macro_patterns_which_are_talibs():
    catalog = [p.pattern for p in load_catalog()]
    assert catalog == candle_sql.pattern_names()
    assert catalog == sorted(f.lower() for f in talib.get_function_groups()["Pattern Recognition"])
    assert len(catalog) == 61


def test_names_lookbacks_and_values_are_talibs_and_the_yaml_tests():
    accepted = next(
        test["accepted_column_values"]["arguments"]["values_by_column"]
        for test in _models()["candlestick_patterns"]["data_tests"]
        if isinstance(test, dict) and "accepted_column_values" in test
    )
    for p in load_catalog():
        function = talib.abstract.Function(p.talib_function)
        assert p.talib_function == p.pattern.upper()
        assert p.display_name == function.info["display_name"]
        assert p.lookback == function.lookback
        assert list(p.output_values) == accepted[p.pattern], p.pattern
        assert p.kind in KINDS
        assert 1 <= p.candles <= 5


def test_descriptors_are_the_single_candle_shapes():
    catalog = load_catalog()
    assert {p.pattern for p in catalog if p.is_descriptor} == DESCRIPTORS
    assert all(p.candles == 1 for p in catalog if p.is_descriptor)


def test_the_signal_counts_leave_out_the_catalogs_descriptors():
    descriptors = {p.pattern for p in load_catalog() if p.is_descriptor}
    assert set(candle_sql.macro("candle_descriptor_names")()) == descriptors
    counted = candle_sql.macro("candle_signal_count")("p", "> 0")
    assert counted.count("case when") == 61 - len(descriptors) == 48
    assert not any(f"p.{pattern} " in counted for pattern in descriptors)


@pytest.mark.parametrize("model", ["candlestick_patterns", "candlestick_patterns_talib"])
def test_column_docs_come_from_the_catalog(model):
    documented = {
        column["name"]: column["description"]
        for column in _models()[model]["columns"]
        if column["name"].startswith("cdl")
    }
    assert documented == {
        p.pattern: f'{{{{ doc("{p.docs_block_name()}") }}}}' for p in load_catalog()
    }


def test_the_docs_blocks_are_generated_from_the_catalog():
    assert DOCS_PATH.read_text() == docs_markdown(load_catalog())
    assert catalog_main(["--check"]) == 0
    block = docs_markdown(load_catalog())
    doji = next(p for p in load_catalog() if p.pattern == "cdldoji")
    assert f"{{% docs pattern_cdldoji %}}\n{doji.column_doc()}\n{{% enddocs %}}" in block
    assert "never bullish or bearish" in doji.column_doc()


def test_the_seed_yaml_documents_every_catalog_column():
    seed = yaml.safe_load((REPO_ROOT / "seeds" / "pattern_catalog.yml").read_text())["seeds"][0]
    assert [column["name"] for column in seed["columns"]] == list(COLUMNS)
    assert list(seed["config"]["column_types"]) == list(COLUMNS)


def _broken(tmp_path: Path, old: str, new: str) -> Path:
    text = CATALOG_PATH.read_text()
    assert old in text
    path = tmp_path / "pattern_catalog.csv"
    path.write_text(text.replace(old, new, 1))
    return path


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        (",reversal,false,", ",sideways,false,", r"pattern_catalog.csv:2: kind 'sideways'"),
        # a meaning for a sign TA-Lib never returns
        ("cdl2crows,CDL2CROWS,Two Crows,3,12,0 -100,reversal,false,,", "cdl2crows,CDL2CROWS,"
         "Two Crows,3,12,0 -100,reversal,false,Up,", r":2: cdl2crows needs a positive_meaning"),
        ("cdl2crows,CDL2CROWS,Two Crows,3,", "cdl2crows,CDL2CROWS,Two Crows,three,",
         r":2: invalid literal"),
        ("cdl3blackcrows,", "cdl2crows,", "unique and sorted"),
    ],
)  # fmt: skip
def test_a_broken_row_is_refused_with_its_line(tmp_path, old, new, message):
    with pytest.raises(CatalogError, match=message):
        load_catalog(_broken(tmp_path, old, new))
