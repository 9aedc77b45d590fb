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
import sqlite3
import time
from contextlib import closing
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import dagster as dg
from pydantic import PrivateAttr

from lake_platform.resources.aws import POOL_CONNECTIONS, lazy_client
from lake_platform.resources.object_store import ObjectInfo

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

    def register(self, record: BatchRecord) -> bool:
        """Insert the batch if absent; True if this call registered it, False if it existed."""
        raise NotImplementedError

    def register_many(self, records: list[BatchRecord]) -> list[bool]:
        """:meth:`register` for each record, in order; a sensor catching up registers thousands.

        Each record is its own conditional insert, so a record that exists is reported False
        and the others still go in.
        """
        return [self.register(r) for r in records]

    def get(self, table_id: str, batch_id: str) -> BatchRecord | None:
        """One batch, or None."""
        raise NotImplementedError

    def list_batches(self, table_id: str) -> list[BatchRecord]:
        """Every batch of a table, in batch-id order."""
        raise NotImplementedError

    def retire(self, table_id: str, batch_id: str, reason: str) -> None:
        """Mark a registered batch RETIRED for good, keeping ``reason`` as its error.

        Raises ``KeyError`` for an unknown batch. Retiring twice keeps the first reason.
        """
        raise NotImplementedError

    def record_progress(self, table_id: str, batch_id: str, asset: str, progress: AssetProgress) -> bool:
        """Store ``progress`` for one asset of a batch if it is newer than the stored one.

        Returns False when the stored progress is as new or newer (a stale or repeated write),
        raises ``KeyError`` when the batch is not registered. A source asset's counts
        (``landed_rows`` ...) are copied to the batch in the same conditional write.
        """
        raise NotImplementedError

    def delete(self, table_id: str, batch_id: str) -> None:
        """Forget a batch (its Dagster partition is removed by the registry sync sensor)."""
        raise NotImplementedError

    def record_checksums(self, table_id: str, batch_id: str, checksums: dict[str, str]) -> None:
        """Store the SHA-256 of each file of a batch as ingest read it (file name -> hex digest).

        A fact about the landed bytes, so writing it again for the same batch is harmless.
        Raises ``KeyError`` when the batch is not registered.
        """
        raise NotImplementedError

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


def _unknown(table_id: str, batch_id: str) -> KeyError:
    return KeyError(f"batch {table_id}/{batch_id} is not registered")


def _enable_wal(conn: sqlite3.Connection, timeout: float) -> None:
    """Switch the file to WAL mode (persistent), tolerating other processes doing the same.

    Changing the journal mode needs an exclusive lock, and SQLite answers "database is locked"
    at once instead of waiting in its busy handler, so two producers opening a new registry at
    the same moment (the sensor and a run) would fail. Once the file is in WAL mode the check
    is a plain read.
    """
    deadline = time.monotonic() + timeout
    while True:
        try:
            if conn.execute("PRAGMA journal_mode").fetchone()[0].lower() == "wal":
                return
            conn.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise
            time.sleep(0.01)


