"""Partition registry: one record per (table, batch) with the facts Dagster cannot know.

The interface is in ``base``; ``local`` holds the embedded default and ``aws`` the AWS implementation.
"""

from lake_platform.resources.partition_registry.base import (
    COUNT_FIELDS,
    PROGRESS_PREFIX,
    PROGRESS_STATUSES,
    STATUSES,
    AssetProgress,
    BatchRecord,
    PartitionRegistry,
    progress_order,
    utc_now,
)

__all__ = [
    "AssetProgress",
    "BatchRecord",
    "COUNT_FIELDS",
    "PROGRESS_PREFIX",
    "PROGRESS_STATUSES",
    "PartitionRegistry",
    "STATUSES",
    "progress_order",
    "utc_now",
]
