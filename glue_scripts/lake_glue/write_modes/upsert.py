"""``upsert``: one row per primary key, the latest by ``order_by``, in buckets of the key.

A commit reads the buckets the batch's keys fall in, merges, deletes those buckets and adds the
merged files. A concurrent commit that touched the same buckets makes the commit fail
validation; the job then re-reads the buckets, re-merges and tries again.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

from lake_glue.tables import BUCKET_SPEC_PROPERTY
from lake_glue.write_modes.base import Builtin, Committed, PrepareBatch, WriteMode, register
from lake_glue.write_modes.buckets import bucket_spec, refuse_bucket_change, with_bucket

if TYPE_CHECKING:
    from lake_glue.config import TableConfig


@register
class Upsert(WriteMode):
    """Merge each batch into the table by primary key, rewriting only the touched buckets."""

    name = "upsert"
    partitions = ("p_bucket",)
    builtins: ClassVar[tuple[Builtin, ...]] = (("p_bucket", "int", "partition: the primary key's bucket"),)
    needs_primary_key = True
    bucketed = True
    lineage = "one row per primary key, the latest by order_by; a batch rewrites only the buckets its keys fall in"

    def key_contract(self, table: TableConfig) -> str:
        """The bucket function: a new one would put one key in two buckets."""
        return f", bucket={bucket_spec(table)}"

    def table_properties(self, table: TableConfig) -> dict[str, str]:
        """The bucket spec, so a changed config is refused."""
        return {BUCKET_SPEC_PROPERTY: bucket_spec(table)}

    def stored(self, rows: Any, table: TableConfig) -> Any:
        """The rows with their ``p_bucket``."""
        return with_bucket(rows, table)

    def check_target(self, batch: PrepareBatch) -> None:
        """A rebuild applies a new bucket spec; a batch is refused one (a key would be in two buckets)."""
        if not batch.rebuild:
            refuse_bucket_change(batch.iceberg, batch.table, batch.label)

    def commit(self, batch: PrepareBatch) -> Committed:
        """Merge the batch into the buckets its keys fall in (a rebuild: into an empty table)."""
        from lake_glue.tables import read_files
        from lake_glue.transforms import touched_buckets

        bucketed = with_bucket(batch.rows, batch.table).persist()
        batch.cleanup.callback(bucketed.unpersist)
        buckets = touched_buckets(bucketed)

        def attempt(n: int) -> tuple[Any, int, int]:
            current = batch.current(n)
            if not batch.rebuild:
                refuse_bucket_change(current, batch.table, batch.label)
            merged, existing_rows, delete_filter = self._merge(batch, current, bucketed, buckets)
            properties = {**self.table_properties(batch.table), **batch.contract_properties(current)}
            committed, files = batch.write_and_commit(current, merged, delete_filter, properties)
            # What was committed for these buckets is exactly these files: check keys there.
            return committed, existing_rows, batch.duplicate_keys(read_files(batch.spark, committed, files))

        committed, existing_rows, dupes = batch.retry(attempt)
        return committed, {
            "partitions_touched": len(buckets),
            "existing_rows_read": existing_rows,
            "duplicate_keys": dupes,
        }

    @staticmethod
    def _merge(batch: PrepareBatch, current: Any, bucketed: Any, buckets: list[int]) -> tuple[Any, int, Any]:
        """The touched buckets' new rows, how many existing rows were read, and what the commit replaces."""
        from pyiceberg.expressions import AlwaysTrue

        from lake_glue.tables import column_equals, column_in
        from lake_glue.transforms import latest_per_key, merge_upsert

        pk, order_by = list(batch.table.primary_key), list(batch.table.order_by)
        if batch.rebuild:
            return latest_per_key(bucketed, pk, order_by), 0, AlwaysTrue()
        delete_filter = column_in("p_bucket", buckets) if buckets else column_equals("p_bucket", -1)
        existing = batch.read(current, delete_filter) if buckets else None
        existing_rows = existing.count() if existing is not None else 0
        return merge_upsert(existing, bucketed, pk, order_by), existing_rows, delete_filter
