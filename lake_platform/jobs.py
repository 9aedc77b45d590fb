"""Jobs: one partitioned job per ingest table (raw -> source -> target for one batch), and maintenance.

No ``from __future__ import annotations`` here: Dagster reads the op's ``config`` annotation
at definition time.
"""

import dataclasses

import dagster as dg
import pydantic
from dagster._core.definitions.unresolved_asset_job_definition import UnresolvedAssetJobDefinition

from lake_platform.resources import ConfigStore, QueryEngine
from lake_platform.resources.query_engine.base import QueryError
from lake_platform.table_assets import TableAssets


class MaintenanceConfig(dg.Config):
    """Windows of one maintenance pass over every lake table."""

    retain_snapshot_days: float = 7.0
    orphan_age_hours: float = 72.0
    compact_min_files: int = 16
    # Compaction reads a partition into the run worker's memory; larger partitions are skipped.
    compact_max_mb: float = 512.0

    @pydantic.field_validator("orphan_age_hours")
    @classmethod
    def _orphan_window_outlasts_every_job(cls, hours: float) -> float:
        from lake_platform.maintenance import orphan_window

        orphan_window(hours, "orphan_age_hours")
        return hours


@dg.op(
    out=dg.Out(dg.Nothing),
    description="Compact small files, expire snapshots past the retention window and remove orphan files.",
)
def maintain_tables(context: dg.OpExecutionContext, config: MaintenanceConfig, config_store: ConfigStore) -> None:
    """Run :func:`lake_platform.maintenance.maintain_catalog` on the configs' tables and log what it did per table."""
    from lake_platform.maintenance import maintain_lake

    reports = maintain_lake(
        config.retain_snapshot_days,
        config.orphan_age_hours,
        config.compact_min_files,
        configs=config_store.list_configs(),
        compact_max_bytes=int(config.compact_max_mb * 2**20),
    )
    for report in reports:
        summary = dataclasses.asdict(report)
        summary["orphans_removed"] = len(report.orphans_removed)
        context.log.info(str(summary))
        for reason in report.skipped:
            context.log.warning(reason)


@dg.op(
    ins={"after": dg.In(dg.Nothing)},
    description="Count duplicate primary keys over every whole target table"
    " (the per-batch check judges what one batch wrote).",
)
def check_primary_keys(context: dg.OpExecutionContext, config_store: ConfigStore, query_engine: QueryEngine) -> None:
    """Observe each keyed target table's duplicate keys over the whole table.

    Fails when a table whose write mode holds one row per key (``maintenance_checks_uniqueness``:
    overwrite, upsert, the current rows of scd2) has duplicates.

    The per-batch ``primary_key_unique`` check judges what one batch may have broken; this pass
    also catches a key delivered again by a later batch of an append table.
    """
    from lake_glue.config import PrepareConfig
    from lake_platform.assets.checks import duplicate_keys_sql
    from lake_platform.layout import asset_key

    configs = config_store.list_configs()
    failing = []
    for config in configs:
        if not isinstance(config, PrepareConfig):
            continue
        for table in config.table_config:
            if not table.primary_key:
                continue
            name = f"{config.target.database}.{table.table_name}"
            sql = duplicate_keys_sql(name, list(table.primary_key), rows=table.mode.pk_rows)
            try:
                dupes = int(query_engine.query(sql).rows[0][0])
            except QueryError as exc:
                context.log.warning(f"{name}: not checked ({exc})")
                continue
            context.log_event(
                dg.AssetObservation(
                    asset_key=asset_key("target", config.config_name, table.table_name),
                    metadata={"duplicate_keys": dupes, "scope": "the whole table"},
                )
            )
            # An append table keeps every batch as delivered, so a key a later batch delivered
            # again is observed, not a failure (its per-batch check judges each batch).
            if dupes and table.mode.maintenance_checks_uniqueness:
                failing.append(f"{name}: {dupes} duplicate keys")
    if failing:
        raise dg.Failure("primary keys are not unique: " + "; ".join(failing))


@dg.job(
    description="Maintain every Iceberg table of the lake (see lake_platform.maintenance),"
    " then check primary keys over whole tables.",
    tags={"lake/maintenance": "true"},
)
def lake_maintenance():
    """One maintenance pass over all lake tables, then the full-table primary-key check."""
    check_primary_keys(after=maintain_tables())


def table_jobs(table_assets: list[TableAssets]) -> list[UnresolvedAssetJobDefinition | dg.JobDefinition]:
    """The per-table jobs built by the asset factory, and the maintenance job."""
    return [t.job for t in table_assets] + [lake_maintenance]
