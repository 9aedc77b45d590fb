"""lake_glue.catalog against moto's Glue Data Catalog: tables and partitions the jobs register.

The functions run as the Glue jobs run them: a default ``boto3.client("glue")`` that finds
moto through ``AWS_ENDPOINT_URL`` (set by the ``aws`` fixture). The configs are the
repository's own ``configs/*.json``.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path

import boto3
import pytest

from lake_glue.catalog import register_source_table, register_target_table

pytestmark = pytest.mark.aws

CONFIGS = Path(__file__).resolve().parents[1] / "configs"
SOURCE_URI = "s3://lake-source/erp/orders"
BATCH = "20260101T000000Z"
PARQUET_SERDE = "org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe"


def load(name: str) -> dict:
    return json.loads((CONFIGS / f"{name}.json").read_text())


def table_of(config: dict, name: str) -> dict:
    return next(t for t in config["table_config"] if t["table_name"] == name)


@pytest.fixture
def glue(aws):
    """moto Glue with the two configs' databases, as Terraform creates them."""
    client = boto3.client("glue")
    for database in ("erp", "sales"):
        client.create_database(DatabaseInput={"Name": database})
    return client


def columns(table: dict) -> list[tuple[str, str]]:
    return [(c["Name"], c["Type"]) for c in table["StorageDescriptor"]["Columns"]]


def partition_keys(table: dict) -> list[tuple[str, str]]:
    return [(c["Name"], c["Type"]) for c in table["PartitionKeys"]]


def partitions(glue, database: str, name: str) -> dict[tuple, str]:
    found = glue.get_partitions(DatabaseName=database, TableName=name)["Partitions"]
    return {tuple(p["Values"]): p["StorageDescriptor"]["Location"] for p in found}


def test_source_table_gets_declared_and_lineage_columns_parquet_serde_and_the_batch_partition(glue):
    erp = load("erp")
    orders = table_of(erp, "orders")

    added = register_source_table(erp, orders, SOURCE_URI, BATCH)

    assert added == 1
    table = glue.get_table(DatabaseName="erp", Name="orders")["Table"]
    assert columns(table) == [
        ("order_id", "bigint"),
        ("customer_id", "bigint"),
        ("order_status", "string"),
        ("order_total", "decimal(12,2)"),
        ("currency", "string"),
        ("ordered_at", "timestamp"),
        ("updated_at", "timestamp"),
        ("_batch_id", "string"),
        ("_source_file", "string"),
        ("_ingested_at", "timestamp"),
    ]
    assert partition_keys(table) == [("p_ingest_day", "string"), ("p_batch_id", "string")]
    assert table["StorageDescriptor"]["Location"] == SOURCE_URI
    assert table["StorageDescriptor"]["SerdeInfo"]["SerializationLibrary"] == PARQUET_SERDE
    assert table["TableType"] == "EXTERNAL_TABLE"
    assert partitions(glue, "erp", "orders") == {
        ("2026-01-01", BATCH): f"{SOURCE_URI}/p_ingest_day=2026-01-01/p_batch_id={BATCH}/"
    }


def test_registering_a_batch_again_adds_nothing_and_does_not_touch_the_table(glue):
    erp = load("erp")
    orders = table_of(erp, "orders")
    register_source_table(erp, orders, SOURCE_URI, BATCH)
    versions = len(glue.get_table_versions(DatabaseName="erp", TableName="orders")["TableVersions"])

    assert register_source_table(erp, orders, SOURCE_URI, BATCH) == 0
    assert register_source_table(erp, orders, SOURCE_URI, "20260102T063000Z") == 1

    assert [t["Name"] for t in glue.get_tables(DatabaseName="erp")["TableList"]] == ["orders"]
    assert len(glue.get_table_versions(DatabaseName="erp", TableName="orders")["TableVersions"]) == versions
    assert set(partitions(glue, "erp", "orders")) == {("2026-01-01", BATCH), ("2026-01-02", "20260102T063000Z")}


