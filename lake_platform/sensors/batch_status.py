"""The batch status sensor: the one writer of batch progress into the partition registry.

Dagster owns progress: which asset of which batch is running, materialized or failed is in its
run records and event log, and the catch-up schedules, ``lake process`` and the UI read it
there. Consumers in AWS read the DynamoDB registry instead, so this sensor mirrors Dagster's
word there, per (table, batch, asset):

- each tick reads the runs whose record changed since the last tick (bounded, oldest first);
- for a run of a lake batch it writes, for every lake asset the run planned: MATERIALIZED
  (with the materialization's row counts) if the run materialized it, RUNNING while the run is
  in flight, FAILED (with the step's error, or why the step never ran) once the run failed or
  was canceled without materializing it;
- each write is ordered by the run's creation time and applied only when newer than the stored
  one (:meth:`PartitionRegistry.record_progress`), so a re-read run, a late stale run or a
  sibling target's run cannot overwrite a newer outcome.

It also sends the two alerts that need a person, each once: a batch whose automatic retries
gave up (``max_attempts`` failed runs of its table's job), and a run in flight longer than its
table's ``timeout_minutes``.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from datetime import datetime, timezone

import dagster as dg

from lake_platform.resources import Alerts, PartitionRegistry
from lake_platform.resources.partition_registry.base import AssetProgress, progress_order
from lake_platform.run_history import PARTITION_TAG, run_failure_reason, run_history, step_failures
from lake_platform.settings import sensor_interval_seconds
from lake_platform.table_assets import TableAssets

SENSOR_NAME = "batch_status_sensor"
COUNT_KEYS = ("landed_rows", "source_rows", "quarantined_rows", "target_rows")
RUNNING_STATUSES = {dg.DagsterRunStatus.STARTING, dg.DagsterRunStatus.STARTED, dg.DagsterRunStatus.CANCELING}
ENDED_UNFINISHED = {dg.DagsterRunStatus.FAILURE, dg.DagsterRunStatus.CANCELED}


@dataclass(frozen=True)
class LakeAsset:
    """Where one lake asset's progress is mirrored, and the limits of its table's job."""

    table_id: str
    job_name: str
    max_attempts: int
    timeout_minutes: int


def asset_index(tables: list[TableAssets]) -> dict[dg.AssetKey, LakeAsset]:
    """Every raw, source and target asset key of the factory's tables."""
    index = {}
    for entry in tables:
        settings = entry.config.job_settings
        info = LakeAsset(entry.table_id, entry.job.name, settings.max_attempts, settings.timeout_minutes)
        for asset in (entry.raw, entry.source, *entry.targets):
            index[asset.key] = info
    return index


def _counts(entry) -> dict[str, int]:
    metadata = entry.asset_materialization.metadata if entry.asset_materialization else {}
    counts = {}
    for key in COUNT_KEYS:
        value = getattr(metadata.get(key), "value", None)
        if isinstance(value, (int, float)):
            counts[key] = int(value)
    return counts


def run_progress(instance: dg.DagsterInstance, record, index: dict) -> list[tuple[LakeAsset, str, str, AssetProgress]]:
    """What one run says about each lake asset it planned: (asset info, batch, asset key, progress)."""
    run = record.dagster_run
    batch = run.tags.get(PARTITION_TAG)
    if not batch or run.status not in RUNNING_STATUSES | ENDED_UNFINISHED | {dg.DagsterRunStatus.SUCCESS}:
        return []
    planned: dict[dg.AssetKey, str] = {}
    for entry in instance.all_logs(run.run_id, of_type=dg.DagsterEventType.ASSET_MATERIALIZATION_PLANNED):
        event = entry.dagster_event
        key = event.asset_key if event else None
        if event is not None and key is not None and key in index:
            planned[key] = event.step_key or ""
    if not planned:
        return []
    materialized = {}
    for entry in instance.all_logs(run.run_id, of_type=dg.DagsterEventType.ASSET_MATERIALIZATION):
        event = entry.dagster_event
        if event is not None and event.asset_key in planned:
            materialized[event.asset_key] = _counts(entry)
    ended = run.status in ENDED_UNFINISHED
    failures = step_failures(instance, run.run_id) if ended else {}
    created = record.create_timestamp.timestamp()
    out = []
    for key, step in planned.items():
        if key in materialized:
            progress = AssetProgress(
                "MATERIALIZED", run.run_id, progress_order(created, True), counts=materialized[key]
            )
        elif run.status in RUNNING_STATUSES:
            progress = AssetProgress("RUNNING", run.run_id, progress_order(created, False))
        elif ended:
            if step in failures:
                reason = failures[step]
            else:
                reason = f"not run: run {run.status.value.lower()} ({run_failure_reason(instance, run.run_id)})"
            progress = AssetProgress("FAILED", run.run_id, progress_order(created, True), error=reason[:4000])
        else:
            continue
        out.append((index[key], batch, key.to_user_string(), progress))
    return out


