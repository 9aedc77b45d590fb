"""Partitions: one dynamic partition set per ingest table, keyed by batch id."""

from __future__ import annotations

import dagster as dg

from lake_platform.layout import partitions_def_name


def batch_partitions(config_name: str, table_name: str) -> dg.DynamicPartitionsDefinition:
    """The dynamic partition set of an ingest table; its keys are the registered batch ids.

    The raw and source assets of the table and every target prepared from it share it, so a
    batch is one partition key through all three layers.
    """
    return dg.DynamicPartitionsDefinition(name=partitions_def_name(config_name, table_name))
