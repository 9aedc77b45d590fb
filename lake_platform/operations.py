"""Operating the batch lifecycle by hand: find stuck batches, re-drive them, retire bad ones.

- :func:`doctor` lists, per ingest table, batches waiting for their ``_SUCCESS`` marker,
  landed folders and files that are not in any batch, failed batches with their reason (and
  whether the automatic retries gave up), runs that have been in flight longer than the
  table's ``timeout_minutes``, and retired batches;
- stragglers: files that landed in a batch after it was sealed (``lake reseal`` ingests them
  as a new batch, see :func:`reseal_stragglers`);
- :func:`retire` marks a batch RETIRED with a reason: no schedule, ``lake process`` or asset
  run processes it again, and the reason stays in the registry (``lake retire`` then removes
  the batch's rows from the source table and every target, see ``lake_glue.retire``);
- :func:`writers_in_flight` names what may still write to the lake (active runs, sensors and
  schedules that are on, a live daemon): ``lake rebuild --from-raw`` refuses while there is any;
- :func:`redrive` runs failed or stuck batches again through Dagster, whatever their attempt
  count.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

import dagster as dg

from lake_platform.batches import (
    RESEAL_BY,
    Decision,
    NextRun,
    RetryPolicy,
    find_stragglers,
    finished_batches,
    list_batch_files,
    next_runs,
    straggler_message,
)
from lake_platform.layout import SUCCESS_MARKER, is_batch_id, landing_table_prefix
from lake_platform.resources.object_store.base import ObjectInfo
from lake_platform.resources.partition_registry.base import BatchRecord
from lake_platform.run_history import one_line, run_history
from lake_platform.table_assets import TableAssets

RETIRED = "RETIRED"


@dataclass(frozen=True)
class Finding:
    """One thing ``lake doctor`` reports."""

    table_id: str
    kind: str
    subject: str
    detail: str

    def __str__(self) -> str:
        return f"{self.table_id:<18} {self.kind:<17} {self.subject}  {self.detail}"


def _landing_findings(store, entry: TableAssets) -> list[Finding]:
    """Batch folders without a marker, folders that are not batch ids, and files outside any batch."""
    prefix = landing_table_prefix(entry.config.source.landing_prefix, entry.table.table_name)
    folders: dict[str, set[str]] = {}
    findings = []
    start_after = None
    while True:
        page = store.list_objects(store.raw_bucket, prefix, start_after=start_after, max_keys=1000)
        if not page:
            break
        for obj in page:
            rest = obj.key[len(prefix) :]
            if "/" not in rest:
                findings.append(
                    Finding(
                        entry.table_id,
                        "loose file",
                        store.uri(store.raw_bucket, obj.key),
                        "not inside a batch folder; it is never ingested",
                    )
                )
                continue
            folder, name = rest.split("/", 1)
            folders.setdefault(folder, set()).add(name.rsplit("/", 1)[-1])
        start_after = page[-1].key
    for folder, names in sorted(folders.items()):
        uri = store.uri(store.raw_bucket, f"{prefix}{folder}/")
        if not is_batch_id(folder):
            findings.append(
                Finding(
                    entry.table_id,
                    "not a batch id",
                    uri,
                    "folder name is not YYYYMMDDTHHMMSSZ; its files are never ingested",
                )
            )
        elif SUCCESS_MARKER not in names:
            findings.append(
                Finding(entry.table_id, "waiting for marker", folder, f"{len(names)} file(s), no {SUCCESS_MARKER} yet")
            )
    return findings


def _straggler_findings(store, registry, entry: TableAssets) -> list[Finding]:
    """Files that landed in a sealed batch's folder after it was sealed (never ingested)."""
    root = landing_table_prefix(entry.config.source.landing_prefix, entry.table.table_name)
    by_batch: dict[str, list[str]] = {}
    for straggler in find_stragglers(store, registry, entry.table_id, root):
        by_batch.setdefault(straggler.batch_id, []).append(straggler.key)
    return [
        Finding(entry.table_id, "straggler", batch, straggler_message(entry.table_id, batch, keys))
        for batch, keys in sorted(by_batch.items())
    ]


