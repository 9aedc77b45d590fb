"""Filesystem operations through Hadoop's FileSystem API, so they work on EMRFS and ViewFs alike."""

from __future__ import annotations

from typing import Any


def _fs_and_path(spark: Any, uri: str) -> Any:
    jvm = spark.sparkContext._jvm
    path = jvm.org.apache.hadoop.fs.Path(uri)
    return path.getFileSystem(spark.sparkContext._jsc.hadoopConfiguration()), path


def path_exists(spark: Any, uri: str) -> bool:
    """True if ``uri`` (file or folder) exists."""
    fs, path = _fs_and_path(spark, uri)
    return bool(fs.exists(path))


def delete_path(spark: Any, uri: str) -> None:
    """Delete ``uri`` recursively; a missing path is not an error."""
    fs, path = _fs_and_path(spark, uri)
    if fs.exists(path):
        fs.delete(path, True)


def list_files(spark: Any, uri: str) -> list[str]:
    """Data files directly under ``uri``, skipping ``_``/``.`` markers as Spark's readers do."""
    fs, path = _fs_and_path(spark, uri)
    if not fs.exists(path):
        return []
    names = []
    for status in fs.listStatus(path):
        name = status.getPath().getName()
        if status.isFile() and not name.startswith(("_", ".")):
            names.append(name)
    return sorted(names)


def file_sizes(spark: Any, uris: list[str]) -> dict[str, tuple[str, int]]:
    """uri -> (the file's path as Spark's file sources name it, its size): one listing per folder,
    not one request per file (on S3 a HEAD each would cost more than reading a small batch)."""
    jvm = spark.sparkContext._jvm
    found: dict[str, tuple[str, int]] = {}
    folders: dict[str, list[str]] = {}
    for uri in uris:
        folders.setdefault(uri.rsplit("/", 1)[0], []).append(uri)
    for folder, members in folders.items():
        fs, path = _fs_and_path(spark, folder)
        listed = {s.getPath().getName(): s for s in fs.listStatus(path) if s.isFile()}
        for uri in members:
            status = listed.get(uri.rsplit("/", 1)[1]) or fs.getFileStatus(jvm.org.apache.hadoop.fs.Path(uri))
            found[uri] = (status.getPath().toString(), int(status.getLen()))
    return found


def resolved_uri(spark: Any, uri: str) -> str:
    """Where the file really is, behind any mount (ViewFs locally maps ``s3://`` to a folder), so
    that a task can read a byte range of it without a JVM (:mod:`lake_glue.formats.ranges`)."""
    fs, path = _fs_and_path(spark, uri)
    return fs.resolvePath(path).toString()


def join_uri(*parts: str) -> str:
    """Join URI parts with single slashes."""
    head, *rest = parts
    return "/".join([head.rstrip("/")] + [p.strip("/") for p in rest if p])


def list_files_recursive(spark: Any, uri: str) -> list[str]:
    """Every data file below ``uri`` as a full URI, skipping ``_``/``.`` markers such as ``_SUCCESS``."""
    fs, path = _fs_and_path(spark, uri)
    if not fs.exists(path):
        return []
    found = []
    iterator = fs.listFiles(path, True)
    while iterator.hasNext():
        file_path = iterator.next().getPath()
        if not file_path.getName().startswith(("_", ".")):
            found.append(file_path.toString())
    return sorted(found)


def list_dirs(spark: Any, uri: str) -> list[str]:
    """Sub-folders directly under ``uri`` as full URIs."""
    fs, path = _fs_and_path(spark, uri)
    if not fs.exists(path):
        return []
    return sorted(s.getPath().toString() for s in fs.listStatus(path) if s.isDirectory())


def object_listing(spark: Any, uri: str, listing: str) -> dict[str, tuple[int, str | None]]:
    """Data files below ``uri`` now: relative path -> (size, ETag).

    With ``listing="s3"`` the listing is S3's own (``ListObjectsV2``), so each ETag can be
    compared with the one recorded when the batch was sealed; ``"filesystem"`` lists through
    Spark's Hadoop file system, which has no ETag, only the size.
    """
    base = uri.rstrip("/") + "/"
    if listing == "s3":
        import boto3

        bucket, _, prefix = base[len("s3://") :].partition("/")
        found = {}
        for page in boto3.client("s3").get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
            for obj in page.get("Contents", []):
                rel = obj["Key"][len(prefix) :]
                if not rel.rsplit("/", 1)[-1].startswith(("_", ".")):
                    found[rel] = (obj["Size"], obj["ETag"].strip('"'))
        return found
    fs, path = _fs_and_path(spark, base)
    if not fs.exists(path):
        return {}
    found, root = {}, fs.getFileStatus(path).getPath().toString().rstrip("/") + "/"
    iterator = fs.listFiles(path, True)
    while iterator.hasNext():
        status = iterator.next()
        name = status.getPath().toString()
        if not status.getPath().getName().startswith(("_", ".")):
            found[name[len(root) :]] = (int(status.getLen()), None)
    return found
