"""Register what a job wrote in the Glue Data Catalog, so that Athena can query it at once.

Registration happens **in the Glue job, right after it writes**, and nowhere else:

* the job is the one place that knows exactly what it wrote: the table's location and schema
  (from the config it just applied) and the partition values of this batch, with no listing
  and no guessing;
* the catalog is current the moment the job succeeds, so Athena (and the primary-key check
  that Dagster runs through Athena right after the target job) sees the new data without a lag;
* a Glue crawler would cost a crawler run per batch, infer types instead of using the declared
  ones, and lag behind; Dagster registering afterwards would need the job's outputs reported
  back and a second place that knows the layout.

Tables are created or, when their definition changed, updated (Parquet, declared columns plus
the platform's lineage columns); partitions are batch-created, and partitions that exist
already are fine, so a re-run of a batch is idempotent. Only boto3 and the standard library are
needed: the module runs in Glue (default credentials and region) and in tests against moto
(``AWS_ENDPOINT_URL``, which boto3 honours by itself).
"""

from __future__ import annotations

import copy
from typing import Any

import boto3

from lake_glue.layout import batch_day, source_partitions
from lake_glue.types import glue_type

PARQUET_STORAGE = {
    "InputFormat": "org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat",
    "OutputFormat": "org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat",
    "SerdeInfo": {
        "SerializationLibrary": "org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe",
        "Parameters": {"serialization.format": "1"},
    },
}
SOURCE_LINEAGE_COLUMNS = [("_batch_id", "string"), ("_source_file", "string"), ("_ingested_at", "timestamp")]
PARTITION_KEY_TYPES = {"p_ingest_day": "string", "p_batch_id": "string", "p_bucket": "int"}
# BatchCreatePartition accepts at most 100 partitions per call.
PARTITION_BATCH = 100
# Glue rejects column comments longer than 255 characters.
COMMENT_MAX = 255


def _column(name: str, type_name: str, comment: str | None = None) -> dict:
    column = {"Name": name, "Type": type_name}
    if comment:
        column["Comment"] = comment[:COMMENT_MAX]
    return column


def _declared_columns(table: dict, exclude: set[str]) -> list[dict]:
    return [
        _column(c["name"], glue_type(c["type"]), c.get("description"))
        for c in table["columns"]
        if c["name"] not in exclude
    ]


def _table_input(config: dict, table: dict, table_uri: str, columns: list[dict], partition_keys: list[dict]) -> dict:
    return {
        "Name": table["table_name"],
        "Description": (table.get("description") or "")[:2048],
        "TableType": "EXTERNAL_TABLE",
        "Parameters": {
            "classification": "parquet",
            "EXTERNAL": "TRUE",
            "lake_platform.config_name": config["config_name"],
        },
        "StorageDescriptor": {"Columns": columns, "Location": table_uri, **copy.deepcopy(PARQUET_STORAGE)},
        "PartitionKeys": partition_keys,
    }


def source_table_input(config: dict, table: dict, table_uri: str) -> dict:
    """The Glue ``TableInput`` of an ingest config's source-layer table."""
    keys = source_partitions(table)
    columns = _declared_columns(table, set(keys)) + [
        _column(name, type_name) for name, type_name in SOURCE_LINEAGE_COLUMNS if name not in keys
    ]
    partition_keys = [_column(k, PARTITION_KEY_TYPES[k]) for k in keys]
    return _table_input(config, table, table_uri, columns, partition_keys)


def target_table_input(config: dict, table: dict, table_uri: str, partitions: list[str]) -> dict:
    """The Glue ``TableInput`` of a prepare config's target table partitioned by ``partitions``."""
    columns = _declared_columns(table, set(partitions)) + [_column("_batch_id", "string")]
    # The prepare job carries p_ingest_day as data unless it partitions by it; an overwrite
    # snapshot drops it (see dapfw_prepare_default.py), so the catalog must not promise it.
    if "p_ingest_day" not in partitions and table.get("write_mode", "append") != "overwrite":
        columns.append(_column("p_ingest_day", "string"))
    columns.append(_column("_prepared_at", "timestamp"))
    partition_keys = [_column(k, PARTITION_KEY_TYPES[k]) for k in partitions]
    return _table_input(config, table, table_uri, columns, partition_keys)