def _run_findings(instance: dg.DagsterInstance, entry: TableAssets, registry, now: float) -> list[Finding]:
    findings = []
    timeout = entry.config.job_settings.timeout_minutes * 60
    history = run_history(instance, entry.job.name)
    for batch, records in sorted(history.in_flight.items()):
        for record in records:
            started = record.start_time or record.create_timestamp.timestamp()
            if now - started > timeout:
                findings.append(
                    Finding(
                        entry.table_id,
                        "stuck run",
                        batch,
                        f"run {record.dagster_run.run_id} {record.dagster_run.status.value} for"
                        f" {(now - started) / 60:.0f} min, past timeout_minutes="
                        f"{entry.config.job_settings.timeout_minutes}; `lake redrive` re-runs it",
                    )
                )
    records = registry.list_batches(entry.table_id)
    keys = [entry.raw.key, entry.source.key, *[t.key for t in entry.targets]]
    done = finished_batches(instance, history, keys, whole_job=True)
    policy = RetryPolicy.of(entry.config.job_settings)
    steps = {s.batch_id: s for s in next_runs(records, history, done, policy, now)}
    for stored in records:
        step = steps[stored.batch_id]
        if step.decision is Decision.RETIRED:
            findings.append(Finding(entry.table_id, "retired", stored.batch_id, stored.error or ""))
            continue
        failed = stored.failed_assets()
        if failed and step.decision is not Decision.IN_FLIGHT:
            asset, progress = sorted(failed.items())[0]
            findings.append(
                Finding(
                    entry.table_id,
                    "failed",
                    stored.batch_id,
                    f"{step.failures} failed run(s){_retry_note(step)};"
                    f" {', '.join(sorted(failed))} not materialized:"
                    f" {one_line(progress.error or 'no reason recorded')[:300]}",
                )
            )
    return findings


