"""Object store: folders on disk locally, S3 in AWS. Keys are listed in S3's lexical order."""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

import dagster as dg
from pydantic import PrivateAttr

from lake_glue.args import ObjectListing
from lake_platform.resources.aws import lazy_client


@dataclass(frozen=True)
class ObjectInfo:
    """One stored object. ``etag`` is S3's ETag without quotes (locally the content's MD5, as
    S3 gives for a single-part upload); listings may leave it out where it costs a read."""

    key: str
    size: int
    etag: str | None = None


def is_data_file(key: str) -> bool:
    """True for a landed data file; ``_SUCCESS`` and other ``_``/``.`` names are markers."""
    return not key.rsplit("/", 1)[-1].startswith(("_", "."))


class ObjectStore(dg.ConfigurableResource):
    """The three lake buckets and the few object operations the platform needs."""

    raw_bucket: str
    source_bucket: str
    target_bucket: str

    # Whether an ETag is the MD5 of the object's bytes, so a reader can verify content by it.
    # S3's is not for multipart or KMS-encrypted objects (the lake's buckets use KMS).
    etag_is_content_md5: bool = False

    @property
    def job_listing(self) -> ObjectListing:
        """How a Glue job lists these buckets (its ``--object_listing`` argument)."""
        return "filesystem"

    def list_objects(
        self, bucket: str, prefix: str, start_after: str | None = None, max_keys: int = 1000
    ) -> list[ObjectInfo]:
        """Up to ``max_keys`` objects under ``prefix`` whose key sorts after ``start_after``."""
        raise NotImplementedError

    def exists(self, bucket: str, key: str) -> bool:
        """True if the object exists."""
        raise NotImplementedError

    def seal(self, bucket: str, prefix: str, listed: list[ObjectInfo] | None = None) -> list[ObjectInfo]:
        """Every data file under ``prefix`` with its size and ETag: what a batch is sealed as.

        ``listed`` is a listing of the whole batch the caller already holds (it saves a LIST).
        """
        objects = self.list_objects(bucket, prefix, max_keys=100_000) if listed is None else listed
        return [o for o in objects if is_data_file(o.key)]

    def put_bytes(self, bucket: str, key: str, data: bytes) -> None:
        """Write an object."""
        raise NotImplementedError

    def get_bytes(self, bucket: str, key: str) -> bytes:
        """Read an object; ``FileNotFoundError`` naming bucket and key if absent."""
        raise NotImplementedError

    def uri(self, bucket: str, key: str = "") -> str:
        """The ``s3://`` URI of a key (also used locally: Spark maps it to the folder)."""
        return f"s3://{bucket}/{key}"


class LocalObjectStore(ObjectStore):
    """Buckets as folders under ``root``; the embedded default."""

    root: str
    etag_is_content_md5: bool = True

    def _path(self, bucket: str, key: str = "") -> Path:
        return Path(self.root) / bucket / key

    def list_objects(self, bucket, prefix, start_after=None, max_keys=1000):
        base = self._path(bucket)
        if not base.is_dir():
            return []
        # Walk only the folders that can hold keys under ``prefix`` and after ``start_after``,
        # in lexical order, so a large landing zone is not read in full on every tick.
        results: list[ObjectInfo] = []
        self._walk(base, "", prefix, start_after or "", max_keys, results)
        return results

    def _walk(self, folder: Path, rel: str, prefix: str, after: str, limit: int, out: list) -> None:
        try:
            entries = sorted(os.scandir(folder), key=lambda e: e.name + ("/" if e.is_dir() else ""))
        except FileNotFoundError:
            return
        for entry in entries:
            if len(out) >= limit:
                return
            if entry.is_dir():
                sub = f"{rel}{entry.name}/"
                if not (prefix.startswith(sub) or sub.startswith(prefix)):
                    continue
                # Skip whole subtrees that sort entirely before the cursor.
                if after and not after.startswith(sub) and sub < after:
                    continue
                self._walk(Path(entry.path), sub, prefix, after, limit, out)
            else:
                key = f"{rel}{entry.name}"
                if key.startswith(prefix) and key > after:
                    out.append(ObjectInfo(key, entry.stat().st_size))

    def exists(self, bucket, key):
        return self._path(bucket, key).is_file()

    def seal(self, bucket, prefix, listed=None):
        sealed = []
        for info in super().seal(bucket, prefix, listed):
            # Size and digest come from the same read, so a file growing meanwhile stays consistent.
            digest, size = hashlib.md5(usedforsecurity=False), 0
            with open(self._path(bucket, info.key), "rb") as f:
                for chunk in iter(lambda: f.read(1 << 20), b""):
                    digest.update(chunk)
                    size += len(chunk)
            sealed.append(ObjectInfo(info.key, size, digest.hexdigest()))
        return sealed

    def put_bytes(self, bucket, key, data):
        path = self._path(bucket, key)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.tmp")
        tmp.write_bytes(data)
        tmp.replace(path)

    def get_bytes(self, bucket, key):
        path = self._path(bucket, key)
        if not path.is_file():
            raise FileNotFoundError(f"s3://{bucket}/{key} does not exist (local file {path})")
        return path.read_bytes()


class S3ObjectStore(ObjectStore):
    """Amazon S3 through boto3; the client is created on first use."""

    @property
    def job_listing(self) -> ObjectListing:
        """Jobs list S3 with S3's own API, so ETags can be compared with the sealed ones."""
        return "s3"

    region_name: str
    endpoint_url: str | None = None
    _clients: dict = PrivateAttr(default_factory=dict)

    @property
    def client(self):
        """The lazily created boto3 S3 client."""
        return lazy_client(self, "s3")

    def list_objects(self, bucket, prefix, start_after=None, max_keys=1000):
        results: list[ObjectInfo] = []
        kwargs = {"Bucket": bucket, "Prefix": prefix}
        if start_after:
            kwargs["StartAfter"] = start_after
        while len(results) < max_keys:
            page = self.client.list_objects_v2(MaxKeys=min(1000, max_keys - len(results)), **kwargs)
            results.extend(
                ObjectInfo(o["Key"], o["Size"], o.get("ETag", "").strip('"') or None) for o in page.get("Contents", [])
            )
            if not page.get("IsTruncated"):
                break
            kwargs = {"Bucket": bucket, "Prefix": prefix, "ContinuationToken": page["NextContinuationToken"]}
        return results

    def exists(self, bucket, key):
        from botocore.exceptions import ClientError

        try:
            self.client.head_object(Bucket=bucket, Key=key)
        except ClientError as exc:
            if exc.response["Error"]["Code"] in ("404", "NoSuchKey", "NotFound"):
                return False
            raise
        return True

    def put_bytes(self, bucket, key, data):
        self.client.put_object(Bucket=bucket, Key=key, Body=data)

    def get_bytes(self, bucket, key):
        from botocore.exceptions import ClientError

        try:
            return self.client.get_object(Bucket=bucket, Key=key)["Body"].read()
        except ClientError as exc:
            if exc.response["Error"]["Code"] in ("404", "NoSuchKey"):
                raise FileNotFoundError(f"s3://{bucket}/{key} does not exist") from None
            raise
