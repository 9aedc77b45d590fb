"""Names derived from configs: asset keys, partition sets, landing paths and batch ids."""

from __future__ import annotations

import re
from datetime import datetime

import dagster as dg

BATCH_ID_PATTERN = re.compile(r"^\d{8}T\d{6}Z$")
SUCCESS_MARKER = "_SUCCESS"
LAYERS = ("raw", "source", "target")


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


def partitions_def_name(config_name: str, table_name: str) -> str:
    """Name of the dynamic partition set holding an ingest table's batch ids."""
    return f"{config_name}__{table_name}"


def asset_key(layer: str, config_name: str, table_name: str) -> dg.AssetKey:
    """Asset key ``[layer, config_name, table_name]``."""
    if layer not in LAYERS:
        raise ValueError(f"unknown layer {layer!r}")
    return dg.AssetKey([layer, config_name, table_name])


def landing_table_prefix(landing_prefix: str, table_name: str) -> str:
    """Key prefix under which an ingest table's batches land, ending with ``/``."""
    return f"{landing_prefix.strip('/')}/{table_name}/"


def batch_prefix(landing_prefix: str, table_name: str, batch_id: str) -> str:
    """Key prefix of one landed batch, ending with ``/``."""
    return f"{landing_table_prefix(landing_prefix, table_name)}{batch_id}/"


def job_name_for(config_name: str, table_name: str) -> str:
    """Name of the job that processes one ingest table's batches end to end."""
    return f"process_{config_name}__{table_name}"
