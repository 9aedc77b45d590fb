"""Glue job ``files-spark-ingest-default``: one landed batch -> typed source-layer Parquet.

Arguments (Glue style, ``--key value``): ``--config_name``, ``--table_name``, ``--batch_id``,
``--config_source`` (``dynamodb://table`` or ``file:///dir``), ``--raw_bucket``,
``--source_bucket`` and optionally ``--lake_env`` (``aws`` registers the table in the Glue
Data Catalog and talks to Dagster through S3). Arguments Glue adds itself are ignored.
"""

from __future__ import annotations

import json
import sys
from datetime import datetime, timezone

from lake_glue.args import parse_job_args
from lake_glue.configs import find_table, load_config_item
from lake_glue.ingest import REASON_COLUMN, add_lineage, cast_and_validate, read_landed_batch
from lake_glue.report import open_reporter
from lake_glue.spark import get_spark, set_log_level
from lake_glue.storage import delete_path, join_uri, list_files, path_exists

REQUIRED = ["config_name", "table_name", "batch_id", "config_source", "raw_bucket", "source_bucket"]
OPTIONAL = {"lake_env": "local"}


class IngestError(RuntimeError):
    """The batch cannot be ingested; the message names the batch and what is wrong."""


def source_partitions(table: dict) -> list[str]:
    """Source-layer partition columns: the configured ones, always ending in ``p_batch_id``."""
    parts = [p for p in table.get("partitions", []) if p != "p_batch_id"]
    return parts + ["p_batch_id"]


def batch_partition_path(table_uri: str, table: dict, batch_id: str) -> str:
    """The folder holding exactly one batch of a source table."""
    values = {"p_ingest_day": f"{batch_id[0:4]}-{batch_id[4:6]}-{batch_id[6:8]}", "p_batch_id": batch_id}
    return join_uri(table_uri, *[f"{p}={values[p]}" for p in source_partitions(table)])


def run_ingest(spark, args: dict, config: dict, reporter) -> dict:
    """Ingest one batch and return the figures reported to Dagster."""
    table = find_table(config, args["table_name"])
    batch_id = args["batch_id"]
    batch_uri = join_uri(
        f"s3://{args['raw_bucket']}", config["source"]["landing_prefix"], table["table_name"], batch_id
    )
    label = f"batch {config['config_name']}.{table['table_name']}/{batch_id}"
    if not path_exists(spark, join_uri(batch_uri, "_SUCCESS")):
        raise IngestError(f"{label}: {batch_uri}/_SUCCESS is missing; the batch is not complete")
    files = list_files(spark, batch_uri)
    if not files:
        raise IngestError(f"{label}: no data files under {batch_uri}")
    fmt = table.get("format") or config["source"].get("format", "csv")
    ingested_at = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M:%S")

    raw = read_landed_batch(spark, batch_uri, table, fmt, config["source"].get("options", {}))
    raw = add_lineage(raw, batch_id, ingested_at).persist()
    try:
        landed_rows = raw.count()
    except Exception as exc:
        if "CSV header does not conform" in str(exc):
            detail = str(exc).split("CSV header does not conform", 1)[1].split("\tat ", 1)[0]
            raise IngestError(f"{label}: CSV header does not conform{detail.rstrip()}") from None
        raise
    valid, rejected = cast_and_validate(raw, table["columns"])

    table_uri = join_uri(f"s3://{args['source_bucket']}", config["target"]["prefix"], table["table_name"])
    batch_path = batch_partition_path(table_uri, table, batch_id)
    quarantine_uri = join_uri(
        f"s3://{args['source_bucket']}", "quarantine", config["target"]["prefix"], table["table_name"]
    )
    quarantine_path = join_uri(quarantine_uri, f"p_batch_id={batch_id}")
    # A re-run must replace the batch, including when it now yields no rows on one side.
    delete_path(spark, batch_path)
    delete_path(spark, quarantine_path)
    max_rows = int(config.get("job_settings", {}).get("num_rows_per_file", 500000))
    (
        valid.write.mode("overwrite")
        .option("maxRecordsPerFile", max_rows)
        .partitionBy(*source_partitions(table))
        .parquet(table_uri)
    )
    (
        rejected.drop("p_ingest_day")
        .write.mode("overwrite")
        .partitionBy("p_batch_id")
        .json(quarantine_uri)
    )
    raw.unpersist()

    # Count what was written, not what was planned: the reconciliation check is only worth
    # something if it reads the outputs back.
    source_rows = spark.read.parquet(batch_path).count() if path_exists(spark, batch_path) else 0
    quarantined_rows, reasons = 0, []
    if path_exists(spark, quarantine_path):
        # Read as text: counting lines needs no JSON schema inference pass.
        lines = spark.read.text(quarantine_path)
        quarantined_rows = lines.count()
        reasons = [json.loads(r.value).get(REASON_COLUMN) for r in lines.limit(5).collect()]
    figures = {
        "batch_id": batch_id,
        "landed_files": len(files),
        "landed_rows": landed_rows,
        "source_rows": source_rows,
        "quarantined_rows": quarantined_rows,
        "source_uri": batch_path,
        "table_uri": table_uri,
        "quarantine_uri": quarantine_path,
        "quarantine_examples": reasons,
        "format": fmt,
    }
    if args.get("lake_env") == "aws":
        from lake_glue.catalog import register_source_table

        figures["glue_partitions_added"] = register_source_table(config, table, table_uri, batch_id)
    return figures


def main(argv: list[str]) -> dict:
    """Entry point: parse Glue arguments, run the ingest, report the figures."""
    args = parse_job_args(argv, REQUIRED, OPTIONAL)
    spark = get_spark(f"files-spark-ingest-default:{args['config_name']}.{args['table_name']}")
    config = load_config_item(args["config_source"], args["config_name"])
    set_log_level(spark, config)
    with open_reporter(argv, args["lake_env"]) as reporter:
        figures = run_ingest(spark, args, config, reporter)
        reporter.log.info(
            f"ingested {figures['landed_rows']} landed rows: {figures['source_rows']} to source,"
            f" {figures['quarantined_rows']} quarantined"
        )
        reporter.report_asset_materialization(metadata=figures, data_version=args["batch_id"])
    return figures


if __name__ == "__main__":
    main(sys.argv[1:])
