"""Spark transforms of a batch's rows that the write modes compose (``lake_glue.write_modes``).

Keeping the latest row per key, bucketing keys, merging a batch into the rows it replaces, and
counting key and null violations. These sit below both the write modes and the prepare job
(``lake_glue.prepare``, which re-exports them), so neither imports the other to reach them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pyspark.sql import DataFrame, Window
from pyspark.sql import functions as F

if TYPE_CHECKING:
    from lake_glue.config import TableConfig


def null_violations(df: DataFrame, table: TableConfig) -> dict[str, int]:
    """Counts of nulls in columns declared not nullable (e.g. after a narrowing cast)."""
    required = [c.name for c in table.columns if not c.nullable]
    if not required:
        return {}
    # An aggregate without grouping always yields exactly one row.
    row = df.select(*[F.sum(F.col(c).isNull().cast("long")).alias(c) for c in required]).collect()[0]
    return {c: int(row[c] or 0) for c in required if row[c]}


def latest_per_key(df: DataFrame, primary_key: list[str], order_by: list[str]) -> DataFrame:
    """Keep one row per primary key, deterministically.

    The greatest ``order_by`` wins; a null ``order_by`` value sorts below every value, so a row
    with a null never replaces a row with a value. Ties (and tables without ``order_by``) go to
    the later batch, then to the greater hash of the row's values, so the same input always
    yields the same rows whatever order Spark reads it in.
    """
    data_columns = [c for c in df.columns if not c.startswith("_")]
    ordering = [F.col(c).desc_nulls_last() for c in order_by] + [
        F.col("_batch_id").desc(),
        F.xxhash64(*[F.col(c) for c in data_columns]).desc(),
    ]
    window = Window.partitionBy(*primary_key).orderBy(*ordering)
    return df.withColumn("__rn", F.row_number().over(window)).where("__rn = 1").drop("__rn")


def duplicate_keys(df: DataFrame, primary_key: list[str]) -> int:
    """How many primary-key values occur more than once in ``df``."""
    return df.groupBy(*primary_key).count().where("count > 1").count()


def with_bucket(
    df: DataFrame, primary_key: list[str], num_buckets: int, bucket_by: str = "hash", bucket_width: int | None = None
) -> DataFrame:
    """Add ``p_bucket``, a function of the primary key alone, so a key never changes partition.

    ``hash`` spreads keys evenly over ``num_buckets``; ``range`` puts ``bucket_width``
    consecutive integer keys in one bucket, so with ever-growing keys (order ids) new rows and
    updates to recent ones land in the last few buckets and a bucket never grows past its width.
    """
    if bucket_by == "range":
        if not bucket_width or len(primary_key) != 1:
            raise ValueError("range buckets need bucket_width and a single integer primary key")
        bucket = F.floor(F.col(primary_key[0]) / F.lit(bucket_width))
    else:
        bucket = F.pmod(F.xxhash64(*primary_key), F.lit(num_buckets))
    return df.withColumn("p_bucket", bucket.cast("int"))


def touched_buckets(batch_df: DataFrame) -> list[int]:
    """The ``p_bucket`` values a bucketed batch writes to."""
    return sorted(r["p_bucket"] for r in batch_df.select("p_bucket").distinct().collect())


def merge_upsert(
    existing: DataFrame | None, batch: DataFrame, primary_key: list[str], order_by: list[str]
) -> DataFrame:
    """The new content of the touched buckets: existing rows and batch rows, latest per key."""
    combined = batch if existing is None else existing.unionByName(batch, allowMissingColumns=True)
    return latest_per_key(combined, primary_key, order_by)


def merge_append(existing: DataFrame | None, batch: DataFrame, batch_id: str) -> DataFrame:
    """The new content of the batch's day partition: other batches' rows plus this batch.

    Dropping rows of the same batch first makes a re-run replace, not duplicate, the batch.
    """
    if existing is None:
        return batch
    return existing.where(F.col("_batch_id") != batch_id).unionByName(batch, allowMissingColumns=True)
