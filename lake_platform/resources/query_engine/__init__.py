"""Query engine: DuckDB over the files of each Iceberg snapshot locally, Athena in AWS.

The interface is in ``base``; ``local`` holds the embedded default and ``aws`` the AWS implementation.
"""

from lake_platform.resources.query_engine.base import QueryEngine, QueryError, QueryResult

__all__ = ["QueryEngine", "QueryError", "QueryResult"]
