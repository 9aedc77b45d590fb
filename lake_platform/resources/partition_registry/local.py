"""The partition registry in a SQLite file: the embedded default."""

from __future__ import annotations

import json
import sqlite3
import time
from contextlib import closing
from pathlib import Path

from lake_platform.resources.partition_registry.base import (
    AssetProgress,
    BatchRecord,
    PartitionRegistry,
    unknown_batch,
    utc_now,
)


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
                raise unknown_batch(table_id, batch_id)

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
                    raise unknown_batch(table_id, batch_id)
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
                raise unknown_batch(table_id, batch_id)

    def delete(self, table_id, batch_id):
        with closing(self._connect()) as conn:
            conn.execute("DELETE FROM batches WHERE table_id = ? AND batch_id = ?", (table_id, batch_id))
            conn.execute("DELETE FROM progress WHERE table_id = ? AND batch_id = ?", (table_id, batch_id))
