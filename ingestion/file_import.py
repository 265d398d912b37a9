"""`condvest ingest-file`: land a user's CSV or parquet file of daily bars into the landing area.

Problems that leave a value unrepresentable (a date that is not a date, a price that is not
a number, an unknown or missing column) stop the import with a clear error naming the rows,
so nothing is half-landed. Problems with representable values (zero prices, high < low,
NaN, duplicates) are landed and carry a reason for dbt to quarantine.
"""

from __future__ import annotations

import csv
import datetime as dt
import re
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from core.clock import utcnow
from core.errors import ExitCode, OperationalError
from core.lake import Lake
from ingestion.bars import BAR_SCHEMA
from ingestion.calendar import TradingCalendar
from ingestion.landing import land_bars
from ingestion.results import FetchResult
from ingestion.run_ledger import RunLedger
from ingestion.runs import OHLCV, RunSummary, audited

REQUIRED = ("symbol", "date", "open", "high", "low", "close", "volume")
OPTIONAL = ("vwap", "transactions")
DATE_PATTERN = r"^\d{4}-\d{2}-\d{2}$"
MAX_EXAMPLES = 5


class FileImportError(OperationalError, ValueError):
    """The file cannot be landed as it is; the message says which rows or columns."""

    exit_code = ExitCode.BAD_INPUT


def _examples(values: pa.Array, mask: pa.Array) -> str:
    rows = pc.indices_nonzero(mask).to_pylist()
    shown = ", ".join(
        f"row {i + 2}: {values[i].as_py()!r}"  # +2: header line, 1-based numbering
        for i in rows[:MAX_EXAMPLES]
    )
    more = f" and {len(rows) - MAX_EXAMPLES} more" if len(rows) > MAX_EXAMPLES else ""
    return shown + more


def _read(path: Path) -> pa.Table:
    """The file's table, or a FileImportError saying why it cannot be read at all: empty,
    not readable, not UTF-8, rows of another width than the header, not parquet."""
    suffix = path.suffix.lower()
    if suffix not in {".parquet", ".csv", ".txt"}:
        raise FileImportError(f"{path}: expected a .csv or .parquet file")
    try:
        if path.stat().st_size == 0:
            raise FileImportError(f"{path}: the file is empty; expected a header and rows")
        if suffix == ".parquet":
            return pq.read_table(path)
        return _read_csv(path)
    except UnicodeDecodeError as exc:
        raise FileImportError(
            f"{path}: not UTF-8 text (byte {exc.object[exc.start]:#04x} at offset {exc.start});"
            " save it as UTF-8 and import it again"
        ) from None
    except pa.ArrowInvalid as exc:
        detail = str(exc).strip().splitlines()[0]
        raise FileImportError(f"{path}: cannot be read: {detail}") from None
    except OSError as exc:
        raise FileImportError(f"{path}: cannot be read: {exc.strerror or exc}") from None


def _read_csv(path: Path) -> pa.Table:
    # Everything as text first, so we decide what a bad value means, not the reader.
    with path.open(newline="", encoding="utf-8") as handle:
        rows = csv.reader(handle)
        header = next(rows, [])
        # A row of another width would shift values into the wrong columns: name it.
        for line, row in enumerate(rows, start=2):
            if row and len(row) != len(header):
                raise FileImportError(
                    f"{path}: row {line} has {len(row)} fields, the header has {len(header)};"
                    " quote values that contain commas"
                )
    return pacsv.read_csv(
        path,
        convert_options=pacsv.ConvertOptions(
            column_types=dict.fromkeys(header, pa.string()), strings_can_be_null=True
        ),
    )


def _normalise_columns(table: pa.Table, path: Path) -> pa.Table:
    names = [name.strip().lower() for name in table.column_names]
    if len(set(names)) != len(names):
        raise FileImportError(f"{path}: duplicate column names {table.column_names}")
    table = table.rename_columns(names)
    unknown = sorted(set(names) - set(REQUIRED) - set(OPTIONAL))
    if unknown:
        raise FileImportError(
            f"{path}: unknown columns {unknown}; expected {', '.join(REQUIRED)}"
            f" and optionally {', '.join(OPTIONAL)}"
        )
    missing = [name for name in REQUIRED if name not in names]
    if missing:
        raise FileImportError(f"{path}: missing required columns {missing}")
    return table


