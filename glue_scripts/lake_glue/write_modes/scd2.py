"""``scd2``: Type-2 history on the primary key, one version per change, in buckets of the key.

Every version of a key the source delivered becomes a row, valid from ``valid_from`` (the
``order_by`` column, or the batch time when the table has no ``order_by`` or the value is null)
until the next version's ``valid_from`` (``valid_to``; null for the current version, the one
row with ``is_current`` true). A version whose declared columns all equal the previous
version's opens no new row: it extends the previous one.

The history is a function of the source table alone: a commit recomputes the whole history of
every key in the buckets its batch touches, from every batch of the source table. So a replayed
batch changes nothing, a late batch slots into place, and any order of batches gives the same
history. Two versions of a key with the same ``valid_from`` keep one, as ``upsert`` does: the
later batch, then the greater hash of the values. The price is a read of the source table per
batch (its rows of the touched buckets); the target rewrites only the touched buckets.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from lake_glue.write_modes.base import Committed, PrepareBatch, PrepareError, register
from lake_glue.write_modes.buckets import refuse_bucket_change, with_bucket
from lake_glue.write_modes.upsert import Upsert

if TYPE_CHECKING:
    from lake_glue.config import TableConfig

VALID_FROM, VALID_TO, IS_CURRENT = "valid_from", "valid_to", "is_current"
TEMPORAL = ("timestamp", "date")


@register
class Scd2(Upsert):
    """Keep every change of a key as a version; the current row of each key is the latest."""

    name = "scd2"
    builtins = (
        *Upsert.builtins,
        (VALID_FROM, "timestamp", "history: when this version became valid (order_by, else the batch time)"),
        (VALID_TO, "timestamp", "history: when the next version replaced it; null while it is current"),
        (IS_CURRENT, "boolean", "history: true on the one current version of each key"),
    )
    pk_scope = "the current rows"
    pk_rows = f"{IS_CURRENT}"
    lineage = (
        "every change of a primary key is a version (valid_from, valid_to, is_current), recomputed from"
        " every source batch for the keys' buckets, so late and replayed batches give the same history"
    )

    def validate(self, table: TableConfig, where: str) -> None:
        """A key, at most one temporal ``order_by`` column, and no declared column named like the history's."""
        super().validate(table, where)
        clashes = [c.name for c in table.columns if c.name in (VALID_FROM, VALID_TO, IS_CURRENT)]
        if clashes:
            raise ValueError(f"{where}: columns {clashes} are written by write_mode 'scd2'; rename them")
        types = {c.name: c.type for c in table.columns}
        if len(table.order_by) > 1 or any(types[c] not in TEMPORAL for c in table.order_by):
            raise ValueError(
                f"{where}: write_mode 'scd2' takes valid_from from order_by, which must be one timestamp or"
                f" date column (or none, for the batch time); got {[f'{c} {types[c]}' for c in table.order_by]}"
            )

    def stored(self, rows: Any, table: TableConfig) -> Any:
        """The rows as the table stores them: bucketed, with the history columns."""
        return history(with_bucket(rows, table), table)

    def commit(self, batch: PrepareBatch) -> Committed:
        """Replace the touched buckets (a rebuild: the table) with their history recomputed from the source."""
        from lake_glue.transforms import touched_buckets

        buckets = touched_buckets(with_bucket(batch.rows, batch.table))

        def attempt(n: int) -> tuple[Any, int]:
            current = batch.current(n)
            if not batch.rebuild:
                refuse_bucket_change(current, batch.table, batch.label)
            versions, delete_filter = self._versions(batch, buckets)
            properties = {**self.table_properties(batch.table), **batch.contract_properties(current)}
            committed, files = batch.write_and_commit(current, versions, delete_filter, properties)
            return committed, current_duplicates(batch, committed, files)

        committed, dupes = batch.retry(attempt)
        return committed, {"partitions_touched": len(buckets), "duplicate_keys": dupes}

    @staticmethod
    def _versions(batch: PrepareBatch, buckets: list[int]) -> tuple[Any, Any]:
        """The history of every key in ``buckets`` (a rebuild: every key), and what the commit replaces."""
        from pyiceberg.expressions import AlwaysTrue
        from pyspark.sql import functions as F

        from lake_glue.tables import column_equals, column_in
        from lake_glue.transforms import null_violations

        source = with_bucket(batch.source_rows(), batch.table)
        if batch.rebuild:
            delete_filter = AlwaysTrue()
        else:
            source = source.where(F.col("p_bucket").isin(buckets))
            delete_filter = column_in("p_bucket", buckets) if buckets else column_equals("p_bucket", -1)
        # Other batches' rows join this history: a required column null in any of them refuses it.
        violations = null_violations(source, batch.table)
        if violations:
            raise PrepareError(f"{batch.label}: the history's source rows have nulls in required columns {violations}")
        return history(source, batch.table), delete_filter


def history(rows: Any, table: TableConfig) -> Any:
    """Type-2 versions of ``rows`` (bucketed, every delivery of each key): one row per change."""
    from functools import reduce

    from pyspark.sql import Window
    from pyspark.sql import functions as F

    pk, data = list(table.primary_key), table.column_names
    batch_time = F.to_timestamp(F.col("_batch_id"), "yyyyMMdd'T'HHmmss'Z'")
    valid_from = F.coalesce(F.col(table.order_by[0]).cast("timestamp"), batch_time) if table.order_by else batch_time
    dated = rows.withColumn(VALID_FROM, valid_from)
    # One version per key and instant: the later batch, then the greater hash of the values.
    same_instant = Window.partitionBy(*pk, VALID_FROM).orderBy(
        F.col("_batch_id").desc(), F.xxhash64(*[F.col(c) for c in data]).desc()
    )
    one = dated.withColumn("__rn", F.row_number().over(same_instant)).where("__rn = 1").drop("__rn")
    by_time = Window.partitionBy(*pk).orderBy(VALID_FROM)
    # The key is among the columns and never null, so a first version (no previous) always counts.
    unchanged = reduce(lambda a, b: a & b, [F.col(c).eqNullSafe(F.lag(c).over(by_time)) for c in data])
    changes = one.withColumn("__same", unchanged).where(~F.col("__same")).drop("__same")
    versions = changes.withColumn(VALID_TO, F.lead(VALID_FROM).over(by_time))
    return versions.withColumn(IS_CURRENT, F.col(VALID_TO).isNull())


def current_duplicates(batch: PrepareBatch, committed: Any, files: list[str]) -> int:
    """Keys with more than one current row among the files just committed (0 when the history holds)."""
    from lake_glue.tables import read_files

    if not files:
        return 0
    return batch.duplicate_keys(read_files(batch.spark, committed, files).where(IS_CURRENT))
