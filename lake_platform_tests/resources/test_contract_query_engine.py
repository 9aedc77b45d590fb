"""Contract of the query engine: DuckDB over the local catalog and Athena (on moto) must answer alike.

Every test runs against both. The local case builds a real Iceberg table in a SQLite catalog and
DuckDB reads its committed files. moto 5.2.5 executes no SQL, so the AWS case gives Athena the
result rows a real Athena returns for that table and statement (text cells, a header row, column
types), and the engine must turn them into the same Python values DuckDB returns. What moto
cannot produce (paging, a FAILED query, a timeout) is in ``test_athena_query_engine.py``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

import boto3
import pyarrow as pa
import pytest

from lake_platform.assets.checks import duplicate_keys_sql
from lake_platform.resources.catalog import LakeCatalog
from lake_platform.resources.query_engine.aws import AthenaQueryEngine
from lake_platform.resources.query_engine.base import QueryEngine, QueryError
from lake_platform.resources.query_engine.local import DuckDBQueryEngine
from lake_platform_tests.resources.test_athena_query_engine import canned_results

REGION = "eu-west-1"
WORKGROUP = "lake-analysts"
SCHEMA = pa.schema(
    [
        ("order_id", pa.int64()),
        ("currency", pa.string()),
        ("order_total", pa.decimal128(12, 2)),
        ("shipped", pa.bool_()),
        ("ordered_on", pa.date32()),
        ("updated_at", pa.timestamp("us")),
    ]
)
ATHENA_TYPES = {
    "order_id": "bigint",
    "currency": "varchar",
    "order_total": "decimal",
    "shipped": "boolean",
    "ordered_on": "date",
    "updated_at": "timestamp",
}
ROWS = [
    (1001, "EUR", Decimal("12.50"), True, date(2026, 1, 1), datetime(2026, 1, 1, 10, 15, 0, 123000)),
    (1002, None, None, False, None, None),
    (1002, "USD", Decimal("-0.10"), None, date(2026, 1, 2), datetime(2026, 1, 2, 0, 0)),
]


def athena_text(value) -> str | None:
    """A cell as Athena's result set carries it: text, or nothing for NULL."""
    if value is None:
        return None
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, datetime):
        return value.isoformat(sep=" ", timespec="milliseconds")
    return str(value)


@dataclass
class Lake:
    """The engine under contract and a way to give it the ``sales.orders`` table."""

    engine: QueryEngine
    kind: str
    catalog_uri: str = ""
    endpoint: str = ""

    def given_orders(self, rows: list[tuple], answer: list[tuple], columns: list[str]) -> None:
        """``sales.orders`` holds ``rows``; the next query's true answer is ``answer`` over ``columns``.

        Locally the rows are committed to a real Iceberg table and DuckDB computes the answer
        itself; Athena on moto is handed the answer as Athena would send it.
        """
        if self.kind == "local":
            from lake_glue.tables import open_catalog

            catalog = open_catalog(self.catalog_uri)
            catalog.create_namespace_if_not_exists("sales")
            table = catalog.create_table_if_not_exists(("sales", "orders"), schema=SCHEMA)
            table.append(pa.Table.from_pylist([dict(zip(SCHEMA.names, r)) for r in rows], schema=SCHEMA))
            return
        types = {**ATHENA_TYPES, "_col0": "bigint", "duplicates": "bigint"}
        result = {
            "rows": [{"Data": [{"VarCharValue": c} for c in columns]}]
            + [{"Data": [{} if v is None else {"VarCharValue": athena_text(v)} for v in r]} for r in answer],
            "column_info": [{"Name": c, "Label": c, "Type": types[c]} for c in columns],
        }
        canned_results(self.endpoint, result)


@pytest.fixture(params=["local", pytest.param("aws", marks=pytest.mark.aws)])
def lake(request, tmp_path) -> Lake:
    """DuckDB over a fresh SQLite catalog, or Athena in a fresh moto workgroup."""
    if request.param == "local":
        uri = f"sqlite:///{tmp_path / 'catalog.sqlite'}"
        return Lake(DuckDBQueryEngine(catalog=LakeCatalog(uri=uri)), "local", catalog_uri=uri)
    endpoint = request.getfixturevalue("aws")
    boto3.client("athena", region_name=REGION).create_work_group(
        Name=WORKGROUP, Configuration={"ResultConfiguration": {"OutputLocation": "s3://lake-athena-results/r/"}}
    )
    engine = AthenaQueryEngine(
        workgroup=WORKGROUP, region_name=REGION, endpoint_url=endpoint, initial_poll_seconds=0.01, max_poll_seconds=0.05
    )
    return Lake(engine, "aws", endpoint=endpoint)


def test_rows_come_back_as_python_values_typed_by_column(lake):
    columns = list(SCHEMA.names)
    lake.given_orders(ROWS, answer=ROWS, columns=columns)

    result = lake.engine.query("SELECT * FROM sales.orders ORDER BY order_id, currency NULLS FIRST")

    assert result.columns == columns
    assert result.rows == ROWS


def test_an_aggregate_is_an_int_the_primary_key_check_can_compare(lake):
    lake.given_orders(ROWS, answer=[(1,)], columns=["_col0"])

    result = lake.engine.query(duplicate_keys_sql("sales.orders", ["order_id"]))

    assert result.rows == [(1,)] and isinstance(result.rows[0][0], int)


def test_an_empty_result_keeps_its_columns(lake):
    lake.given_orders(ROWS, answer=[], columns=["order_id", "currency"])

    result = lake.engine.query("SELECT order_id, currency FROM sales.orders WHERE order_id < 0")

    assert result.columns == ["order_id", "currency"] and result.rows == []


@pytest.mark.parametrize("sql", ["", "   \n"])
def test_no_sql_is_refused_with_an_example_before_any_engine_is_asked(lake, sql):
    with pytest.raises(QueryError, match='no SQL given: pass a statement, e.g. "select'):
        lake.engine.query(sql)
