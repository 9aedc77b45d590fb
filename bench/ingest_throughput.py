"""Benchmark: the ingest job on local Spark against DuckDB ``COPY`` with the same casts.

One generated orders CSV (the shipped ``erp.orders`` columns, ``;``-delimited, ``dd/MM/yyyy HH:mm:ss`` times),
ingested alternately, A then B, for several rounds, each round under a new batch id:

- **A, lake ingest**: ``run_ingest`` of ``files-spark-ingest-default`` on one SparkSession
  (started before the rounds, so JVM start-up is excluded): parse the bytes into records,
  cast and validate, write the valid rows (one pass over the file), read their lineage back
  to reconcile, commit to the Iceberg catalog.
- **C, Spark's own CSV reader**: ``spark.read.csv`` with the same casts to Parquet on the same
  session: the floor any ingest on local Spark starts from (reported with the figure).
- **B, DuckDB**: ``COPY (SELECT <the same casts> FROM read_csv(..., all_varchar)) TO parquet``
  in the same process, same 2 cores. It does less (no quarantine, no reconciliation, no
  commit): it is the floor a plain CSV-to-typed-Parquet tool sets.

Usage::

    .venv/bin/python bench/ingest_throughput.py [--rows 300000] [--rounds 3]   # --rows 3000000 for the large size

Prints min and median seconds of each side and two ratios against their goals: the lake's
throughput at least 0.7x Spark's own CSV reader (C/A, the cost of fidelity), and at least 0.33x
DuckDB's (B/A). A warm-up round runs first and is not counted.
"""

from __future__ import annotations

import json
import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

from lake_platform.settings import ensure_java_environment

sys.path.insert(0, str(Path(__file__).resolve().parent))
from harness import Figure, alternate, bench_parser, ingest_orders, load_average, report  # noqa: E402

REPO = Path(__file__).resolve().parent.parent
HEADER = "order_id;customer_id;order_status;order_total;currency;ordered_at;updated_at\n"


def _generate(path: Path, rows: int) -> None:
    rnd = random.Random(7)
    statuses, currencies = ["NEW", "PAID", "SHIPPED", "CANCELLED"], ["EUR", "USD", "ZAR"]
    with open(path, "w", encoding="utf-8") as f:
        f.write(HEADER)
        for i in range(1, rows + 1):
            day, hour = rnd.randint(1, 28), rnd.randint(0, 23)
            stamp = f"{day:02d}/01/2026 {hour:02d}:{rnd.randint(0, 59):02d}:{rnd.randint(0, 59):02d}"
            f.write(
                f"{i};{rnd.randint(1, 5000)};{rnd.choice(statuses)};{rnd.randint(100, 999999) / 100:.2f};"
                f"{rnd.choice(currencies)};{stamp};{stamp}\n"
            )


DUCKDB_COPY = """
COPY (
  SELECT CAST(order_id AS BIGINT) AS order_id, CAST(customer_id AS BIGINT) AS customer_id, order_status,
         CAST(order_total AS DECIMAL(12,2)) AS order_total, currency,
         strptime(ordered_at, '%d/%m/%Y %H:%M:%S') AS ordered_at,
         strptime(updated_at, '%d/%m/%Y %H:%M:%S') AS updated_at
  FROM read_csv('{src}', header=true, delim=';', all_varchar=true)
) TO '{dst}' (FORMAT parquet)
"""


