"""Query engine for AWS: Amazon Athena over the Glue Data Catalog.

The Glue jobs register every table and partition they write (``lake_glue.catalog``), so Athena
already knows ``<database>.<table>`` for every config; unlike the local DuckDB engine nothing
has to be set up per query. Results come back in
the local engine's shape: column names and tuples of Python values typed from Athena's column
metadata (``bigint`` -> ``int``, ``decimal`` -> ``Decimal``, ``timestamp`` -> ``datetime``...).
"""

from __future__ import annotations

import re
import time
from datetime import date, datetime, timezone
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from lake_platform.resources.aws import AwsResource
from lake_platform.resources.query_engine.base import QueryEngine, QueryError, QueryResult

_INTEGER_TYPES = frozenset({"tinyint", "smallint", "integer", "int", "bigint"})
_FLOAT_TYPES = frozenset({"double", "float", "real"})
_FINAL_STATES = frozenset({"SUCCEEDED", "FAILED", "CANCELLED"})
# GetQueryResults returns at most 1000 rows per page.
_PAGE_SIZE = 1000


def _timestamp_with_zone(value: str) -> datetime:
    """Athena's rendering of a ``timestamp with time zone`` (``2026-01-01 10:00:00.000000 UTC``).

    The lake's timestamps are Iceberg ``timestamptz`` (instants, written in UTC), which Athena
    shows as ``timestamp(6) with time zone``; the value comes back aware, as DuckDB gives it locally.
    """
    moment, _, zone = value.rpartition(" ")
    if not moment:
        return datetime.fromisoformat(value)
    if zone in ("UTC", "Z", "Etc/UTC"):
        return datetime.fromisoformat(moment).replace(tzinfo=timezone.utc)
    if zone[:1] in "+-":
        return datetime.fromisoformat(moment + zone)
    return datetime.fromisoformat(moment).replace(tzinfo=ZoneInfo(zone))


_STRING_LITERAL = re.compile(r"('(?:[^']|'')*')")
# A database-qualified table after FROM or JOIN: `from erp.orders`, `JOIN "sales"."orders"`.
_QUALIFIED_TABLE = re.compile(r'(?i)(\b(?:from|join)\s+)("?)([a-z][a-z0-9_]*)("?\s*\.)')


def with_database_prefix(sql: str, prefix: str) -> str:
    """``sql`` with each ``FROM``/``JOIN`` database ``X.`` written as the environment's ``<prefix>X.``.

    Analysts and checks write the configs' database names (``sales.orders``); in AWS the catalog
    database is ``<project>_<environment>_sales``. A name that already carries the prefix, and
    text inside string literals, stay as written. Tables listed after a comma (``FROM a.x, b.y``)
    are not rewritten: write ``JOIN``.
    """
    if not prefix:
        return sql

    def qualify(match: re.Match) -> str:
        keyword, quote, database, rest = match.groups()
        if database.lower().startswith(prefix):
            return match.group(0)
        return f"{keyword}{quote}{prefix}{database}{rest}"

    parts = _STRING_LITERAL.split(sql)
    return "".join(part if i % 2 else _QUALIFIED_TABLE.sub(qualify, part) for i, part in enumerate(parts))


def convert_value(athena_type: str, value: str | None) -> Any:
    """One result cell as a Python value, by its Athena column type; ``None`` for NULL.

    Types without a faithful Python equivalent (arrays, maps, rows, JSON) stay as Athena's text
    rendering, and so does a value that does not parse as its type.
    """
    if value is None:
        return None
    kind = athena_type.lower().split("(", 1)[0].strip()
    try:
        if re.sub(r"\(\d+\)", "", athena_type.lower()).strip() == "timestamp with time zone":
            return _timestamp_with_zone(value)
        if kind in _INTEGER_TYPES:
            return int(value)
        if kind in _FLOAT_TYPES:
            return float(value)
        if kind == "decimal":
            return Decimal(value)
        if kind == "boolean":
            return value.lower() == "true"
        if kind == "date":
            return date.fromisoformat(value)
        if kind == "timestamp":
            return datetime.fromisoformat(value)
    except (ValueError, KeyError):  # ZoneInfoNotFoundError is a KeyError
        return value
    return value


