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
  of that partition loses the race and is skipped until the next run. A partition larger than
  ``compact_max_mb`` is skipped with a reason: compaction reads it into memory.

Only the tables the configs declare are maintained (``config_tables``), in this environment's
catalog databases: the catalog is never listed, so other teams' tables and the other
environment's are never touched.
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
# Compaction reads a partition into the maintaining process's memory (the Dagster run worker):
# bounded so that one large partition cannot take the worker down.
DEFAULT_COMPACT_MAX_BYTES = 512 * 2**20


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


def compact(
    table, min_files: int, label: str, max_bytes: int = DEFAULT_COMPACT_MAX_BYTES
) -> tuple[int, int, list[str]]:
    """Rewrite every partition with more than ``min_files`` files as one; returns (partitions, files, skipped).

    A partition is read into this process's memory to be rewritten, so one whose files add up to
    more than ``max_bytes`` is skipped with a reason instead (in AWS the Glue table optimizer
    compacts it, without the Dagster worker).
    """
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
        size = sum(task.file.file_size_in_bytes for task in tasks)
        if size > max_bytes:
            where = dict(zip(fields, values))
            skipped.append(
                f"{label} partition {where}: {len(tasks)} files of {size / 2**20:.1f} MiB exceed compact_max_mb"
                f" ({max_bytes / 2**20:g} MiB), the most compaction reads into memory; not compacted"
            )
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
    compact_max_bytes: int = DEFAULT_COMPACT_MAX_BYTES,
    now: datetime | None = None,
) -> MaintenanceReport:
    """Compact, expire and clean one table, in that order (compaction's replaced files expire later)."""
    label = ".".join(table.name())
    report = MaintenanceReport(table=label)
    report.partitions_compacted, report.files_compacted, report.skipped = compact(
        table, compact_min_files, label, compact_max_bytes
    )
    # Taken after compaction: the snapshot compaction just superseded counts as superseded now.
    now = now or datetime.now(timezone.utc)
    report.snapshots_expired = expire_snapshots(table, retain, now)
    report.orphans_removed = remove_orphans(table, orphan_age, now)
    report.quarantine_removed = remove_quarantine_orphans(table, orphan_age, now)
    return report


def config_tables(configs, database_prefix: str) -> list[tuple[str, str]]:
    """``(catalog database, table)`` of every table the configs declare, in this environment's databases."""
    from lake_glue.layout import catalog_database

    return sorted(
        {
            (catalog_database(config.target.database, database_prefix), table.table_name)
            for config in configs
            for table in config.table_config
        }
    )


def maintain_catalog(catalog, identifiers: list[tuple[str, str]], **settings) -> list[MaintenanceReport]:
    """Maintain the tables ``identifiers`` name, and nothing else in ``catalog``.

    The catalog is never listed: in AWS it is the whole account's Glue Data Catalog, holding other
    teams' tables and the other environment's. A declared table not created yet is skipped.
    """
    from pyiceberg.exceptions import NoSuchTableError

    reports = []
    for identifier in identifiers:
        try:
            table = catalog.load_table(identifier)
        except NoSuchTableError:
            continue
        reports.append(maintain_table(table, **settings))
    return reports


def maintain_lake(
    retain_days: float,
    orphan_hours: float,
    compact_min_files: int,
    orphan_setting: str = "orphan_age_hours",
    *,
    configs: list | None = None,
    compact_max_bytes: int = DEFAULT_COMPACT_MAX_BYTES,
) -> list[MaintenanceReport]:
    """Maintain the configs' tables in this environment's catalog (``LAKE_ENV``) with these windows.

    ``configs`` default to this environment's config store. ``orphan_setting`` names where
    ``orphan_hours`` came from, for the refusal of a too short window.
    """
    from lake_glue.tables import open_catalog
    from lake_platform.settings import catalog_uri, glue_database_prefix

    orphan_age = orphan_window(orphan_hours, orphan_setting)
    if configs is None:
        import dagster as dg

        from lake_platform.resources import resources_for_env

        with dg.build_resources({"config_store": resources_for_env()["config_store"]}) as res:
            configs = res.config_store.list_configs()
    return maintain_catalog(
        open_catalog(catalog_uri()),
        config_tables(configs, glue_database_prefix()),
        retain=timedelta(days=retain_days),
        orphan_age=orphan_age,
        compact_min_files=compact_min_files,
        compact_max_bytes=compact_max_bytes,
    )
