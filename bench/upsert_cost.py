"""Benchmark: incremental upsert (only the touched p_bucket partitions) vs a full-table rewrite.

Both strategies merge the same batch into the same target table with the same transforms as
``dapfw-prepare-default`` (``lake_glue.prepare``) and write the result as Parquet, in the same
run and on the same SparkSession. Two bucketings are measured:

- ``hash`` (``num_buckets``), with updates spread over the whole key space;
- ``range`` (``bucket_width``), with growing keys: updates to the most recent keys plus new keys.

Usage::

    .venv/bin/python bench/upsert_cost.py [--rows 1000000] [--buckets 64] [--ranges 100]

It prints, per bucketing and batch size: buckets touched, rows rewritten and seconds for each
strategy.
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import time
from pathlib import Path

from lake_platform.settings import ensure_java_environment


def main() -> None:
    """Build bucketed target tables, then time both strategies for several batch sizes."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--buckets", type=int, default=64, help="hash buckets")
    parser.add_argument("--ranges", type=int, default=100, help="range buckets (width = rows / ranges)")
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
    width = max(1, args.rows // args.ranges)
    bucketings = {
        "hash": lambda df: with_bucket(df, ["order_id"], args.buckets),
        "range": lambda df: with_bucket(df, ["order_id"], args.buckets, "range", width),
    }

    def orders(ids, batch_id):
        return ids.select(
            F.col("id").alias("order_id"),
            (F.col("id") % 97).alias("customer_id"),
            F.lit(batch_id).alias("order_status"),
            F.lit(batch_id).alias("_batch_id"),
            F.current_timestamp().alias("updated_at"),
        )

    def batch_ids(kind, n, size):
        new = spark.range(args.rows + n * size, args.rows + n * size + size - size // 2)
        if kind == "hash":
            # Updates spread evenly over the existing keys.
            step = args.rows // max(1, size // 2)
            updates = spark.range(0, size // 2).select((F.col("id") * step).alias("id"))
        else:
            # Updates to the most recent keys, as happens with orders.
            updates = spark.range(max(0, args.rows - size // 2), args.rows)
        return updates.unionByName(new)

    print(
        f"{'bucketing':>9} {'batch keys':>10} {'buckets':>8} {'rows rewritten':>15} {'incremental s':>14}"
        f" {'full rewrite s':>15} {'speed-up':>9}"
    )
    sizes = [int(s) for s in args.batches.split(",")]
    for kind, bucket in bucketings.items():
        target = str(root / f"target_{kind}")
        bucket(orders(spark.range(0, args.rows), "b0")).write.partitionBy("p_bucket").parquet(target)
        # The first size runs twice and its first figures are dropped: a cold JVM would otherwise
        # penalise whichever strategy happens to run first.
        for n, size in enumerate([sizes[0]] + sizes):
            batch = bucket(orders(batch_ids(kind, n, size), "b1")).cache()
            batch.count()

            started = time.perf_counter()
            buckets = touched_buckets(batch)
            existing = spark.read.option("basePath", target).parquet(
                *[f"{target}/p_bucket={b}" for b in buckets if Path(f"{target}/p_bucket={b}").exists()]
            )
            merged = merge_upsert(existing, batch, ["order_id"], ["updated_at"])
            merged.write.mode("overwrite").partitionBy("p_bucket").parquet(str(root / f"inc_{kind}_{n}"))
            incremental = time.perf_counter() - started
            rewritten = spark.read.parquet(str(root / f"inc_{kind}_{n}")).count()

            started = time.perf_counter()
            merged_all = merge_upsert(spark.read.parquet(target), batch, ["order_id"], ["updated_at"])
            merged_all.write.mode("overwrite").partitionBy("p_bucket").parquet(str(root / f"full_{kind}_{n}"))
            full = time.perf_counter() - started
            batch.unpersist()
            if n == 0:
                continue
            print(
                f"{kind:>9} {size:>10,} {len(buckets):>8} {rewritten:>15,} {incremental:>14.2f} {full:>15.2f}"
                f" {full / incremental:>8.1f}x"
            )
    print(f"target: {args.rows:,} rows; hash: {args.buckets} buckets; range: {args.ranges} buckets of {width:,} keys")
    spark.stop()
    shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