def _dates(column: pa.ChunkedArray, path: Path) -> pa.Array:
    column = column.combine_chunks()
    if pa.types.is_date(column.type):
        return column.cast(pa.date32())
    if pa.types.is_timestamp(column.type):
        dates = column.cast(pa.date32())
        not_midnight = pc.not_equal(column, dates.cast(column.type))
        if pc.any(not_midnight).as_py():
            raise FileImportError(
                f"{path}: dates with a time of day: {_examples(column, not_midnight)}"
            )
        return dates
    text = pc.utf8_trim_whitespace(column.cast(pa.string()))
    well_formed = pc.fill_null(pc.match_substring_regex(text, DATE_PATTERN), False)
    parsed = []
    bad = []
    for ok, value in zip(well_formed.to_pylist(), text.to_pylist(), strict=True):
        day = None
        if ok:
            try:
                day = dt.date.fromisoformat(value)
            except ValueError:
                ok = False
        parsed.append(day)
        bad.append(not ok)
    bad_mask = pa.array(bad)
    if pc.any(bad_mask).as_py():
        raise FileImportError(
            f"{path}: 'date' must be YYYY-MM-DD; not a date: {_examples(text, bad_mask)}"
        )
    return pa.array(parsed, pa.date32())


_NUMBER = re.compile(r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$|^[+-]?(nan|NaN|NAN|inf|Inf)$")


def _numbers(column: pa.ChunkedArray, name: str, target: pa.DataType, path: Path) -> pa.Array:
    column = column.combine_chunks()
    if pa.types.is_integer(column.type) or pa.types.is_floating(column.type):
        values = column
    elif pa.types.is_string(column.type) or pa.types.is_large_string(column.type):
        text = pc.utf8_trim_whitespace(column)
        text = pc.if_else(pc.equal(text, ""), pa.scalar(None, pa.string()), text)
        ok = pc.or_kleene(pc.is_null(text), pc.match_substring_regex(text, _NUMBER.pattern))
        if not pc.all(pc.fill_null(ok, True)).as_py():
            bad = pc.invert(pc.fill_null(ok, True))
            raise FileImportError(f"{path}: '{name}' is not a number: {_examples(text, bad)}")
        values = text.cast(pa.float64())
    else:
        raise FileImportError(f"{path}: '{name}' has type {column.type}, expected numbers")
    if pa.types.is_integer(target):
        as_float = values.cast(pa.float64())
        fractional = pc.fill_null(pc.not_equal(pc.floor(as_float), as_float), False)
        if pc.any(fractional).as_py():
            raise FileImportError(
                f"{path}: '{name}' must be whole numbers: {_examples(values, fractional)}"
            )
        return pc.cast(as_float, target, safe=False)
    return values.cast(target)


def read_bars_file(path: Path) -> pa.Table:
    """The file as BAR_SCHEMA, or a FileImportError that says what is wrong."""
    if not path.exists():
        raise FileImportError(f"{path}: no such file")
    table = _normalise_columns(_read(path), path)
    if table.num_rows == 0:
        raise FileImportError(f"{path}: the file has no rows")
    columns: dict[str, pa.Array] = {}
    symbols = pc.utf8_trim_whitespace(table["symbol"].combine_chunks().cast(pa.string()))
    missing_symbol = pc.fill_null(pc.equal(symbols, ""), True)
    if pc.any(missing_symbol).as_py():
        raise FileImportError(
            f"{path}: rows without a symbol: {_examples(symbols, missing_symbol)}"
        )
    columns["symbol"] = symbols
    columns["date"] = _dates(table["date"], path)
    for field in BAR_SCHEMA:
        if field.name in ("symbol", "date"):
            continue
        if field.name in table.column_names:
            columns[field.name] = _numbers(table[field.name], field.name, field.type, path)
        else:
            columns[field.name] = pa.nulls(table.num_rows, field.type)
    return pa.table(columns, schema=BAR_SCHEMA)


def ingest_file(
    path: Path, lake: Lake, ledger: RunLedger, calendar: TradingCalendar
) -> FetchResult:
    """Validate and land one file as one batch (source `file:<name>`), with an audit row.

    Watermarks are left alone: they track what the fetchers have pulled from a source.
    """
    source = f"file:{path.name}"
    run = ledger.start_run(OHLCV, source, None, None)
    summary = RunSummary(run.run_id, OHLCV, source)

    def body() -> None:
        bars = read_bars_file(path)
        summary.add(land_bars(lake, calendar, bars, source, utcnow()))
        summary.sessions = sorted({d.isoformat() for d in bars["date"].to_pylist()})
        summary.status = "succeeded"

    return audited(ledger, summary, run, body)
