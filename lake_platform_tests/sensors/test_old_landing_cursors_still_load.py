"""The typed landing cursor reads every cursor earlier versions stored, and writes the same JSON.

A daemon upgraded in place hands the sensor the cursor the previous version saved: it must go
on from there (no batch listed from the start, none requested twice), not fail or start over.
"""

from __future__ import annotations

import json

import pytest

from lake_platform.layout import SUCCESS_MARKER
from lake_platform.process import look_back_now
from lake_platform.resources.object_store.local import LocalObjectStore
from lake_platform.resources.partition_registry.local import SqlitePartitionRegistry
from lake_platform.sensors.landing import LandedTable, scan_landing
from lake_platform.sensors.landing_cursor import LandingCursor, TableCursor

A, B, C = "20260105T020000Z", "20260106T020000Z", "20260107T020000Z"
ORDERS = "landing/erp/orders/"
TABLES = [LandedTable("erp.orders", "landing/erp", "orders")]

# Exactly what the landing sensor stored before the cursor was typed (json.dumps, sorted keys).
CURRENT = json.dumps(
    {
        "erp.orders": {
            "after": f"{ORDERS}{A}/part-0.csv",
            "pending": [B],
            "pending_since": {B: 1000.0},
            "newest": B,
            "back": None,
            "back_done_at": 1000.0,
            "bad": {"archive": 900.0},
            "strays": {f"{ORDERS}{A}/late.csv": 950.0},
        }
    },
    sort_keys=True,
)
# An older cursor: only the forward position and the pending batches, no times.
OLDEST = json.dumps({"erp.orders": {"after": f"{ORDERS}{A}/part-0.csv", "pending": [B]}})


@pytest.fixture
def lake(tmp_path):
    store = LocalObjectStore(root=str(tmp_path / "buckets"), raw_bucket="raw", source_bucket="src", target_bucket="tgt")
    return store, SqlitePartitionRegistry(path=str(tmp_path / "registry.sqlite"))


def _land(store, batch_id: str, marker: bool = True) -> None:
    store.put_bytes("raw", f"{ORDERS}{batch_id}/part-0.csv", b"x")
    if marker:
        store.put_bytes("raw", f"{ORDERS}{batch_id}/{SUCCESS_MARKER}", b"")


def test_a_cursor_the_current_sensor_stored_loads_into_its_fields_and_is_written_back_unchanged():
    cursor = LandingCursor.parse(CURRENT)
    assert cursor.tables["erp.orders"] == TableCursor(
        after=f"{ORDERS}{A}/part-0.csv",
        pending={B: 1000.0},
        newest=B,
        back=None,
        back_done_at=1000.0,
        bad={"archive": 900.0},
        strays={f"{ORDERS}{A}/late.csv": 950.0},
    )
    assert cursor.serialize() == CURRENT


def test_an_older_cursor_without_times_loads_its_pending_batches_as_first_seen_now():
    state = LandingCursor.parse(OLDEST, now=5000.0).tables["erp.orders"]
    assert (state.after, state.pending, state.newest, state.back_done_at) == (
        f"{ORDERS}{A}/part-0.csv",
        {B: 5000.0},
        None,
        None,
    )
    assert state.bad == {} and state.strays == {}


def test_the_scan_goes_on_from_the_current_cursor(lake):
    store, registry = lake
    for batch in (A, B, C):
        _land(store, batch)
    scan = scan_landing(store, registry, TABLES, LandingCursor.parse(CURRENT, now=1000.0), now=1060.0)
    # A is behind the stored position, and the look-back ran 60 s ago: not listed again. B was
    # pending and its marker is there now; C is new.
    assert scan.complete["erp.orders"] == [B, C]
    assert registry.get("erp.orders", A) is None
    assert scan.cursor.tables["erp.orders"].after == f"{ORDERS}{C}/part-0.csv"


def test_the_scan_goes_on_from_an_older_cursor_and_runs_the_look_back_it_never_had(lake):
    store, registry = lake
    for batch in (A, B, C):
        _land(store, batch)
    scan = scan_landing(store, registry, TABLES, LandingCursor.parse(OLDEST, now=1000.0), now=1060.0)
    assert scan.complete["erp.orders"] == [A, B, C]
    assert scan.late["erp.orders"] == [A], "A is behind the stored position: found by the look-back"
    assert scan.cursor.tables["erp.orders"].after == f"{ORDERS}{C}/part-0.csv"


def test_lake_process_makes_the_look_back_due_in_an_old_cursor_without_touching_the_rest():
    due = json.loads(look_back_now(CURRENT))
    assert due["erp.orders"]["back_done_at"] == 0
    assert {k: v for k, v in due["erp.orders"].items() if k != "back_done_at"} == {
        k: v for k, v in json.loads(CURRENT)["erp.orders"].items() if k != "back_done_at"
    }
    assert look_back_now(None) is None


@pytest.mark.parametrize("damaged", ["{not json", "[1, 2]"])
def test_a_damaged_cursor_is_refused_with_what_it_holds(damaged):
    with pytest.raises(ValueError, match="landing sensor cursor is not"):
        LandingCursor.parse(damaged)


def test_no_cursor_is_a_first_start():
    assert LandingCursor.parse(None) == LandingCursor.parse("") == LandingCursor()
