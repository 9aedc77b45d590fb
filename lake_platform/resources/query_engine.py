"""Query engine: DuckDB over the local Parquet folders, Athena in AWS.

Tables are addressed as ``<database>.<table>`` in both, the database being a config's
``target.database``; results come back as ``QueryResult`` in both.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import dagster as dg

from lake_platform.config import IngestConfig, PrepareConfig


@dataclass(frozen=True)
class QueryResult:
    """Column names and rows (tuples of Python values)."""

    columns: list[str]
    rows: list[tuple]


class QueryError(RuntimeError):
    """A query failed; the message carries the engine's reason."""


class QueryEngine(dg.ConfigurableResource):
    """Runs analyst SQL against the lake's tables."""

    def query(self, sql: str, configs: list[IngestConfig | PrepareConfig]) -> QueryResult:
        """Run ``sql`` with every config's tables visible as ``database.table``."""
        raise NotImplementedError


class DuckDBQueryEngine(QueryEngine):
    """DuckDB views over the Parquet folders that local Spark wrote."""

    bucket_root: str
    source_bucket: str
    target_bucket: str

    def table_location(self, config: IngestConfig | PrepareConfig, table_name: str) -> Path:
        """Folder holding a table's Parquet files."""
        bucket = self.source_bucket if config.config_type == "spark_ingest" else self.target_bucket
        return Path(self.bucket_root) / bucket / config.target.prefix / table_name

    def query(self, sql, configs):
        import duckdb

        conn = duckdb.connect()
        try:
            for config in configs:
                conn.execute(f'CREATE SCHEMA IF NOT EXISTS "{config.target.database}"')
                for table in config.table_config:
                    location = self.table_location(config, table.table_name)
                    if not any(location.rglob("*.parquet")):
                        continue
                    conn.execute(
                        f'CREATE VIEW "{config.target.database}"."{table.table_name}" AS SELECT * FROM'
                        f" read_parquet('{location}/**/*.parquet', hive_partitioning=true,"
                        " hive_types_autocast=false, union_by_name=true)"
                    )
            try:
                cursor = conn.execute(sql)
            except duckdb.Error as exc:
                raise QueryError(f"query failed: {exc}") from None
            columns = [d[0] for d in cursor.description or []]
            return QueryResult(columns, [tuple(r) for r in cursor.fetchall()])
        finally:
            conn.close()
