"""``append``: every batch's rows are kept as delivered, in the batch's ``p_ingest_day`` partition.

A commit deletes the rows of its own batch (``_batch_id``) and adds the batch's files, so
batches never conflict with each other and a re-run replaces its own rows only.
"""

from __future__ import annotations

from lake_glue.write_modes.base import Committed, PrepareBatch, WriteMode, register


@register
class Append(WriteMode):
    """Keep every batch; a key may repeat across batches, not within one."""

    name = "append"
    partitions = ("p_ingest_day",)
    pk_scope = "the batch's rows"
    within_batches = True
    # A later batch delivering a key again is how an append table works, not a fault.
    maintenance_checks_uniqueness = False
    retire_by_delete = True
    lineage = "every batch's rows are kept as delivered; a re-run replaces its own batch"

    def commit(self, batch: PrepareBatch) -> Committed:
        """Replace the batch's rows (a rebuild: every row) with the batch's files."""
        from pyiceberg.expressions import AlwaysTrue

        from lake_glue.tables import column_equals, commit, write_files

        delete_filter = AlwaysTrue() if batch.rebuild else column_equals("_batch_id", batch.batch_id)
        folder, files = write_files(batch.spark, batch.rows, batch.spec, batch.max_rows)

        def attempt(n: int) -> object:
            current = batch.current(n, folder)
            return commit(
                current,
                delete_filter=delete_filter,
                files=files,
                summary=batch.summary,
                set_properties=batch.contract_properties(current),
            )

        committed = batch.retry(attempt)
        return committed, {"partitions_touched": 1, "duplicate_keys": batch.duplicate_keys()}
