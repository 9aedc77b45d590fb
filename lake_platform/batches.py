"""Batches, below the assets and the sensors: sealing, registration, stragglers and run requests.

Both landing sensors, the raw asset, the checks and ``lake`` commands share these; keeping them
here (not in a sensor module) is what lets ``assets`` and ``resources`` import nothing from
``sensors``.

Stragglers are data files that land in a batch folder after the batch was sealed. A sealed batch
is immutable (ingest reads exactly its sealed list), so a file landing under it later is never
ingested by it. Such a file is found and reported (a ``lake doctor`` finding, a failed
``no_stragglers`` check on the batch's raw asset, and an alert, see the landing sensor), and
``lake reseal <table> <batch>`` copies the batch's stragglers into a new batch (a new id, its own
marker and sealed list) that is ingested like any other. The original batch, its files and its
registry record stay untouched; a straggler counts as dealt with once a reseal batch of its
batch holds a file of the same name.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import Enum

import dagster as dg

from lake_glue.config import JobSettings
from lake_platform.instance import ensure_pool_limits
from lake_platform.layout import landing_table_prefix
from lake_platform.resources.alerts.base import Alerts
from lake_platform.resources.object_store.base import ObjectInfo, ObjectStore, is_data_file
from lake_platform.resources.partition_registry.base import BatchRecord, PartitionRegistry
from lake_platform.run_history import PARTITION_TAG, RunHistory
from lake_platform.table_assets import TableAssets


@dataclass
class LandedTable:
    """What the scan needs to know of one ingest table."""

    table_id: str
    landing_prefix: str
    table_name: str


def landed_tables(table_assets: list[TableAssets]) -> list[LandedTable]:
    """What the landing scans need of each ingest table the asset factory built."""
    return [LandedTable(t.table_id, t.config.source.landing_prefix, t.table.table_name) for t in table_assets]


def seal_batch(
    store: ObjectStore,
    registry: PartitionRegistry,
    table_id: str,
    prefix: str,
    batch_id: str,
    by: str,
    listed: list[ObjectInfo] | None = None,
) -> bool:
    """Register a complete batch with its sealed file list (key, size, ETag); True if this call did.

    The list is taken now, after the marker was seen (from ``listed`` when the caller's
    listing holds the whole batch): ingest reads exactly these files and fails the batch when
    one changed or appeared later.
    """
    return registry.register(sealed_record(store, table_id, prefix, batch_id, by, listed))


def sealed_record(
    store: ObjectStore, table_id: str, prefix: str, batch_id: str, by: str, listed: list[ObjectInfo] | None = None
) -> BatchRecord:
    """The registry record of a complete batch, with the file list it is sealed as."""
    return BatchRecord(table_id, batch_id, sealed=store.seal(store.raw_bucket, prefix, listed), registered_by=by)


def register_batches(
    store: ObjectStore,
    registry: PartitionRegistry,
    table: LandedTable,
    batches: list[tuple[str, list[ObjectInfo] | None]],
    by: str = "landing_sensor",
) -> dict[str, str]:
    """Seal and register a table's complete batches of one pass; the ones that failed, with why.

    A batch whose files the caller listed whole is sealed from that listing; any other is
    listed on its own first. All are registered in one ``register_many`` (registering thousands
    one write at a time made a cold start take minutes); when that fails, each batch is tried
    on its own, so one batch that cannot be sealed or registered (a listing error, a record
    the store refuses) never keeps the others out: it is returned, and the caller reports it
    and tries it again on a later tick.
    """
    root = landing_table_prefix(table.landing_prefix, table.table_name)
    records: list[BatchRecord] = []
    failed: dict[str, str] = {}
    for batch_id, listed in batches:
        try:
            records.append(sealed_record(store, table.table_id, f"{root}{batch_id}/", batch_id, by, listed))
        except Exception as exc:  # noqa: BLE001 - any failure is this batch's alone; it is reported
            failed[batch_id] = f"{type(exc).__name__}: {exc}"
    try:
        registry.register_many(records)
    except Exception:  # noqa: BLE001 - retried one by one below to find the batch at fault
        for record in records:
            try:
                registry.register(record)
            except Exception as exc:  # noqa: BLE001
                failed[record.batch_id] = f"{type(exc).__name__}: {exc}"
    return failed


def run_requests_for(
    instance: dg.DagsterInstance, by_id: dict[str, TableAssets], complete: dict[str, list[str]]
) -> tuple[list[dg.RunRequest], list]:
    """Run requests (run key ``<table_id>:<batch_id>``) and new dynamic partitions for complete batches.

    A batch that every asset of its job has already materialized (by ``lake process``, a
    backfill, another sensor) is not requested again, whatever the run keys say: a reset
    cursor or a second sensor over the same landing zone starts nothing twice. Nor is a batch
    whose job has a run queued, in flight or succeeded, whoever launched it: Dagster
    de-duplicates run keys per sensor only, and the listing and queue sensors request the
    same batches, so the job's runs tagged with the batch are the one run-key namespace.
    """
    run_requests, partition_requests = [], []
    for tid, batch_ids in complete.items():
        entry = by_id[tid]
        known = set(instance.get_dynamic_partitions(entry.partitions_name)) if batch_ids else set()
        new = [b for b in batch_ids if b not in known]
        if new:
            partition_requests.append(entry.partitions_def.build_add_request(new))
        keys = [entry.raw.key, entry.source.key, *[t.key for t in entry.targets]]
        done = set.intersection(*[set(instance.get_materialized_partitions(k)) for k in keys]) if batch_ids else set()
        started = batches_with_live_or_successful_runs(instance, entry.job.name, batch_ids)
        todo = [b for b in batch_ids if b not in done and b not in started]
        if todo:
            ensure_pool_limits(instance, table_pools(entry))
        for batch_id in todo:
            run_requests.append(
                dg.RunRequest(
                    run_key=f"{tid}:{batch_id}",
                    job_name=entry.job.name,
                    partition_key=batch_id,
                    tags={"lake/table": tid, "lake/batch": batch_id},
                )
            )
    return run_requests, partition_requests


def table_pools(entry: TableAssets) -> set[str]:
    """The concurrency pools of one ingest table's assets (see ``assets.common.table_pool``)."""
    return {a.op.pool for a in (entry.raw, entry.source, *entry.targets) if a.op.pool}


