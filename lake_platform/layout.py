"""Dagster names derived from configs: asset keys, partition sets and job names.

Landing paths, batch ids and table ids are the lake's contract with the Glue jobs and live in
``lake_glue.layout``; they are re-exported here for the Dagster side.
"""

from __future__ import annotations

import dagster as dg

from lake_glue.layout import (
    BATCH_ID_PATTERN,
    SUCCESS_MARKER,
    batch_prefix,
    is_batch_id,
    landing_table_prefix,
    table_id,
    validate_batch_id,
)

__all__ = [
    "BATCH_ID_PATTERN",
    "LAYERS",
    "SUCCESS_MARKER",
    "asset_key",
    "batch_prefix",
    "is_batch_id",
    "job_name_for",
    "landing_table_prefix",
    "partitions_def_name",
    "table_id",
    "validate_batch_id",
]

LAYERS = ("raw", "source", "target")


def partitions_def_name(config_name: str, table_name: str) -> str:
    """Name of the dynamic partition set holding an ingest table's batch ids."""
    return f"{config_name}__{table_name}"


def asset_key(layer: str, config_name: str, table_name: str) -> dg.AssetKey:
    """Asset key ``[layer, config_name, table_name]``."""
    if layer not in LAYERS:
        raise ValueError(f"unknown layer {layer!r}")
    return dg.AssetKey([layer, config_name, table_name])


def job_name_for(config_name: str, table_name: str) -> str:
    """Name of the job that processes one ingest table's batches end to end."""
    return f"process_{config_name}__{table_name}"
