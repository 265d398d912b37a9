"""The pattern catalog (seeds/pattern_catalog.csv): the one place where each of the 61
candlestick patterns is described. dbt loads it as a seed and joins it into
silver.candlestick_events; this module reads the file for what is generated from it.

    python -m reports.catalog --check   # the generated docs are up to date
    python -m reports.catalog --write   # regenerate them

Two things are written from the catalog here: the column docs of silver.candlestick_patterns
(and its TA-Lib oracle), docs blocks in DOCS_PATH, and the catalog's table on the dbt docs
site's overview page, the section of OVERVIEW_PATH between OVERVIEW_BEGIN and OVERVIEW_END
(Jinja comments: dbt renders them away). tests/python/test_pattern_catalog.py fails when the
YAML, the macro list or those files disagree with the catalog.
"""

from __future__ import annotations

import argparse
import csv
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from core.errors import ExitCode, OperationalError
from core.paths import REPO_ROOT

CATALOG_PATH = REPO_ROOT / "seeds" / "pattern_catalog.csv"
DOCS_PATH = REPO_ROOT / "models" / "silver" / "_pattern_catalog__docs.md"
OVERVIEW_PATH = REPO_ROOT / "models" / "_overview.md"
OVERVIEW_BEGIN = (
    "{# The pattern catalog: generated from seeds/pattern_catalog.csv by"
    " `python -m reports.catalog --write`; do not edit down to its end. #}\n"
)
OVERVIEW_END = "{# End of the generated pattern catalog. #}\n"
KINDS = ("reversal", "continuation", "indecision")
# Event directions in silver.candlestick_events: descriptors are neutral whatever their sign.
DIRECTIONS = ("bullish", "bearish", "neutral")
COLUMNS = (
    "pattern",
    "talib_function",
    "display_name",
    "candles",
    "lookback",
    "output_values",
    "kind",
    "is_descriptor",
    "positive_meaning",
    "negative_meaning",
)


class CatalogError(OperationalError):
    """The catalog file is unreadable or breaks one of its rules."""

    exit_code = ExitCode.BAD_INPUT


@dataclass(frozen=True)
class Pattern:
    pattern: str
    talib_function: str
    display_name: str
    candles: int
    lookback: int
    output_values: tuple[int, ...]
    kind: str
    is_descriptor: bool
    positive_meaning: str | None
    negative_meaning: str | None

    def docs_block_name(self) -> str:
        return f"pattern_{self.pattern}"

    def column_doc(self) -> str:
        """The column's description: what TA-Lib computes and what each sign means."""
        values = ", ".join(str(v) for v in self.output_values)
        role = "single-candle descriptor, never bullish or bearish" if self.is_descriptor else ""
        lines = [
            f"TA-Lib {self.talib_function} ({self.display_name}), lookback {self.lookback} "
            f"bars: {values}. {self.kind.capitalize()}, {self.candles} "
            f"candle{'s' if self.candles > 1 else ''}{'; ' + role if role else ''}.",
        ]
        if self.positive_meaning:
            lines.append(f"Positive: {self.positive_meaning}")
        if self.negative_meaning:
            lines.append(f"Negative: {self.negative_meaning}")
        return "\n".join(lines)


def _row(number: int, raw: dict[str, str], path: Path) -> Pattern:
    where = f"{path}:{number}"
    try:
        values = tuple(int(v) for v in raw["output_values"].split())
        candles, lookback = int(raw["candles"]), int(raw["lookback"])
    except ValueError as exc:
        raise CatalogError(f"{where}: {exc}; fix the row") from None
    if raw["kind"] not in KINDS:
        raise CatalogError(f"{where}: kind {raw['kind']!r} is not one of {', '.join(KINDS)}")
    if raw["is_descriptor"] not in ("true", "false"):
        raise CatalogError(f"{where}: is_descriptor must be true or false")
    positive, negative = raw["positive_meaning"] or None, raw["negative_meaning"] or None
    # A meaning is written exactly for the signs TA-Lib can return.
    if bool(positive) != any(v > 0 for v in values) or bool(negative) != any(v < 0 for v in values):
        raise CatalogError(
            f"{where}: {raw['pattern']} needs a positive_meaning/negative_meaning exactly for "
            f"the signs of its output_values ({raw['output_values']})"
        )
    return Pattern(
        pattern=raw["pattern"],
        talib_function=raw["talib_function"],
        display_name=raw["display_name"],
        candles=candles,
        lookback=lookback,
        output_values=values,
        kind=raw["kind"],
        is_descriptor=raw["is_descriptor"] == "true",
        positive_meaning=positive,
        negative_meaning=negative,
    )


