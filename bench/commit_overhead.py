"""Benchmark: the price of safety, an Iceberg commit per batch vs the previous plain-Parquet write.

Both sides write the same source-layer batch (same rows, same partition columns) on the same
SparkSession, alternating A, B for several rounds with a new batch id each round, so both
tables grow alike:

- **A, plain Parquet** (the layout before Iceberg): ``partitionBy(p_ingest_day, p_batch_id)``
  with dynamic partition overwrite straight into the table folder. No commit point: a kill
  mid-write leaves a half batch visible.
- **B, Iceberg** (what the jobs do now): Spark writes the files to a fresh folder
  (``lake_glue.tables.write_files``), then pyiceberg commits "delete p_batch_id=<batch> + add
  files" on a SQLite catalog (``lake_glue.tables.commit``).

Usage::

    .venv/bin/python bench/commit_overhead.py [--sizes 1000,100000] [--rounds 5]

Prints per batch size the median seconds of A, of B, of B's commit alone, and B/A.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from pathlib import Path

from lake_platform.settings import ensure_java_environment


def main() -> None:
    """Time both writes for each batch size and print the medians."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000,100000")
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()

    root = Path(tempfile.mkdtemp(prefix="commit_bench_"))
    ensure_java_environment()
    os.environ["LAKE_LOCAL_BUCKET_ROOT"] = str(root)
    os.environ["LAKE_LOCAL_BUCKETS"] = "bench"
    from pyiceberg.expressions import EqualTo
    from pyspark.sql import functions as F

    from lake_glue.spark import get_spark
    from lake_glue.tables import TableSpec, arrow_schema_of, commit, load_table, open_catalog, write_files

    spark = get_spark("commit_bench", {"spark.ui.showConsoleProgress": "false"})
    spark.sparkContext.setLogLevel("ERROR")
    catalog = open_catalog(f"sqlite:///{root / 'catalog.sqlite'}")

    def batch(rows: int, batch_id: str):
        return spark.range(rows).select(
            F.col("id").alias("order_id"),
            (F.col("id") % 97).alias("customer_id"),
            F.lit("NEW").alias("order_status"),
            (F.col("id") % 1000 / 100).cast("decimal(12,2)").alias("order_total"),
            F.current_timestamp().alias("_ingested_at"),
            F.lit(batch_id).alias("_batch_id"),
            F.lit("2026-01-01").cast("date").alias("p_ingest_day"),
            F.lit(batch_id).alias("p_batch_id"),
        )

    print(
        f"{'rows':>8} {'A plain':>9} {'B iceberg':>10} {'B commit':>9} {'B/A':>6}   (median s of {args.rounds} rounds)"
    )
    for size in [int(s) for s in args.sizes.split(",")]:
        spec = TableSpec("bench", f"t{size}", f"s3://bench/iceberg_{size}", ["p_ingest_day", "p_batch_id"])
        plain = f"s3://bench/plain_{size}"
        table = None
        a_times, b_times, commit_times = [], [], []
        for n in range(args.rounds + 1):
            batch_id = f"202601{n + 1:02d}T000000Z"
            df = batch(size, batch_id).cache()
            df.count()
            if table is None:
                table = load_table(catalog, spec, arrow_schema_of(df.schema))
            start = time.perf_counter()
            df.write.mode("overwrite").partitionBy("p_ingest_day", "p_batch_id").parquet(plain)
            a = time.perf_counter() - start

            start = time.perf_counter()
            _, files = write_files(spark, df, spec, 500_000)
            written = time.perf_counter()
            table = commit(
                table, delete_filter=EqualTo("p_batch_id", batch_id), files=files, summary={"lake.batch-id": batch_id}
            )
            done = time.perf_counter()
            df.unpersist()
            if n == 0:
                continue  # warm-up round: JIT, first table creation
            a_times.append(a)
            b_times.append(done - start)
            commit_times.append(done - written)
        a_med, b_med, c_med = (statistics.median(x) for x in (a_times, b_times, commit_times))
        print(f"{size:>8} {a_med:>9.3f} {b_med:>10.3f} {c_med:>9.3f} {b_med / a_med:>6.2f}")


if __name__ == "__main__":
    main()
