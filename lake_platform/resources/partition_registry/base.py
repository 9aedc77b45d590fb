"""Partition registry: one record per (table, batch) with the facts Dagster cannot know.

Locally a SQLite file; in AWS the DynamoDB partitions table. Registration is conditional in
both, so a batch is registered exactly once even when two sensor ticks race.

What it holds, and who writes it:

- **Facts about the landing** (the landing sensors, or the raw asset): that the batch exists,
  when it was registered, and what it was sealed as: each data file's key, size and ETag. A
  sealed batch is immutable; ingest reads exactly those files and fails the batch, naming the
  file, when one changed or appeared afterwards.
- **Retirement** (``lake retire``): ``status`` is LANDED, or RETIRED with the reason.
- **A mirror of Dagster's progress** per asset of the batch (raw, source and each target), for
  consumers that read DynamoDB rather than Dagster. Dagster owns progress; the one writer of the
  mirror is the ``batch_status_sensor``, which reads run records and events. Every write
  carries the run's creation time and is conditional on being newer than what is stored, so a
  stale run's outcome never overwrites a later run's, and one target's outcome never touches a
  sibling target's.
"""

from __future__ import annotations

import json
from abc import abstractmethod
from dataclasses import dataclass, field
from datetime import datetime, timezone

import dagster as dg

from lake_platform.resources.object_store.base import ObjectInfo

STATUSES = ("LANDED", "RETIRED")
PROGRESS_STATUSES = ("RUNNING", "MATERIALIZED", "FAILED")
# Batch-level counts, copied from the source asset's materialization when its progress is written.
COUNT_FIELDS = ("landed_rows", "source_rows", "quarantined_rows")
PROGRESS_PREFIX = "progress:"


def utc_now() -> str:
    """Current UTC time as ISO-8601 with microseconds (sortable as text)."""
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


@dataclass(frozen=True)
class AssetProgress:
    """Dagster's latest word on one asset of one batch, as the status sensor mirrors it.

    ``at`` orders writes: the run's creation time (fixed width, so it sorts as text), then 0 for
    a running run and 1 for a finished one. A write applies only when its ``at`` is greater
    than the stored one.
    """

    status: str
    run_id: str
    at: str
    error: str | None = None
    counts: dict[str, int] = field(default_factory=dict)

    def to_json(self) -> str:
        """The progress as stored (a JSON object)."""
        data = {"status": self.status, "run_id": self.run_id, "at": self.at, "counts": self.counts}
        if self.error:
            data["error"] = self.error[:4000]
        return json.dumps(data, sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> "AssetProgress":
        """Parse a stored progress object."""
        data = json.loads(text)
        return cls(data["status"], data["run_id"], data["at"], data.get("error"), data.get("counts", {}))


def progress_order(run_created: float, finished: bool) -> str:
    """The ``at`` of a progress write: run creation time, then whether the run had finished."""
    return f"{run_created:020.6f}#{int(finished)}"


@dataclass
class BatchRecord:
    """The registry's view of one landed batch."""

    table_id: str
    batch_id: str
    status: str = "LANDED"
    files: list[str] = field(default_factory=list)
    landed_rows: int | None = None
    source_rows: int | None = None
    quarantined_rows: int | None = None
    error: str | None = None
    registered_at: str = ""
    updated_at: str = ""
    registered_by: str = ""
    progress: dict[str, AssetProgress] = field(default_factory=dict)
    sealed: list[ObjectInfo] = field(default_factory=list)
    checksums: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.sealed and not self.files:
            self.files = [o.key for o in self.sealed]

    def sealed_json(self) -> str:
        """The sealed file list as stored: ``[{"key", "size", "etag"}, ...]``."""
        return json.dumps([{"key": o.key, "size": o.size, "etag": o.etag} for o in self.sealed])

    @staticmethod
    def sealed_from_json(text: str | None) -> list[ObjectInfo]:
        """Parse a stored sealed file list (batches registered before sealing have none)."""
        return [ObjectInfo(d["key"], d["size"], d.get("etag")) for d in json.loads(text or "[]")]

    def failed_assets(self) -> dict[str, AssetProgress]:
        """The assets whose latest run failed to materialize them for this batch."""
        return {k: p for k, p in self.progress.items() if p.status == "FAILED"}


class PartitionRegistry(dg.ConfigurableResource):
    """Batches per ingest table and their processing status."""

    @abstractmethod
    def register(self, record: BatchRecord) -> bool:
        """Insert the batch if absent; True if this call registered it, False if it existed."""

    def register_many(self, records: list[BatchRecord]) -> list[bool]:
        """:meth:`register` for each record, in order; a sensor catching up registers thousands.

        Each record is its own conditional insert, so a record that exists is reported False
        and the others still go in.
        """
        return [self.register(r) for r in records]

    @abstractmethod
    def get(self, table_id: str, batch_id: str) -> BatchRecord | None:
        """One batch, or None."""

    @abstractmethod
    def list_batches(self, table_id: str) -> list[BatchRecord]:
        """Every batch of a table, in batch-id order."""

    @abstractmethod
    def retire(self, table_id: str, batch_id: str, reason: str) -> None:
        """Mark a registered batch RETIRED for good, keeping ``reason`` as its error.

        Raises ``KeyError`` for an unknown batch. Retiring twice keeps the first reason.
        """

    @abstractmethod
    def record_progress(self, table_id: str, batch_id: str, asset: str, progress: AssetProgress) -> bool:
        """Store ``progress`` for one asset of a batch if it is newer than the stored one.

        Returns False when the stored progress is as new or newer (a stale or repeated write),
        raises ``KeyError`` when the batch is not registered. A source asset's counts
        (``landed_rows`` ...) are copied to the batch in the same conditional write.
        """

    @abstractmethod
    def delete(self, table_id: str, batch_id: str) -> None:
        """Forget a batch (its Dagster partition is removed by the registry sync sensor)."""

    @abstractmethod
    def record_checksums(self, table_id: str, batch_id: str, checksums: dict[str, str]) -> None:
        """Store the SHA-256 of each file of a batch as ingest read it (file name -> hex digest).

        A fact about the landed bytes, so writing it again for the same batch is harmless.
        Raises ``KeyError`` when the batch is not registered.
        """

    def known_checksums(self, table_id: str, except_batch: str) -> dict[str, str]:
        """SHA-256 -> ``<batch>/<file>`` of every file of the table's other live batches.

        What a new batch is compared with to detect a duplicate delivery. Reads every batch of
        the table (one query), which stays cheap up to tens of thousands of batches.
        """
        known: dict[str, str] = {}
        for record in self.list_batches(table_id):
            if record.batch_id == except_batch or record.status == "RETIRED":
                continue
            for name, digest in record.checksums.items():
                known.setdefault(digest, f"{record.batch_id}/{name}")
        return known

    @staticmethod
    def _check(progress: AssetProgress) -> dict[str, int]:
        """Validate a progress write; return the batch-level counts it carries."""
        if progress.status not in PROGRESS_STATUSES:
            raise ValueError(f"unknown progress status {progress.status!r}; expected one of {PROGRESS_STATUSES}")
        return {k: int(v) for k, v in progress.counts.items() if k in COUNT_FIELDS and v is not None and v >= 0}


def unknown_batch(table_id: str, batch_id: str) -> KeyError:
    """The error every registry raises for a batch it has no record of."""
    return KeyError(f"batch {table_id}/{batch_id} is not registered")