class SqlitePartitionRegistry(PartitionRegistry):
    """The registry as a SQLite file (the embedded default)."""

    path: str

    def _connect(self) -> sqlite3.Connection:
        Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(self.path, timeout=30, isolation_level=None)
        conn.row_factory = sqlite3.Row
        _enable_wal(conn, timeout=30)
        conn.execute(
            """CREATE TABLE IF NOT EXISTS batches (
                table_id TEXT NOT NULL, batch_id TEXT NOT NULL, status TEXT NOT NULL,
                files TEXT NOT NULL, landed_rows INTEGER, source_rows INTEGER,
                quarantined_rows INTEGER, target_rows INTEGER, error TEXT,
                registered_at TEXT NOT NULL, updated_at TEXT NOT NULL, registered_by TEXT NOT NULL,
                sealed TEXT, checksums TEXT, PRIMARY KEY (table_id, batch_id))"""
        )
        present = {r["name"] for r in conn.execute("PRAGMA table_info(batches)")}
        for column in ("sealed", "checksums"):
            if column in present:
                continue
            # Registries created before sealing lack the column; two openers may race to add it.
            try:
                conn.execute(f"ALTER TABLE batches ADD COLUMN {column} TEXT")
            except sqlite3.OperationalError as exc:
                if "duplicate column" not in str(exc):
                    raise
        conn.execute(
            """CREATE TABLE IF NOT EXISTS progress (
                table_id TEXT NOT NULL, batch_id TEXT NOT NULL, asset TEXT NOT NULL,
                at TEXT NOT NULL, progress TEXT NOT NULL,
                PRIMARY KEY (table_id, batch_id, asset))"""
        )
        return conn

    @staticmethod
    def _record(row: sqlite3.Row, progress: dict[str, AssetProgress]) -> BatchRecord:
        data = {k: row[k] for k in row.keys() if k in BatchRecord.__dataclass_fields__}
        data["files"] = json.loads(data["files"])
        data["sealed"] = BatchRecord.sealed_from_json(data.get("sealed"))
        data["checksums"] = json.loads(data.get("checksums") or "{}")
        return BatchRecord(**data, progress=progress)

    def _progress(self, conn: sqlite3.Connection, table_id: str, batch_id: str | None = None) -> dict:
        """Progress per batch id, then per asset."""
        query = "SELECT batch_id, asset, progress FROM progress WHERE table_id = ?"
        args: tuple = (table_id,)
        if batch_id is not None:
            query, args = query + " AND batch_id = ?", (table_id, batch_id)
        found: dict[str, dict[str, AssetProgress]] = {}
        for row in conn.execute(query, args):
            found.setdefault(row["batch_id"], {})[row["asset"]] = AssetProgress.from_json(row["progress"])
        return found

    def register(self, record):
        return self.register_many([record])[0]

    def register_many(self, records):
        """All records in one transaction: one commit (and fsync) instead of one per batch."""
        now = utc_now()
        with closing(self._connect()) as conn:
            conn.execute("BEGIN IMMEDIATE")
            try:
                inserted = [
                    conn.execute(
                        """INSERT OR IGNORE INTO batches (table_id, batch_id, status, files, sealed, registered_at,
                           updated_at, registered_by) VALUES (?, ?, 'LANDED', ?, ?, ?, ?, ?)""",
                        (r.table_id, r.batch_id, json.dumps(r.files), r.sealed_json(), now, now, r.registered_by),
                    ).rowcount
                    == 1
                    for r in records
                ]
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")
            return inserted

    def get(self, table_id, batch_id):
        with closing(self._connect()) as conn:
            row = conn.execute(
                "SELECT * FROM batches WHERE table_id = ? AND batch_id = ?", (table_id, batch_id)
            ).fetchone()
            progress = self._progress(conn, table_id, batch_id).get(batch_id, {}) if row else {}
        return self._record(row, progress) if row else None

    def list_batches(self, table_id):
        with closing(self._connect()) as conn:
            rows = conn.execute("SELECT * FROM batches WHERE table_id = ? ORDER BY batch_id", (table_id,)).fetchall()
            progress = self._progress(conn, table_id)
        return [self._record(r, progress.get(r["batch_id"], {})) for r in rows]

    def retire(self, table_id, batch_id, reason):
        with closing(self._connect()) as conn:
            cur = conn.execute(
                "UPDATE batches SET status = 'RETIRED', error = ?, updated_at = ?"
                " WHERE table_id = ? AND batch_id = ? AND status != 'RETIRED'",
                (reason, utc_now(), table_id, batch_id),
            )
            if cur.rowcount != 1 and self.get(table_id, batch_id) is None:
                raise _unknown(table_id, batch_id)

    def record_progress(self, table_id, batch_id, asset, progress):
        counts = self._check(progress)
        with closing(self._connect()) as conn:
            # One write transaction: the batch check, the conditional upsert and the counts.
            conn.execute("BEGIN IMMEDIATE")
            try:
                if (
                    conn.execute(
                        "SELECT 1 FROM batches WHERE table_id = ? AND batch_id = ?", (table_id, batch_id)
                    ).fetchone()
                    is None
                ):
                    raise _unknown(table_id, batch_id)
                cur = conn.execute(
                    """INSERT INTO progress (table_id, batch_id, asset, at, progress) VALUES (?, ?, ?, ?, ?)
                       ON CONFLICT (table_id, batch_id, asset) DO UPDATE
                       SET at = excluded.at, progress = excluded.progress WHERE excluded.at > progress.at""",
                    (table_id, batch_id, asset, progress.at, progress.to_json()),
                )
                applied = cur.rowcount == 1
                if applied:
                    sets = [f"{k} = ?" for k in counts] + ["updated_at = ?"]
                    conn.execute(
                        f"UPDATE batches SET {', '.join(sets)} WHERE table_id = ? AND batch_id = ?",
                        (*counts.values(), utc_now(), table_id, batch_id),
                    )
                conn.execute("COMMIT")
            except BaseException:
                conn.execute("ROLLBACK")
                raise
        return applied

    def record_checksums(self, table_id, batch_id, checksums):
        with closing(self._connect()) as conn:
            cur = conn.execute(
                "UPDATE batches SET checksums = ?, updated_at = ? WHERE table_id = ? AND batch_id = ?",
                (json.dumps(checksums, sort_keys=True), utc_now(), table_id, batch_id),
            )
            if cur.rowcount != 1:
                raise _unknown(table_id, batch_id)

    def delete(self, table_id, batch_id):
        with closing(self._connect()) as conn:
            conn.execute("DELETE FROM batches WHERE table_id = ? AND batch_id = ?", (table_id, batch_id))
            conn.execute("DELETE FROM progress WHERE table_id = ? AND batch_id = ?", (table_id, batch_id))


