"""Query engine: DuckDB over the files of each Iceberg snapshot locally, Athena in AWS.

Tables are addressed as ``<database>.<table>`` in both, the database being a config's
``target.database``; results come back as ``QueryResult`` in both.
"""

from __future__ import annotations

from abc import abstractmethod
from dataclasses import dataclass

import dagster as dg


@dataclass(frozen=True)
class QueryResult:
    """Column names and rows (tuples of Python values)."""

    columns: list[str]
    rows: list[tuple]


class QueryError(RuntimeError):
    """A query failed; the message carries the engine's reason."""


class QueryEngine(dg.ConfigurableResource):
    """Runs analyst SQL against the lake's tables (abstract: DuckDB locally, Athena in AWS)."""

    def query(self, sql: str, as_of: str | None = None) -> QueryResult:
        """Run ``sql`` with every lake table visible as ``database.table``.

        ``as_of`` (a snapshot id, or an ISO-8601 UTC timestamp) reads the tables as they were
        then: time travel over Iceberg snapshots, where the engine supports it in this form.
        Every failure is a :class:`QueryError` carrying the engine's reason.
        """
        if not sql or not sql.strip():
            raise QueryError('no SQL given: pass a statement, e.g. "select * from sales.orders limit 5"')
        return self._execute(sql, as_of)

    @abstractmethod
    def _execute(self, sql: str, as_of: str | None) -> QueryResult:
        """Run non-empty ``sql`` in this engine."""
