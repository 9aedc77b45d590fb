"""Benchmark: incremental upsert (only the touched p_bucket partitions) vs a full-table rewrite.

Both strategies merge the same batch into the same target table with the same transforms as
``dapfw-prepare-default`` (``lake_glue.prepare``) and write the result as Parquet, in the same
run and on the same SparkSession. Usage:

    .venv/bin/python bench/upsert_cost.py [--rows 1000000] [--buckets 64]

It prints, per batch size: buckets touched, rows rewritten and seconds for each strategy.
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import time
from pathlib import Path

from lake_platform.settings import ensure_java_environment


def main() -> None:
    """Build a bucketed target table, then time both strategies for several batch sizes."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--buckets", type=int, default=64)
    parser.add_argument("--batches", default="10,100,1000,100000")
    args = parser.parse_args()

    ensure_java_environment()
    from pyspark.sql import functions as F

    from lake_glue.prepare import merge_upsert, touched_buckets, with_bucket
    from lake_glue.spark import get_spark

    root = Path(tempfile.mkdtemp(prefix="upsert_bench_"))
    spark = get_spark(
        "upsert_bench",
        {"spark.master": "local[2]", "spark.ui.enabled": "false", "spark.sql.shuffle.partitions": "8"},
    )
    spark.sparkContext.setLogLevel("ERROR")

    def rows(start, count, batch_id):
        return spark.range(start, start + count).select(
            F.col("id").alias("order_id"),
            (F.col("id") % 97).alias("customer_id"),
            F.lit(batch_id).alias("order_status"),
            F.lit(batch_id).alias("_batch_id"),
            F.current_timestamp().alias("updated_at"),
        )

    target = str(root / "target")
    with_bucket(rows(0, args.rows, "b0"), ["order_id"], args.buckets).write.partitionBy("p_bucket").parquet(target)
    print(f"target: {args.rows:,} rows in {args.buckets} p_bucket partitions ({root})")
    print(f"{'batch keys':>10} {'buckets':>8} {'rows rewritten':>15} {'incremental s':>14} {'full rewrite s':>15} {'speed-up':>9}")

    sizes = [int(s) for s in args.batches.split(",")]
    # The first size runs twice and its first figures are dropped: a cold JVM would otherwise
    # penalise whichever strategy happens to run first.
    for n, size in enumerate([sizes[0]] + sizes):
        # Half updates of existing keys spread over the table, half new keys.
        updates = spark.range(0, size // 2).select((F.col("id") * (args.rows // max(1, size // 2))).alias("id"))
        batch = updates.unionByName(spark.range(args.rows + n * size, args.rows + n * size + size - size // 2))
        batch = with_bucket(
            batch.select(
                F.col("id").alias("order_id"), (F.col("id") % 97).alias("customer_id"), F.lit("b1").alias("order_status"),
                F.lit("b1").alias("_batch_id"), F.current_timestamp().alias("updated_at"),
            ),
            ["order_id"], args.buckets,
        ).cache()
        batch.count()

        started = time.perf_counter()
        buckets = touched_buckets(batch)
        existing = spark.read.option("basePath", target).parquet(*[f"{target}/p_bucket={b}" for b in buckets])
        merged = merge_upsert(existing, batch, ["order_id"], ["updated_at"])
        merged.write.mode("overwrite").partitionBy("p_bucket").parquet(str(root / f"inc_{n}"))
        incremental = time.perf_counter() - started
        rewritten = spark.read.parquet(str(root / f"inc_{n}")).count()

        started = time.perf_counter()
        merged_all = merge_upsert(spark.read.parquet(target), batch, ["order_id"], ["updated_at"])
        merged_all.write.mode("overwrite").partitionBy("p_bucket").parquet(str(root / f"full_{n}"))
        full = time.perf_counter() - started

        if n == 0:
            batch.unpersist()
            continue
        print(f"{size:>10,} {len(buckets):>8} {rewritten:>15,} {incremental:>14.2f} {full:>15.2f} {full / incremental:>8.1f}x")
        batch.unpersist()
    spark.stop()
    shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
