"""Pure transforms of the prepare job: one batch of source rows -> the target table's new rows.

Each write mode touches only what the batch touches:
- ``append``: the batch's ``p_ingest_day`` partition, replacing any earlier copy of the batch;
- ``upsert``: the ``p_bucket`` partitions (hash or range of the primary key) that the batch's keys fall in;
- ``overwrite``: the whole table, which is the batch itself (a snapshot);
- ``scd2``: the history of the keys the batch carries (``lake_glue.write_modes.scd2``).

The row transforms the write modes compose live below them, in ``lake_glue.transforms``; they
and ``PrepareError`` are re-exported here, where the job and the tests take them from.
"""

from __future__ import annotations

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from lake_glue.config import TableConfig
from lake_glue.transforms import duplicate_keys as duplicate_keys
from lake_glue.transforms import latest_per_key as latest_per_key
from lake_glue.transforms import merge_append as merge_append
from lake_glue.transforms import merge_upsert as merge_upsert
from lake_glue.transforms import null_violations as null_violations
from lake_glue.transforms import touched_buckets as touched_buckets
from lake_glue.transforms import with_bucket as with_bucket
from lake_glue.types import spark_type
from lake_glue.write_modes.base import PrepareError as PrepareError


def project_columns(source_df: DataFrame, table: TableConfig, prepared_at: str) -> DataFrame:
    """Select, rename, compute and cast the target columns; carry batch lineage along."""
    selected = []
    for column in table.columns:
        value = F.expr(column.expression) if column.expression else F.col(column.source_column or column.name)
        selected.append(value.cast(spark_type(column.type)).alias(column.name))
    return source_df.select(
        *selected,
        F.col("_batch_id"),
        F.col("p_ingest_day"),
        F.lit(prepared_at).cast("timestamp").alias("_prepared_at"),
    )