def _retry_note(step: NextRun) -> str:
    """What the catch-up schedule does next with a failed batch, as ``lake doctor`` says it."""
    if step.decision is Decision.GAVE_UP:
        return ", retries gave up"
    if step.decision is Decision.BACKING_OFF and step.due_at is not None:
        due = datetime.fromtimestamp(step.due_at, timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
        return f", retry {step.attempt} due {due}"
    return ""


def doctor(
    tables: list[TableAssets], store, registry, instance: dg.DagsterInstance, now: float | None = None
) -> list[Finding]:
    """Everything about the lake's batches that needs a person, per ingest table."""
    now = time.time() if now is None else now
    findings = []
    for entry in tables:
        findings += _landing_findings(store, entry)
        findings += _straggler_findings(store, registry, entry)
        findings += _run_findings(instance, entry, registry, now)
    return findings


def retire(registry, table_id: str, batch_id: str, reason: str) -> None:
    """Mark a batch retired for good in the registry; the reason is kept as the batch's error.

    Its rows are removed by ``lake_glue.retire.retire_batch`` afterwards (``lake retire`` does both).
    """
    if not reason.strip():
        raise ValueError("retiring a batch needs a reason (--reason)")
    if registry.get(table_id, batch_id) is None:
        raise ValueError(f"batch {table_id}/{batch_id} is not registered")
    registry.retire(table_id, batch_id, f"retired: {reason.strip()}")


def redrive(
    defs: dg.Definitions, registry, instance: dg.DagsterInstance, table_id: str, batch_ids: list[str], log=print
):
    """Run the given batches (default: the table's failed ones) again; returns the run results."""
    from lake_platform.process import run_batch

    job, batch_ids = redrive_plan(defs, registry, table_id, batch_ids)
    results = []
    for batch_id in batch_ids:
        log(f"  re-running {job.name} for batch {batch_id} ...")
        tags = {"lake/table": table_id, "lake/batch": batch_id, "lake/launched_by": "lake redrive"}
        results.append(run_batch(defs, instance, job.name, batch_id, tags))
    return results


def redrive_plan(defs: dg.Definitions, registry, table_id: str, batch_ids: list[str]):
    """The table's job and the batches a redrive runs (default: the failed ones); refuses unknown or retired ones."""
    job = next((j for j in defs.jobs or [] if (j.tags or {}).get("lake/table") == table_id), None)
    if job is None:
        known = sorted((j.tags or {}).get("lake/table", "") for j in defs.jobs or [] if "lake/table" in (j.tags or {}))
        raise ValueError(f"unknown table {table_id!r}; tables: {', '.join(known)}")
    records = {r.batch_id: r for r in registry.list_batches(table_id)}
    batch_ids = batch_ids or [b for b, r in records.items() if r.status != RETIRED and r.failed_assets()]
    for batch_id in batch_ids:
        record = records.get(batch_id)
        if record is None:
            raise ValueError(f"batch {table_id}/{batch_id} is not registered")
        if record.status == RETIRED:
            raise ValueError(f"batch {table_id}/{batch_id} is retired ({record.error}); it is not re-run")
    return job, batch_ids


# Stragglers (found in lake_platform.batches): ``lake reseal`` copies them into a new batch.


def _new_batch_id(registry, table_id: str, now: datetime) -> str:
    """The first free batch id at or after ``now`` (second resolution)."""
    moment = now.replace(microsecond=0)
    while registry.get(table_id, moment.strftime("%Y%m%dT%H%M%SZ")) is not None:
        moment += timedelta(seconds=1)
    return moment.strftime("%Y%m%dT%H%M%SZ")


def _complete_reseal(store, root: str, source_batch: str, record: BatchRecord) -> None:
    """Copy a reseal batch's files from the source batch's folder, then write its marker."""
    source, target = f"{root}{source_batch}/", f"{root}{record.batch_id}/"
    for key in record.files:
        data = store.get_bytes(store.raw_bucket, source + key[len(target) :])
        store.put_bytes(store.raw_bucket, key, data)
    store.put_bytes(store.raw_bucket, target + SUCCESS_MARKER, b"")


def reseal_stragglers(
    store, registry, table_id: str, root: str, batch_id: str, now: datetime | None = None
) -> str | None:
    """Copy ``batch_id``'s stragglers into a new sealed batch; its id, or None when there are none.

    The new batch is registered first, sealed as the stragglers' sizes and ETags under their new
    keys (a copy keeps both), then the files are copied and its marker written last. A crash in
    between leaves a registered batch without a marker, which no run processes; running the
    reseal again finishes it instead of copying the stragglers a second time. Raises ``KeyError``
    for an unknown batch.
    """
    if registry.get(table_id, batch_id) is None:
        raise KeyError(f"batch {table_id}/{batch_id} is not registered")
    for earlier in registry.list_batches(table_id):
        marker = f"{root}{earlier.batch_id}/{SUCCESS_MARKER}"
        if earlier.registered_by == RESEAL_BY + batch_id and not store.exists(store.raw_bucket, marker):
            _complete_reseal(store, root, batch_id, earlier)
            return earlier.batch_id
    found = {s.key for s in find_stragglers(store, registry, table_id, root, [batch_id])}
    if not found:
        return None
    new_id = _new_batch_id(registry, table_id, now or datetime.now(timezone.utc))
    folder, target = f"{root}{batch_id}/", f"{root}{new_id}/"
    sealed = [
        ObjectInfo(target + o.key[len(folder) :], o.size, o.etag)
        for o in list_batch_files(store, root, batch_id)
        if o.key in found
    ]
    record = BatchRecord(table_id, new_id, sealed=sealed, registered_by=RESEAL_BY + batch_id)
    if not registry.register(record):
        raise RuntimeError(f"batch {table_id}/{new_id} was registered by someone else meanwhile; run the reseal again")
    _complete_reseal(store, root, batch_id, record)
    return new_id


# Runs that may still write to a table: they would write into removed buckets or an unlinked catalog.
ACTIVE_RUN_STATUSES = [
    dg.DagsterRunStatus.QUEUED,
    dg.DagsterRunStatus.NOT_STARTED,
    dg.DagsterRunStatus.STARTING,
    dg.DagsterRunStatus.STARTED,
    dg.DagsterRunStatus.CANCELING,
]


def writers_in_flight(instance: dg.DagsterInstance) -> list[str]:
    """What in the Dagster instance may write to the lake now: active runs and running sensors/schedules.

    Each entry says what it is and how to stop it; an empty list means nothing writes.
    """
    from dagster._core.scheduler.instigation import InstigatorStatus

    blockers = []
    for record in instance.get_run_records(dg.RunsFilter(statuses=ACTIVE_RUN_STATUSES)):
        run = record.dagster_run
        batch = run.tags.get("lake/batch", run.tags.get("dagster/partition", "?"))
        blockers.append(
            f"run {run.run_id} of {run.job_name} (batch {batch})"
            f" is {run.status.value}: wait for it or terminate it in the UI (Runs)"
        )
    for state in instance.all_instigator_state():
        if state.status in (InstigatorStatus.RUNNING, InstigatorStatus.AUTOMATICALLY_RUNNING):
            blockers.append(
                f"{state.instigator_type.value.lower()} {state.instigator_name} is turned on:"
                " turn it off in the UI (Automation)"
            )
    if _daemon_alive(instance):
        # Sensors that default to running have no stored state; the daemon ticks them anyway.
        blockers.append("dagster-daemon is running (it ticks sensors and schedules): stop `make dev` first")
    return blockers


def _daemon_alive(instance: dg.DagsterInstance, within_seconds: float = 120.0) -> bool:
    """Whether a dagster-daemon sent a heartbeat recently (it runs sensors that default to running)."""
    heartbeats = instance.get_daemon_heartbeats() or {}
    now = time.time()
    return any(now - beat.timestamp < within_seconds for beat in heartbeats.values())
