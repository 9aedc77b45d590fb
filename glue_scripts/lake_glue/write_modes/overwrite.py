"""``overwrite``: the table is the newest batch (a snapshot of the source system).

The table becomes the batch unless its ``lake.snapshot-batch-id`` is newer. The check and the
swap are one commit: a newer snapshot committed in between fails validation, and the job
decides again.
"""

from __future__ import annotations

from typing import Any

from lake_glue.write_modes.base import Committed, PrepareBatch, PrepareError, WriteMode, register


@register
class Overwrite(WriteMode):
    """Replace the whole table with each batch, never with an older one."""

    name = "overwrite"
    lineage = "the table is the newest batch (a snapshot); an older batch never replaces a newer one"

    def rebuild_rows(self, rows: Any, batch_id: str) -> tuple[Any, str]:
        """The newest batch's rows: a snapshot table holds one batch."""
        from pyspark.sql import functions as F

        newest = rows.agg(F.max("_batch_id")).collect()[0][0]
        return rows.where(F.col("_batch_id") == newest), newest or batch_id

    def commit(self, batch: PrepareBatch) -> Committed:
        """Swap the table for the batch, or skip a batch older than the applied snapshot."""
        from pyiceberg.expressions import AlwaysTrue

        from lake_glue.storage import delete_path
        from lake_glue.tables import APPLIED_SNAPSHOT_PROPERTY, commit, write_files

        if batch.row_count == 0:
            applied = batch.iceberg.properties.get(APPLIED_SNAPSHOT_PROPERTY, "(none)")
            raise PrepareError(
                f"{batch.label}: the snapshot has 0 rows (an empty, header-only or fully quarantined upload);"
                f" {batch.spec.label} keeps snapshot {applied}"
            )
        folder, files = write_files(batch.spark, batch.rows, batch.spec, batch.max_rows)

        def attempt(n: int) -> tuple[Any, str | None]:
            # Over a rebuild's pinned snapshot, a newer applied batch is one no longer in the source (retired).
            current = batch.current(n, folder)
            applied = current.properties.get(APPLIED_SNAPSHOT_PROPERTY)
            if applied is not None and applied > batch.batch_id and not batch.rebuild:
                return current, f"snapshot {applied} is newer than {batch.batch_id}"
            properties = {APPLIED_SNAPSHOT_PROPERTY: batch.batch_id, **batch.contract_properties(current)}
            swapped = commit(
                current, delete_filter=AlwaysTrue(), files=files, summary=batch.summary, set_properties=properties
            )
            return swapped, None

        committed, skipped = batch.retry(attempt)
        figures: dict[str, Any] = {"partitions_touched": 1, "duplicate_keys": batch.duplicate_keys()}
        if skipped:
            delete_path(batch.spark, folder)
            figures.update(applied=False, skipped_reason=skipped)
        return committed, figures
