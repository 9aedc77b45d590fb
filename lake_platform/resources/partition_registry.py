"""Partition registry: one record per (table, batch) with its status, files and row counts.

Locally a SQLite file; in AWS the DynamoDB partitions table. Registration is conditional in
both, so a batch is registered exactly once even when two sensor ticks race.
"""

from __future__ import annotations

import json
import sqlite3
import time
from contextlib import closing
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import dagster as dg
from pydantic import PrivateAttr

from lake_platform.resources.aws import lazy_client

STATUSES = ("LANDED", "INGESTING", "INGESTED", "PREPARED", "FAILED", "RETIRED")
COUNT_FIELDS = ("landed_rows", "source_rows", "quarantined_rows", "target_rows")


class BatchRetiredError(RuntimeError):
    """A retired batch's status cannot change; the message names the batch and the reason."""


def utc_now() -> str:
    """Current UTC time as ISO-8601 with microseconds (sortable as text)."""
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


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
    target_rows: int | None = None
    error: str | None = None
    registered_at: str = ""
    updated_at: str = ""
    registered_by: str = ""


class PartitionRegistry(dg.ConfigurableResource):
    """Batches per ingest table and their processing status."""

    def register(self, record: BatchRecord) -> bool:
        """Insert the batch if absent; True if this call registered it, False if it existed."""
        raise NotImplementedError

    def get(self, table_id: str, batch_id: str) -> BatchRecord | None:
        """One batch, or None."""
        raise NotImplementedError

    def list_batches(self, table_id: str) -> list[BatchRecord]:
        """Every batch of a table, in batch-id order."""
        raise NotImplementedError

    def set_status(self, table_id: str, batch_id: str, status: str, *, error: str | None = None, **counts: int) -> None:
        """Move a registered batch to ``status``, recording row counts and the error, if any.

        RETIRED is terminal: once a batch is retired, no other status is written over it (a
        run still in flight when it was retired fails with ``BatchRetiredError`` instead).
        """
        raise NotImplementedError

    def delete(self, table_id: str, batch_id: str) -> None:
        """Forget a batch (its Dagster partition is removed by the registry sync sensor)."""
        raise NotImplementedError

    @staticmethod
    def _check(status: str, counts: dict) -> None:
        if status not in STATUSES:
            raise ValueError(f"unknown batch status {status!r}; expected one of {STATUSES}")
        unknown = set(counts) - set(COUNT_FIELDS)
        if unknown:
            raise ValueError(f"unknown count fields {sorted(unknown)}")


def _refuse(record: BatchRecord | None, table_id: str, batch_id: str) -> None:
    """Raise why a status write did not apply: the batch is unknown, or retired."""
    if record is None:
        raise KeyError(f"batch {table_id}/{batch_id} is not registered")
    raise BatchRetiredError(f"batch {table_id}/{batch_id} is retired ({record.error}); its status stays RETIRED")


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
                PRIMARY KEY (table_id, batch_id))"""
        )
        return conn

    @staticmethod
    def _record(row: sqlite3.Row) -> BatchRecord:
        data = dict(row)
        data["files"] = json.loads(data["files"])
        return BatchRecord(**data)

    def register(self, record):
        now = utc_now()
        with closing(self._connect()) as conn:
            cur = conn.execute(
                """INSERT OR IGNORE INTO batches (table_id, batch_id, status, files, registered_at,
                   updated_at, registered_by) VALUES (?, ?, 'LANDED', ?, ?, ?, ?)""",
                (record.table_id, record.batch_id, json.dumps(record.files), now, now, record.registered_by),
            )
            return cur.rowcount == 1

    def get(self, table_id, batch_id):
        with closing(self._connect()) as conn:
            row = conn.execute(
                "SELECT * FROM batches WHERE table_id = ? AND batch_id = ?", (table_id, batch_id)
            ).fetchone()
        return self._record(row) if row else None

    def list_batches(self, table_id):
        with closing(self._connect()) as conn:
            rows = conn.execute(
                "SELECT * FROM batches WHERE table_id = ? ORDER BY batch_id", (table_id,)
            ).fetchall()
        return [self._record(r) for r in rows]

    def set_status(self, table_id, batch_id, status, *, error=None, **counts):
        self._check(status, counts)
        sets = ["status = ?", "error = ?", "updated_at = ?"] + [f"{k} = ?" for k in counts]
        with closing(self._connect()) as conn:
            cur = conn.execute(
                f"UPDATE batches SET {', '.join(sets)} WHERE table_id = ? AND batch_id = ?"
                " AND (status != 'RETIRED' OR ? = 'RETIRED')",
                (status, error, utc_now(), *counts.values(), table_id, batch_id, status),
            )
            if cur.rowcount != 1:
                _refuse(self.get(table_id, batch_id), table_id, batch_id)

    def delete(self, table_id, batch_id):
        with closing(self._connect()) as conn:
            conn.execute("DELETE FROM batches WHERE table_id = ? AND batch_id = ?", (table_id, batch_id))


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
            error=item.get("error", {}).get("S"),
            registered_at=item["registered_at"]["S"],
            updated_at=item["updated_at"]["S"],
            registered_by=item.get("registered_by", {}).get("S", ""),
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

    def get(self, table_id, batch_id):
        item = self.client.get_item(
            TableName=self.table_name,
            Key={"table_id": {"S": table_id}, "batch_id": {"S": batch_id}},
            ConsistentRead=True,
        ).get("Item")
        return self._record(item) if item else None

    def list_batches(self, table_id):
        records, kwargs = [], {
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

    def set_status(self, table_id, batch_id, status, *, error=None, **counts):
        from botocore.exceptions import ClientError

        self._check(status, counts)
        names = {"#s": "status"}
        values = {":s": {"S": status}, ":u": {"S": utc_now()}}
        sets = ["#s = :s", "updated_at = :u"]
        for key, value in counts.items():
            sets.append(f"{key} = :{key}")
            values[f":{key}"] = {"N": str(int(value))}
        update = "SET " + ", ".join(sets)
        if error is not None:
            update += ", #e = :e"
            names["#e"] = "error"
            values[":e"] = {"S": error[:4000]}
        else:
            update += " REMOVE #e"
            names["#e"] = "error"
        condition = "attribute_exists(batch_id)"
        if status != "RETIRED":
            condition += " AND #s <> :retired"
            values[":retired"] = {"S": "RETIRED"}
        try:
            self.client.update_item(
                TableName=self.table_name,
                Key={"table_id": {"S": table_id}, "batch_id": {"S": batch_id}},
                UpdateExpression=update,
                ConditionExpression=condition,
                ExpressionAttributeNames=names,
                ExpressionAttributeValues=values,
            )
        except ClientError as exc:
            if exc.response["Error"]["Code"] == "ConditionalCheckFailedException":
                _refuse(self.get(table_id, batch_id), table_id, batch_id)
            raise

    def delete(self, table_id, batch_id):
        self.client.delete_item(
            TableName=self.table_name, Key={"table_id": {"S": table_id}, "batch_id": {"S": batch_id}}
        )
