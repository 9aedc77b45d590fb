"""The object store interface: the three lake buckets and the few object operations the platform needs."""

from __future__ import annotations

from abc import abstractmethod
from dataclasses import dataclass

import dagster as dg

from lake_glue.args import ObjectListing


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

    @abstractmethod
    def list_objects(
        self, bucket: str, prefix: str, start_after: str | None = None, max_keys: int = 1000
    ) -> list[ObjectInfo]:
        """Up to ``max_keys`` objects under ``prefix`` whose key sorts after ``start_after``."""

    @abstractmethod
    def exists(self, bucket: str, key: str) -> bool:
        """True if the object exists."""

    def seal(self, bucket: str, prefix: str, listed: list[ObjectInfo] | None = None) -> list[ObjectInfo]:
        """Every data file under ``prefix`` with its size and ETag: what a batch is sealed as.

        ``listed`` is a listing of the whole batch the caller already holds (it saves a LIST).
        """
        objects = self.list_objects(bucket, prefix, max_keys=100_000) if listed is None else listed
        return [o for o in objects if is_data_file(o.key)]

    @abstractmethod
    def put_bytes(self, bucket: str, key: str, data: bytes) -> None:
        """Write an object."""

    @abstractmethod
    def get_bytes(self, bucket: str, key: str) -> bytes:
        """Read an object; ``FileNotFoundError`` naming bucket and key if absent."""

    def uri(self, bucket: str, key: str = "") -> str:
        """The ``s3://`` URI of a key (also used locally: Spark maps it to the folder)."""
        return f"s3://{bucket}/{key}"
