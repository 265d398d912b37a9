"""The lake: a local directory or an s3:// prefix, written through pyarrow.fs.

Landing files appear atomically. Locally a file is written under a temporary name, flushed
to disk and renamed (readers glob `*.parquet`, so they never see a half file); on S3 a
PUT/multipart upload only becomes visible once complete.
"""

from __future__ import annotations

import datetime as dt
import os
import uuid
from dataclasses import dataclass
from urllib.parse import urlparse

import pyarrow as pa
import pyarrow.fs as pafs
import pyarrow.parquet as pq

DATASETS = {"ohlcv": "bronze/raw_ohlcv", "tickers": "bronze/raw_tickers"}


def _s3_filesystem() -> pafs.S3FileSystem:
    # AWS_ENDPOINT_URL lets the same code talk to moto or MinIO in tests.
    endpoint = os.environ.get("AWS_ENDPOINT_URL_S3") or os.environ.get("AWS_ENDPOINT_URL")
    kwargs: dict[str, object] = {
        "region": os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION", "us-east-1")
    }
    if endpoint:
        parsed = urlparse(endpoint)
        kwargs["endpoint_override"] = parsed.netloc or parsed.path
        kwargs["scheme"] = parsed.scheme or "https"
    return pafs.S3FileSystem(**kwargs)


@dataclass(frozen=True)
class Lake:
    """A lake root. `uri` is what the user passed; `fs` + `base` address files in it."""

    uri: str
    fs: pafs.FileSystem
    base: str

    @classmethod
    def open(cls, root: str) -> Lake:
        if root.startswith("s3://"):
            return cls(root, _s3_filesystem(), root.removeprefix("s3://").rstrip("/"))
        path = os.path.abspath(root)
        return cls(root, pafs.LocalFileSystem(), path)

    @property
    def is_local(self) -> bool:
        return isinstance(self.fs, pafs.LocalFileSystem)

    def path(self, *parts: str) -> str:
        return "/".join([self.base, *parts])

    def display(self, path: str) -> str:
        return f"s3://{path}" if not self.is_local else path

    def landing_path(self, dataset: str, ingest_date: dt.date, batch_id: str) -> str:
        return self.path(
            DATASETS[dataset], f"ingest_date={ingest_date.isoformat()}", f"{batch_id}.parquet"
        )

    def write_parquet(self, table: pa.Table, path: str) -> None:
        """Write `table` to `path` so that it appears whole or not at all."""
        if not self.is_local:
            # S3 has no directories: creating them would only add marker objects.
            pq.write_table(table, path, filesystem=self.fs, compression="zstd")
            return
        parent = path.rsplit("/", 1)[0]
        self.fs.create_dir(parent, recursive=True)
        temp = f"{path}.{uuid.uuid4().hex}.tmp"
        try:
            pq.write_table(table, temp, filesystem=self.fs, compression="zstd")
            fsync(temp)
            self.fs.move(temp, path)
        finally:
            if os.path.exists(temp):
                os.remove(temp)
        fsync(parent)

    def list_files(self, prefix: str, suffix: str = ".parquet") -> list[str]:
        selector = pafs.FileSelector(self.path(prefix), recursive=True, allow_not_found=True)
        infos = self.fs.get_file_info(selector)
        return sorted(
            info.path
            for info in infos
            if info.type == pafs.FileType.File and info.path.endswith(suffix)
        )


def fsync(path: str) -> None:
    # Durability before the watermark moves: the rename (or the file) must survive a crash.
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
