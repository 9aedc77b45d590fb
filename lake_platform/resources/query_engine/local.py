"""DuckDB over the files of each Iceberg snapshot: the embedded default."""

from __future__ import annotations

import re

from lake_glue.snapshot_files import parquet_view_sql, remember
from lake_platform.query_cache import cached_query, utc_duckdb
from lake_platform.resources.catalog import LakeCatalog
from lake_platform.resources.query_engine.base import QueryEngine, QueryError, QueryResult


def _as_of_moment(as_of: str):
    """``--as-of`` as an aware UTC datetime (a naive one is UTC); refused when it is not ISO-8601."""
    from datetime import datetime, timezone

    try:
        moment = datetime.fromisoformat(as_of.replace("Z", "+00:00"))
    except ValueError:
        raise QueryError(f"--as-of {as_of!r} is neither a snapshot id nor an ISO-8601 timestamp") from None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=timezone.utc)


def _snapshot_for(table, name: str, as_of: str | None):
    """The snapshot ``as_of`` names for ``table`` (current when None; None if the table is empty).

    Readers are strict: an id that is not a snapshot of this table (unknown, expired, another
    table's) and a time that no retained snapshot of it covers (before its first commit, or its
    snapshot then was expired) are refused, naming the table, instead of reading current or empty data.
    """
    if as_of is None:
        return table.current_snapshot()
    if as_of.isdigit():
        snapshot = table.snapshot_by_id(int(as_of))
        if snapshot is None:
            raise QueryError(
                f"--as-of {as_of}: {name} has no snapshot with that id (unknown, expired, or another table's);"
                f" its retained snapshots: {_retained(table)}"
            )
        return snapshot
    moment = _as_of_moment(as_of)
    millis = int(moment.timestamp() * 1000)
    # The snapshot log is the table's history of current snapshots: the last entry at or
    # before the moment is what the table was then, provided that snapshot is still retained.
    entries = [e for e in table.metadata.snapshot_log if e.timestamp_ms <= millis]
    if not entries:
        current = table.current_snapshot()
        if current is not None and current.timestamp_ms <= millis and not table.metadata.snapshot_log:
            return current
        raise QueryError(
            f"--as-of {as_of}: no snapshot of {name} covers {moment.isoformat()} (the table's history starts"
            f" later or was expired); its retained snapshots: {_retained(table)}"
        )
    snapshot = table.snapshot_by_id(entries[-1].snapshot_id)
    if snapshot is None:
        raise QueryError(
            f"--as-of {as_of}: {name}'s snapshot {entries[-1].snapshot_id} of {moment.isoformat()} was expired;"
            f" its retained snapshots: {_retained(table)}"
        )
    return snapshot


def _names_qualified(sql: str, database: str, name: str) -> bool:
    """Whether ``sql`` names ``database.name`` (quoted or not), not only the bare ``name``."""
    pattern = rf'"?{re.escape(database)}"?\s*\.\s*"?{re.escape(name)}"?(?![a-z0-9_])'
    return re.search(pattern, sql, flags=re.IGNORECASE) is not None


def _retained(table) -> str:
    """The table's retained snapshots as ``id (time)``, for refusals; the newest few."""
    from datetime import datetime, timezone

    snapshots = sorted(table.snapshots(), key=lambda s: s.timestamp_ms)[-5:]
    return (
        ", ".join(
            f"{s.snapshot_id} ({datetime.fromtimestamp(s.timestamp_ms / 1000, timezone.utc).isoformat()})"
            for s in snapshots
        )
        or "none"
    )


class DuckDBQueryEngine(QueryEngine):
    """DuckDB over the files of each Iceberg table's current (or ``as_of``) snapshot.

    The files come from pyiceberg's scan plan, never from a folder listing, so files of a
    killed or running job, which no snapshot references, are never read. A table version whose
    file list was remembered (``lake_glue.snapshot_files``) is read from that list instead.
    """

    # The catalog whose tables are read (the one the jobs commit to).
    catalog: LakeCatalog

    def _execute(self, sql, as_of):
        import duckdb

        if as_of is None:
            # Tables unchanged since their version's files were remembered need no catalog load.
            cached = cached_query(self.catalog.uri, sql)
            if cached is not None:
                return QueryResult(*cached)
        catalog = self.catalog.open()
        conn = utc_duckdb()
        known = []
        # Tables --as-of could not place, whose name the SQL uses only unqualified (perhaps as a
        # column or another database's table): no view, and their refusal if the query needs them.
        refused: dict[str, str] = {}
        try:
            words = set(re.findall(r"[a-z_][a-z0-9_]*", sql.lower()))
            for namespace in catalog.list_namespaces():
                database = namespace[0]
                conn.execute(f'CREATE SCHEMA IF NOT EXISTS "{database}"')
                for identifier in catalog.list_tables(database):
                    known.append(f"{database}.{identifier[-1]}")
                    # Loading a table reads its metadata; only tables the SQL can name are loaded.
                    if identifier[-1].lower() in words:
                        name = identifier[-1]
                        try:
                            self._create_view(conn, catalog.load_table(identifier), database, name, as_of)
                        except QueryError as exc:
                            if as_of is None or _names_qualified(sql, database, name):
                                raise
                            refused[f"{database}.{name}".lower()] = str(exc)
            try:
                cursor = conn.execute(sql)
            except duckdb.CatalogException as exc:
                # DuckDB's own hint points at its system tables; name the lake's instead.
                missing = re.search(r"Table with name (\S+) does not exist", str(exc))
                if missing and missing.group(1).strip("\"'").lower() in refused:
                    raise QueryError(refused[missing.group(1).strip("\"'").lower()]) from None
                if missing:
                    tables = ", ".join(sorted(known)) or "none yet (run `lake process` first)"
                    raise QueryError(
                        f"query failed: the query names a table {missing.group(1)!r} that the lake at"
                        f" {self.catalog.uri} does not have; its tables are: {tables}"
                        " (query them as <database>.<table>)"
                    ) from None
                raise QueryError(f"query failed: {exc}") from None
            except duckdb.Error as exc:
                raise QueryError(f"query failed: {exc}") from None
            columns = [d[0] for d in cursor.description or []]
            return QueryResult(columns, [tuple(r) for r in cursor.fetchall()])
        finally:
            conn.close()

    def _create_view(self, conn, table, database: str, name: str, as_of: str | None) -> None:
        snapshot = _snapshot_for(table, f"{database}.{name}", as_of)
        view = f'"{database}"."{name}"'
        paths = []
        if snapshot is not None:
            for task in table.scan(snapshot_id=snapshot.snapshot_id).plan_files():
                if task.delete_files:
                    raise QueryError(f"{database}.{name}: row-level delete files are not read by the local engine")
                paths.append(task.file.file_path.removeprefix("file://"))
        if not paths:
            empty = f"__empty_{database}_{name}"
            conn.register(empty, table.schema().as_arrow().empty_table())
            conn.execute(f"CREATE VIEW {view} AS SELECT * FROM {empty}")
            return
        conn.execute(parquet_view_sql(view, paths))
        if as_of is None:
            remember(self.catalog.uri, table.metadata_location, paths, snapshot.snapshot_id)
