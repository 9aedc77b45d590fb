"""Buckets as folders: the embedded default."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from lake_platform.resources.object_store.base import ObjectInfo, ObjectStore


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