# Batches per runs query: the tag filter becomes an SQL IN list.
RUNS_QUERY_CHUNK = 200


def batches_with_live_or_successful_runs(instance: dg.DagsterInstance, job_name: str, batch_ids: list[str]) -> set[str]:
    """The batches among ``batch_ids`` that ``job_name`` has a queued, running or successful run of.

    Runs are matched by the partition tag Dagster sets on every partitioned run, so runs of
    either landing sensor, ``lake process``, a backfill or the UI all count. A failed or
    canceled run does not: the batch may be requested again.
    """
    from dagster._core.storage.dagster_run import NOT_FINISHED_STATUSES

    statuses = [*NOT_FINISHED_STATUSES, dg.DagsterRunStatus.SUCCESS]
    found: set[str] = set()
    for i in range(0, len(batch_ids), RUNS_QUERY_CHUNK):
        chunk = batch_ids[i : i + RUNS_QUERY_CHUNK]
        runs = instance.get_runs(
            filters=dg.RunsFilter(job_name=job_name, tags={PARTITION_TAG: chunk}, statuses=statuses)
        )
        found |= {r.tags.get(PARTITION_TAG, "") for r in runs}
    return found & set(batch_ids)


def report_stragglers(
    instance: dg.DagsterInstance, alerts: Alerts, by_id: dict[str, TableAssets], stragglers: list[Straggler], log
) -> None:
    """Per batch with new stragglers: a warning, a failed ``no_stragglers`` check on its raw asset, an alert."""
    by_batch: dict[tuple[str, str], list[str]] = {}
    for s in stragglers:
        by_batch.setdefault((s.table_id, s.batch_id), []).append(s.key)
    for (tid, batch_id), keys in sorted(by_batch.items()):
        message = straggler_message(tid, batch_id, keys)
        log.warning(message)
        instance.report_runless_asset_event(straggler_check_evaluation(by_id[tid].raw.key, tid, batch_id, keys))
        alerts.send(f"lake: {tid}/{batch_id}: files landed after the batch was sealed", message)


