"""Glue job ``dapfw-prepare-default``: one batch of a source table -> a curated target table.

Arguments (Glue style): ``--config_name`` (a ``prepare`` config), ``--table_name`` (its target
table), ``--batch_id``, ``--config_source``, ``--source_bucket``, ``--target_bucket`` and
optionally ``--lake_env``. The batch's cost grows with the batch and the partitions it
touches, never with the whole target table (see ``lake_glue.prepare``).
"""

from __future__ import annotations

import sys
import uuid
from datetime import datetime, timezone

from pyspark.sql import functions as F

from lake_glue.configs import find_table, load_config_item
from lake_glue.entrypoint import run_job
from lake_glue.layout import batch_day, source_batch_path
from lake_glue.prepare import (
    PrepareError,
    merge_append,
    merge_upsert,
    null_violations,
    project_columns,
    touched_buckets,
    with_bucket,
)
from lake_glue.storage import delete_path, join_uri, path_exists

REQUIRED = ["config_name", "table_name", "batch_id", "config_source", "source_bucket", "target_bucket"]


def _read_existing(spark, table_uri: str, partition_paths: list[str]):
    paths = [p for p in partition_paths if path_exists(spark, p)]
    if not paths:
        return None
    return spark.read.option("basePath", table_uri).parquet(*paths)


def _replace_partitions(spark, df, table_uri: str, partitions: list[str], staging_root: str, max_rows: int):
    """Write ``df`` over its partitions of ``table_uri`` via a staging copy.

    The merged rows are computed from the very partitions being replaced; writing them
    straight back would delete the input files before Spark has read them.
    """
    staging = join_uri(staging_root, uuid.uuid4().hex)
    try:
        df.write.mode("overwrite").partitionBy(*partitions).parquet(staging)
        staged = spark.read.parquet(staging)
        (
            staged.write.mode("overwrite")
            .option("maxRecordsPerFile", max_rows)
            .partitionBy(*partitions)
            .parquet(table_uri)
        )
    finally:
        delete_path(spark, staging)


def run_prepare(spark, args: dict, config: dict, source_config: dict | None = None) -> dict:
    """Prepare one batch of one target table and return the figures reported to Dagster.

    ``source_config`` is the ingest config the prepare config reads; loaded when not given.
    """
    if source_config is None:
        source_config = load_config_item(args["config_source"], config["source"]["config_name"])
    table = find_table(config, args["table_name"])
    batch_id = args["batch_id"]
    label = f"batch {config['config_name']}.{table['table_name']}/{batch_id}"
    source_table = find_table(source_config, table["source_table_name"])
    source_uri = join_uri(
        f"s3://{args['source_bucket']}", source_config["target"]["prefix"], source_table["table_name"]
    )
    day = batch_day(batch_id)
    batch_path = source_batch_path(source_uri, source_table, batch_id)
    if not path_exists(spark, source_uri):
        raise PrepareError(f"{label}: source table {source_uri} does not exist; ingest the batch first")
    if path_exists(spark, batch_path):
        source_df = spark.read.option("basePath", source_uri).parquet(batch_path)
    else:
        # Every row of the batch was quarantined: an empty batch, not a missing one.
        source_df = spark.read.parquet(source_uri).where(F.lit(False))
    prepared_at = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M:%S")
    batch_df = project_columns(source_df, table, prepared_at).persist()
    batch_rows = batch_df.count()
    violations = null_violations(batch_df, table)
    if violations:
        raise PrepareError(f"{label}: required columns would be null after casting: {violations}")

    mode = table.get("write_mode", "append")
    table_uri = join_uri(f"s3://{args['target_bucket']}", config["target"]["prefix"], table["table_name"])
    staging_root = join_uri(f"s3://{args['target_bucket']}", "_staging", config["target"]["prefix"], table["table_name"])
    max_rows = int(config.get("job_settings", {}).get("num_rows_per_file", 500000))
    figures = {"batch_id": batch_id, "write_mode": mode, "batch_rows": batch_rows, "table_uri": table_uri}

    if mode == "overwrite":
        partitions: list[str] = []
        current = spark.read.parquet(table_uri) if path_exists(spark, table_uri) else None
        newest = current.agg(F.max("_batch_id")).first()[0] if current is not None else None
        if newest is not None and newest > batch_id:
            figures.update(applied=False, skipped_reason=f"snapshot {newest} is newer than {batch_id}")
        else:
            # The snapshot is read from the source layer, not from this table, so it can be
            # written straight over it; with no partition columns Spark replaces the folder.
            (
                batch_df.drop("p_ingest_day")
                .write.mode("overwrite")
                .option("maxRecordsPerFile", max_rows)
                .parquet(table_uri)
            )
            figures.update(applied=True, partitions_touched=1)
    elif mode == "append":
        partitions = ["p_ingest_day"]
        existing = _read_existing(spark, table_uri, [join_uri(table_uri, f"p_ingest_day={day}")])
        merged = merge_append(existing, batch_df, batch_id)
        _replace_partitions(spark, merged, table_uri, partitions, staging_root, max_rows)
        figures.update(applied=True, partitions_touched=1)
    elif mode == "upsert":
        partitions = ["p_bucket"]
        pk, order_by = table["primary_key"], table["order_by"]
        bucketed = with_bucket(
            batch_df, pk, int(table.get("num_buckets", 16)), table.get("bucket_by", "hash"), table.get("bucket_width")
        ).persist()
        buckets = touched_buckets(bucketed)
        existing = _read_existing(spark, table_uri, [join_uri(table_uri, f"p_bucket={b}") for b in buckets])
        existing_rows = existing.count() if existing is not None else 0
        merged = merge_upsert(existing, bucketed, pk, order_by)
        if buckets:
            _replace_partitions(spark, merged, table_uri, partitions, staging_root, max_rows)
        figures.update(applied=True, partitions_touched=len(buckets), existing_rows_read=existing_rows)
        bucketed.unpersist()
    else:
        raise PrepareError(f"{label}: unknown write_mode {mode!r}")
    batch_df.unpersist()

    target_rows = spark.read.parquet(table_uri).count() if path_exists(spark, table_uri) else 0
    figures["target_rows"] = target_rows
    if args.get("lake_env") == "aws":
        from lake_glue.catalog import register_target_table

        # The partition values this batch wrote: the catalog learns them from the job, no listing.
        written = (
            [{"p_ingest_day": day}] if mode == "append"
            else [{"p_bucket": b} for b in buckets] if mode == "upsert"
            else []
        )
        figures["glue_partitions_added"] = register_target_table(config, table, table_uri, partitions, written)
    return figures


def main(argv: list[str]) -> dict:
    """Entry point: parse Glue arguments, prepare the batch, report the figures."""
    return run_job(
        argv,
        "dapfw-prepare-default",
        REQUIRED,
        run_prepare,
        lambda f: f"prepared {f['batch_rows']} rows ({f['write_mode']}); target now has {f['target_rows']} rows",
    )


if __name__ == "__main__":
    main(sys.argv[1:])
