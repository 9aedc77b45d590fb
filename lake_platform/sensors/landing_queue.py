"""Event-driven landing in AWS: S3 "Object Created" events (EventBridge -> SQS) register batches.

Listing, however bounded, finds a batch only by walking past it; an event names the key the
moment it lands. The raw bucket sends its events to EventBridge, a rule forwards those under
``landing/`` to an SQS queue with a dead-letter queue (terraform/landing_events.tf), and this
sensor consumes the queue in bounded batches:

- an event for a ``<table prefix>/<batch id>/_SUCCESS`` key registers the batch (its files are
  listed once: the uploader writes the marker last) and requests its run with the run key
  ``<table_id>:<batch_id>``, so duplicate or repeated events start nothing twice, and the order
  in which data-file and marker events arrive does not matter;
- events for data files, and for keys outside any table prefix, carry nothing to do and are
  deleted; a folder that is not a batch id is reported;
- a message is deleted only after its batch is registered. A message that cannot be read
  (poison) is left on the queue and reaches the dead-letter queue after the queue's
  ``maxReceiveCount`` receives, where an alarm reports it.

The listing sensor keeps running beside it as the safety net (a lost event, a batch landed
before the queue existed).
"""

import json
from dataclasses import dataclass, field

import dagster as dg

from lake_platform.batches import LandedTable, landed_tables, register_batches, run_requests_for
from lake_platform.layout import SUCCESS_MARKER, is_batch_id, landing_table_prefix
from lake_platform.resources import LandingQueue, ObjectStore, PartitionRegistry
from lake_platform.sensors.landing import landing_sensor_def
from lake_platform.table_assets import TableAssets


@dataclass
class QueueResult:
    """Complete batches per table found in one pass, messages deleted, poison left, warnings."""

    complete: dict[str, list[str]] = field(default_factory=dict)
    deleted: int = 0
    poison: int = 0
    warnings: list[str] = field(default_factory=list)


def _object_key(body: str, raw_bucket: str) -> str:
    """The S3 key of an EventBridge "Object Created" event; ValueError for anything else."""
    event = json.loads(body)
    detail = event["detail"]
    if event.get("detail-type") != "Object Created" or detail["bucket"]["name"] != raw_bucket:
        raise ValueError(f"not an Object Created event of bucket {raw_bucket}")
    return detail["object"]["key"]


def consume_landing_events(
    queue: LandingQueue,
    store: ObjectStore,
    registry: PartitionRegistry,
    tables: list[LandedTable],
    max_messages: int = 100,
    visibility_timeout: int = 120,
) -> QueueResult:
    """Receive up to ``max_messages`` events, register the batches they complete, delete what is handled."""
    result = QueueResult()
    prefixes = {landing_table_prefix(t.landing_prefix, t.table_name): t for t in tables}
    received, seen = 0, set[str]()
    while received < max_messages:
        messages = queue.client.receive_message(
            QueueUrl=queue.queue_url,
            MaxNumberOfMessages=min(10, max_messages - received),
            WaitTimeSeconds=0,
            VisibilityTimeout=visibility_timeout,
        ).get("Messages", [])
        # A message left on the queue (poison) comes back once its visibility ends; once per pass is enough.
        messages = [m for m in messages if m["MessageId"] not in seen]
        if not messages:
            break
        seen.update(m["MessageId"] for m in messages)
        received += len(messages)
        handled = []
        for message in messages:
            try:
                key = _object_key(message["Body"], store.raw_bucket)
            except (ValueError, KeyError, TypeError) as exc:
                result.poison += 1
                result.warnings.append(
                    f"unreadable landing event {message['MessageId']} left for the dead-letter queue: {exc}"
                )
                continue
            table = next((t for p, t in prefixes.items() if key.startswith(p)), None)
            if table is not None:
                prefix = landing_table_prefix(table.landing_prefix, table.table_name)
                folder, _, name = key[len(prefix) :].partition("/")
                if not name:
                    result.warnings.append(
                        f"{table.table_id}: s3://{store.raw_bucket}/{key} is not inside a batch folder"
                    )
                elif not is_batch_id(folder):
                    result.warnings.append(
                        f"{table.table_id}: ignoring s3://{store.raw_bucket}/{prefix}{folder}: folder name is not a"
                        " batch id YYYYMMDDTHHMMSSZ (see the landing contract)"
                    )
                elif name == SUCCESS_MARKER:
                    # A repeated event needs no second listing of the folder.
                    if registry.get(table.table_id, folder) is None:
                        failed = register_batches(store, registry, table, [(folder, None)], by="landing_queue_sensor")
                        if failed:
                            # The message stays on the queue (redelivered later); other batches go on.
                            result.warnings.append(
                                f"{table.table_id}/{folder}: could not be registered ({failed[folder][:500]});"
                                " its event is kept for another try"
                            )
                            continue
                    done = result.complete.setdefault(table.table_id, [])
                    if folder not in done:
                        done.append(folder)
            handled.append({"Id": message["MessageId"], "ReceiptHandle": message["ReceiptHandle"]})
        for start in range(0, len(handled), 10):
            queue.client.delete_message_batch(QueueUrl=queue.queue_url, Entries=handled[start : start + 10])
        result.deleted += len(handled)
    return result


def build_landing_queue_sensor(
    table_assets: list[TableAssets], max_messages_per_tick: int = 500
) -> dg.SensorDefinition:
    """The sensor that turns landing events into registered batches and runs (AWS only)."""
    by_id = {t.table_id: t for t in table_assets}
    landed = landed_tables(table_assets)

    @landing_sensor_def(
        "landing_queue_sensor",
        table_assets,
        "Registers batches from S3 landing events (EventBridge -> SQS) and starts one run per batch.",
    )
    def landing_queue_sensor(
        context: dg.SensorEvaluationContext,
        landing_queue: LandingQueue,
        object_store: ObjectStore,
        partition_registry: PartitionRegistry,
    ) -> dg.SensorResult:
        """Consume a bounded batch of landing events; register complete batches and request their runs."""
        consumed = consume_landing_events(
            landing_queue, object_store, partition_registry, landed, max_messages_per_tick
        )
        for warning in consumed.warnings:
            context.log.warning(warning)
        runs, partitions = run_requests_for(context.instance, by_id, consumed.complete)
        context.log.info(
            f"{consumed.deleted} events handled, {consumed.poison} unreadable; {len(runs)} complete batches"
        )
        return dg.SensorResult(
            run_requests=runs,
            dynamic_partitions_requests=partitions,
            skip_reason=None if runs else f"{consumed.deleted} events, no new complete batch",
        )

    return landing_queue_sensor