def measure(rows: int = 300_000, rounds: int = 3) -> list[Figure]:
    """Alternate both sides and return the throughput figure."""
    root = Path(tempfile.mkdtemp(prefix="ingest_bench_"))
    ensure_java_environment()
    os.environ["LAKE_LOCAL_BUCKET_ROOT"] = str(root)
    os.environ["LAKE_LOCAL_BUCKETS"] = "lake-raw,lake-source"

    import duckdb

    from lake_glue.spark import get_spark

    config = json.loads((REPO / "configs" / "erp.json").read_text())
    csv_path = root / "orders.csv"
    _generate(csv_path, rows)
    size_mb = csv_path.stat().st_size / 1e6
    spark = get_spark("ingest_bench", {"spark.ui.showConsoleProgress": "false"})
    spark.sparkContext.setLogLevel("ERROR")
    catalog = f"sqlite:///{root / 'catalog.sqlite'}"

    def lake(round_no: int) -> float:
        batch = f"202601{round_no + 1:02d}T000000Z"
        folder = root / "lake-raw" / config["source"]["landing_prefix"] / "orders" / batch
        folder.mkdir(parents=True)
        os.link(csv_path, folder / "orders.csv")
        (folder / "_SUCCESS").write_bytes(b"")
        started = time.perf_counter()
        figures = ingest_orders(spark, config, batch, catalog)
        assert figures["source_rows"] == rows, figures
        return time.perf_counter() - started

    def duck(round_no: int) -> float:
        started = time.perf_counter()
        con = duckdb.connect()
        con.execute("SET threads = 2")
        con.execute(DUCKDB_COPY.format(src=csv_path, dst=root / f"duck-{round_no}.parquet"))
        con.close()
        return time.perf_counter() - started

    def spark_csv(round_no: int) -> float:
        # Spark's own CSV reader with the same casts straight to Parquet: no physical records,
        # quarantine, reconciliation or commit. The floor of any ingest on local Spark.
        from pyspark.sql import functions as F

        started = time.perf_counter()
        df = spark.read.csv(str(csv_path), sep=";", header=True)
        stamp = "dd/MM/yyyy HH:mm:ss"
        df.select(
            F.col("order_id").cast("bigint"),
            F.col("customer_id").cast("bigint"),
            "order_status",
            F.col("order_total").cast("decimal(12,2)"),
            "currency",
            F.to_timestamp("ordered_at", stamp).alias("ordered_at"),
            F.to_timestamp("updated_at", stamp).alias("updated_at"),
        ).write.parquet(str(root / f"spark-{round_no}"))
        return time.perf_counter() - started

    lake(rounds)  # warm-up: the JVM compiles the parse, cast and write paths once
    spark_csv(rounds)
    times = alternate({"lake": lake, "duckdb": duck, "spark": spark_csv}, rounds)
    spark.stop()
    lake_s, duck_s, spark_s = (statistics.median(times[k]) for k in ("lake", "duckdb", "spark"))
    label = f"{rows:,} rows / {size_mb:.0f} MB CSV (JVM start excluded)"
    return [
        Figure(
            f"ingest fidelity vs Spark's own CSV reader, {label}",
            times["lake"],
            times["spark"],
            "spark.read.csv with the same casts straight to Parquet, same session",
            goal=0.7,
            at_least=True,
            ratio_of="alternative / ours",
            note=f"lake {rows / lake_s:,.0f} rows/s, Spark's reader {rows / spark_s:,.0f} rows/s",
            why_not=f"the lake's ingest takes {lake_s - spark_s:.1f} s over Spark's reader: one pass parses the"
            " physical records in a Python worker (Arrow kernels), casts, and writes the valid rows; then the"
            " stored rows' lineage (_source_file, _source_line) is read back to reconcile, the catalog commit runs,"
            " and only a batch with rejects is parsed again for its quarantine. Spark's reader has no Python hop,"
            " no per-record identity, no quarantine and no reconciliation. Meeting 0.7x would take the"
            " physical-record splitter on the JVM side (a Scala DataSource) so the rows never cross to Python.",
        ),
        Figure(
            f"ingest throughput, {label}",
            times["lake"],
            times["duckdb"],
            "DuckDB COPY with the same casts, same 2 cores",
            goal=0.33,
            at_least=True,
            ratio_of="alternative / ours",
            note=f"lake {rows / lake_s:,.0f} rows/s",
            why_not=f"Spark's own CSV reader with the same casts, straight to Parquet on the same session, takes"
            f" {spark_s:.1f} s: local Spark alone reaches {duck_s / spark_s:.2f}x DuckDB, so no ingest on local"
            f" Spark meets 0.33x on 2 cores. The lake's ingest adds {lake_s - spark_s:.1f} s for physical records,"
            " the quarantine, the reconciliation and the commit. Meeting it would take a local ingest path outside"
            " Spark (DuckDB or Arrow behind the same job contract and tests); on Glue the fixed per-stage cost is"
            " spread over larger batches.",
        ),
    ]


def main() -> None:
    """Print the figure."""
    parser = bench_parser(__doc__)
    parser.add_argument("--rows", type=int, default=300_000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    start = load_average()
    figures = measure(args.rows, args.rounds)
    report(figures, start, args.json)


if __name__ == "__main__":
    main()
