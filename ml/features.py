"""The feature table (`gold.ml_features`): its columns, its validation and where it is read from.

One row per (symbol, date). Every column that is neither a key nor a label is a feature, so a
new feature in the dbt model reaches the model without a code change here; the trained model
records its columns and prediction insists on exactly those.

Every reader returns the same canonical frame (see `frame_from_arrow`), whichever engine the
rows came from, so training on DuckDB rows and predicting on Athena rows see the same dtypes.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

if TYPE_CHECKING:
    import duckdb
    from pyathena.arrow.cursor import ArrowCursor
    from pyathena.connection import Connection

KEY_COLUMNS = ("symbol", "date", "session_index")
# `label_horizon` is the sessions ahead the label looks, as dbt's var `ml_label_horizon` built
# it: the one owner of the horizon, which training reads from the rows (see label_horizon).
LABEL_COLUMNS = ("forward_return", "label_up", "label_end_date", "label_horizon")
# When the bar landed, when dbt wrote the row and the partition it chose: lineage, not features.
LINEAGE_COLUMNS = ("ingested_at", "built_at", "storage_period")
TABLE_NAME = "ml_features"

_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


class FeatureError(ValueError):
    """The feature rows cannot be trained on or predicted from as they are."""


def feature_columns(frame: pd.DataFrame) -> list[str]:
    """Every column that is not a key, a label or lineage, in the frame's order."""
    excluded = {*KEY_COLUMNS, *LABEL_COLUMNS, *LINEAGE_COLUMNS}
    return [column for column in frame.columns if column not in excluded]


def labelled(frame: pd.DataFrame) -> pd.DataFrame:
    """Rows whose label is known (the last `horizon` rows of each symbol have none yet)."""
    return frame[frame["label_up"].notna()]


def label_horizon(frame: pd.DataFrame) -> int:
    """The label horizon the rows were built with (their `label_horizon` column): one value.

    dbt's var `ml_label_horizon` is its only owner; training reads it here rather than
    keeping a default of its own that could disagree with the labels."""
    _require_columns(frame, ["label_horizon"])
    values = sorted({int(value) for value in frame["label_horizon"].dropna().unique()})
    if len(values) != 1:
        raise FeatureError(
            f"label_horizon must hold one value, found {values or 'none'}: rebuild "
            "gold.ml_features with one ml_label_horizon (dbt build --full-refresh)"
        )
    return values[0]


def known_as_of(frame: pd.DataFrame, as_of: dt.date) -> pd.DataFrame:
    """The rows as they were known at `as_of`'s close: features dated on or before it, and
    labels only where their horizon had ended by then (`label_end_date <= as_of`); a later
    label is nulled, as it was still pending that day."""
    cutoff = pd.Timestamp(as_of)
    rows = frame[frame["date"] <= cutoff].copy()
    pending = ~(rows["label_end_date"] <= cutoff)
    rows.loc[pending, ["forward_return", "label_up"]] = np.nan
    rows.loc[pending, "label_end_date"] = pd.NaT
    return rows


def validate_training_frame(frame: pd.DataFrame) -> list[str]:
    """Raise FeatureError unless `frame` can be trained on; return its feature columns."""
    _require_rows(frame, "training")
    _require_columns(frame, [*KEY_COLUMNS, *LABEL_COLUMNS])
    columns = feature_columns(frame)
    if not columns:
        raise FeatureError("the feature table has no feature columns besides keys and labels")
    _require_numeric(frame, columns)
    _require_unique_keys(frame)
    label_horizon(frame)
    rows = labelled(frame)
    if rows.empty:
        raise FeatureError(
            f"none of the {len(frame)} feature rows has a label (label_up is null everywhere): "
            "the table is shorter than the label horizon"
        )
    classes = sorted(int(value) for value in rows["label_up"].unique())
    if not set(classes) <= {0, 1}:
        raise FeatureError(f"label_up must be 0 or 1; found values {classes}")
    if len(classes) < 2:
        raise FeatureError(
            f"all {len(rows)} labelled rows have label_up = {classes[0]}: "
            "a classifier needs both classes"
        )
    _require_finite(frame, columns)
    return columns


