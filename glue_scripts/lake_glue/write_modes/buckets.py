"""Buckets of the primary key: the partitioning of bucketed write modes (``upsert``).

A key's bucket is a function of the bucket spec alone, so a key never changes partition; the
spec is stored on the table and a config whose spec differs is refused (one key would land in
two buckets).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from lake_glue.tables import BUCKET_SPEC_PROPERTY
from lake_glue.write_modes.base import PrepareError

if TYPE_CHECKING:
    from lake_glue.config import TableConfig


def bucket_spec(table: TableConfig) -> str:
    """The bucket function as a stable string, stored as the table property ``lake.bucket-spec``."""
    if table.bucket_by == "range":
        return f"range(width={table.bucket_width})"
    return f"hash(xxhash64, buckets={table.num_buckets})"


def refuse_bucket_change(iceberg: Any, table: TableConfig, label: str) -> None:
    """Refuse a config whose bucket spec differs from the one ``iceberg`` was written with."""
    current = iceberg.properties.get(BUCKET_SPEC_PROPERTY)
    wanted = bucket_spec(table)
    if current is not None and current != wanted:
        name = ".".join(iceberg.name())
        raise PrepareError(
            f"{label}: {name} is bucketed by {current}, the config now says {wanted}; one key would"
            f" land in two buckets. Run `lake rebuild {name}` to rebuild the table with the new spec"
            " in one commit, or restore the old bucket settings."
        )


def with_bucket(rows: Any, table: TableConfig) -> Any:
    """``rows`` with ``p_bucket``, the bucket of each row's primary key (Spark)."""
    from lake_glue.transforms import with_bucket as add_bucket

    return add_bucket(rows, list(table.primary_key), table.num_buckets, table.bucket_by, table.bucket_width)