class DynamoPartitionRegistry(PartitionRegistry):
    """The registry as the DynamoDB partitions table (``table_id`` hash, ``batch_id`` range)."""

    table_name: str
    region_name: str
    endpoint_url: str | None = None
    _clients: dict = PrivateAttr(default_factory=dict)

    @property
    def client(self):
        """The lazily created boto3 DynamoDB client."""
        return lazy_client(self, "dynamodb")

    @staticmethod
    def _record(item: dict) -> BatchRecord:
        def num(name):
            return int(item[name]["N"]) if name in item else None

        return BatchRecord(
            table_id=item["table_id"]["S"],
            batch_id=item["batch_id"]["S"],
            status=item["status"]["S"],
            files=json.loads(item.get("files", {}).get("S", "[]")),
            sealed=BatchRecord.sealed_from_json(item.get("sealed", {}).get("S")),
            checksums=json.loads(item.get("checksums", {}).get("S", "{}")),
            error=item.get("error", {}).get("S"),
            registered_at=item["registered_at"]["S"],
            updated_at=item["updated_at"]["S"],
            registered_by=item.get("registered_by", {}).get("S", ""),
            progress={
                name[len(PROGRESS_PREFIX) :]: AssetProgress.from_json(value["M"]["progress"]["S"])
                for name, value in item.items()
                if name.startswith(PROGRESS_PREFIX)
            },
            **{k: num(k) for k in COUNT_FIELDS},
        )

    def register(self, record):
        from botocore.exceptions import ClientError

        now = utc_now()
        try:
            self.client.put_item(
                TableName=self.table_name,
                Item={
                    "table_id": {"S": record.table_id},
                    "batch_id": {"S": record.batch_id},
                    "status": {"S": "LANDED"},
                    "files": {"S": json.dumps(record.files)},
                    "sealed": {"S": record.sealed_json()},
                    "registered_at": {"S": now},
                    "updated_at": {"S": now},
                    "registered_by": {"S": record.registered_by},
                },
                ConditionExpression="attribute_not_exists(batch_id)",
            )
        except ClientError as exc:
            if exc.response["Error"]["Code"] == "ConditionalCheckFailedException":
                return False
            raise
        return True

    def register_many(self, records):
        """Conditional puts issued by a few threads (DynamoDB has no conditional batch write)."""
        from concurrent.futures import ThreadPoolExecutor

        if len(records) <= 1:
            return [self.register(r) for r in records]
        _ = self.client  # created once, before the threads share it
        with ThreadPoolExecutor(max_workers=min(POOL_CONNECTIONS, len(records))) as pool:
            return list(pool.map(self.register, records))

    def get(self, table_id, batch_id):
        item = self.client.get_item(
            TableName=self.table_name,
            Key={"table_id": {"S": table_id}, "batch_id": {"S": batch_id}},
            ConsistentRead=True,
        ).get("Item")
        return self._record(item) if item else None

    def list_batches(self, table_id):
        records: list[BatchRecord] = []
        kwargs: dict = {
            "TableName": self.table_name,
            "KeyConditionExpression": "table_id = :t",
            "ExpressionAttributeValues": {":t": {"S": table_id}},
            "ConsistentRead": True,
        }
        while True:
            page = self.client.query(**kwargs)
            records.extend(self._record(i) for i in page.get("Items", []))
            if "LastEvaluatedKey" not in page:
                return records
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    def _update(self, table_id, batch_id, **kwargs) -> bool:
        """A conditional UpdateItem; False when its condition does not hold."""
        from botocore.exceptions import ClientError

        try:
            self.client.update_item(
                TableName=self.table_name,
                Key={"table_id": {"S": table_id}, "batch_id": {"S": batch_id}},
                **kwargs,
            )
        except ClientError as exc:
            if exc.response["Error"]["Code"] == "ConditionalCheckFailedException":
                return False
            raise
        return True

    def retire(self, table_id, batch_id, reason):
        applied = self._update(
            table_id,
            batch_id,
            UpdateExpression="SET #s = :s, #e = :e, updated_at = :u",
            ConditionExpression="attribute_exists(batch_id) AND #s <> :s",
            ExpressionAttributeNames={"#s": "status", "#e": "error"},
            ExpressionAttributeValues={":s": {"S": "RETIRED"}, ":e": {"S": reason[:4000]}, ":u": {"S": utc_now()}},
        )
        if not applied and self.get(table_id, batch_id) is None:
            raise _unknown(table_id, batch_id)

    def record_progress(self, table_id, batch_id, asset, progress):
        counts = self._check(progress)
        # One map attribute per asset: {at, progress}; the condition compares the stored ``at``.
        names = {"#p": PROGRESS_PREFIX + asset, "#at": "at"}
        values = {
            ":p": {"M": {"at": {"S": progress.at}, "progress": {"S": progress.to_json()}}},
            ":at": {"S": progress.at},
            ":u": {"S": utc_now()},
        }
        sets = ["#p = :p", "updated_at = :u"]
        for key, value in counts.items():
            sets.append(f"{key} = :{key}")
            values[f":{key}"] = {"N": str(value)}
        applied = self._update(
            table_id,
            batch_id,
            UpdateExpression="SET " + ", ".join(sets),
            ConditionExpression="attribute_exists(batch_id) AND (attribute_not_exists(#p) OR #p.#at < :at)",
            ExpressionAttributeNames=names,
            ExpressionAttributeValues=values,
        )
        if not applied and self.get(table_id, batch_id) is None:
            raise _unknown(table_id, batch_id)
        return applied

    def record_checksums(self, table_id, batch_id, checksums):
        if not self._update(
            table_id,
            batch_id,
            UpdateExpression="SET checksums = :c, updated_at = :u",
            ConditionExpression="attribute_exists(batch_id)",
            ExpressionAttributeValues={":c": {"S": json.dumps(checksums, sort_keys=True)}, ":u": {"S": utc_now()}},
        ):
            raise _unknown(table_id, batch_id)

    def delete(self, table_id, batch_id):
        self.client.delete_item(
            TableName=self.table_name, Key={"table_id": {"S": table_id}, "batch_id": {"S": batch_id}}
        )
