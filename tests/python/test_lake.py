"""Local lake writes are atomic: a landing file appears whole under its name or not at all.

Readers glob `*.parquet`; a half-written file under that name would be read as corrupt (or,
worse, as fewer rows), so every failure mode below must leave no `*.parquet` behind.
"""

from __future__ import annotations

import datetime as dt
import errno
from pathlib import Path

import pyarrow as pa
import pyarrow.fs as pafs
import pyarrow.parquet as pq
import pytest

from core import lake as lake_module
from core.lake import Lake

INGEST_DATE = dt.date(2024, 6, 10)


def _table() -> pa.Table:
    return pa.table({"symbol": ["AAPL", "MSFT", "NVDA"], "close": [190.5, 420.25, 121.0]})


def _files(root: Path) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())


class _RenameFails(pafs.LocalFileSystem):
    """The rename that publishes the file fails (e.g. the disk went read-only)."""

    def move(self, src: str, dest: str) -> None:
        raise OSError(errno.EROFS, "read-only file system", dest)


class _RecordsRename(pafs.LocalFileSystem):
    """Remembers what a reader globbing the partition would have seen just before the rename."""

    def __init__(self) -> None:
        super().__init__()
        self.seen_before_rename: list[str] = []

    def move(self, src: str, dest: str) -> None:
        self.seen_before_rename = sorted(p.name for p in Path(dest).parent.iterdir())
        super().move(src, dest)


def test_write_parquet_round_trips_and_leaves_only_the_file(lake: Lake, lake_dir: Path) -> None:
    path = lake.landing_path("ohlcv", INGEST_DATE, "batch-1")

    lake.write_parquet(_table(), path)

    assert pq.read_table(path).equals(_table())
    assert _files(lake_dir) == ["bronze/raw_ohlcv/ingest_date=2024-06-10/batch-1.parquet"]


def test_file_is_written_under_a_temporary_name_then_renamed(lake_dir: Path) -> None:
    fs = _RecordsRename()
    lake = Lake(str(lake_dir), fs, str(lake_dir))
    path = lake.landing_path("ohlcv", INGEST_DATE, "batch-1")

    lake.write_parquet(_table(), path)

    # Fully written, yet invisible to a `*.parquet` glob until the rename.
    assert len(fs.seen_before_rename) == 1
    assert fs.seen_before_rename[0].endswith(".tmp")
    assert not fs.seen_before_rename[0].endswith(".parquet")
    assert pq.read_table(path).equals(_table())


def test_failed_rename_leaves_no_parquet_and_no_temp_file(lake_dir: Path) -> None:
    lake = Lake(str(lake_dir), _RenameFails(), str(lake_dir))

    with pytest.raises(OSError, match="read-only"):
        lake.write_parquet(_table(), lake.landing_path("ohlcv", INGEST_DATE, "batch-1"))

    assert _files(lake_dir) == []


def test_failure_mid_write_leaves_no_partial_parquet(
    lake: Lake, lake_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def flush_fails(fd: int) -> None:
        # What a full disk does: the bytes were handed over, then flushing them errors out.
        raise OSError(errno.ENOSPC, "no space left on device")

    monkeypatch.setattr(lake_module.os, "fsync", flush_fails)

    with pytest.raises(OSError, match="no space"):
        lake.write_parquet(_table(), lake.landing_path("ohlcv", INGEST_DATE, "batch-1"))

    assert list(lake_dir.rglob("*.parquet")) == []
    assert list(lake_dir.rglob("*.tmp")) == []
    assert lake.list_files("bronze/raw_ohlcv") == []


def test_list_files_ignores_temp_files_and_other_suffixes(lake: Lake) -> None:
    published = lake.landing_path("ohlcv", INGEST_DATE, "batch-1")
    lake.write_parquet(_table(), published)
    partition = Path(published).parent
    # What a writer killed between write and rename (no `finally` runs) leaves behind.
    (partition / "batch-2.parquet.0123456789abcdef.tmp").write_bytes(b"PAR1 half a file")
    (partition / "README.txt").write_text("not data")
    later = lake.landing_path("ohlcv", INGEST_DATE + dt.timedelta(days=1), "batch-3")
    lake.write_parquet(_table(), later)

    assert lake.list_files("bronze/raw_ohlcv") == [published, later]
    assert lake.list_files("bronze/raw_tickers") == []
