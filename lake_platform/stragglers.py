"""Stragglers: data files that land in a batch folder after the batch was sealed.

A sealed batch is immutable (ingest reads exactly its sealed list), so a file landing under it
later is never ingested by it. Such a file is found and reported (a ``lake doctor`` finding, a
failed ``no_stragglers`` check on the batch's raw asset, and an alert, see the landing
sensor), and ``lake reseal <table> <batch>`` copies the batch's stragglers into a new batch
(a new id, its own marker and sealed list) that is ingested like any other. The original
batch, its files and its registry record stay untouched; a straggler counts as dealt with once
a reseal batch of its batch holds a file of the same name.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

import dagster as dg

from lake_platform.layout import SUCCESS_MARKER
from lake_platform.resources.object_store.base import ObjectInfo, is_data_file
from lake_platform.resources.partition_registry.base import BatchRecord

STRAGGLER_CHECK = "no_stragglers"
RESEAL_BY = "lake reseal of "


@dataclass(frozen=True)
class Straggler:
    """One data file under a sealed batch's folder that is not in its sealed list."""

    table_id: str
    batch_id: str
    key: str


def _resealed(records: list[BatchRecord]) -> dict[str, set[str]]:
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


def _listing(store, root: str, batch_id: str) -> list:
    return store.list_objects(store.raw_bucket, f"{root}{batch_id}/", max_keys=100_000)


def find_stragglers(store, registry, table_id: str, root: str, batch_ids: list[str] | None = None) -> list[Straggler]:
    """Stragglers of the table's sealed batches (or of ``batch_ids``); ``root`` is its landing prefix."""
    records = registry.list_batches(table_id)
    resealed = _resealed(records)
    found: list[Straggler] = []
    for record in records:
        if batch_ids is not None and record.batch_id not in batch_ids:
            continue
        keys = [o.key for o in _listing(store, root, record.batch_id)]
        found += stragglers_of(record, root, keys, resealed.get(record.batch_id, set()))
    return found


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
        for o in _listing(store, root, batch_id)
        if o.key in found
    ]
    record = BatchRecord(table_id, new_id, sealed=sealed, registered_by=RESEAL_BY + batch_id)
    if not registry.register(record):
        raise RuntimeError(f"batch {table_id}/{new_id} was registered by someone else meanwhile; run the reseal again")
    _complete_reseal(store, root, batch_id, record)
    return new_id


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
