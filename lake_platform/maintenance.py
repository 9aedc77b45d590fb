"""Table maintenance: expire old snapshots, remove files no snapshot references, compact small files.

Every step is itself a conflict-checked Iceberg commit or touches only files that no snapshot can
reach, so maintenance may run beside the ingest and prepare jobs:

- **expire**: snapshots superseded longer ago than the retention window are dropped from the
  metadata (a snapshot lives until its successor is older than the window, so every time inside
  the window finds the snapshot current then; the current snapshot is never expired);
- **orphans**: data files under ``<location>/data/`` and manifests under ``<location>/metadata/``
  that no remaining snapshot references and that are older than a safety window (so a job that
  is writing right now, and has not committed yet, never loses its files) are deleted. Killed
  jobs leave exactly such files;
- **quarantine**: a source table's quarantine attempt folders (``lake.quarantine-root``) that no
  remaining snapshot names in ``lake.quarantine-uri`` and whose newest file is older than the
  same window are deleted. The committed snapshot is the only authority: a run of a batch that
  is still going may yet commit its attempt folder, so no job deletes another's;
- **compact**: a partition holding more than ``min_files`` files is rewritten as one file in a
  commit that replaces those files; if a job commits to that partition meanwhile, the compaction
  of that partition loses the race and is skipped until the next run.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from urllib.parse import urlparse

from lake_glue.config import MAX_JOB_TIMEOUT_MINUTES
from lake_glue.tables import QUARANTINE_ROOT_PROPERTY, QUARANTINE_URI_PROPERTY, column_equals
from lake_platform.resources.aws import aws_client

# A job's files are unreferenced until it commits, and a job may run for MAX_JOB_TIMEOUT_MINUTES
# (plus the runner's grace): a shorter window would delete the files of a job still running.
ORPHAN_WINDOW_FLOOR_HOURS = MAX_JOB_TIMEOUT_MINUTES / 60 + 1
DEFAULT_ORPHAN_HOURS = 72.0


def orphan_window(hours: float, setting: str) -> timedelta:
    """The orphan-file window of ``hours``; refuses one a running job's files could fall out of."""
    if not hours > ORPHAN_WINDOW_FLOOR_HOURS:
        raise ValueError(
            f"{setting}={hours:g} is too short: a job may run {MAX_JOB_TIMEOUT_MINUTES / 60:g} h"
            f" (job_settings.timeout_minutes <= {MAX_JOB_TIMEOUT_MINUTES}) before it commits, so the"
            f" orphan-file window must exceed {ORPHAN_WINDOW_FLOOR_HOURS:g} h (default {DEFAULT_ORPHAN_HOURS:g})"
        )
    return timedelta(hours=hours)


@dataclass
class MaintenanceReport:
    """What one maintenance pass did to one table."""

    table: str
    snapshots_expired: int = 0
    orphans_removed: list[str] = field(default_factory=list)
    partitions_compacted: int = 0
    files_compacted: int = 0
    quarantine_removed: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)


def _list_location(location: str) -> dict[str, float]:
    """Every file under a table location with its modification time (epoch seconds)."""
    parsed = urlparse(location)
    found: dict[str, float] = {}
    if parsed.scheme == "file":
        for root, _dirs, files in os.walk(parsed.path):
            for name in files:
                path = os.path.join(root, name)
                found[f"file://{path}"] = os.path.getmtime(path)
        return found
    if parsed.scheme in ("s3", "s3a"):
        paginator = aws_client("s3").get_paginator("list_objects_v2")
        for page in paginator.paginate(Bucket=parsed.netloc, Prefix=parsed.path.lstrip("/").rstrip("/") + "/"):
            for obj in page.get("Contents", []):
                found[f"{parsed.scheme}://{parsed.netloc}/{obj['Key']}"] = obj["LastModified"].timestamp()
        return found
    raise ValueError(f"cannot list table location {location!r}")


