"""The registry sync sensor: keeps each table's dynamic partitions equal to its registry batches.

Why it exists: the partition registry (DynamoDB in AWS) is the source of truth for which
batches a table has, and it has more writers than the landing sensor: other producers register
batches directly, operators delete bad batches. Dagster only knows the partition keys that
someone added to the instance, so without this sensor those batches would never appear in the
UI (and the catch-up schedules could not request runs for them).

Design:

- **Round-robin, bounded.** Each tick looks at no more than ``max_tables_per_tick`` tables, in
  table-id order starting from the table stored in the cursor, and emits at most
  ``max_keys_per_tick`` partition additions and deletions in total. A table with more changes
  than the budget keeps its place in the cursor and continues on the next tick, so one huge
  backlog cannot starve the others or make a tick time out.
- **Reads.** Per table one paginated ``list_batches`` (a DynamoDB Query on the table's hash
  key, never a Scan) and one ``get_dynamic_partitions`` on the instance.
- **Adds** are every registered batch id that Dagster lacks. Ids that are not valid batch
  ids are skipped with a warning: the assets would reject them anyway.
- **Deletes** are Dagster keys the registry no longer has, but only once a key has been missing
  for ``delete_grace_seconds``. The normal writers register before the partition is added
  (the landing sensor) or right after (an engineer adds a partition in the UI and the raw asset
  registers it when it runs); the grace period keeps the sync from undoing that second path.
  The first time each missing key was seen is kept in the cursor; that map only holds keys
  that are currently out of sync, so it stays small.
- It requests no runs: the landing sensor and the catch-up schedules do that.
"""

from __future__ import annotations

import bisect
import json
import time

import dagster as dg

from lake_platform.layout import is_batch_id
from lake_platform.resources import PartitionRegistry
from lake_platform.table_assets import TableAssets


def build_registry_sync_sensor(
    table_assets: list[TableAssets],
    max_tables_per_tick: int = 10,
    max_keys_per_tick: int = 1000,
    delete_grace_seconds: float = 600,
) -> dg.SensorDefinition:
    """The ``registry_sync_sensor`` over every ingest table built by the asset factory."""
    entries = sorted(table_assets, key=lambda t: t.table_id)
    ids = [t.table_id for t in entries]

    @dg.sensor(
        name="registry_sync_sensor",
        minimum_interval_seconds=60,
        default_status=dg.DefaultSensorStatus.RUNNING,
        description=(
            "Adds batches registered in the partition registry (by any producer) to the tables'"
            " dynamic partitions and removes the ones deleted from it; bounded work per tick."
        ),
    )
    def registry_sync_sensor(
        context: dg.SensorEvaluationContext, partition_registry: PartitionRegistry
    ) -> dg.SensorResult:
        """Sync the next few tables' registry batches into their dynamic partitions."""
        if not entries:
            return dg.SensorResult(skip_reason="no ingest tables")
        state = json.loads(context.cursor) if context.cursor else {}
        absent: dict[str, dict[str, float]] = state.get("absent", {})
        # Resume at the stored table, or at the next one in order if it no longer exists.
        start = bisect.bisect_left(ids, state.get("next", "")) % len(entries)
        now = time.time()
        budget = max_keys_per_tick
        requests: list = []
        summary: list[str] = []
        next_index = start
        for step in range(min(max_tables_per_tick, len(entries))):
            index = (start + step) % len(entries)
            entry = entries[index]
            name = entry.partitions_name
            registered = {r.batch_id for r in partition_registry.list_batches(entry.table_id)}
            known = set(context.instance.get_dynamic_partitions(name))

            invalid = sorted(b for b in registered - known if not is_batch_id(b))
            if invalid:
                context.log.warning(
                    f"{entry.table_id}: registry holds batch ids that are not YYYYMMDDTHHMMSSZ, not"
                    f" added as partitions: {invalid[:10]}"
                )
            to_add = sorted(b for b in registered - known if is_batch_id(b))

            missing = known - registered
            first_seen = {k: v for k, v in absent.get(entry.table_id, {}).items() if k in missing}
            for key in missing:
                first_seen.setdefault(key, now)
            to_delete = sorted(k for k in missing if now - first_seen[k] >= delete_grace_seconds)

            adds, budget = to_add[:budget], budget - len(to_add[:budget])
            deletes, budget = to_delete[:budget], budget - len(to_delete[:budget])
            if adds:
                requests.append(entry.partitions_def.build_add_request(adds))
            if deletes:
                requests.append(entry.partitions_def.build_delete_request(deletes))
            for key in deletes:
                first_seen.pop(key, None)
            if first_seen:
                absent[entry.table_id] = first_seen
            else:
                absent.pop(entry.table_id, None)
            if adds or deletes:
                summary.append(f"{entry.table_id}: +{len(adds)} -{len(deletes)}")

            if len(adds) < len(to_add) or len(deletes) < len(to_delete):
                # Out of budget inside this table: continue with it next tick.
                next_index = index
                break
            next_index = (index + 1) % len(entries)
            if budget == 0:
                break

        # Forget tables that are no longer defined, so the cursor cannot grow without bound.
        absent = {tid: keys for tid, keys in absent.items() if tid in ids}
        cursor = json.dumps({"next": ids[next_index], "absent": absent}, sort_keys=True)
        if not requests:
            return dg.SensorResult(cursor=cursor, skip_reason="dynamic partitions match the registry")
        context.log.info("; ".join(summary))
        return dg.SensorResult(dynamic_partitions_requests=requests, cursor=cursor)

    return registry_sync_sensor
