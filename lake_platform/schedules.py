"""Schedules from ``job_settings.cron``: catch-up runs for batches that are registered but not done.

The landing sensor starts work as batches arrive; a config's cron is the safety net that
retries failed batches and picks up batches registered by other producers.
"""


import dagster as dg

from lake_platform.config import IngestConfig, PrepareConfig
from lake_platform.layout import asset_key
from lake_platform.resources import PartitionRegistry

INGEST_PENDING = ("LANDED", "INGESTING", "FAILED")


def build_schedules(configs: list[IngestConfig | PrepareConfig], table_assets: list) -> list[dg.ScheduleDefinition]:
    """One schedule per config with a cron and per ingest table it covers (a schedule has one job)."""
    schedules = []
    for config in configs:
        if not config.job_settings.cron:
            continue
        if isinstance(config, IngestConfig):
            for entry in table_assets:
                if entry.config.config_name == config.config_name:
                    schedules.append(_schedule(config, entry, INGEST_PENDING, None))
        else:
            targets = {asset_key("target", config.config_name, t.table_name) for t in config.table_config}
            for entry in table_assets:
                selection = [t.key for t in entry.targets if t.key in targets]
                if selection:
                    schedules.append(_schedule(config, entry, ("INGESTED", "FAILED"), selection))
    from lake_platform.jobs import lake_maintenance

    schedules.append(
        dg.ScheduleDefinition(
            name="lake_maintenance_daily",
            job=lake_maintenance,
            cron_schedule="30 3 * * *",
            execution_timezone="UTC",
            default_status=dg.DefaultScheduleStatus.RUNNING,
            description="Nightly: compact small files, expire snapshots older than 7 days, remove orphan files.",
        )
    )
    return schedules


def _schedule(config, entry, statuses, selection) -> dg.ScheduleDefinition:
    @dg.schedule(
        name=f"{config.config_name}__{entry.table.table_name}_catch_up",
        cron_schedule=config.job_settings.cron,
        job=entry.job,
        execution_timezone="UTC",
        default_status=dg.DefaultScheduleStatus.RUNNING,
        description=(
            f"{config.config_name}: runs every batch of {entry.table_id} still in status {', '.join(statuses)}."
        ),
    )
    def catch_up(context: dg.ScheduleEvaluationContext, partition_registry: PartitionRegistry):
        """Request a run for each batch of this table that is not finished yet."""
        requests = [
            dg.RunRequest(
                partition_key=record.batch_id,
                asset_selection=selection,
                tags={"lake/table": entry.table_id, "lake/batch": record.batch_id},
            )
            for record in partition_registry.list_batches(entry.table_id)
            if record.status in statuses
        ]
        return requests or dg.SkipReason("no unfinished batches")

    return catch_up
