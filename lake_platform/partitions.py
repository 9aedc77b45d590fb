"""Partitions: one dynamic partition set per ingest table, keyed by batch id."""

from __future__ import annotations

import dagster as dg


def table_partitions(table_assets: list) -> dict[str, dg.DynamicPartitionsDefinition]:
    """Partition sets by table id (``<config_name>.<table_name>``)."""
    return {t.table_id: t.partitions_def for t in table_assets}