def _delete(path: str) -> None:
    parsed = urlparse(path)
    if parsed.scheme == "file":
        os.remove(parsed.path)
        # An emptied attempt folder goes too (object stores have no folders to leave behind).
        folder = os.path.dirname(parsed.path)
        if not os.listdir(folder):
            os.rmdir(folder)
        return
    aws_client("s3").delete_object(Bucket=parsed.netloc, Key=parsed.path.lstrip("/"))


def referenced_files(table) -> set[str]:
    """Data files, manifests and manifest lists that any snapshot of ``table`` still reaches."""
    referenced: set[str] = set()
    for snapshot in table.metadata.snapshots:
        referenced.add(snapshot.manifest_list)
        for manifest in snapshot.manifests(table.io):
            referenced.add(manifest.manifest_path)
            for entry in manifest.fetch_manifest_entry(table.io, discard_deleted=True):
                referenced.add(entry.data_file.file_path)
    return referenced


def superseded_at(table) -> dict[int, int]:
    """When each snapshot stopped being the table's newest (epoch ms); the current one is absent.

    Snapshots follow each other in sequence-number order; a snapshot is superseded when the next
    one was committed. ``--as-of`` a time reads the snapshot current then, so that snapshot must
    live for the retention time counted from then, not from its own creation.
    """
    ordered = sorted(table.metadata.snapshots, key=lambda s: (s.sequence_number or 0, s.timestamp_ms))
    return {s.snapshot_id: after.timestamp_ms for s, after in zip(ordered, ordered[1:])}


def expire_snapshots(table, retain: timedelta, now: datetime) -> int:
    """Drop snapshots superseded before ``now - retain`` (never the current one); returns how many.

    Any time inside the retention window then finds the snapshot that was current at that time.
    """
    cutoff_ms = (now - retain).timestamp() * 1000
    # Branch and tag heads (the current snapshot among them) are never expired.
    protected = {ref.snapshot_id for ref in table.metadata.refs.values()}
    expired = [
        snapshot_id
        for snapshot_id, superseded in superseded_at(table).items()
        if superseded < cutoff_ms and snapshot_id not in protected
    ]
    if not expired:
        return 0
    before = len(table.metadata.snapshots)
    table.maintenance.expire_snapshots().by_ids(expired).commit()
    table.refresh()
    return before - len(table.metadata.snapshots)


def remove_orphans(table, older_than: timedelta, now: datetime) -> list[str]:
    """Delete unreferenced data files and manifests older than ``older_than``; returns their paths."""
    referenced = referenced_files(table)
    location = table.location().rstrip("/")
    cutoff = (now - older_than).timestamp()
    removed = []
    for path, mtime in sorted(_list_location(location).items()):
        relative = path[len(location) + 1 :]
        is_data = relative.startswith("data/") and path.endswith(".parquet")
        is_manifest = relative.startswith("metadata/") and path.endswith(".avro")
        if (is_data or is_manifest) and path not in referenced and mtime < cutoff:
            _delete(path)
            removed.append(path)
    return removed


def _attempt_key(uri: str) -> str:
    """``p_batch_id=<batch>/attempt=<id>``: an attempt folder's name, whatever the URI's scheme."""
    return "/".join(uri.rstrip("/").split("/")[-2:])


def remove_quarantine_orphans(table, older_than: timedelta, now: datetime) -> list[str]:
    """Delete quarantine attempt folders no snapshot of ``table`` names, once older than ``older_than``.

    Returns the folders removed. A folder's age is its newest file's: a run still writing it keeps it.
    """
    root = table.properties.get(QUARANTINE_ROOT_PROPERTY)
    if not root:
        return []
    named = {
        _attempt_key(snapshot.summary.additional_properties[QUARANTINE_URI_PROPERTY])
        for snapshot in table.metadata.snapshots
        if snapshot.summary is not None and QUARANTINE_URI_PROPERTY in snapshot.summary.additional_properties
    }
    root = root.rstrip("/")
    folders: dict[str, list[tuple[str, float]]] = {}
    for path, mtime in _list_location(root).items():
        parts = path[len(root) + 1 :].split("/")
        if len(parts) > 2 and parts[0].startswith("p_batch_id=") and parts[1].startswith("attempt="):
            folders.setdefault(f"{parts[0]}/{parts[1]}", []).append((path, mtime))
    cutoff = (now - older_than).timestamp()
    removed = []
    for key, files in sorted(folders.items()):
        if key in named or max(mtime for _, mtime in files) >= cutoff:
            continue
        for path, _ in sorted(files):
            _delete(path)
        removed.append(f"{root}/{key}")
    return removed


