"""Expiry keeps a snapshot until it has been superseded for the retention time.

A time inside the retention window reads the snapshot that was current then; counting from a
snapshot's creation would drop a long-lived snapshot the moment its successor arrives, and
``--as-of`` a time just before that successor would find no snapshot at all.
"""

import time
from datetime import datetime, timedelta, timezone

import pyarrow as pa
import pytest

from lake_glue.tables import TableSpec, load_table, open_catalog
from lake_platform.maintenance import expire_snapshots

RETAIN = timedelta(hours=1)
SCHEMA = pa.schema([pa.field("order_id", pa.int64())])


@pytest.fixture
def two_snapshots(tmp_path, monkeypatch):
    """A table whose first snapshot lived 200 ms before the second superseded it."""
    monkeypatch.delenv("LAKE_LOCAL_BUCKET_ROOT", raising=False)
    catalog = open_catalog(f"sqlite:///{tmp_path / 'catalog.sqlite'}")
    table = load_table(catalog, TableSpec("erp", "orders", f"file://{tmp_path}/orders"), SCHEMA)
    table.append(pa.table({"order_id": [1]}, schema=SCHEMA))
    time.sleep(0.2)
    table.append(pa.table({"order_id": [2]}, schema=SCHEMA))
    first, second = sorted(table.metadata.snapshots, key=lambda s: s.timestamp_ms)
    return table, first, second


def _at(ms: int) -> datetime:
    return datetime.fromtimestamp(ms / 1000, tz=timezone.utc)


def test_a_time_inside_the_retention_window_still_finds_the_snapshot_current_then(two_snapshots):
    table, first, second = two_snapshots
    # The window starts 100 ms before the second snapshot: the first was current then.
    now = _at(second.timestamp_ms) + RETAIN - timedelta(milliseconds=100)
    assert expire_snapshots(table, RETAIN, now) == 0
    inside = second.timestamp_ms - 100
    assert table.snapshot_as_of_timestamp(inside).snapshot_id == first.snapshot_id


def test_a_snapshot_is_expired_once_superseded_for_longer_than_the_retention_time(two_snapshots):
    table, first, second = two_snapshots
    # Created longer ago than the retention time, superseded less long ago: kept.
    assert expire_snapshots(table, RETAIN, _at(second.timestamp_ms) + RETAIN - timedelta(milliseconds=100)) == 0
    assert expire_snapshots(table, RETAIN, _at(second.timestamp_ms) + RETAIN + timedelta(seconds=1)) == 1
    assert [s.snapshot_id for s in table.metadata.snapshots] == [second.snapshot_id]
    assert table.snapshot_by_id(first.snapshot_id) is None