def _definition(table: dict) -> dict:
    """The parts of a catalog table that registration owns (Glue adds its own fields)."""
    sd = table.get("StorageDescriptor", {})
    return {
        "Description": table.get("Description", ""),
        "TableType": table.get("TableType"),
        "Parameters": table.get("Parameters", {}),
        "Columns": sd.get("Columns", []),
        "Location": sd.get("Location"),
        "InputFormat": sd.get("InputFormat"),
        "OutputFormat": sd.get("OutputFormat"),
        "SerdeInfo": sd.get("SerdeInfo", {}),
        "PartitionKeys": table.get("PartitionKeys", []),
    }


def upsert_table(glue: Any, database: str, table_input: dict) -> str:
    """Create the table, or update it if its definition differs; returns created/updated/unchanged.

    Updating only on a real difference keeps the catalog's version history meaningful: every
    UpdateTable adds a table version, and a batch job must not add one per run.
    """
    try:
        glue.create_table(DatabaseName=database, TableInput=table_input)
        return "created"
    except glue.exceptions.AlreadyExistsException:
        pass
    current = glue.get_table(DatabaseName=database, Name=table_input["Name"])["Table"]
    if _definition(current) == _definition(table_input):
        return "unchanged"
    glue.update_table(DatabaseName=database, TableInput=table_input)
    return "updated"


def add_partitions(glue: Any, database: str, table_input: dict, values: list[dict]) -> int:
    """Batch-create partitions (one dict of key -> value each); returns how many were new.

    A partition that exists already is not an error: re-running a batch rewrites the same
    folders, and appends and upserts write into partitions that earlier batches registered.
    """
    keys = [k["Name"] for k in table_input["PartitionKeys"]]
    if not keys or not values:
        return 0
    location = table_input["StorageDescriptor"]["Location"].rstrip("/")
    inputs = []
    for partition in values:
        missing = [k for k in keys if k not in partition]
        if missing:
            raise ValueError(f"partition {partition} of {database}.{table_input['Name']} lacks keys {missing}")
        storage = copy.deepcopy(table_input["StorageDescriptor"])
        storage["Location"] = location + "/" + "/".join(f"{k}={partition[k]}" for k in keys) + "/"
        inputs.append({"Values": [str(partition[k]) for k in keys], "StorageDescriptor": storage})
    added = 0
    for start in range(0, len(inputs), PARTITION_BATCH):
        chunk = inputs[start : start + PARTITION_BATCH]
        errors = glue.batch_create_partition(
            DatabaseName=database, TableName=table_input["Name"], PartitionInputList=chunk
        ).get("Errors", [])
        real = [e for e in errors if e.get("ErrorDetail", {}).get("ErrorCode") != "AlreadyExistsException"]
        if real:
            details = "; ".join(
                f"{e.get('PartitionValues')}: {e['ErrorDetail'].get('ErrorCode')} {e['ErrorDetail'].get('ErrorMessage')}"
                for e in real
            )
            raise RuntimeError(f"could not register partitions of {database}.{table_input['Name']}: {details}")
        added += len(chunk) - len(errors)
    return added


def register_source_table(config: dict, table: dict, table_uri: str, batch_id: str, glue: Any = None) -> int:
    """Create/update ``<target.database>.<table>`` for the source layer and add the batch's partition.

    Returns the number of partitions added (0 when the batch was registered before).
    """
    glue = glue or boto3.client("glue")
    database = config["target"]["database"]
    table_input = source_table_input(config, table, table_uri)
    upsert_table(glue, database, table_input)
    values = {"p_ingest_day": batch_day(batch_id), "p_batch_id": batch_id}
    partition = {k: values[k] for k in source_partitions(table)}
    return add_partitions(glue, database, table_input, [partition])


def register_target_table(
    config: dict,
    table: dict,
    table_uri: str,
    partitions: list[str],
    written_partitions: list[dict],
    glue: Any = None,
) -> int:
    """Create/update a target table partitioned by ``partitions`` and add ``written_partitions``.

    ``written_partitions`` are the partition values the job wrote, e.g. ``[{"p_ingest_day":
    "2026-01-01"}]`` or ``[{"p_bucket": 3}, {"p_bucket": 7}]`` (empty for unpartitioned
    tables). Returns the number of partitions added.
    """
    glue = glue or boto3.client("glue")
    database = config["target"]["database"]
    table_input = target_table_input(config, table, table_uri, partitions)
    upsert_table(glue, database, table_input)
    return add_partitions(glue, database, table_input, written_partitions)