def compact(table, min_files: int, label: str) -> tuple[int, int, list[str]]:
    """Rewrite every partition with more than ``min_files`` files as one; returns (partitions, files, skipped)."""
    from pyiceberg.exceptions import CommitFailedException, ValidationException
    from pyiceberg.expressions import AlwaysTrue, And

    if table.current_snapshot() is None:
        return 0, 0, []
    by_partition: dict[tuple, list] = {}
    for task in table.scan().plan_files():
        by_partition.setdefault(tuple(task.file.partition), []).append(task)
    fields = [f.name for f in table.spec().fields]
    partitions = files = 0
    skipped = []
    for values, tasks in sorted(by_partition.items(), key=lambda kv: str(kv[0])):
        if len(tasks) <= min_files:
            continue
        predicates = [column_equals(name, value) for name, value in zip(fields, values)]
        row_filter = AlwaysTrue() if not predicates else predicates[0] if len(predicates) == 1 else And(*predicates)
        data = table.scan(row_filter=row_filter).to_arrow()
        try:
            table.overwrite(
                data,
                overwrite_filter=row_filter,
                snapshot_properties={"lake.maintenance": "compaction", "lake.batch-id": "maintenance"},
            )
        except (CommitFailedException, ValidationException) as exc:
            where = dict(zip(fields, values))
            skipped.append(f"{label} partition {where}: a job committed meanwhile ({exc})")
            table.refresh()
            continue
        partitions += 1
        files += len(tasks)
    return partitions, files, skipped


def maintain_table(
    table,
    *,
    retain: timedelta = timedelta(days=7),
    orphan_age: timedelta = timedelta(hours=DEFAULT_ORPHAN_HOURS),
    compact_min_files: int = 16,
    now: datetime | None = None,
) -> MaintenanceReport:
    """Compact, expire and clean one table, in that order (compaction's replaced files expire later)."""
    label = ".".join(table.name())
    report = MaintenanceReport(table=label)
    report.partitions_compacted, report.files_compacted, report.skipped = compact(table, compact_min_files, label)
    # Taken after compaction: the snapshot compaction just superseded counts as superseded now.
    now = now or datetime.now(timezone.utc)
    report.snapshots_expired = expire_snapshots(table, retain, now)
    report.orphans_removed = remove_orphans(table, orphan_age, now)
    report.quarantine_removed = remove_quarantine_orphans(table, orphan_age, now)
    return report


def maintain_catalog(catalog, **settings) -> list[MaintenanceReport]:
    """Maintain every table of every namespace in ``catalog``."""
    reports = []
    for namespace in sorted(catalog.list_namespaces()):
        for identifier in sorted(catalog.list_tables(namespace[0])):
            reports.append(maintain_table(catalog.load_table(identifier), **settings))
    return reports


def maintain_lake(
    retain_days: float, orphan_hours: float, compact_min_files: int, orphan_setting: str = "orphan_age_hours"
) -> list[MaintenanceReport]:
    """Maintain every table of this environment's catalog (``LAKE_ENV``) with these windows.

    ``orphan_setting`` names where ``orphan_hours`` came from, for the refusal of a too short window.
    """
    from lake_glue.tables import open_catalog
    from lake_platform.settings import catalog_uri

    orphan_age = orphan_window(orphan_hours, orphan_setting)
    return maintain_catalog(
        open_catalog(catalog_uri()),
        retain=timedelta(days=retain_days),
        orphan_age=orphan_age,
        compact_min_files=compact_min_files,
    )
