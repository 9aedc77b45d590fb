"""The landing sensor: turns complete batches in the raw bucket into registry entries, dynamic
partitions and runs, with bounded work per tick.

How it scales: per table, the cursor keeps ``after`` (the last landing key fully dealt with)
and ``pending`` (batches seen without their ``_SUCCESS`` marker). A tick lists only keys after
``after`` (``StartAfter`` in S3), at most ``max_keys`` per tick shared between tables, and
re-checks each pending batch with one existence check on its marker key. Because batch ids are
UTC timestamps, ``after`` only moves forward through time, so the landing prefix is never
listed in full; a marker that arrives after later batches is found through ``pending``.
A page holds whole batches only (the possibly cut-off last batch is left for the next tick),
except when one batch fills a page by itself: then it is read in full before it is registered,
and the rest of it on later pages (like files that land after a marker) is recognised as a
continuation of a batch already pending or complete, so it is never reported twice.
A batch is registered with a conditional write and requested with the run key
``<table_id>:<batch_id>``, so nothing is processed twice across ticks, races or restarts.
"""


import json
from dataclasses import dataclass, field

import dagster as dg

from lake_platform.layout import SUCCESS_MARKER, is_batch_id, landing_table_prefix
from lake_platform.resources import ObjectStore, PartitionRegistry
from lake_platform.resources.partition_registry import BatchRecord

MAX_PENDING_CHECKS = 200


@dataclass
class LandedTable:
    """What the scan needs to know of one ingest table."""

    table_id: str
    landing_prefix: str
    table_name: str


@dataclass
class ScanResult:
    """Complete batches found per table, problems worth logging, and the new cursor."""

    complete: dict[str, list[str]] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    cursor: dict = field(default_factory=dict)
    keys_listed: int = 0


def _group_by_batch(prefix: str, keys: list[str]) -> list[tuple[str, list[str]]]:
    groups: list[tuple[str, list[str]]] = []
    for key in keys:
        batch = key[len(prefix):].split("/", 1)[0]
        if groups and groups[-1][0] == batch:
            groups[-1][1].append(key)
        else:
            groups.append((batch, [key]))
    return groups


def _register(store: ObjectStore, registry: PartitionRegistry, table: LandedTable, batch_id: str, keys: list[str] | None) -> None:
    prefix = f"{landing_table_prefix(table.landing_prefix, table.table_name)}{batch_id}/"
    if keys is None:
        keys = [o.key for o in store.list_objects(store.raw_bucket, prefix, max_keys=100_000)]
    files = [k for k in keys if not k.rsplit("/", 1)[-1].startswith(("_", "."))]
    registry.register(BatchRecord(table.table_id, batch_id, files=files, registered_by="landing_sensor"))


def scan_landing(
    store: ObjectStore, registry: PartitionRegistry, tables: list[LandedTable], cursor: dict, max_keys: int = 2000
) -> ScanResult:
    """One bounded pass over the landing prefixes; see the module docstring for the design."""
    result = ScanResult(cursor={})
    budget = max(50, max_keys // max(1, len(tables)))
    for table in tables:
        state = dict(cursor.get(table.table_id) or {})
        after, pending = state.get("after"), list(state.get("pending", []))
        prefix = landing_table_prefix(table.landing_prefix, table.table_name)
        complete: list[str] = []

        still_pending = []
        for i, batch_id in enumerate(pending):
            if i < MAX_PENDING_CHECKS and store.exists(store.raw_bucket, f"{prefix}{batch_id}/{SUCCESS_MARKER}"):
                _register(store, registry, table, batch_id, None)
                complete.append(batch_id)
            else:
                still_pending.append(batch_id)
        # Rotate so that a long pending list is re-checked fairly across ticks.
        pending = still_pending[MAX_PENDING_CHECKS:] + still_pending[:MAX_PENDING_CHECKS]

        start_after = after
        keys = [o.key for o in store.list_objects(store.raw_bucket, prefix, start_after=after, max_keys=budget)]
        result.keys_listed += len(keys)
        groups = _group_by_batch(prefix, keys)
        truncated = len(keys) >= budget
        # A batch that fills a whole page by itself may continue past it.
        cut_off = truncated and len(groups) == 1
        if truncated and len(groups) > 1:
            # The last batch may continue past the page; leave it for the next tick.
            groups = groups[:-1]
        for batch_id, batch_keys in groups:
            after = batch_keys[-1]
            # The rest of a batch whose first keys an earlier tick listed (a batch larger than a
            # page, or files landing after its marker): that tick already made it pending or
            # complete, so only a pending batch may complete here, and never twice.
            continued = bool(start_after) and start_after.startswith(f"{prefix}{batch_id}/")
            if not is_batch_id(batch_id) or batch_keys[0] == f"{prefix}{batch_id}":
                if not continued:
                    result.warnings.append(
                        f"{table.table_id}: ignoring s3://{store.raw_bucket}/{prefix}{batch_id}: folder name is"
                        " not a batch id YYYYMMDDTHHMMSSZ (see the landing contract)"
                    )
                continue
            if continued and batch_id not in pending:
                continue
            names = {k.rsplit("/", 1)[-1] for k in batch_keys}
            if SUCCESS_MARKER in names:
                # A batch that is only partly on this page is read in full before registering;
                # every other batch on the page is whole, so its listed keys are its file list.
                _register(store, registry, table, batch_id, None if cut_off or continued else batch_keys)
                complete.append(batch_id)
                pending = [p for p in pending if p != batch_id]
            elif batch_id not in pending:
                pending.append(batch_id)
        result.complete[table.table_id] = sorted(set(complete))
        result.cursor[table.table_id] = {"after": after, "pending": pending}
    return result


def build_landing_sensor(table_assets: list, max_keys_per_tick: int = 2000) -> dg.SensorDefinition:
    """The sensor over every ingest table built by the asset factory."""
    by_id = {t.table_id: t for t in table_assets}
    landed = [LandedTable(t.table_id, t.config.source.landing_prefix, t.table.table_name) for t in table_assets]

    @dg.sensor(
        name="landing_sensor",
        jobs=[t.job for t in table_assets],
        minimum_interval_seconds=30,
        default_status=dg.DefaultSensorStatus.RUNNING,
        description="Registers complete landed batches and starts one run per new batch.",
    )
    def landing_sensor(
        context: dg.SensorEvaluationContext, object_store: ObjectStore, partition_registry: PartitionRegistry
    ) -> dg.SensorResult:
        """Scan the landing prefixes (bounded), register complete batches and request their runs."""
        cursor = json.loads(context.cursor) if context.cursor else {}
        scan = scan_landing(object_store, partition_registry, landed, cursor, max_keys_per_tick)
        for warning in scan.warnings:
            context.log.warning(warning)
        run_requests, partition_requests = [], []
        for tid, batch_ids in scan.complete.items():
            entry = by_id[tid]
            new = [b for b in batch_ids if not context.instance.has_dynamic_partition(entry.partitions_def.name, b)]
            if new:
                partition_requests.append(entry.partitions_def.build_add_request(new))
            for batch_id in batch_ids:
                run_requests.append(
                    dg.RunRequest(
                        run_key=f"{tid}:{batch_id}",
                        job_name=entry.job.name,
                        partition_key=batch_id,
                        tags={"lake/table": tid, "lake/batch": batch_id},
                    )
                )
        context.log.info(f"listed {scan.keys_listed} keys; {len(run_requests)} complete batches")
        return dg.SensorResult(
            run_requests=run_requests,
            dynamic_partitions_requests=partition_requests,
            cursor=json.dumps(scan.cursor, sort_keys=True),
        )

    return landing_sensor