STRAGGLER_CHECK = "no_stragglers"


RESEAL_BY = "lake reseal of "


@dataclass(frozen=True)
class Straggler:
    """One data file under a sealed batch's folder that is not in its sealed list."""

    table_id: str
    batch_id: str
    key: str


def resealed_names(records: list[BatchRecord]) -> dict[str, set[str]]:
    """Batch id -> names (relative to the batch folder) already copied into a reseal batch."""
    done: dict[str, set[str]] = {}
    for record in records:
        if record.registered_by.startswith(RESEAL_BY):
            source = record.registered_by[len(RESEAL_BY) :]
            prefix = f"{record.batch_id}/"
            done.setdefault(source, set()).update(k.split(prefix, 1)[-1] for k in record.files)
    return done


def stragglers_of(record: BatchRecord, root: str, keys: list[str], resealed: set[str]) -> list[Straggler]:
    """The listed ``keys`` of ``record``'s folder that its sealed list lacks and no reseal holds."""
    if record.status == "RETIRED" or not record.sealed:
        # A batch registered before sealing has no list to compare with.
        return []
    sealed = {o.key for o in record.sealed}
    folder = f"{root}{record.batch_id}/"
    return [
        Straggler(record.table_id, record.batch_id, k)
        for k in keys
        if is_data_file(k) and k not in sealed and k[len(folder) :] not in resealed
    ]


def list_batch_files(store, root: str, batch_id: str) -> list:
    return store.list_objects(store.raw_bucket, f"{root}{batch_id}/", max_keys=100_000)


def find_stragglers(store, registry, table_id: str, root: str, batch_ids: list[str] | None = None) -> list[Straggler]:
    """Stragglers of the table's sealed batches (or of ``batch_ids``); ``root`` is its landing prefix."""
    records = registry.list_batches(table_id)
    resealed = resealed_names(records)
    found: list[Straggler] = []
    for record in records:
        if batch_ids is not None and record.batch_id not in batch_ids:
            continue
        keys = [o.key for o in list_batch_files(store, root, record.batch_id)]
        found += stragglers_of(record, root, keys, resealed.get(record.batch_id, set()))
    return found


def straggler_check_evaluation(
    raw_key: dg.AssetKey, table_id: str, batch_id: str, keys: list[str]
) -> dg.AssetCheckEvaluation:
    """The failed ``no_stragglers`` check of a batch's raw asset, naming the files and the remedy."""
    return dg.AssetCheckEvaluation(
        asset_key=raw_key,
        check_name=STRAGGLER_CHECK,
        passed=False,
        partition=batch_id,
        severity=dg.AssetCheckSeverity.WARN,
        description=straggler_message(table_id, batch_id, keys),
        metadata={"files": keys[:50], "batch_id": batch_id},
    )


def straggler_message(table_id: str, batch_id: str, keys: list[str]) -> str:
    """What a person reads about a batch's stragglers: how many, which, and the remedy."""
    return (
        f"{len(keys)} file(s) landed in batch {table_id}/{batch_id} after it was sealed and are not ingested"
        f" ({', '.join(k.rsplit('/', 1)[-1] for k in keys[:5])}{' ...' if len(keys) > 5 else ''});"
        f" `lake reseal {table_id} {batch_id}` ingests them as a new batch"
    )


# What runs next: the one decision of the catch-up schedules, ``lake process`` and ``lake doctor``.


