"""Prepare transforms on a real local SparkSession: projection, upsert, append, buckets."""

import pytest

from lake_glue.config import TableConfig
from lake_glue.prepare import (
    latest_per_key,
    merge_append,
    merge_upsert,
    null_violations,
    project_columns,
    touched_buckets,
    with_bucket,
)

SCHEMA = "id bigint, status string, updated int, _batch_id string, p_ingest_day string"


def test_upsert_keeps_the_latest_row_per_key_by_order_by(spark):
    existing = spark.createDataFrame([(1, "NEW", 1, "b1", "d"), (2, "NEW", 1, "b1", "d")], SCHEMA)
    batch = spark.createDataFrame([(1, "PAID", 5, "b2", "d"), (3, "NEW", 2, "b2", "d")], SCHEMA)
    rows = {r["id"]: r["status"] for r in merge_upsert(existing, batch, ["id"], ["updated"]).collect()}
    assert rows == {1: "PAID", 2: "NEW", 3: "NEW"}


def test_upsert_does_not_let_a_replayed_older_batch_win(spark):
    existing = spark.createDataFrame([(1, "PAID", 5, "b2", "d")], SCHEMA)
    replay = spark.createDataFrame([(1, "NEW", 1, "b1", "d")], SCHEMA)
    assert merge_upsert(existing, replay, ["id"], ["updated"]).first()["status"] == "PAID"


def test_ties_on_order_by_go_to_the_later_batch(spark):
    df = spark.createDataFrame([(1, "OLD", 5, "b1", "d"), (1, "NEW", 5, "b2", "d")], SCHEMA)
    assert latest_per_key(df, ["id"], ["updated"]).first()["status"] == "NEW"


def test_append_replaces_an_earlier_copy_of_the_same_batch(spark):
    existing = spark.createDataFrame([(1, "a", 1, "b1", "d"), (2, "b", 1, "b2", "d")], SCHEMA)
    rerun = spark.createDataFrame([(2, "b", 1, "b2", "d")], SCHEMA)
    assert sorted(r["id"] for r in merge_append(existing, rerun, "b2").collect()) == [1, 2]


def test_bucket_of_a_key_is_stable_and_within_range(spark):
    df = spark.createDataFrame([(i, "x", 1, "b", "d") for i in range(200)], SCHEMA)
    first = {r["id"]: r["p_bucket"] for r in with_bucket(df, ["id"], 8).collect()}
    again = {r["id"]: r["p_bucket"] for r in with_bucket(df.orderBy("id", ascending=False), ["id"], 8).collect()}
    assert first == again
    assert set(first.values()) == set(range(8))


def test_range_buckets_hold_bucket_width_consecutive_keys(spark):
    df = spark.createDataFrame([(i, "x", 1, "b", "d") for i in (0, 49, 50, 1234)], SCHEMA)
    buckets = {r["id"]: r["p_bucket"] for r in with_bucket(df, ["id"], 8, "range", 50).collect()}
    assert buckets == {0: 0, 49: 0, 50: 1, 1234: 24}


def test_a_small_batch_touches_only_the_buckets_of_its_keys(spark):
    df = with_bucket(spark.createDataFrame([(42, "x", 1, "b", "d")], SCHEMA), ["id"], 64)
    assert len(touched_buckets(df)) == 1


def test_projection_renames_computes_casts_and_keeps_lineage(spark):
    source = spark.createDataFrame(
        [(2, "3.50", "b1", "2026-01-01")], "qty int, price string, _batch_id string, p_ingest_day string"
    )
    table = TableConfig.model_validate(
        {
            "table_name": "lines",
            "columns": [
                {"name": "quantity", "type": "bigint", "source_column": "qty"},
                {
                    "name": "amount",
                    "type": "decimal(12,2)",
                    "expression": "qty * price",
                    "source_columns": ["qty", "price"],
                },
            ],
        }
    )
    row = project_columns(source, table, "2026-01-02 00:00:00").first()
    assert row["quantity"] == 2 and str(row["amount"]) == "7.00"
    assert row["_batch_id"] == "b1" and row["p_ingest_day"] == "2026-01-01"


def test_null_violations_count_required_columns_that_became_null(spark):
    df = spark.createDataFrame([(None, "x"), (1, None)], "a int, b string")
    columns = [{"name": "a", "type": "int", "nullable": False}, {"name": "b", "type": "string"}]
    table = TableConfig.model_validate({"table_name": "t", "columns": columns})
    assert null_violations(df, table) == {"a": 1}


@pytest.mark.parametrize("existing", [None])
def test_upsert_without_existing_rows_deduplicates_the_batch(spark, existing):
    batch = spark.createDataFrame([(1, "NEW", 1, "b1", "d"), (1, "PAID", 2, "b1", "d")], SCHEMA)
    assert [r["status"] for r in merge_upsert(existing, batch, ["id"], ["updated"]).collect()] == ["PAID"]
