"""``lake query``'s shortcut: answer from the remembered file lists of the tables' current
versions (:mod:`lake_glue.snapshot_files`), without loading pyiceberg, the resources or Dagster.

Any table the SQL may name that has no remembered list for the version the catalog points at
sends the query the full way (``DuckDBQueryEngine``), which gives the lake's own messages.
"""

from __future__ import annotations

import contextlib
import json
import re
import sqlite3
from pathlib import Path

from lake_glue.snapshot_files import SQLITE_PREFIX, cache_folder, entry_path, parquet_view_sql


def utc_duckdb():
    """A DuckDB connection whose session runs in UTC: answers never depend on the machine's zone.

    DuckDB casts a date or naive timestamp literal compared with a ``timestamptz`` column in the
    session's zone (the machine's by default); Athena and the Glue jobs use UTC.
    """
    import duckdb

    conn = duckdb.connect()
    conn.execute("SET TimeZone = 'UTC'")
    return conn


def cached_query(catalog_uri: str, sql: str) -> tuple[list[str], list[tuple]] | None:
    """Run ``sql`` over remembered file lists; None when any table it may name is not remembered.

    None also when DuckDB refuses the SQL: the full path then gives the lake's own message
    (which tables exist, and so on).
    """
    if not sql.strip():
        # No statement: the full path refuses it with the lake's message.
        return None
    folder = cache_folder(catalog_uri)
    if folder is None or not folder.is_dir():
        return None
    database = Path(catalog_uri[len(SQLITE_PREFIX) :])
    if not database.is_file():
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
        entry = entry_path(folder, location)
        try:
            stored = json.loads(entry.read_text())
        except (OSError, ValueError):
            return None
        if stored.get("metadata_location") != location:
            return None
        views.append((namespace, name, stored["files"]))
    import duckdb

    engine = utc_duckdb()
    try:
        for namespace in {t[0] for t in tables}:
            engine.execute(f'CREATE SCHEMA IF NOT EXISTS "{namespace}"')
        for namespace, name, files in views:
            engine.execute(parquet_view_sql(f'"{namespace}"."{name}"', files))
        try:
            cursor = engine.execute(sql)
        except duckdb.Error:
            return None
        return [d[0] for d in cursor.description or []], [tuple(r) for r in cursor.fetchall()]
    finally:
        engine.close()
