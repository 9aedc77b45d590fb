"""AthenaQueryEngine: SQL through Athena, results in the local engine's shape.

moto 5.2.5 executes no SQL; it returns canned results, configured through
``POST /moto-api/static/athena/query-results``, for the next query that asks. Those tests cover
the workgroup, the header row of SELECT results and the typing by column metadata, through the
real client against the moto server. Two behaviours moto cannot produce are checked with a
botocore ``Stubber`` on a real Athena client (the requests are still validated against the
Athena API model): a result spread over two pages (moto returns every canned row in one page
and never a ``NextToken``) and a FAILED query with its reason (moto's executions only ever
reach SUCCEEDED).
"""

from __future__ import annotations

import json
import urllib.request
from datetime import date, datetime
from decimal import Decimal

import boto3
import pytest
from botocore.stub import ANY, Stubber

from lake_platform.assets.checks import duplicate_keys_sql
from lake_platform.resources.query_engine.aws import AthenaQueryEngine, convert_value
from lake_platform.resources.query_engine.base import QueryError

pytestmark = pytest.mark.aws

REGION = "eu-west-1"
WORKGROUP = "lake-analysts"


def canned_results(endpoint: str, *results: dict) -> None:
    """Queue moto's answers for the next queries (one dict with rows/column_info each)."""
    body = json.dumps({"account_id": "123456789012", "region": REGION, "results": list(results)}).encode()
    request = urllib.request.Request(
        f"{endpoint}/moto-api/static/athena/query-results",
        data=body,
        method="POST",
        headers={"Content-Type": "application/json"},
    )
    assert urllib.request.urlopen(request).status == 201


def row(*values: str | None) -> dict:
    return {"Data": [{} if v is None else {"VarCharValue": v} for v in values]}


def column(name: str, athena_type: str) -> dict:
    return {"Name": name, "Label": name, "Type": athena_type}


@pytest.fixture
def engine(aws) -> AthenaQueryEngine:
    boto3.client("athena", region_name=REGION).create_work_group(
        Name=WORKGROUP, Configuration={"ResultConfiguration": {"OutputLocation": "s3://lake-athena-results/results/"}}
    )
    return AthenaQueryEngine(
        workgroup=WORKGROUP, region_name=REGION, endpoint_url=aws, initial_poll_seconds=0.01, max_poll_seconds=0.05
    )


def test_select_drops_the_header_row_and_types_values_by_column_metadata(engine, aws):
    info = [
        column("order_id", "bigint"),
        column("currency", "varchar"),
        column("order_total", "decimal"),
        column("share", "double"),
        column("shipped", "boolean"),
        column("ordered_on", "date"),
        column("updated_at", "timestamp"),
    ]
    canned_results(
        aws,
        {
            "rows": [
                row("order_id", "currency", "order_total", "share", "shipped", "ordered_on", "updated_at"),
                row("1001", "EUR", "12.50", "0.25", "true", "2026-01-01", "2026-01-01 10:15:00.123"),
                row("1002", None, None, None, "false", None, None),
            ],
            "column_info": info,
        },
    )
    sql = "SELECT * FROM sales.orders ORDER BY order_id"

    result = engine.query(sql)

    assert result.columns == ["order_id", "currency", "order_total", "share", "shipped", "ordered_on", "updated_at"]
    assert result.rows == [
        (1001, "EUR", Decimal("12.50"), 0.25, True, date(2026, 1, 1), datetime(2026, 1, 1, 10, 15, 0, 123000)),
        (1002, None, None, None, False, None, None),
    ]
    athena = boto3.client("athena", region_name=REGION)
    (query_id,) = athena.list_query_executions(WorkGroup=WORKGROUP)["QueryExecutionIds"]
    assert athena.get_query_execution(QueryExecutionId=query_id)["QueryExecution"]["Query"] == sql


def test_a_count_comes_back_as_an_int_like_duckdb_returns_it(engine, aws):
    canned_results(aws, {"rows": [row("_col0"), row("0")], "column_info": [column("_col0", "bigint")]})

    result = engine.query(duplicate_keys_sql("sales.orders", ["order_id"]))

    # The primary_key_unique check reads rows[0][0] and compares it with 0.
    assert result.rows == [(0,)] and result.rows[0][0] == 0


def test_utility_statements_have_no_header_row_to_drop(engine, aws):
    canned_results(aws, {"rows": [row("orders"), row("order_lines")], "column_info": [column("tab_name", "string")]})

    result = engine.query("SHOW TABLES IN sales")

    assert result.rows == [("orders",), ("order_lines",)]