def build_batch_status_sensor(
    tables: list[TableAssets], max_runs_per_tick: int = 200, now=time.time
) -> dg.SensorDefinition:
    """The ``batch_status_sensor`` over every asset built by the asset factory (``now``: the clock)."""
    index = asset_index(tables)
    lake_jobs = {info.job_name: info for info in index.values()}

    @dg.sensor(
        name=SENSOR_NAME,
        minimum_interval_seconds=sensor_interval_seconds(),
        default_status=dg.DefaultSensorStatus.RUNNING,
        description=(
            "Mirrors Dagster's progress of every batch (running, materialized, failed, per asset) into"
            " the partition registry, and alerts once on retries given up and runs stuck past their timeout."
        ),
    )
    def batch_status_sensor(
        context: dg.SensorEvaluationContext, partition_registry: PartitionRegistry, alerts: Alerts
    ) -> dg.SkipReason:
        """Mirror the runs that changed since the last tick; alert on given-up and stuck batches."""
        state = json.loads(context.cursor) if context.cursor else {}
        instance = context.instance
        # Re-read the last millisecond: runs updated in the same instant as the cursor are not
        # lost, and re-mirroring a run is a no-op (its writes are not newer).
        after = datetime.fromtimestamp(state.get("after", 0.0) - 0.001, tz=timezone.utc)
        records = instance.get_run_records(
            filters=dg.RunsFilter(updated_after=after),
            order_by="update_timestamp",
            ascending=True,
            limit=max_runs_per_tick,
        )
        written = refused = 0
        # One read of each job's run history per tick, however many of its runs failed in it;
        # the batches alerted this tick, so two failed runs of one batch alert once.
        histories: dict[str, object] = {}
        alerted_batches: set[tuple[str, str]] = set()
        for record in records:
            newly_failed = []
            for info, batch, asset, progress in run_progress(instance, record, index):
                try:
                    applied = partition_registry.record_progress(info.table_id, batch, asset, progress)
                except KeyError as exc:
                    context.log.warning(f"{asset} run {progress.run_id}: {exc.args[0]}; progress not mirrored")
                    continue
                written += applied
                refused += not applied
                if applied and progress.status == "FAILED":
                    newly_failed.append((info, batch, asset, progress))
            if newly_failed:
                # A run is mirrored once, so this alerts once per run, naming its first failure.
                _alert_if_gave_up(context, alerts, *newly_failed[0], histories, alerted_batches)
        if records:
            state["after"] = max(r.update_timestamp.timestamp() for r in records)
        alerted = _alert_stuck(context, alerts, lake_jobs, set(state.get("stuck_alerted", [])), now())
        state["stuck_alerted"] = sorted(alerted)
        context.update_cursor(json.dumps(state, sort_keys=True))
        return dg.SkipReason(
            f"{len(records)} run(s) read, {written} progress write(s), {refused} not newer than the registry's"
        )

    return batch_status_sensor


def _alert_if_gave_up(
    context,
    alerts: Alerts,
    info: LakeAsset,
    batch: str,
    asset: str,
    progress: AssetProgress,
    histories: dict,
    alerted_batches: set,
) -> None:
    """Alert when this failure is the one that used up the batch's automatic attempts."""
    if info.job_name not in histories:
        histories[info.job_name] = run_history(context.instance, info.job_name)
    failures = histories[info.job_name].failures(batch)
    if failures != info.max_attempts or (info.job_name, batch) in alerted_batches:
        return
    alerted_batches.add((info.job_name, batch))
    subject = f"lake: {info.table_id}/{batch} failed {failures} times; retries stopped"
    alerts.send(
        subject,
        f"{asset} failed in run {progress.run_id}: {progress.error}\n"
        f"Automatic retries stopped after max_attempts={info.max_attempts}. Fix the cause, then"
        f" `lake redrive {info.table_id} {batch}`, or `lake retire {info.table_id} {batch} --reason ...`.",
    )
    context.log.error(subject)


def _alert_stuck(context, alerts: Alerts, lake_jobs: dict[str, LakeAsset], alerted: set[str], now: float) -> set[str]:
    """Alert once per run that has been in flight longer than its table's timeout; return the alerted set."""
    from dagster._core.storage.dagster_run import NOT_FINISHED_STATUSES

    in_flight = context.instance.get_run_records(filters=dg.RunsFilter(statuses=list(NOT_FINISHED_STATUSES)))
    still = set()
    for record in in_flight:
        run = record.dagster_run
        info = lake_jobs.get(run.job_name)
        if info is None:
            continue
        started = record.start_time or record.create_timestamp.timestamp()
        if now - started <= info.timeout_minutes * 60:
            continue
        still.add(run.run_id)
        if run.run_id in alerted:
            continue
        batch = run.tags.get(PARTITION_TAG, "?")
        subject = f"lake: {info.table_id}/{batch} run stuck for {(now - started) / 60:.0f} min"
        alerts.send(
            subject,
            f"Run {run.run_id} of {run.job_name} has been {run.status.value} for {(now - started) / 60:.0f} min,"
            f" past timeout_minutes={info.timeout_minutes}. Terminate it in the UI, then"
            f" `lake redrive {info.table_id} {batch}`.",
        )
        context.log.error(subject)
    return still
