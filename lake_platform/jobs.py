"""Jobs: one partitioned job per ingest table (raw -> source -> target for one batch), and maintenance."""

from __future__ import annotations

import dataclasses
from datetime import timedelta

import dagster as dg

from lake_platform.settings import catalog_uri


class MaintenanceConfig(dg.Config):
    """Windows of one maintenance pass over every lake table."""

    retain_snapshot_days: float = 7.0
    orphan_age_hours: float = 24.0
    compact_min_files: int = 16


@dg.op(description="Compact small files, expire snapshots past the retention window and remove orphan files.")
def maintain_tables(context: dg.OpExecutionContext, config: MaintenanceConfig) -> None:
    """Run :func:`lake_platform.maintenance.maintain_catalog` and log what it did per table."""
    from lake_glue.tables import open_catalog
    from lake_platform.maintenance import maintain_catalog

    reports = maintain_catalog(
        open_catalog(catalog_uri()),
        retain=timedelta(days=config.retain_snapshot_days),
        orphan_age=timedelta(hours=config.orphan_age_hours),
        compact_min_files=config.compact_min_files,
    )
    for report in reports:
        summary = dataclasses.asdict(report)
        summary["orphans_removed"] = len(report.orphans_removed)
        context.log.info(str(summary))
        for reason in report.skipped:
            context.log.warning(reason)


@dg.job(description="Maintain every Iceberg table of the lake (see lake_platform.maintenance).", tags={"lake/maintenance": "true"})
def lake_maintenance():
    """One maintenance pass over all lake tables."""
    maintain_tables()


def table_jobs(table_assets: list) -> list:
    """The per-table jobs built by the asset factory, and the maintenance job."""
    return [t.job for t in table_assets] + [lake_maintenance]