def load_catalog(path: Path = CATALOG_PATH) -> list[Pattern]:
    """Every pattern of the catalog file, in its order (the pattern ids sorted)."""
    try:
        with path.open(newline="") as handle:
            reader = csv.DictReader(handle)
            if tuple(reader.fieldnames or ()) != COLUMNS:
                raise CatalogError(f"{path}: columns must be {', '.join(COLUMNS)}")
            patterns = [_row(number, raw, path) for number, raw in enumerate(reader, start=2)]
    except OSError as exc:
        raise CatalogError(f"{path}: cannot read the pattern catalog ({exc})") from None
    ids = [p.pattern for p in patterns]
    if ids != sorted(set(ids)):
        raise CatalogError(f"{path}: pattern ids must be unique and sorted")
    return patterns


def docs_markdown(patterns: Sequence[Pattern]) -> str:
    """The docs blocks file: one block per pattern, named `pattern_<id>`."""
    parts = [
        "{#- Generated from seeds/pattern_catalog.csv by `python -m reports.catalog --write`;"
        " do not edit. -#}\n"
    ]
    parts += [
        f"{{% docs {p.docs_block_name()} %}}\n{p.column_doc()}\n{{% enddocs %}}\n" for p in patterns
    ]
    return "\n".join(parts)


def _cell(text: str | None) -> str:
    return (text or "-").replace("|", "\\|")


def overview_table(patterns: Sequence[Pattern]) -> str:
    """The catalog as one markdown table, a row per pattern, for the docs overview page."""
    rows = [
        "| Pattern | Column | Candles | Kind | Values | When positive | When negative |",
        "|---|---|---|---|---|---|---|",
    ]
    for p in patterns:
        kind = f"{p.kind}, descriptor" if p.is_descriptor else p.kind
        values = " ".join(str(v) for v in p.output_values if v)
        rows.append(
            f"| {_cell(p.display_name)} | `{p.pattern}` | {p.candles} | {kind} | {values} "
            f"| {_cell(p.positive_meaning)} | {_cell(p.negative_meaning)} |"
        )
    return "\n".join(rows) + "\n"


def overview_with_table(overview: str, patterns: Sequence[Pattern]) -> str:
    """The overview page's text with its generated section replaced by the catalog's table."""
    before, begin, rest = overview.partition(OVERVIEW_BEGIN)
    _, end, after = rest.partition(OVERVIEW_END)
    if not begin or not end:
        raise CatalogError(
            f"{OVERVIEW_PATH}: the generated section's markers are missing; put "
            f"{OVERVIEW_BEGIN.strip()} and {OVERVIEW_END.strip()} back on their own lines"
        )
    return before + begin + overview_table(patterns) + end + after


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m reports.catalog", description=__doc__)
    action = parser.add_mutually_exclusive_group(required=True)
    action.add_argument("--check", action="store_true", help="fail if the docs are stale")
    action.add_argument(
        "--write", action="store_true", help=f"rewrite {DOCS_PATH.name} and {OVERVIEW_PATH.name}"
    )
    args = parser.parse_args(argv)
    patterns = load_catalog()
    expected = {
        DOCS_PATH: docs_markdown(patterns),
        OVERVIEW_PATH: overview_with_table(OVERVIEW_PATH.read_text(), patterns),
    }
    if args.write:
        for path, text in expected.items():
            path.write_text(text)
        return 0
    stale = [p for p, text in expected.items() if not p.exists() or p.read_text() != text]
    for path in stale:
        print(f"{path} is stale: run python -m reports.catalog --write", file=sys.stderr)
    return 1 if stale else 0


if __name__ == "__main__":
    sys.exit(main())
