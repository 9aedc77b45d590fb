"""The data files of each committed table version, remembered for ``lake query`` (local only).

An Iceberg table version is its metadata file: the SQLite catalog row points at a new,
uniquely named metadata file on every commit, and a metadata file never changes. So the file
list of a version's current snapshot, once worked out by pyiceberg's scan plan, is stored under
a key derived from the metadata file's location, and stays right for as long as that location
is the one in the catalog. The committing job stores it right after its commit; the query
engine stores it when it plans a version nobody stored. ``lake_platform.query_cache`` reads it
with nothing but ``sqlite3``, ``json`` and DuckDB. Only local (SQLite) catalogs are served;
for the Glue Data Catalog every function here does nothing.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any

SQLITE_PREFIX = "sqlite:///"


def parquet_view_sql(view: str, paths: list[str]) -> str:
    """The DuckDB view over a snapshot's data files, as both query paths create it.

    The writers' folder names look like Hive partitions (part_p_bucket=3); the columns come
    from the files only, or a query would show a column the table does not have.
    """
    files = ", ".join("'" + p.replace("'", "''") + "'" for p in paths)
    return f"CREATE VIEW {view} AS SELECT * FROM read_parquet([{files}], union_by_name=true, hive_partitioning=false)"


def cache_folder(catalog_uri: str) -> Path | None:
    """Where a local catalog's remembered file lists live (None for other catalogs)."""
    if not catalog_uri.startswith(SQLITE_PREFIX):
        return None
    return Path(catalog_uri[len(SQLITE_PREFIX) :]).parent / "query-cache"


def entry_path(folder: Path, metadata_location: str) -> Path:
    """The file that remembers the version at ``metadata_location``."""
    return folder / f"{hashlib.sha256(metadata_location.encode()).hexdigest()[:32]}.json"


def remember(catalog_uri: str, metadata_location: str, paths: list[str], snapshot_id: int | None = None) -> None:
    """Store the current snapshot's data files of the table version at ``metadata_location``."""
    folder = cache_folder(catalog_uri)
    if folder is None or not paths:
        return
    folder.mkdir(parents=True, exist_ok=True)
    entry = entry_path(folder, metadata_location)
    pending = entry.with_name(f".{entry.name}.{os.getpid()}")
    stored = {"metadata_location": metadata_location, "snapshot_id": snapshot_id, "files": paths}
    pending.write_text(json.dumps(stored))
    pending.replace(entry)


def remembered(catalog_uri: str, metadata_location: str) -> dict | None:
    """What is remembered for the table version at ``metadata_location`` (``files``, ``snapshot_id``), or None."""
    folder = cache_folder(catalog_uri)
    if folder is None:
        return None
    try:
        stored = json.loads(entry_path(folder, metadata_location).read_text())
    except (OSError, ValueError):
        return None
    return stored if stored.get("metadata_location") == metadata_location else None


def _delta(table: Any, base_snapshot_id: int | None, max_steps: int = 10) -> tuple[list[str], set[str]] | None:
    """Data files added and removed by the snapshots after ``base_snapshot_id`` (None: since the
    table's first snapshot), oldest first.

    Only the manifests those snapshots wrote are read (their ADDED and DELETED entries), so the
    cost does not grow with the table's history. None if the chain does not reach the base (or
    the first snapshot) within ``max_steps``, e.g. because expired snapshots broke it.
    """
    from pyiceberg.manifest import ManifestEntryStatus

    chain: list = []
    snapshot = table.current_snapshot()
    while snapshot is not None and snapshot.snapshot_id != base_snapshot_id:
        if len(chain) >= max_steps:
            return None
        chain.append(snapshot)
        parent = snapshot.parent_snapshot_id
        snapshot = table.snapshot_by_id(parent) if parent is not None else None
        if parent is not None and snapshot is None:
            return None
    if snapshot is None and base_snapshot_id is not None:
        return None
    added: list[str] = []
    removed: set[str] = set()
    for step in reversed(chain):
        for manifest in step.manifests(table.io):
            if manifest.added_snapshot_id != step.snapshot_id:
                continue
            for entry in manifest.fetch_manifest_entry(table.io, discard_deleted=False):
                path = entry.data_file.file_path.removeprefix("file://")
                if entry.status == ManifestEntryStatus.ADDED:
                    added.append(path)
                    removed.discard(path)
                elif entry.status == ManifestEntryStatus.DELETED:
                    removed.add(path)
                    if path in added:
                        added.remove(path)
    return added, removed


def remember_committed(table: Any) -> None:
    """After a commit on a local catalog: remember the new version's files from an earlier version's.

    The newest earlier version with a remembered list (the table's metadata log, newest first)
    is the starting point: its files, minus what the snapshots since removed, plus what they
    added, are the new version's. Versions that changed only properties or docs carry the
    snapshot over. With no earlier version remembered, a young table is followed from its first
    snapshot; otherwise nothing is stored and the next query plans the files itself (and
    remembers them). A failure to store only costs the next query its shortcut.
    """
    uri = str(getattr(table.catalog, "properties", {}).get("uri", ""))
    if cache_folder(uri) is None:
        return
    try:
        current = table.current_snapshot()
        if current is None:
            return
        start = None
        for log_entry in reversed(table.metadata.metadata_log):
            start = remembered(uri, log_entry.metadata_file)
            if start is not None and start.get("snapshot_id") is not None:
                break
            start = None
        base_files = start["files"] if start else []
        delta = _delta(table, start["snapshot_id"] if start else None)
        if delta is None:
            return
        added, removed = delta
        files = [p for p in base_files if p not in removed] + added
        remember(uri, table.metadata_location, files, current.snapshot_id)
    except OSError:
        pass