def stubbed_engine() -> tuple[AthenaQueryEngine, Stubber]:
    client = boto3.client("athena", region_name=REGION, aws_access_key_id="x", aws_secret_access_key="x")
    engine = AthenaQueryEngine(workgroup=WORKGROUP, initial_poll_seconds=0.0, max_poll_seconds=0.0).use_clients(
        athena=client
    )
    return engine, Stubber(client)


def execution(state: str, statement_type: str = "DML", reason: str | None = None) -> dict:
    status = {"State": state}
    if reason:
        status["StateChangeReason"] = reason
    return {"QueryExecution": {"QueryExecutionId": "q-1", "StatementType": statement_type, "Status": status}}


def test_results_over_several_pages_are_all_read_and_only_the_first_page_has_a_header():
    engine, stub = stubbed_engine()
    info = {"ColumnInfo": [{"Name": "order_id", "Type": "bigint"}, {"Name": "status", "Type": "varchar"}]}
    stub.add_response(
        "start_query_execution", {"QueryExecutionId": "q-1"}, {"QueryString": ANY, "WorkGroup": WORKGROUP}
    )
    stub.add_response("get_query_execution", execution("QUEUED"), {"QueryExecutionId": "q-1"})
    stub.add_response("get_query_execution", execution("RUNNING"), {"QueryExecutionId": "q-1"})
    stub.add_response("get_query_execution", execution("SUCCEEDED"), {"QueryExecutionId": "q-1"})
    stub.add_response(
        "get_query_results",
        {
            "ResultSet": {
                "Rows": [row("order_id", "status"), row("1", "open"), row("2", "paid")],
                "ResultSetMetadata": info,
            },
            "NextToken": "page-2",
        },
        {"QueryExecutionId": "q-1", "MaxResults": 1000},
    )
    stub.add_response(
        "get_query_results",
        # A data row that happens to look like the header must survive on later pages.
        {"ResultSet": {"Rows": [row("3", "shipped"), row(None, "status")], "ResultSetMetadata": info}},
        {"QueryExecutionId": "q-1", "MaxResults": 1000, "NextToken": "page-2"},
    )

    with stub:
        result = engine.query("SELECT order_id, status FROM sales.orders")
    stub.assert_no_pending_responses()

    assert result.columns == ["order_id", "status"]
    assert result.rows == [(1, "open"), (2, "paid"), (3, "shipped"), (None, "status")]


def test_a_failed_query_raises_with_athenas_reason():
    engine, stub = stubbed_engine()
    reason = "COLUMN_NOT_FOUND: line 1:8: Column 'order_totl' cannot be resolved"
    stub.add_response(
        "start_query_execution", {"QueryExecutionId": "q-1"}, {"QueryString": ANY, "WorkGroup": WORKGROUP}
    )
    stub.add_response("get_query_execution", execution("RUNNING"), {"QueryExecutionId": "q-1"})
    stub.add_response("get_query_execution", execution("FAILED", reason=reason), {"QueryExecutionId": "q-1"})

    with stub, pytest.raises(QueryError) as failure:
        engine.query("SELECT order_totl FROM sales.orders")

    assert str(failure.value) == f"Athena query q-1 FAILED in workgroup {WORKGROUP}: {reason}"


def test_a_query_that_outlives_its_timeout_is_stopped():
    engine, stub = stubbed_engine()
    engine = engine.model_copy(update={"query_timeout_seconds": 0.0}).use_clients(athena=engine.client)
    stub.add_response(
        "start_query_execution", {"QueryExecutionId": "q-1"}, {"QueryString": ANY, "WorkGroup": WORKGROUP}
    )
    stub.add_response("get_query_execution", execution("RUNNING"), {"QueryExecutionId": "q-1"})
    stub.add_response("stop_query_execution", {}, {"QueryExecutionId": "q-1"})

    with stub, pytest.raises(QueryError, match="did not finish within 0s; stopped"):
        engine.query("SELECT * FROM sales.orders")
    stub.assert_no_pending_responses()


@pytest.mark.parametrize(
    ("athena_type", "text", "expected"),
    [
        ("integer", "7", 7),
        ("decimal(12,2)", "-0.10", Decimal("-0.10")),
        ("real", "NaN", "nan"),
        ("timestamp", "2026-01-01 00:00:00.000", datetime(2026, 1, 1)),
        ("array(varchar)", "[a, b]", "[a, b]"),
        ("bigint", None, None),
    ],
)
def test_convert_value_by_athena_type(athena_type, text, expected):
    value = convert_value(athena_type, text)
    assert (str(value) if expected == "nan" else value) == expected
