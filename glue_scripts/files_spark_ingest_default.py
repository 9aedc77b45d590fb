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

from lake_glue.configs import find_table
from lake_glue.entrypoint import run_job
from lake_glue.ingest import (
    REASON_COLUMN,
    add_lineage,
    cast_and_validate,
    explain_header_mismatch,
    read_landed_batch,
    undeclared_json_fields,
)
from lake_glue.layout import source_batch_path, source_partitions
from lake_glue.storage import delete_path, join_uri, list_files, path_exists

REQUIRED = ["config_name", "table_name", "batch_id", "config_source", "raw_bucket", "source_bucket"]


class IngestError(RuntimeError):
    """The batch cannot be ingested; the message names the batch and what is wrong."""


def run_ingest(spark, args: dict, config: dict) -> dict:
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
        problem = explain_header_mismatch(str(exc))
        if problem:
            raise IngestError(f"{label}: {problem}") from None
        raise
    valid, rejected = cast_and_validate(raw, table["columns"])
    # CSV headers are checked against the declared columns by the reader; JSON keys are not.
    undeclared = (
        undeclared_json_fields(spark.read.text(batch_uri), [c["name"] for c in table["columns"]])
        if fmt == "jsonl"
        else {}
    )

    table_uri = join_uri(f"s3://{args['source_bucket']}", config["target"]["prefix"], table["table_name"])
    batch_path = source_batch_path(table_uri, table, batch_id)
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
        "undeclared_fields": undeclared,
        "format": fmt,
    }
    if args.get("lake_env") == "aws":
        from lake_glue.catalog import register_source_table

        figures["glue_partitions_added"] = register_source_table(config, table, table_uri, batch_id)
    return figures


def main(argv: list[str]) -> dict:
    """Entry point: parse Glue arguments, run the ingest, report the figures."""
    return run_job(
        argv,
        "files-spark-ingest-default",
        REQUIRED,
        run_ingest,
        lambda f: f"ingested {f['landed_rows']} landed rows: {f['source_rows']} to source,"
        f" {f['quarantined_rows']} quarantined",
    )


if __name__ == "__main__":
    main(sys.argv[1:])