def test_a_changed_table_definition_updates_the_one_table_in_place(glue):
    erp = load("erp")
    orders = table_of(erp, "orders")
    register_source_table(erp, orders, SOURCE_URI, BATCH)

    changed = copy.deepcopy(orders)
    changed["columns"].append({"name": "channel", "type": "string", "nullable": True, "description": "web or shop"})
    changed["partitions"] = ["p_batch_id"]
    register_source_table(erp, changed, SOURCE_URI, "20260102T000000Z")

    tables = glue.get_tables(DatabaseName="erp")["TableList"]
    assert [t["Name"] for t in tables] == ["orders"]
    (table,) = tables
    assert ("channel", "string") in columns(table)
    assert {"Name": "channel", "Type": "string", "Comment": "web or shop"} in table["StorageDescriptor"]["Columns"]
    assert partition_keys(table) == [("p_batch_id", "string")]
    assert len(glue.get_table_versions(DatabaseName="erp", TableName="orders")["TableVersions"]) == 2


def test_upsert_target_is_partitioned_by_bucket_and_keeps_p_ingest_day_as_data(glue):
    sales = load("sales")
    orders = table_of(sales, "orders")
    uri = "s3://lake-target/sales/orders"

    assert register_target_table(sales, orders, uri, ["p_bucket"], [{"p_bucket": 3}, {"p_bucket": 7}]) == 2
    # The next batch touches bucket 7 again and bucket 9 for the first time.
    assert register_target_table(sales, orders, uri, ["p_bucket"], [{"p_bucket": 7}, {"p_bucket": 9}]) == 1

    table = glue.get_table(DatabaseName="sales", Name="orders")["Table"]
    assert partition_keys(table) == [("p_bucket", "int")]
    assert columns(table)[-3:] == [("_batch_id", "string"), ("p_ingest_day", "string"), ("_prepared_at", "timestamp")]
    assert partitions(glue, "sales", "orders") == {
        ("3",): f"{uri}/p_bucket=3/", ("7",): f"{uri}/p_bucket=7/", ("9",): f"{uri}/p_bucket=9/"
    }


def test_append_target_is_partitioned_by_day_and_overwrite_target_has_no_partitions(glue):
    sales = load("sales")
    lines_uri, customers_uri = "s3://lake-target/sales/order_lines", "s3://lake-target/sales/customers"

    added = register_target_table(
        sales, table_of(sales, "order_lines"), lines_uri, ["p_ingest_day"], [{"p_ingest_day": "2026-01-01"}]
    )
    assert added == 1
    lines = glue.get_table(DatabaseName="sales", Name="order_lines")["Table"]
    assert partition_keys(lines) == [("p_ingest_day", "string")]
    assert "p_ingest_day" not in dict(columns(lines))

    assert register_target_table(sales, table_of(sales, "customers"), customers_uri, [], []) == 0
    customers = glue.get_table(DatabaseName="sales", Name="customers")["Table"]
    assert customers["PartitionKeys"] == []
    # The overwrite snapshot drops p_ingest_day, so the catalog does not declare it.
    assert [name for name, _ in columns(customers)][-2:] == ["_batch_id", "_prepared_at"]
    assert "p_ingest_day" not in dict(columns(customers))


def test_more_partitions_than_one_batch_create_call_takes_are_all_added(glue):
    sales = load("sales")
    written = [{"p_bucket": b} for b in range(250)]

    added = register_target_table(sales, table_of(sales, "orders"), "s3://lake-target/sales/orders", ["p_bucket"], written)

    assert added == 250
    assert len(partitions(glue, "sales", "orders")) == 250


def test_partition_values_that_do_not_match_the_keys_are_refused(glue):
    sales = load("sales")
    with pytest.raises(ValueError, match=r"lacks keys \['p_bucket'\]"):
        register_target_table(
            sales, table_of(sales, "orders"), "s3://lake-target/sales/orders", ["p_bucket"], [{"p_ingest_day": "x"}]
        )


def test_a_missing_database_is_an_error_not_a_silent_skip(aws):
    with pytest.raises(Exception, match="EntityNotFoundException"):
        register_source_table(load("erp"), table_of(load("erp"), "orders"), SOURCE_URI, BATCH)
