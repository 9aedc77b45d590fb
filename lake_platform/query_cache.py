"""The data files of each committed table version, remembered so that ``lake query`` can skip
loading the Iceberg catalog (and Dagster) when nothing was committed since the last query.

An Iceberg table version is its metadata file: the SQLite catalog row points at a new,
uniquely named metadata file on every commit, and a metadata file never changes. So the file
list of the current snapshot, worked out once by pyiceberg's scan plan, is stored under a key
derived from the metadata file's location, and stays right for as long as that location is
the one in the catalog. A commit moves the catalog row to a new location, which has no entry
yet: the next query takes the full path again (and stores the new list). Only the local
catalog (SQLite) is served this way; it needs nothing but ``sqlite3``, ``json`` and DuckDB.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import sqlite3
from pathlib import Path

SQLITE_PREFIX = "sqlite:///"


def parquet_view_sql(view: str, paths: list[str]) -> str:
    """The DuckDB view over a snapshot's data files, as both query paths create it.

    The writers' folder names look like Hive partitions (part_p_bucket=3); the columns come
    from the files only, or a query would show a column the table does not have.
    """
    files = ", ".join("'" + p.replace("'", "''") + "'" for p in paths)
    return f"CREATE VIEW {view} AS SELECT * FROM read_parquet([{files}], union_by_name=true, hive_partitioning=false)"


def _folder(catalog_uri: str) -> Path | None:
    if not catalog_uri.startswith(SQLITE_PREFIX):
        return None
    return Path(catalog_uri[len(SQLITE_PREFIX) :]).parent / "query-cache"


def _entry(folder: Path, metadata_location: str) -> Path:
    return folder / f"{hashlib.sha256(metadata_location.encode()).hexdigest()[:32]}.json"


def remember(catalog_uri: str, metadata_location: str, paths: list[str]) -> None:
    """Store the current snapshot's data files of the table version at ``metadata_location``."""
    folder = _folder(catalog_uri)
    if folder is None or not paths:
        return
    folder.mkdir(parents=True, exist_ok=True)
    entry = _entry(folder, metadata_location)
    pending = entry.with_name(f".{entry.name}.{os.getpid()}")
    pending.write_text(json.dumps({"metadata_location": metadata_location, "files": paths}))
    pending.replace(entry)


def cached_query(catalog_uri: str, sql: str) -> tuple[list[str], list[tuple]] | None:
    """Run ``sql`` over remembered file lists; None when any table it may name is not remembered.

    None also when DuckDB refuses the SQL: the full path then gives the lake's own message
    (which tables exist, and so on).
    """
    folder = _folder(catalog_uri)
    database = Path(catalog_uri[len(SQLITE_PREFIX) :]) if folder else None
    if folder is None or not database.is_file() or not folder.is_dir():
        return None
    words = set(re.findall(r"[a-z_][a-z0-9_]*", sql.lower()))
    try:
        with contextlib.closing(sqlite3.connect(f"file:{database}?mode=ro", uri=True)) as conn:
            tables = conn.execute(
                "SELECT table_namespace, table_name, metadata_location FROM iceberg_tables"
            ).fetchall()
    except sqlite3.Error:
        return None
    views = []
    for namespace, name, location in tables:
        if name.lower() not in words:
            continue
        entry = _entry(folder, location)
        try:
            stored = json.loads(entry.read_text())
        except (OSError, ValueError):
            return None
        if stored.get("metadata_location") != location:
            return None
        views.append((namespace, name, stored["files"]))
    import duckdb

    conn = duckdb.connect()
    try:
        for namespace in {t[0] for t in tables}:
            conn.execute(f'CREATE SCHEMA IF NOT EXISTS "{namespace}"')
        for namespace, name, files in views:
            conn.execute(parquet_view_sql(f'"{namespace}"."{name}"', files))
        try:
            cursor = conn.execute(sql)
        except duckdb.Error:
            return None
        return [d[0] for d in cursor.description or []], [tuple(r) for r in cursor.fetchall()]
    finally:
        conn.close()