def validate_prediction_frame(frame: pd.DataFrame, columns: list[str]) -> None:
    """Raise FeatureError unless the model trained on `columns` can score `frame`."""
    _require_rows(frame, "prediction")
    _require_columns(frame, ["symbol", "date", *columns])
    _require_numeric(frame, columns)
    _require_unique_keys(frame)
    _require_finite(frame, columns)


def _require_rows(frame: pd.DataFrame, purpose: str) -> None:
    if frame.empty:
        raise FeatureError(f"the feature table is empty: no rows for {purpose}")


def _require_columns(frame: pd.DataFrame, required: list[str]) -> None:
    missing = [column for column in required if column not in frame.columns]
    if missing:
        raise FeatureError(f"the feature table lacks column(s): {', '.join(missing)}")


def _require_numeric(frame: pd.DataFrame, columns: list[str]) -> None:
    wrong = [
        f"{column} ({frame[column].dtype})"
        for column in columns
        if not pd.api.types.is_numeric_dtype(frame[column])
    ]
    if wrong:
        raise FeatureError(f"feature column(s) are not numeric: {', '.join(wrong)}")


def _require_unique_keys(frame: pd.DataFrame) -> None:
    duplicated = frame.duplicated(["symbol", "date"], keep=False)
    if duplicated.any():
        example = frame.loc[duplicated, ["symbol", "date"]].iloc[0]
        raise FeatureError(
            f"{int(duplicated.sum())} rows share a (symbol, date) with another row, "
            f"e.g. {example['symbol']} on {pd.Timestamp(example['date']).date()}"
        )


def _require_finite(frame: pd.DataFrame, columns: list[str]) -> None:
    # Never dropped or imputed: a gap in the features is an upstream bug to fix, not to hide.
    bad_rows = np.zeros(len(frame), dtype=bool)
    counts: dict[str, int] = {}
    for column in columns:
        values = frame[column].to_numpy(dtype=np.float64, na_value=np.nan)
        bad = ~np.isfinite(values)
        if bad.any():
            counts[column] = int(bad.sum())
            bad_rows |= bad
    if counts:
        detail = ", ".join(f"{column}: {count}" for column, count in counts.items())
        raise FeatureError(
            f"{int(bad_rows.sum())} of {len(frame)} rows have NaN or infinite values in "
            f"feature column(s) ({detail}); fix the feature table, rows are never dropped "
            "or imputed"
        )


def frame_from_arrow(table: pa.Table) -> pd.DataFrame:
    """The canonical frame: sorted by (date, symbol), `date` as datetime64[ns], labels float.

    Engines disagree on types (DuckDB gives date32, Athena's CSV results timestamps, a decimal
    sum may arrive as decimal128); casting here keeps training and prediction identical.
    """
    for index, field in enumerate(table.schema):
        if pa.types.is_decimal(field.type):
            table = table.set_column(index, field.name, pc.cast(table[index], pa.float64()))
    if {"date", "symbol"} <= set(table.column_names):
        table = table.sort_by([("date", "ascending"), ("symbol", "ascending")])
    frame = table.to_pandas(date_as_object=False)
    if "date" in frame.columns:
        frame["date"] = pd.to_datetime(frame["date"]).astype("datetime64[ns]")
    if "symbol" in frame.columns:
        frame["symbol"] = frame["symbol"].astype(str)
    if "session_index" in frame.columns:
        frame["session_index"] = frame["session_index"].astype(np.int64)
    for column in ("forward_return", "label_up"):
        if column in frame.columns:
            frame[column] = frame[column].astype(np.float64)
    if "label_horizon" in frame.columns:
        frame["label_horizon"] = frame["label_horizon"].astype(np.int64)
    if "label_end_date" in frame.columns:
        frame["label_end_date"] = pd.to_datetime(frame["label_end_date"]).astype("datetime64[ns]")
    return frame