@dataclass(frozen=True)
class RetryPolicy:
    """How often a failed batch is run again, and how long an unattended retry waits.

    Read from a config's ``job_settings`` (:meth:`of`) and carried on its table's job as tags
    (:meth:`tags`, :meth:`from_tags`), so every caller reads the same numbers.
    """

    max_attempts: int = 3
    backoff_minutes: int = 15

    @classmethod
    def of(cls, settings: JobSettings) -> RetryPolicy:
        """The policy a config's ``job_settings`` declare."""
        return cls(settings.max_attempts, settings.retry_backoff_minutes)

    @classmethod
    def from_tags(cls, tags: Mapping[str, str]) -> RetryPolicy:
        """The policy written on a table's job by :meth:`tags` (the defaults for a job without them)."""
        return cls(int(tags.get(MAX_ATTEMPTS_TAG, cls.max_attempts)), int(tags.get(BACKOFF_TAG, cls.backoff_minutes)))

    def tags(self) -> dict[str, str]:
        """The job tags :meth:`from_tags` reads back."""
        return {MAX_ATTEMPTS_TAG: str(self.max_attempts), BACKOFF_TAG: str(self.backoff_minutes)}

    def wait_seconds(self, failures: int) -> float:
        """How long after its last failure an unattended retry waits: doubled per failure."""
        return self.backoff_minutes * 60 * 2 ** (failures - 1) if failures else 0.0


MAX_ATTEMPTS_TAG = "lake/max_attempts"
BACKOFF_TAG = "lake/retry_backoff_minutes"


class Decision(Enum):
    """What happens to one registered batch now."""

    RUN = "run"
    DONE = "done"
    RETIRED = "retired"
    IN_FLIGHT = "in flight"
    BACKING_OFF = "backing off"
    GAVE_UP = "gave up"


@dataclass(frozen=True)
class NextRun:
    """The decision for one batch, with what its callers report: attempt, failures, run or due time."""

    batch_id: str
    decision: Decision
    failures: int = 0
    # The run that has the batch queued or running (IN_FLIGHT).
    run_id: str | None = None
    # When the unattended retry is due (BACKING_OFF), seconds since the epoch.
    due_at: float | None = None

    @property
    def attempt(self) -> int:
        """The attempt a run started now is."""
        return self.failures + 1


def next_runs(
    records: list[BatchRecord],
    history: RunHistory,
    done: set[str],
    policy: RetryPolicy,
    now: float,
    *,
    attended: bool = False,
    redo: bool = False,
) -> list[NextRun]:
    """What happens next to each registered batch of one table, in batch order.

    In this order: a retired batch never runs; a batch in ``done`` is finished (unless ``redo``);
    a batch with a run queued or running, or a failed run that Dagster's run retries will
    launch again, is left to that run (``redo`` included: never two runs of a batch at once);
    a batch with ``policy.max_attempts`` failed runs is given up (unless ``redo``); an
    unattended caller (a schedule) waits :meth:`RetryPolicy.wait_seconds` after the last
    failure, while an ``attended`` one (a person running ``lake process``) retries at once.
    """
    decided = []
    for record in sorted(records, key=lambda r: r.batch_id):
        batch = record.batch_id
        failed = history.failed_at.get(batch, [])
        if record.status == "RETIRED":
            decided.append(NextRun(batch, Decision.RETIRED, len(failed)))
        elif batch in done and not redo:
            decided.append(NextRun(batch, Decision.DONE, len(failed)))
        elif batch in history.in_flight:
            run_id = history.in_flight[batch][0].dagster_run.run_id
            decided.append(NextRun(batch, Decision.IN_FLIGHT, len(failed), run_id=run_id))
        elif len(failed) >= policy.max_attempts and not redo:
            decided.append(NextRun(batch, Decision.GAVE_UP, len(failed)))
        elif failed and not (attended or redo) and now - failed[-1] < policy.wait_seconds(len(failed)):
            due = failed[-1] + policy.wait_seconds(len(failed))
            decided.append(NextRun(batch, Decision.BACKING_OFF, len(failed), due_at=due))
        else:
            decided.append(NextRun(batch, Decision.RUN, len(failed)))
    return decided


def finished_batches(
    instance: dg.DagsterInstance, history: RunHistory, asset_keys: list[dg.AssetKey], whole_job: bool
) -> set[str]:
    """The batches every one of ``asset_keys`` has a materialization of, whoever materialized them.

    With ``whole_job`` (the keys are all of the job's assets) a successful run of the job also
    finishes its batch: it materialized every asset, so a reset cursor or a second pass starts
    nothing twice. A subset run (a prepare config's catch-up) finishes only what it materialized.
    """
    materialized = [set(instance.get_materialized_partitions(key)) for key in asset_keys]
    done = set.intersection(*materialized) if materialized else set()
    return done | (history.succeeded if whole_job else set())
