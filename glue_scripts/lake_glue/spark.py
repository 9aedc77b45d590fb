"""SparkSession construction that is identical in Glue and on a laptop, apart from storage.

In Glue the session already exists and ``s3://`` is EMRFS. Locally there are no S3 jars, so
Hadoop's ViewFs overload scheme maps each bucket to a folder under ``LAKE_LOCAL_BUCKET_ROOT``
and the job code keeps its ``s3://`` URIs unchanged.
"""

from __future__ import annotations

import os
import sys
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from lake_glue.config import IngestConfig, PrepareConfig

LOCAL_ROOT_ENV = "LAKE_LOCAL_BUCKET_ROOT"
LOCAL_BUCKETS_ENV = "LAKE_LOCAL_BUCKETS"
JAVA_OPTIONS_ENV = "LAKE_SPARK_JAVA_OPTIONS"

COMMON_CONF = {
    "spark.sql.session.timeZone": "UTC",
    "spark.sql.ansi.enabled": "false",
    "spark.sql.legacy.timeParserPolicy": "CORRECTED",
    "spark.sql.sources.partitionOverwriteMode": "dynamic",
    "spark.sql.parquet.outputTimestampType": "TIMESTAMP_MICROS",
    # Dates before 1582-10-15 (ERP sentinels such as 0001-01-01) and timestamps before 1900 are
    # written as they landed, in the proleptic Gregorian calendar that Athena, DuckDB and
    # Iceberg use; the default (EXCEPTION) fails the whole write on every retry.
    "spark.sql.parquet.datetimeRebaseModeInWrite": "CORRECTED",
    "spark.sql.parquet.int96RebaseModeInWrite": "CORRECTED",
    "spark.sql.parquet.datetimeRebaseModeInRead": "CORRECTED",
    "spark.sql.parquet.int96RebaseModeInRead": "CORRECTED",
}


def local_bucket_conf(root: str | Path, buckets: list[str]) -> dict[str, str]:
    """Hadoop settings that make ``s3://<bucket>/...`` and ``s3a://`` resolve to ``root/<bucket>``."""
    root = Path(root).resolve()
    conf: dict[str, str] = {}
    for scheme in ("s3", "s3a"):
        conf[f"spark.hadoop.fs.{scheme}.impl"] = "org.apache.hadoop.fs.viewfs.ViewFileSystemOverloadScheme"
        conf[f"spark.hadoop.fs.viewfs.overload.scheme.target.{scheme}.impl"] = "org.apache.hadoop.fs.RawLocalFileSystem"
        conf[f"spark.hadoop.fs.{scheme}.impl.disable.cache"] = "true"
    for bucket in buckets:
        (root / bucket).mkdir(parents=True, exist_ok=True)
        conf[f"spark.hadoop.fs.viewfs.mounttable.{bucket}.linkFallback"] = f"file://{root / bucket}"
    return conf


def jvm_launch_conf() -> dict[str, str]:
    """The local settings that only take effect when the JVM starts (heap, JVM options).

    A job that runs on the shared local JVM (``lake_platform.spark_gateway``) finds them
    already applied: the gateway starts its JVM with these same settings.
    """
    return {
        "spark.driver.memory": os.environ.get("LAKE_SPARK_DRIVER_MEMORY", "2g"),
        # Whole-stage code generation and the C2 compiler stay on: measured on a 300,000-row
        # batch they cut the write from 8.7 s to 3.6 s, while a 1,000-row job took the same
        # time either way (bench/ingest_throughput.py).
        "spark.driver.extraJavaOptions": " ".join(["-XX:+UseParallelGC", os.environ.get(JAVA_OPTIONS_ENV, "")]).strip(),
    }


def release_spark(spark: Any) -> None:
    """End the job's use of Spark: stop the session when the JVM is a shared one.

    On a shared local JVM (``PYSPARK_GATEWAY_PORT`` set by the local runner) only one Spark
    context can be active, so a job must stop its own before the next job starts one. Glue,
    and a job with a JVM of its own, end with the process as before.
    """
    if os.environ.get("PYSPARK_GATEWAY_PORT"):
        context = spark.sparkContext
        # PySpark's stop() then waits for its accumulator server to see a shutdown request, which
        # the server polls for every 0.5 s: half a second of every local job. The context stops on
        # the JVM as before; the server (a daemon thread of this process) shuts down unwaited.
        server, context._accumulatorServer = getattr(context, "_accumulatorServer", None), None
        spark.stop()
        if server is not None:
            threading.Thread(target=server.shutdown, daemon=True).start()


def get_spark(app_name: str, extra_conf: dict[str, str] | None = None) -> Any:
    """Return the job's SparkSession: Glue's own in AWS, a configured ``local[*]`` one locally.

    The local mapping is switched on by the environment (``LAKE_LOCAL_BUCKET_ROOT`` and
    ``LAKE_LOCAL_BUCKETS``, a comma list), never by job arguments, so a job receives exactly the
    arguments Glue would pass it.
    """
    from pyspark.sql import SparkSession

    builder = SparkSession.builder.appName(app_name)
    conf = dict(COMMON_CONF)
    root = os.environ.get(LOCAL_ROOT_ENV)
    if root:
        buckets = [b for b in os.environ.get(LOCAL_BUCKETS_ENV, "").split(",") if b]
        conf.update(local_bucket_conf(root, buckets))
        # Python workers import lake_glue (the record parser runs in tasks); Glue ships it with
        # --extra-py-files, locally the workers inherit PYTHONPATH from the JVM this starts.
        package_root = str(Path(__file__).resolve().parent.parent)
        paths = [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p]
        if package_root not in paths:
            os.environ["PYTHONPATH"] = os.pathsep.join([package_root, *paths])
        # The workers need the driver's packages (pyarrow for the Arrow transfer), so the same
        # interpreter, unless the caller chose one.
        os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
        conf.update(
            {
                "spark.master": os.environ.get("LAKE_SPARK_MASTER", "local[2]"),
                "spark.ui.enabled": "false",
                "spark.sql.shuffle.partitions": os.environ.get("LAKE_SPARK_SHUFFLE_PARTITIONS", "4"),
                **jvm_launch_conf(),
            }
        )
    conf.update(extra_conf or {})
    for key, value in conf.items():
        builder = builder.config(key, value)
    return builder.getOrCreate()


def set_log_level(spark: Any, config: IngestConfig | PrepareConfig) -> None:
    """Apply ``job_settings.logging_lvl``; Spark's own INFO chatter is kept for DEBUG only."""
    level = config.job_settings.logging_lvl
    spark.sparkContext.setLogLevel({"DEBUG": "INFO", "INFO": "WARN"}.get(level, level))