def read_parquet_dir(directory: str | Path) -> pd.DataFrame:
    """Every `*.parquet` file under `directory` (a SageMaker channel) as one canonical frame."""
    root = Path(directory)
    files = sorted(root.rglob("*.parquet")) if root.is_dir() else []
    if not files:
        raise FeatureError(f"no parquet files under {root}")
    tables = [pq.read_table(file) for file in files]
    return frame_from_arrow(pa.concat_tables(tables, promote_options="default"))


def date_filter(start: dt.date | None, end: dt.date | None) -> str:
    """A `where` clause on `date` that DuckDB and Athena (Trino) both accept."""
    if start and end:
        return f" where date between date '{start.isoformat()}' and date '{end.isoformat()}'"
    if start:
        return f" where date >= date '{start.isoformat()}'"
    if end:
        return f" where date <= date '{end.isoformat()}'"
    return ""


def _as_date(value: object) -> dt.date | None:
    return None if value is None else pd.Timestamp(value).date()


class FeatureStore(Protocol):
    """Where `gold.ml_features` is read from."""

    def read(self, start: dt.date | None, end: dt.date | None) -> pd.DataFrame: ...

    def latest_date(self) -> dt.date | None: ...


@dataclass(frozen=True)
class DuckDBFeatureStore:
    """`gold.ml_features` in the dev warehouse file, opened read-only so dbt may run alongside."""

    path: Path | str

    @property
    def relation(self) -> str:
        return f"gold.{TABLE_NAME}"

    def read(self, start: dt.date | None, end: dt.date | None) -> pd.DataFrame:
        sql = f"select * from {self.relation}{date_filter(start, end)}"
        with self._connection() as con:
            return frame_from_arrow(con.execute(sql).to_arrow_table())

    def latest_date(self) -> dt.date | None:
        with self._connection() as con:
            row = con.execute(f"select max(date) from {self.relation}").fetchone()
        return _as_date(row[0] if row else None)

    @contextmanager
    def _connection(self) -> Iterator[duckdb.DuckDBPyConnection]:
        # Imported here: SageMaker jobs import this module in a container without duckdb.
        import duckdb

        path = Path(self.path)
        if not path.is_file():
            raise FeatureError(f"warehouse file {path} does not exist; run the dbt build first")
        con = duckdb.connect(str(path), read_only=True)
        try:
            yield con
        except duckdb.CatalogException as error:
            raise FeatureError(
                f"{self.relation} does not exist in {path}; build the dbt model first"
            ) from error
        finally:
            con.close()


@dataclass(frozen=True)
class AthenaFeatureStore:
    """`<schema>.ml_features` through Athena, for the AWS target."""

    s3_staging_dir: str
    region: str
    schema: str = "gold"
    work_group: str | None = None

    def __post_init__(self) -> None:
        # The schema is spliced into SQL, so it must be a plain identifier.
        if not _IDENTIFIER.match(self.schema):
            raise FeatureError(f"invalid Athena schema name {self.schema!r}")

    def query(self, start: dt.date | None, end: dt.date | None) -> str:
        return f"select * from {self.schema}.{TABLE_NAME}{date_filter(start, end)}"

    def latest_date_query(self) -> str:
        return f"select max(date) from {self.schema}.{TABLE_NAME}"

    def read(self, start: dt.date | None, end: dt.date | None) -> pd.DataFrame:
        # UNLOAD returns parquet: native types, and no CSV parsing of millions of rows.
        with closing(self._connect()) as conn, closing(conn.cursor(unload=True)) as cursor:
            return frame_from_arrow(cursor.execute(self.query(start, end)).as_arrow())

    def latest_date(self) -> dt.date | None:
        with closing(self._connect()) as conn, closing(conn.cursor()) as cursor:
            row = cursor.execute(self.latest_date_query()).fetchone()
        return _as_date(row[0] if row else None)

    def _connect(self) -> Connection[ArrowCursor]:
        # Imported here: pyathena comes with the optional `athena` extra.
        from pyathena import connect
        from pyathena.arrow.cursor import ArrowCursor

        return connect(
            s3_staging_dir=self.s3_staging_dir,
            region_name=self.region,
            schema_name=self.schema,
            work_group=self.work_group,
            cursor_class=ArrowCursor,
        )