class AthenaQueryEngine(QueryEngine, AwsResource):
    """Runs SQL through Athena in the platform's workgroup (which fixes the result location).

    ``database_prefix`` (``LAKE_GLUE_DATABASE_PREFIX``) maps the configs' database names in the
    SQL to this environment's catalog databases (:func:`with_database_prefix`).
    """

    workgroup: str
    database_prefix: str = ""
    initial_poll_seconds: float = 0.25
    max_poll_seconds: float = 2.0
    query_timeout_seconds: float = 1800.0

    @property
    def client(self) -> Any:
        """The Athena client, created on first use (no AWS call when definitions load)."""
        return self.aws("athena")

    def _execute(self, sql, as_of):
        """Run ``sql`` in Athena and return every result row, typed; raise ``QueryError`` on failure.

        Athena's time travel is per table in the SQL itself, so ``as_of`` is refused with the syntax.
        """
        if as_of is not None:
            raise QueryError(
                "Athena time travel is written per table: SELECT ... FROM sales.orders"
                " FOR TIMESTAMP AS OF TIMESTAMP '2026-01-05 02:00:00 UTC' (or FOR VERSION AS OF <snapshot id>)"
            )
        sql = with_database_prefix(sql, self.database_prefix)
        query_id = self.client.start_query_execution(QueryString=sql, WorkGroup=self.workgroup)["QueryExecutionId"]
        execution = self._wait(query_id)
        status = execution["Status"]
        if status["State"] != "SUCCEEDED":
            reason = (
                status.get("StateChangeReason")
                or status.get("AthenaError", {}).get("ErrorMessage")
                or "no reason given"
            )
            raise QueryError(f"Athena query {query_id} {status['State']} in workgroup {self.workgroup}: {reason}")
        # For DML (SELECT) Athena repeats the column names as the first row of the first page;
        # DDL and utility statements (SHOW ...) return data only.
        skip_header = execution.get("StatementType") == "DML"
        return self._results(query_id, skip_header)

    def _wait(self, query_id: str) -> dict:
        deadline = time.monotonic() + self.query_timeout_seconds
        delay = self.initial_poll_seconds
        while True:
            execution = self.client.get_query_execution(QueryExecutionId=query_id)["QueryExecution"]
            if execution["Status"]["State"] in _FINAL_STATES:
                return execution
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                # Stop it: an abandoned query keeps scanning, and Athena bills per byte scanned.
                self.client.stop_query_execution(QueryExecutionId=query_id)
                raise QueryError(
                    f"Athena query {query_id} did not finish within {self.query_timeout_seconds:g}s; stopped"
                )
            time.sleep(min(delay, remaining))
            delay = min(delay * 2, self.max_poll_seconds)

    def _results(self, query_id: str, skip_header: bool) -> QueryResult:
        columns: list[str] = []
        types: list[str] = []
        rows: list[tuple] = []
        token = None
        first_page = True
        while True:
            kwargs: dict[str, Any] = {"QueryExecutionId": query_id, "MaxResults": _PAGE_SIZE}
            if token:
                kwargs["NextToken"] = token
            page = self.client.get_query_results(**kwargs)
            result_set = page["ResultSet"]
            if first_page:
                info = result_set.get("ResultSetMetadata", {}).get("ColumnInfo", [])
                columns = [c.get("Label") or c["Name"] for c in info]
                types = [c.get("Type", "varchar") for c in info]
            page_rows = result_set.get("Rows", [])
            if first_page and skip_header and page_rows:
                page_rows = page_rows[1:]
            for row in page_rows:
                cells = [cell.get("VarCharValue") for cell in row.get("Data", [])]
                rows.append(
                    tuple(convert_value(types[i] if i < len(types) else "varchar", v) for i, v in enumerate(cells))
                )
            first_page = False
            token = page.get("NextToken")
            if not token:
                return QueryResult(columns, rows)
