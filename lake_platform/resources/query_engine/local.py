"""DuckDB over the files of each Iceberg snapshot: the embedded default."""

from __future__ import annotations

import re

from lake_glue.snapshot_files import parquet_view_sql, remember
from lake_platform.query_cache import cached_query
from lake_platform.resources.query_engine.base import QueryEngine, QueryError, QueryResult


def _snapshot_for(table, as_of: str | None):
    """The snapshot ``as_of`` names for ``table`` (current when None); None if the table is empty then."""
    if as_of is None:
        return table.current_snapshot()
    if as_of.isdigit():
        snapshot = table.snapshot_by_id(int(as_of))
        return snapshot if snapshot is not None else table.current_snapshot()
    from datetime import datetime, timezone

    try:
        moment = datetime.fromisoformat(as_of.replace("Z", "+00:00"))
    except ValueError:
        raise QueryError(f"--as-of {as_of!r} is neither a snapshot id nor an ISO-8601 timestamp") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return table.snapshot_as_of_timestamp(int(moment.timestamp() * 1000))


class DuckDBQueryEngine(QueryEngine):
    """DuckDB over the files of each Iceberg table's current (or ``as_of``) snapshot.

    The files come from pyiceberg's scan plan, never from a folder listing, so files of a
    killed or running job, which no snapshot references, are never read. A table version whose
    file list was remembered (``lake_glue.snapshot_files``) is read from that list instead.
    """

    catalog_uri: str

    def _execute(self, sql, as_of):
        import duckdb

        from lake_glue.tables import open_catalog

        if as_of is None:
            # Tables unchanged since their version's files were remembered need no catalog load.
            cached = cached_query(self.catalog_uri, sql)
            if cached is not None:
                return QueryResult(*cached)
        catalog = open_catalog(self.catalog_uri)
        conn = duckdb.connect()
        known = []
        try:
            words = set(re.findall(r"[a-z_][a-z0-9_]*", sql.lower()))
            for namespace in catalog.list_namespaces():
                database = namespace[0]
                conn.execute(f'CREATE SCHEMA IF NOT EXISTS "{database}"')
                for identifier in catalog.list_tables(database):
                    known.append(f"{database}.{identifier[-1]}")
                    # Loading a table reads its metadata; only tables the SQL can name are loaded.
                    if identifier[-1].lower() in words:
                        self._create_view(conn, catalog.load_table(identifier), database, identifier[-1], as_of)
            try:
                cursor = conn.execute(sql)
            except duckdb.CatalogException as exc:
                # DuckDB's own hint points at its system tables; name the lake's instead.
                missing = re.search(r"Table with name (\S+) does not exist", str(exc))
                if missing:
                    tables = ", ".join(sorted(known)) or "none yet (run `lake process` first)"
                    raise QueryError(
                        f"query failed: the query names a table {missing.group(1)!r} that the lake at"
                        f" {self.catalog_uri} does not have; its tables are: {tables}"
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
        snapshot = _snapshot_for(table, as_of)
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
            remember(self.catalog_uri, table.metadata_location, paths, snapshot.snapshot_id)
