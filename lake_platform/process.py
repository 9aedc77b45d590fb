"""Headless processing through the same Dagster definitions and instance the UI uses.

``lake process`` evaluates the landing sensor against a real Dagster instance (cursor kept in
the instance), applies its dynamic-partition requests, executes the requested runs, then runs
every registered batch that is still unfinished, in batch order. Runs, materializations and
check results land in the instance, so ``make dev`` shows them afterwards.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field

import dagster as dg

from lake_platform.batches import Decision, NextRun, RetryPolicy, finished_batches, next_runs
from lake_platform.instance import get_instance, render_instance_yaml
from lake_platform.run_history import one_line, run_failure_reason, run_history
from lake_platform.sensors.batch_status import SENSOR_NAME as STATUS_SENSOR_NAME
from lake_platform.sensors.landing_cursor import LandingCursor

SENSOR_NAME = "landing_sensor"
# The local instance rules (pools, run monitoring, retries, coordinator): see lake_platform.instance.
INSTANCE_YAML = render_instance_yaml("local")
CURSOR_KEY = "lake_process/landing_sensor_cursor"
# The full event stream is in the instance (and the UI); the terminal gets warnings and errors.
QUIET_CONSOLE = {"loggers": {"console": {"config": {"log_level": "WARNING"}}}}


@dataclass
class RunOutcome:
    """One executed run."""

    table_id: str
    batch_id: str
    run_id: str
    success: bool
    error: str | None = None


@dataclass
class ProcessReport:
    """What one ``lake process`` pass did."""

    ticks: int = 0
    registered: dict[str, list[str]] = field(default_factory=dict)
    runs: list[RunOutcome] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    gave_up: list[str] = field(default_factory=list)

    @property
    def failed(self) -> list[RunOutcome]:
        """Runs that did not succeed."""
        return [r for r in self.runs if not r.success]


def sync_batch_status(instance: dg.DagsterInstance, defs: dg.Definitions, max_ticks: int = 100) -> None:
    """Tick the batch status sensor until it has mirrored every run into the registry.

    Headless commands do what the daemon would have done by now, so that ``lake doctor`` and
    the registry reflect the runs just made. The cursor is the sensor's own (as the daemon keeps it).
    """
    sensor = defs.resolve_sensor_def(STATUS_SENSOR_NAME)
    key = f"lake_process/{STATUS_SENSOR_NAME}_cursor"
    cursor = instance.run_storage.get_cursor_values({key}).get(key)
    for _ in range(max_ticks):
        # A context manager: resources with nested resources (the query engine's catalog) are set up in it.
        with dg.build_sensor_context(instance=instance, cursor=cursor, resources=dict(defs.resources or {})) as context:
            sensor(context)
            new_cursor = context.cursor
        instance.run_storage.set_cursor_values({key: new_cursor or ""})
        if new_cursor == cursor:
            return
        cursor = new_cursor


def evaluate_landing_sensor(
    instance: dg.DagsterInstance, defs: dg.Definitions, max_ticks: int = 100
) -> tuple[list[dg.RunRequest], ProcessReport]:
    """Tick the landing sensor until it finds nothing new; return the run requests it made."""
    sensor = defs.resolve_sensor_def(SENSOR_NAME)
    report = ProcessReport()
    requests: list[dg.RunRequest] = []
    cursor = look_back_now(instance.run_storage.get_cursor_values({CURSOR_KEY}).get(CURSOR_KEY))
    for _ in range(max_ticks):
        with dg.build_sensor_context(
            instance=instance, cursor=cursor, definitions=defs, resources=dict(defs.resources or {})
        ) as context:
            result = sensor(context)
        if not isinstance(result, dg.SensorResult):
            raise TypeError(f"sensor {SENSOR_NAME} returned {type(result).__name__}, not a SensorResult")
        report.ticks += 1
        for added in result.dynamic_partitions_requests or []:
            if isinstance(added, dg.AddDynamicPartitionsRequest):
                instance.add_dynamic_partitions(added.partitions_def_name, list(added.partition_keys))
        for request in result.run_requests or []:
            requests.append(request)
            report.registered.setdefault(request.tags["lake/table"], []).append(requested_batch(request))
        new_cursor = result.cursor
        instance.run_storage.set_cursor_values({CURSOR_KEY: new_cursor or ""})
        if new_cursor == cursor and not result.run_requests:
            break
        cursor = new_cursor
    return requests, report


def look_back_now(cursor: str | None) -> str | None:
    """The landing cursor with every table's look-back due: ``lake process`` runs it every time.

    The daemon's sensor re-lists the window behind the cursor every few minutes; a person who
    runs ``lake process`` expects whatever has landed, a late batch with an older id included.
    """
    if not cursor:
        return cursor
    return LandingCursor.parse(cursor).with_look_back_due().serialize()


def requested_batch(request: dg.RunRequest) -> str:
    """The batch (partition key) a lake run request is for; every lake job is partitioned by batch."""
    if request.partition_key is None:
        raise ValueError(f"run request for {request.job_name} names no batch (partition key)")
    return request.partition_key


def run_batch(defs: dg.Definitions, instance: dg.DagsterInstance, job_name: str, batch_id: str, tags: dict[str, str]):
    """Execute one batch's job in-process on ``instance`` (adding the batch's partition if needed).

    Refused with ``LAKE_ENV=aws``: production runs are the daemon's Fargate tasks.
    """
    from lake_platform.production import refuse_in_process_run

    refuse_in_process_run(f"running {job_name} for batch {batch_id}")
    job = defs.resolve_job_def(job_name)
    if not isinstance(job.partitions_def, dg.DynamicPartitionsDefinition) or job.partitions_def.name is None:
        raise ValueError(f"job {job_name} is not partitioned by batch")
    if not instance.has_dynamic_partition(job.partitions_def.name, batch_id):
        instance.add_dynamic_partitions(job.partitions_def.name, [batch_id])
    return job.execute_in_process(
        instance=instance, partition_key=batch_id, tags=tags, raise_on_error=False, run_config=QUIET_CONSOLE
    )


def plan_runs(
    defs: dg.Definitions, registry, instance: dg.DagsterInstance, requests: list[dg.RunRequest], redo: bool = False
) -> tuple[list[dg.RunRequest], list[str]]:
    """The runs one pass starts, oldest batch first, and the batches it gives up on.

    The decision is :func:`~lake_platform.batches.next_runs`, attended (a person runs
    ``lake process``, so a failed batch is retried at once rather than after the schedules'
    backoff): a batch whose assets are all materialized, or whose job has a successful run, is
    done, so a reset cursor or a second pass starts nothing twice; a batch with a run queued or
    in flight (or a failed run awaiting Dagster's retry) is left to it; a batch with
    ``max_attempts`` failed runs is given up; retired batches are never run. ``redo`` runs every
    batch again, whatever its runs (``lake rebuild --from-raw``).
    """
    wanted = {(request.job_name or "", requested_batch(request)): request for request in requests}
    runs: list[tuple[str, str, dg.RunRequest]] = []
    gave_up = []
    for job in defs.jobs or []:
        table_id = (job.tags or {}).get("lake/table")
        if not table_id:
            continue
        for step in _job_next_runs(defs, registry, instance, job.name, table_id, wanted, redo):
            if step.decision is Decision.RUN:
                request = wanted.get((job.name, step.batch_id)) or dg.RunRequest(
                    job_name=job.name,
                    partition_key=step.batch_id,
                    tags={"lake/table": table_id, "lake/batch": step.batch_id},
                )
                runs.append((step.batch_id, job.name, request))
            elif step.decision is Decision.GAVE_UP:
                gave_up.append(f"{table_id}/{step.batch_id}: {step.failures} failed runs; not retried")
    return [request for _, _, request in sorted(runs, key=lambda r: r[:2])], gave_up


def _job_next_runs(defs, registry, instance, job_name: str, table_id: str, wanted: dict, redo: bool) -> list[NextRun]:
    """:func:`next_runs` for one table's job: its registered batches and the ones the sensor requested."""
    from lake_platform.resources.partition_registry.base import BatchRecord

    job = defs.resolve_job_def(job_name)
    records = {r.batch_id: r for r in registry.list_batches(table_id)}
    for name, batch_id in wanted:
        if name == job_name and batch_id not in records:
            records[batch_id] = BatchRecord(table_id, batch_id)
    history = run_history(instance, job_name)
    done = finished_batches(instance, history, sorted(job.asset_layer.selected_asset_keys), whole_job=True)
    policy = RetryPolicy.from_tags(job.tags)
    return next_runs(list(records.values()), history, done, policy, time.time(), attended=True, redo=redo)


def process(
    defs: dg.Definitions, registry, instance: dg.DagsterInstance | None = None, log=print, redo: bool = False
) -> ProcessReport:
    """One headless pass: sensor ticks, then the runs :func:`plan_runs` chooses, oldest batch first.

    ``registry`` is the initialized partition registry resource. Refused with ``LAKE_ENV=aws``
    before the landing sensor ticks: in production the daemon owns its cursor and the registry.
    """
    from lake_platform.production import refuse_in_process_run

    refuse_in_process_run("lake process")
    instance = instance or get_instance()
    requests, report = evaluate_landing_sensor(instance, defs)
    runs, report.gave_up = plan_runs(defs, registry, instance, requests, redo)
    for request in runs:
        table_id, batch_id, job_name = request.tags["lake/table"], requested_batch(request), request.job_name or ""
        log(f"  running {request.job_name} for batch {batch_id} ...")
        tags = dict(request.tags)
        if request.run_key:
            tags["dagster/run_key"] = request.run_key
        tags["lake/launched_by"] = "lake process"
        result = run_batch(defs, instance, job_name, batch_id, tags)
        outcome = RunOutcome(table_id, batch_id, result.run_id, result.success)
        if not result.success:
            outcome.error = run_failure_reason(instance, result.run_id)
            log(f"    FAILED: {one_line(outcome.error)}")
        report.runs.append(outcome)
    sync_batch_status(instance, defs)
    return report


def _table_asset_keys(config, table, configs: list) -> list[str]:
    """The asset keys (as the registry's progress names them) of one ingest table's batches."""
    from lake_glue.config import targets_of
    from lake_platform.layout import asset_key

    keys = [asset_key(layer, config.config_name, table.table_name).to_user_string() for layer in ("raw", "source")]
    return keys + [_target_key(prepare, target) for prepare, target in targets_of(config, table, configs)]


def _target_key(prepare, target) -> str:
    """A target's asset key as the registry's progress names it."""
    from lake_platform.layout import asset_key

    return asset_key("target", prepare.config_name, target.table_name).to_user_string()


def _materialized(record, asset: str) -> bool:
    return (progress := record.progress.get(asset)) is not None and progress.status == "MATERIALIZED"


def _all_materialized(record, assets: list[str]) -> bool:
    return all(_materialized(record, a) for a in assets)


def summarize(registry, engine, configs: list) -> list[dict]:
    """Per ingest table: batches, landed/source/quarantined rows and each target's row count."""
    from lake_glue.config import IngestConfig, targets_of

    rows = []
    for config in configs:
        if not isinstance(config, IngestConfig):
            continue
        for table in config.table_config:
            records = registry.list_batches(f"{config.config_name}.{table.table_name}")
            assets = _table_asset_keys(config, table, configs)
            targets: dict[str, object] = {}
            row = {
                "table": f"{config.config_name}.{table.table_name}",
                "batches": len(records),
                "done": sum(_all_materialized(r, assets) for r in records),
                "landed": sum(r.landed_rows or 0 for r in records),
                "source": sum(r.source_rows or 0 for r in records),
                "quarantined": sum(r.quarantined_rows or 0 for r in records),
                "targets": targets,
            }
            for prepare, target in targets_of(config, table, configs):
                name = f"{prepare.target.database}.{target.table_name}"
                targets[name] = _target_rows(engine, name, records, _target_key(prepare, target))
            rows.append(row)
    return rows


NOT_BUILT = "not built yet by this table's batches"


def _target_rows(engine, name: str, records: list, key: str) -> int | str:
    """A target's row count; not asked of the engine when none of ``records`` built it (the
    table may not exist yet, and locally that query would load the catalog to say so)."""
    if not any(_materialized(r, key) for r in records):
        return NOT_BUILT
    try:
        return engine.query(f"SELECT count(*) FROM {name}").rows[0][0]
    except Exception as exc:  # noqa: BLE001 - a missing table is reported, not fatal
        return f"unavailable ({str(exc).splitlines()[0][:80]})"


def format_summary(rows: list[dict]) -> str:
    """The summary as a fixed-width table."""
    header = f"{'table':<18} {'batches':>7} {'done':>5} {'landed':>7} {'source':>7} {'quarant.':>8}  target rows"
    lines = [header, "-" * len(header)]
    for r in rows:
        targets = ", ".join(f"{k}={v}" for k, v in r["targets"].items()) or "-"
        lines.append(
            f"{r['table']:<18} {r['batches']:>7} {r['done']:>5} {r['landed']:>7} {r['source']:>7}"
            f" {r['quarantined']:>8}  {targets}"
        )
    return "\n".join(lines)


def to_json(rows: list[dict]) -> str:
    """The summary as JSON (for scripts)."""
    return json.dumps(rows, indent=2, default=str)
