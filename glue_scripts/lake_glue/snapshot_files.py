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


def remember(catalog_uri: str, metadata_location: str, paths: list[str]) -> None:
    """Store the current snapshot's data files of the table version at ``metadata_location``."""
    folder = cache_folder(catalog_uri)
    if folder is None or not paths:
        return
    folder.mkdir(parents=True, exist_ok=True)
    entry = entry_path(folder, metadata_location)
    pending = entry.with_name(f".{entry.name}.{os.getpid()}")
    pending.write_text(json.dumps({"metadata_location": metadata_location, "files": paths}))
    pending.replace(entry)


def remember_committed(table) -> None:
    """Store the data files of ``table``'s current version if its catalog is a local one.

    Called right after a commit. A failure to store only costs the next query its shortcut.
    """
    from lake_glue.tables import data_files

    uri = str(getattr(table.catalog, "properties", {}).get("uri", ""))
    if cache_folder(uri) is None:
        return
    try:
        remember(uri, table.metadata_location, [p.removeprefix("file://") for p in data_files(table)])
    except OSError:
        pass
