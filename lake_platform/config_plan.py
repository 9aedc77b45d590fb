"""``lake configs plan``: what a changed config would do to the batches that already landed.

For each ingest table the changed config alters, the last N landed batches are read from the raw
bucket (through the object store, so locally and in AWS alike), parsed with the changed table's
format options and cast with the ingest job's own rules (``lake_glue.ingest.cast_and_validate``)
on a local Spark session. Nothing is written: not the lake, not the registry, not the catalog.

Per table it reports the records that would be quarantined (against what the batches' runs
quarantined), the rows whose undeclared fields would be rescued into ``_rescued``, the columns
``on_new_columns: add`` would add, and the batches that would be refused as a whole (a CSV
header missing a declared column, for example).
"""

from __future__ import annotations

from collections.abc import Iterator

from pydantic import BaseModel, Field

from lake_glue.config import IngestConfig, PrepareConfig, TableConfig
from lake_glue.layout import batch_prefix
from lake_platform.layout import table_id
from lake_platform.resources import ObjectStore, PartitionRegistry


class TablePlan(BaseModel):
    """What the changed config would do to one table's last landed batches."""

    table: str
    batches: list[str] = Field(default_factory=list)
    landed_rows: int = 0
    quarantined_rows: int = 0
    quarantined_before: int | None = None
    rescued_rows: int = 0
    rescued_fields: dict[str, int] = Field(default_factory=dict)
    added_columns: list[str] = Field(default_factory=list)
    refused: list[str] = Field(default_factory=list)

    def lines(self) -> list[str]:
        """The plan as the lines ``lake configs plan`` prints."""
        if not self.batches:
            return [f"{self.table}: no landed batch to check"]
        before = "?" if self.quarantined_before is None else str(self.quarantined_before)
        lines = [
            f"{self.table}: {len(self.batches)} batches ({self.batches[0]} .. {self.batches[-1]}),"
            f" {self.landed_rows} records",
            f"  quarantined: {self.quarantined_rows} (the batches' runs quarantined {before})",
            f"  rescued into _rescued: {self.rescued_rows} rows"
            + (f", fields {sorted(self.rescued_fields)}" if self.rescued_fields else ""),
            f"  columns added: {self.added_columns or 'none'}",
        ]
        lines += [f"  refused: {reason}" for reason in self.refused]
        return lines


def changed_tables(new: IngestConfig, old: IngestConfig | PrepareConfig | None) -> list[TableConfig]:
    """The tables of ``new`` that differ from the deployed config ``old`` (every table when none does)."""
    if not isinstance(old, IngestConfig):
        return list(new.table_config)
    before = {t.table_name: t for t in old.table_config}
    changed = [t for t in new.table_config if before.get(t.table_name) != t]
    # A config edited where the config store reads it (the local folder) equals the store's copy.
    return changed or list(new.table_config)


def plan_table(
    spark, config: IngestConfig, table: TableConfig, registry: PartitionRegistry, store: ObjectStore, batches: int
) -> TablePlan:
    """Parse and cast a table's last ``batches`` landed batches under ``config``; writes nothing."""
    from lake_glue.records import FormatOptions

    tid = table_id(config.config_name, table.table_name)
    records = [r for r in registry.list_batches(tid) if r.status != "RETIRED"][-batches:]
    plan = TablePlan(table=tid, batches=[r.batch_id for r in records])
    known = [r.quarantined_rows for r in records]
    plan.quarantined_before = sum(q for q in known if q is not None) if None not in known else None
    opts = FormatOptions.of(config, table)
    rows: list[tuple] = []
    for record in records:
        rows += _batch_rows(config, table, record.batch_id, store, opts, plan)
    _cast(spark, table, rows, plan)
    return plan


def _batch_rows(config: IngestConfig, table: TableConfig, batch_id: str, store: ObjectStore, opts, plan: TablePlan):
    """One batch's records as (values..., parse error) rows; a file refused whole is noted in the plan."""
    from lake_glue.records import parse_file
    from lake_platform.resources.object_store.base import is_data_file

    prefix = batch_prefix(config.source.landing_prefix, table.table_name, batch_id)
    keys = [o.key for o in store.list_objects(store.raw_bucket, prefix, max_keys=100_000) if is_data_file(o.key)]
    rows = []
    for key in keys:
        for out in parse_file(key, store.get_bytes(store.raw_bucket, key), opts, table.column_names):
            if out[0] == "file":
                report = out[1]
                plan.landed_rows += report.records
                for name, count in report.undeclared.items():
                    plan.rescued_fields[name] = plan.rescued_fields.get(name, 0) + count
                if report.problem:
                    plan.refused.append(f"batch {batch_id} {key.rsplit('/', 1)[-1]}: {report.problem}")
                continue
            values, error = out[3], out[4]
            rows.append((*(values or [None] * _width(opts, table)), error))
    return rows


def _width(opts, table: TableConfig) -> int:
    from lake_glue.records import value_width

    return value_width(opts, table.column_names)


def _cast(spark, table: TableConfig, rows: list[tuple], plan: TablePlan) -> None:
    """Count what the ingest job's casts would quarantine and rescue among ``rows``."""
    from pyspark.sql import functions as F
    from pyspark.sql import types as T

    from lake_glue.evolution import RESCUED_COLUMN, SchemaEvolutionError, new_columns, rescuing
    from lake_glue.ingest import CORRUPT_COLUMN, PARSE_ERROR_COLUMN, cast_and_validate

    rescue = rescuing(table.on_new_columns)
    names = table.column_names + ([RESCUED_COLUMN] if rescue else [])
    schema = T.StructType([T.StructField(n, T.StringType()) for n in [*names, PARSE_ERROR_COLUMN]])
    df = spark.createDataFrame(rows, schema).withColumn(CORRUPT_COLUMN, F.lit(None).cast("string"))
    valid, rejected = cast_and_validate(df, table.columns)
    plan.quarantined_rows = rejected.count()
    if table.on_new_columns == "rescue":
        plan.rescued_rows = valid.where(F.col(RESCUED_COLUMN).isNotNull()).count()
        return
    if table.on_new_columns == "add":
        try:
            plan.added_columns = list(new_columns(plan.table, "add", plan.rescued_fields, table.column_names, None))
        except SchemaEvolutionError as exc:
            plan.refused.append(str(exc))
    plan.rescued_fields = {}


def plan_config(
    spark,
    config: IngestConfig,
    deployed: IngestConfig | PrepareConfig | None,
    registry: PartitionRegistry,
    store: ObjectStore,
    batches: int,
) -> Iterator[TablePlan]:
    """A :class:`TablePlan` per table of ``config`` that differs from the ``deployed`` one."""
    for table in changed_tables(config, deployed):
        yield plan_table(spark, config, table, registry, store, batches)
