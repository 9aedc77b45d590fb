"""Schedules from ``job_settings.cron``: catch-up runs for batches that are registered but not done.

"Done" is Dagster's partition status (every asset of the schedule materialized for the batch),
not a status in the registry.

The landing sensor starts work as batches arrive; a config's cron is the safety net that
retries failed batches and picks up batches registered by other producers.
"""

import time

import dagster as dg

from lake_glue.config import IngestConfig, PrepareConfig
from lake_platform.batches import Decision, RetryPolicy, finished_batches, next_runs
from lake_platform.layout import asset_key
from lake_platform.resources import PartitionRegistry
from lake_platform.run_history import run_history
from lake_platform.table_assets import TableAssets


def build_schedules(
    configs: list[IngestConfig | PrepareConfig], table_assets: list[TableAssets]
) -> list[dg.ScheduleDefinition]:
    """One schedule per config with a cron and per ingest table it covers (a schedule has one job)."""
    schedules = []
    for config in configs:
        cron = config.job_settings.cron
        if not cron:
            continue
        if isinstance(config, IngestConfig):
            for entry in table_assets:
                if entry.config.config_name == config.config_name:
                    keys = [entry.raw.key, entry.source.key, *[t.key for t in entry.targets]]
                    schedules.append(_schedule(config, cron, entry, keys, None))
        else:
            targets = {asset_key("target", config.config_name, t.table_name) for t in config.table_config}
            for entry in table_assets:
                selection = [t.key for t in entry.targets if t.key in targets]
                if selection:
                    schedules.append(_schedule(config, cron, entry, selection, selection))
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


def catch_up_requests(
    instance: dg.DagsterInstance,
    registry: PartitionRegistry,
    *,
    job_name: str,
    table_id: str,
    asset_keys: list[dg.AssetKey],
    selection: list[dg.AssetKey] | None,
    scope: str,
    policy: RetryPolicy,
    now: float,
) -> tuple[list[dg.RunRequest], list[str]]:
    """Run requests for the unfinished batches of one table, and why the others are left alone.

    The decision is :func:`~lake_platform.batches.next_runs`, unattended: progress is Dagster's
    (a batch is finished when every one of ``asset_keys`` has a materialization for its
    partition, so a status one asset wrote cannot hide another asset's failure); a batch with a
    run queued or in flight is skipped; a batch whose runs failed waits
    ``backoff_minutes * 2**(failures - 1)`` after the last failure and gets at most
    ``max_attempts`` runs in all, then stays FAILED with its reason until someone retries it by
    hand. Each request's run key names the attempt, so a retried tick never starts it twice.
    """
    history = run_history(instance, job_name)
    records = registry.list_batches(table_id)
    done = finished_batches(instance, history, asset_keys, whole_job=selection is None)
    requests, left = [], []
    for step in next_runs(records, history, done, policy, now):
        batch = step.batch_id
        if step.decision is Decision.RUN:
            requests.append(
                dg.RunRequest(
                    run_key=f"{table_id}:{batch}:{scope}:attempt{step.attempt}",
                    partition_key=batch,
                    asset_selection=selection,
                    tags={"lake/table": table_id, "lake/batch": batch},
                )
            )
        elif step.decision is Decision.IN_FLIGHT:
            left.append(f"{batch}: run {step.run_id} is queued or running")
        elif step.decision is Decision.GAVE_UP:
            reasons = [p.error for r in records if r.batch_id == batch for _, p in sorted(r.failed_assets().items())]
            reason = next((e for e in reasons if e), "no reason mirrored yet")
            left.append(f"{batch}: gave up after {step.failures} failed runs ({reason[:200]})")
        elif step.decision is Decision.BACKING_OFF:
            wait = policy.wait_seconds(step.failures)
            left.append(f"{batch}: retry {step.attempt} waits until {wait / 60:.0f} min after the last failure")
    return requests, left


def _schedule(
    config: IngestConfig | PrepareConfig,
    cron: str,
    entry: TableAssets,
    asset_keys: list[dg.AssetKey],
    selection: list[dg.AssetKey] | None,
) -> dg.ScheduleDefinition:
    scope = "ingest" if selection is None else config.config_name

    @dg.schedule(
        name=f"{config.config_name}__{entry.table.table_name}_catch_up",
        cron_schedule=cron,
        job=entry.job,
        execution_timezone="UTC",
        default_status=dg.DefaultScheduleStatus.RUNNING,
        description=(
            f"{config.config_name}: runs every batch of {entry.table_id} that is not yet materialized in"
            f" {', '.join(k.to_user_string() for k in asset_keys)}, unless a run of it is in flight;"
            f" failed batches back off and stop after"
            f" {config.job_settings.max_attempts} attempts."
        ),
    )
    def catch_up(context: dg.ScheduleEvaluationContext, partition_registry: PartitionRegistry):
        """Request a run for each batch of this table that is not finished and not in flight."""
        requests, left = catch_up_requests(
            context.instance,
            partition_registry,
            job_name=entry.job.name,
            table_id=entry.table_id,
            asset_keys=asset_keys,
            selection=selection,
            scope=scope,
            policy=RetryPolicy.of(config.job_settings),
            now=time.time(),
        )
        for reason in left:
            context.log.info(f"{entry.table_id}/{reason}")
        return requests or dg.SkipReason("no batch to run" + (": " + "; ".join(left[:10]) if left else ""))

    return catch_up
