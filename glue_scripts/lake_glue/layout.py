"""The lake's layout, shared by Dagster and the Glue jobs: batch ids, landing paths, table locations
and partitioning. Dagster's names for the same things are in ``lake_platform.layout``."""

from __future__ import annotations

import re
from datetime import datetime

from lake_glue import lineage
from lake_glue.config import IngestConfig, PrepareConfig, TableConfig
from lake_glue.landing import batch_prefix as batch_prefix  # re-exported: the layout's names
from lake_glue.landing import landing_table_prefix as landing_table_prefix
from lake_glue.storage import join_uri
from lake_glue.tables import KEY_CONTRACT_PROPERTY, TableSpec

BATCH_ID_PATTERN = re.compile(r"^\d{8}T\d{6}Z$")
SUCCESS_MARKER = "_SUCCESS"


def validate_batch_id(batch_id: str) -> str:
    """Return ``batch_id`` if it is a real UTC timestamp ``YYYYMMDDTHHMMSSZ``, else raise."""
    if not BATCH_ID_PATTERN.match(batch_id):
        raise ValueError(f"batch id {batch_id!r} is not a UTC timestamp YYYYMMDDTHHMMSSZ")
    datetime.strptime(batch_id, "%Y%m%dT%H%M%SZ")
    return batch_id


def is_batch_id(text: str) -> bool:
    """True if ``text`` is a valid batch id."""
    try:
        validate_batch_id(text)
    except ValueError:
        return False
    return True


def table_id(config_name: str, table_name: str) -> str:
    """Registry key of an ingest table: ``<config_name>.<table_name>``."""
    return f"{config_name}.{table_name}"


def batch_day(batch_id: str) -> str:
    """``YYYY-MM-DD`` of a ``YYYYMMDDTHHMMSSZ`` batch id: the batch's ``p_ingest_day``."""
    return f"{batch_id[0:4]}-{batch_id[4:6]}-{batch_id[6:8]}"


def source_partitions(table: TableConfig) -> list[str]:
    """Source-layer partition columns: the configured ones, always ending in ``p_batch_id``.

    One partition per batch is what makes a re-run replace exactly that batch.
    """
    return [p for p in table.partitions if p != "p_batch_id"] + ["p_batch_id"]


def table_uri(bucket: str, config: IngestConfig | PrepareConfig, table_name: str) -> str:
    """``s3://<bucket>/<target.prefix>/<table>``: a table's location, in either layer."""
    return join_uri(f"s3://{bucket}", config.target.prefix, table_name)


DATABASE_PREFIX_PATTERN = re.compile(r"^[a-z0-9_]*$")


def catalog_database(database: str, prefix: str = "") -> str:
    """The catalog database of a config's ``target.database``: the environment's prefix + the name.

    The one place a config's database becomes a catalog name. Glue database names are
    account-wide, so each environment's Terraform gives its own prefix (``LAKE_GLUE_DATABASE_PREFIX``
    for Dagster, ``--database_prefix`` for the jobs); locally the prefix is empty.
    """
    if not DATABASE_PREFIX_PATTERN.match(prefix):
        raise ValueError(
            f"database prefix {prefix!r} (LAKE_GLUE_DATABASE_PREFIX / --database_prefix) may hold only a-z, 0-9 and _"
        )
    return f"{prefix}{database}"


def source_table_spec(
    config: IngestConfig, table: TableConfig, source_bucket: str, database_prefix: str = ""
) -> TableSpec:
    """The source-layer table of an ingest config's table, in the catalog database of ``database_prefix``."""
    return TableSpec(
        database=catalog_database(config.target.database, database_prefix),
        name=table.table_name,
        location=table_uri(source_bucket, config, table.table_name),
        partition_columns=source_partitions(table),
        # Glue shows a table property "Description" as the table's description (Athena too).
        properties={
            "lake.config-name": config.config_name,
            "lake.layer": "source",
            KEY_CONTRACT_PROPERTY: key_contract(table),
            "Description": lineage.source_table_doc(config, table),
        },
        docs={
            **{name: text for name, _, text in lineage.builtin_columns("source", table)},
            **{c.name: lineage.source_column_doc(config, table, c) for c in table.columns},
        },
    )


def target_partitions(table: TableConfig) -> list[str]:
    """A target table's partition columns, implied by its write mode."""
    return list(table.mode.partitions)


def key_contract(table: TableConfig) -> str:
    """Where a key lives, as the stable string a table stores (``lake.key-contract``).

    The write mode, the primary-key columns in order with their types, and what the mode adds
    (the bucket function of an upsert table): changing any of them would put one key in two
    places (a reordered or narrowed key compares differently, an append table holds every
    version of a key that an upsert table merges).
    """
    types = {c.name: c.type for c in table.columns}
    keys = ", ".join(f"{k} {types.get(k, '?')}" for k in table.primary_key)
    return f"write_mode={table.write_mode}, primary_key=({keys}){table.mode.key_contract(table)}"


def target_table_spec(
    config: PrepareConfig,
    table: TableConfig,
    target_bucket: str,
    source_config: IngestConfig | None = None,
    database_prefix: str = "",
) -> TableSpec:
    """The target-layer table of a prepare config's table, in the catalog database of ``database_prefix``.

    With ``source_config`` (the ingest config it reads), each column's doc names its derivation.
    """
    ingest = source_config
    properties = {
        "lake.config-name": config.config_name,
        "lake.layer": "target",
        "lake.write-mode": table.write_mode,
        KEY_CONTRACT_PROPERTY: key_contract(table),
        **table.mode.table_properties(table),
    }
    if ingest is not None:
        properties["Description"] = lineage.target_table_doc(config, table, ingest)
    return TableSpec(
        database=catalog_database(config.target.database, database_prefix),
        name=table.table_name,
        location=table_uri(target_bucket, config, table.table_name),
        partition_columns=target_partitions(table),
        properties=properties,
        docs={
            **{name: text for name, _, text in lineage.builtin_columns("target", table)},
            **{
                c.name: lineage.target_column_doc(config, table, c, ingest) if ingest else (c.description or "")
                for c in table.columns
            },
        },
    )
