"""The lake: a local directory or an s3:// prefix, and the one way anything is written to it.

Every file the project writes (landing batches, predictions, model artifacts, vacuum
manifests) appears whole or not at all, through `Lake.write_bytes`:
- locally: written under a temporary name, fsynced, renamed, and the directory fsynced,
  so a crash leaves either no file or the whole file, durable before a watermark moves
  (readers glob `*.parquet` and never see the temporary name);
- on S3: one PUT, which only becomes visible once complete.
`Lake.delete` is its inverse. Reads and listings go through pyarrow's file systems.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlparse

import pyarrow as pa
import pyarrow.fs as pafs
import pyarrow.parquet as pq

from core.layout import landing_file

# S3 DeleteObjects takes at most this many keys per request.
_S3_DELETE_BATCH = 1000


@dataclass(frozen=True)
class Lake:
    """A lake root. `uri` is what the user passed; `fs` + `base` address files in it."""

    uri: str
    fs: pafs.FileSystem
    base: str
    region: str | None = None

    @classmethod
    def open(cls, root: str, region: str | None = None) -> Lake:
        """`region` is the S3 bucket's (default: the settings' AWS_REGION); unused locally."""
        if root.startswith("s3://"):
            if region is None:
                from core.settings import Settings

                region = Settings.from_env().aws_region
            return cls(root, _s3_filesystem(region), root.removeprefix("s3://").rstrip("/"), region)
        return cls(root, pafs.LocalFileSystem(), os.path.abspath(root))

    @property
    def is_local(self) -> bool:
        return isinstance(self.fs, pafs.LocalFileSystem)

    def path(self, *parts: str) -> str:
        return "/".join([self.base, *parts])

    def display(self, path: str) -> str:
        return f"s3://{path}" if not self.is_local else path

    def landing_path(self, dataset: str, ingest_date: dt.date, batch_id: str) -> str:
        return self.path(landing_file(dataset, ingest_date, batch_id))

    def exists(self, path: str) -> bool:
        return self.fs.get_file_info(path).type == pafs.FileType.File

    def read_bytes(self, path: str) -> bytes:
        """The file's bytes as stored (an input stream would un-gzip a `.gz` file)."""
        with self.fs.open_input_file(path) as source:
            return bytes(source.read())

    def write_parquet(self, table: pa.Table, path: str) -> None:
        """Write `table` (zstd) to `path`, whole or not at all."""
        sink = pa.BufferOutputStream()
        pq.write_table(table, sink, compression="zstd")
        self.write_bytes(path, sink.getvalue().to_pybytes())

    def write_bytes(self, path: str, data: bytes, content_type: str | None = None) -> None:
        """Write `data` to `path`, whole or not at all (see the module's docstring)."""
        if not self.is_local:
            bucket, key = _bucket_key(path)
            extra = {"ContentType": content_type} if content_type else {}
            self._s3_client().put_object(Bucket=bucket, Key=key, Body=data, **extra)
            return
        parent = path.rsplit("/", 1)[0]
        os.makedirs(parent, exist_ok=True)
        temp = f"{path}.{uuid.uuid4().hex}.tmp"
        try:
            with open(temp, "wb") as out:
                out.write(data)
                out.flush()
                os.fsync(out.fileno())
            self.fs.move(temp, path)  # a rename: the file appears whole
        finally:
            if os.path.exists(temp):
                os.remove(temp)
        fsync(parent)

    def delete(self, paths: Sequence[str]) -> None:
        """Delete files; one already gone is not an error (there is nothing to lose)."""
        if not paths:
            return
        if self.is_local:
            _delete_local(paths)
        else:
            self._delete_s3(paths)

    def list_files(self, prefix: str, suffix: str = ".parquet") -> list[str]:
        return [info.path for info in self.list_file_infos(prefix, suffix)]

    def list_file_infos(self, prefix: str, suffix: str = ".parquet") -> list[pafs.FileInfo]:
        """The files under `prefix`, by path, with their size and modification time."""
        selector = pafs.FileSelector(self.path(prefix), recursive=True, allow_not_found=True)
        infos = self.fs.get_file_info(selector)
        return sorted(
            (
                info
                for info in infos
                if info.type == pafs.FileType.File and info.path.endswith(suffix)
            ),
            key=lambda info: info.path,
        )

    def _s3_client(self) -> Any:
        import boto3  # reads AWS_ENDPOINT_URL(_S3) itself, as pyarrow's S3 below does

        return boto3.client("s3", region_name=self.region)

    def _delete_s3(self, paths: Sequence[str]) -> None:
        """Batches of 1,000 keys per request. boto3 rather than pyarrow, whose delete_file
        writes a directory marker in place of the last file of a "directory"."""
        s3 = self._s3_client()
        for bucket in sorted({_bucket_key(path)[0] for path in paths}):
            keys = [key for name, key in map(_bucket_key, paths) if name == bucket]
            for start in range(0, len(keys), _S3_DELETE_BATCH):
                batch = [{"Key": key} for key in keys[start : start + _S3_DELETE_BATCH]]
                answer = s3.delete_objects(Bucket=bucket, Delete={"Objects": batch, "Quiet": True})
                if answer.get("Errors"):
                    raise RuntimeError(f"S3 refused to delete {answer['Errors'][:3]}")
            # A partition left with only a directory marker (older pyarrow writers made
            # them): drop the marker too.
            for partition in sorted({key.rsplit("/", 1)[0] + "/" for key in keys}):
                listing = s3.list_objects_v2(Bucket=bucket, Prefix=partition, MaxKeys=2)
                if [item["Key"] for item in listing.get("Contents", [])] == [partition]:
                    s3.delete_object(Bucket=bucket, Key=partition)


def fsync(path: str) -> None:
    # Durability before the watermark moves: the rename (or the file) must survive a crash.
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _s3_filesystem(region: str) -> pafs.S3FileSystem:
    # AWS_ENDPOINT_URL(_S3), the AWS SDKs' own variables, let the same code talk to moto or
    # MinIO in tests; boto3 reads them itself.
    endpoint = os.environ.get("AWS_ENDPOINT_URL_S3") or os.environ.get("AWS_ENDPOINT_URL")
    kwargs: dict[str, Any] = {"region": region}
    if endpoint:
        parsed = urlparse(endpoint)
        kwargs["endpoint_override"] = parsed.netloc or parsed.path
        kwargs["scheme"] = parsed.scheme or "https"
    return pafs.S3FileSystem(**kwargs)


def _bucket_key(path: str) -> tuple[str, str]:
    bucket, key = path.split("/", 1)
    return bucket, key


def _delete_local(paths: Sequence[str]) -> None:
    for path in paths:
        with contextlib.suppress(FileNotFoundError):
            os.remove(path)
    # Only the directories we emptied; rmdir refuses one someone just wrote to.
    for parent in sorted({path.rsplit("/", 1)[0] for path in paths}):
        with contextlib.suppress(OSError):
            os.rmdir(parent)
        with contextlib.suppress(OSError):
            fsync(parent.rsplit("/", 1)[0])
