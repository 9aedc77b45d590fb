"""Contract of the partition registry: a SQLite file locally, the DynamoDB partitions table in AWS.

The DynamoDB table is created as Terraform defines it: ``table_id`` hash key, ``batch_id`` range
key, no secondary index. The race tests use real threads
against a real SQLite file and a real (moto) DynamoDB endpoint: registration must be decided by
the store's conditional write, not by luck of timing.
"""

from __future__ import annotations

import json
import threading
from concurrent.futures import ThreadPoolExecutor

import boto3
import pytest

from lake_platform.resources.object_store.base import ObjectInfo
from lake_platform.resources.partition_registry.aws import DynamoPartitionRegistry
from lake_platform.resources.partition_registry.base import (
    AssetProgress,
    BatchRecord,
    PartitionRegistry,
    progress_order,
)
from lake_platform.resources.partition_registry.local import SqlitePartitionRegistry

REGION = "eu-west-1"
TABLE = "lake-test-partitions"
TID = "erp.customers"


def create_partitions_table(endpoint: str) -> None:
    """The partitions table exactly as terraform/modules/dynamodb/main.tf declares it."""
    boto3.client("dynamodb", region_name=REGION, endpoint_url=endpoint).create_table(
        TableName=TABLE,
        BillingMode="PAY_PER_REQUEST",
        KeySchema=[
            {"AttributeName": "table_id", "KeyType": "HASH"},
            {"AttributeName": "batch_id", "KeyType": "RANGE"},
        ],
        AttributeDefinitions=[{"AttributeName": n, "AttributeType": "S"} for n in ("table_id", "batch_id")],
    )


@pytest.fixture(params=["sqlite", pytest.param("aws", marks=pytest.mark.aws)])
def make_registry(request, tmp_path):
    """A factory of registry handles on one fresh store (separate handles = separate producers)."""
    if request.param == "sqlite":
        path = str(tmp_path / "registry.sqlite")
        return lambda: SqlitePartitionRegistry(path=path)
    endpoint = request.getfixturevalue("aws")
    create_partitions_table(endpoint)
    return lambda: DynamoPartitionRegistry(table_name=TABLE, region_name=REGION, endpoint_url=endpoint)


@pytest.fixture
def registry(make_registry) -> PartitionRegistry:
    """One handle on a fresh registry."""
    return make_registry()


def batch(batch_id: str, table: str = TID, files=None, by: str = "test") -> BatchRecord:
    """A record as a producer would register it."""
    return BatchRecord(
        table, batch_id, files=files if files is not None else [f"{batch_id}/part-0.csv"], registered_by=by
    )


def test_register_once_then_false_and_first_record_wins(registry):
    assert registry.register(batch("20240101T000000Z", files=["a.csv", "b.csv"], by="landing_sensor")) is True
    assert registry.register(batch("20240101T000000Z", files=["other.csv"], by="raw_asset")) is False

    record = registry.get(TID, "20240101T000000Z")
    assert record.status == "LANDED"
    assert record.files == ["a.csv", "b.csv"]
    assert record.registered_by == "landing_sensor"
    assert record.registered_at and record.registered_at == record.updated_at
    assert record.error is None and record.landed_rows is None


def test_register_many_inserts_the_new_batches_and_reports_the_existing_ones_in_order(registry):
    registry.register(batch("20240101T020000Z", files=["first.csv"]))
    ids = [f"20240101T{h:02d}0000Z" for h in range(5)]
    assert registry.register_many([batch(b) for b in ids]) == [True, True, False, True, True]
    assert [r.batch_id for r in registry.list_batches(TID)] == ids
    assert registry.get(TID, "20240101T020000Z").files == ["first.csv"]
    assert registry.register_many([]) == []


def test_concurrent_register_many_over_overlapping_batches_registers_each_once(make_registry):
    ids = [f"20240103T{h:02d}0000Z" for h in range(20)]
    handles = [make_registry() for _ in range(4)]
    for h in handles:
        getattr(h, "client", None)
    barrier = threading.Barrier(len(handles))

    def attempt(args):
        i, handle = args
        barrier.wait()
        # Each producer registers an overlapping window of the same batches.
        window = ids[i * 3 : i * 3 + 12]
        return dict(zip(window, handle.register_many([batch(b, by=f"p{i}") for b in window])))

    with ThreadPoolExecutor(len(handles)) as pool:
        results = list(pool.map(attempt, enumerate(handles)))
    winners = [b for r in results for b, won in r.items() if won]
    assert sorted(winners) == sorted(set(b for r in results for b in r)), "every batch registered exactly once"


def test_same_batch_id_in_two_tables_are_two_batches(registry):
    assert registry.register(batch("20240101T000000Z", table="erp.customers"))
    assert registry.register(batch("20240101T000000Z", table="erp.orders"))
    assert registry.get("erp.orders", "20240101T000000Z").table_id == "erp.orders"


def test_get_unknown_batch_is_none(registry):
    assert registry.get(TID, "20990101T000000Z") is None


def test_concurrent_registration_of_one_batch_succeeds_exactly_once(make_registry):
    # Eight producers (each with its own handle and connection, like racing sensor ticks in
    # separate processes) register the same batch at the same moment.
    handles = [make_registry() for _ in range(8)]
    for h in handles:
        # boto3 client creation is not thread-safe; create clients before the race, as each
        # process would have its own.
        getattr(h, "client", None)
    barrier = threading.Barrier(len(handles))

    def attempt(args):
        i, handle = args
        barrier.wait()
        return handle.register(batch("20240102T000000Z", files=[f"from-{i}.csv"], by=f"producer-{i}"))

    for round_ in range(3):
        barrier.reset()
        with ThreadPoolExecutor(len(handles)) as pool:
            results = list(pool.map(attempt, enumerate(handles)))
        assert results.count(True) == (1 if round_ == 0 else 0), results
    # The winner's record is the one stored, whole.
    winner = handles[0].get(TID, "20240102T000000Z")
    i = int(winner.registered_by.split("-")[1])
    assert winner.files == [f"from-{i}.csv"]


def test_concurrent_registration_of_different_batches_all_succeed(make_registry):
    handles = [make_registry() for _ in range(8)]
    for h in handles:
        getattr(h, "client", None)
    barrier = threading.Barrier(len(handles))

    def attempt(args):
        i, handle = args
        barrier.wait()
        return handle.register(batch(f"20240103T00000{i}Z"))

    with ThreadPoolExecutor(len(handles)) as pool:
        assert all(pool.map(attempt, enumerate(handles)))
    assert len(handles[0].list_batches(TID)) == 8


def progress(status: str, run: str, created: float, finished: bool = True, **kw) -> AssetProgress:
    """A progress write as the batch status sensor makes it."""
    return AssetProgress(status, run, progress_order(created, finished), **kw)


SOURCE, TARGET_A, TARGET_B = "source/erp/customers", "target/sales/customers", "target/crm/customers"


def test_progress_is_kept_per_asset_and_a_source_writes_the_batch_counts(registry):
    registry.register(batch("20240101T000000Z"))
    registered = registry.get(TID, "20240101T000000Z")
    counts = {"landed_rows": 10, "source_rows": 9, "quarantined_rows": 1}
    assert registry.record_progress(
        TID, "20240101T000000Z", SOURCE, progress("MATERIALIZED", "r1", 100.0, counts=counts)
    )
    assert registry.record_progress(
        TID, "20240101T000000Z", TARGET_A, progress("MATERIALIZED", "r1", 100.0, counts={"target_rows": 9})
    )
    assert registry.record_progress(
        TID, "20240101T000000Z", TARGET_B, progress("FAILED", "r1", 100.0, error="Glue: OutOfMemory")
    )

    record = registry.get(TID, "20240101T000000Z")
    assert (record.landed_rows, record.source_rows, record.quarantined_rows) == (10, 9, 1)
    assert record.progress[TARGET_A].counts == {"target_rows": 9}
    assert record.status == "LANDED" and record.files == registered.files
    assert record.registered_at == registered.registered_at and record.updated_at >= registered.updated_at
    assert record.failed_assets() == {TARGET_B: progress("FAILED", "r1", 100.0, error="Glue: OutOfMemory")}
    assert registry.list_batches(TID)[0].progress == record.progress


def test_a_sibling_targets_success_leaves_the_other_targets_failure_visible(registry):
    registry.register(batch("20240101T000000Z"))
    registry.record_progress(TID, "20240101T000000Z", TARGET_B, progress("FAILED", "r1", 100.0, error="boom"))
    # A later run that only prepared target A.
    registry.record_progress(TID, "20240101T000000Z", TARGET_A, progress("MATERIALIZED", "r2", 200.0))
    assert set(registry.get(TID, "20240101T000000Z").failed_assets()) == {TARGET_B}


def test_a_stale_or_repeated_progress_write_is_refused(registry):
    registry.register(batch("20240101T000000Z"))
    assert registry.record_progress(TID, "20240101T000000Z", SOURCE, progress("RUNNING", "new", 200.0, finished=False))
    assert registry.record_progress(
        TID, "20240101T000000Z", SOURCE, progress("MATERIALIZED", "new", 200.0, counts={"source_rows": 5})
    )
    # The older run's failure, mirrored late, and the same write again: neither applies.
    assert not registry.record_progress(
        TID, "20240101T000000Z", SOURCE, progress("FAILED", "old", 100.0, error="stale")
    )
    assert not registry.record_progress(
        TID, "20240101T000000Z", SOURCE, progress("MATERIALIZED", "new", 200.0, counts={"source_rows": 7})
    )
    # A finished run's outcome is never taken back by its own earlier "running".
    assert not registry.record_progress(
        TID, "20240101T000000Z", SOURCE, progress("RUNNING", "new", 200.0, finished=False)
    )
    record = registry.get(TID, "20240101T000000Z")
    assert (record.progress[SOURCE].status, record.progress[SOURCE].run_id, record.source_rows) == (
        "MATERIALIZED",
        "new",
        5,
    )


def test_concurrent_progress_writes_keep_the_newest_run(make_registry):
    make_registry().register(batch("20240101T000000Z"))
    handles = [make_registry() for _ in range(8)]

    def write(args):
        i, handle = args
        return handle.record_progress(TID, "20240101T000000Z", SOURCE, progress("MATERIALIZED", f"r{i}", 100.0 + i))

    with ThreadPoolExecutor(len(handles)) as pool:
        list(pool.map(write, enumerate(handles)))
    assert make_registry().get(TID, "20240101T000000Z").progress[SOURCE].run_id == "r7"


def test_progress_for_an_unknown_batch_raises_key_error_and_creates_nothing(registry):
    with pytest.raises(KeyError, match="erp.customers/20990101T000000Z"):
        registry.record_progress(TID, "20990101T000000Z", SOURCE, progress("RUNNING", "r", 1.0, finished=False))
    assert registry.get(TID, "20990101T000000Z") is None
    assert registry.list_batches(TID) == []


def test_progress_rejects_an_unknown_status(registry):
    registry.register(batch("20240101T000000Z"))
    with pytest.raises(ValueError, match="DONE"):
        registry.record_progress(TID, "20240101T000000Z", SOURCE, progress("DONE", "r", 1.0))
    assert registry.get(TID, "20240101T000000Z").progress == {}


def test_list_batches_is_in_batch_id_order_and_per_table(registry):
    ids = ["20240105T000000Z", "20240101T000000Z", "20240103T120000Z", "20240103T000000Z"]
    for b in ids:
        registry.register(batch(b))
    registry.register(batch("20240102T000000Z", table="erp.orders"))
    assert [r.batch_id for r in registry.list_batches(TID)] == sorted(ids)
    assert [r.batch_id for r in registry.list_batches("erp.orders")] == ["20240102T000000Z"]
    assert registry.list_batches("erp.unknown") == []


def test_delete_forgets_a_batch_and_is_idempotent(registry):
    for b in ("20240101T000000Z", "20240102T000000Z"):
        registry.register(batch(b))
    registry.delete(TID, "20240101T000000Z")
    registry.delete(TID, "20240101T000000Z")
    registry.delete(TID, "20990101T000000Z")
    assert registry.get(TID, "20240101T000000Z") is None
    assert [r.batch_id for r in registry.list_batches(TID)] == ["20240102T000000Z"]
    # A deleted batch can be registered again (e.g. re-delivered by the source system).
    assert registry.register(batch("20240101T000000Z")) is True


def test_list_batches_returns_every_batch_across_query_pages(registry):
    # DynamoDB returns at most 1 MB per Query page (moto enforces this too); records with file
    # lists just small enough to stay inline (about 60 KB) make 20 batches span several pages.
    # SQLite has no pages but the same contract.
    files = [f"landing/erp/customers/batch/part-{i:05d}-{'x' * 80}.csv" for i in range(480)]
    ids = [f"202401{d:02d}T000000Z" for d in range(20, 0, -1)]
    for b in ids:
        registry.register(batch(b, files=files))
    pages: list[int] = []
    if isinstance(registry, DynamoPartitionRegistry):
        registry.client.meta.events.register(
            "after-call.dynamodb.Query", lambda parsed, **_: pages.append(parsed["Count"])
        )
    records = registry.list_batches(TID)
    assert [r.batch_id for r in records] == sorted(ids)
    assert all(r.files == files for r in records)
    if isinstance(registry, DynamoPartitionRegistry):
        assert len(pages) > 1 and sum(pages) == 20


def test_many_producers_opening_a_new_sqlite_registry_at_once_do_not_fail(tmp_path):
    # The first connections to a new file switch it to WAL mode; SQLite refuses that switch
    # with "database is locked" (no busy wait) while another connection holds the file.
    # Twenty fresh files make the window reliably reachable.
    for n in range(20):
        handles = [SqlitePartitionRegistry(path=str(tmp_path / f"r{n}.sqlite")) for _ in range(8)]
        barrier = threading.Barrier(len(handles))

        def attempt(args, barrier=barrier):
            i, handle = args
            barrier.wait()
            return handle.register(batch(f"20240103T00000{i}Z"))

        with ThreadPoolExecutor(len(handles)) as pool:
            assert all(pool.map(attempt, enumerate(handles)))


def test_a_retired_batch_keeps_its_first_reason_and_its_status_whatever_runs_report(registry):
    registry.register(BatchRecord("erp.orders", "20260105T020000Z", files=["a"]))
    registry.retire("erp.orders", "20260105T020000Z", "retired: resent as 20260106T020000Z")
    registry.retire("erp.orders", "20260105T020000Z", "retired: second thoughts")
    registry.record_progress("erp.orders", "20260105T020000Z", SOURCE, progress("FAILED", "r", 1.0, error="x"))
    record = registry.get("erp.orders", "20260105T020000Z")
    assert (record.status, record.error) == ("RETIRED", "retired: resent as 20260106T020000Z")
    with pytest.raises(KeyError, match="is not registered"):
        registry.retire("erp.orders", "20990101T000000Z", "x")


def test_a_batch_is_registered_with_its_sealed_files_and_they_read_back_unchanged(registry):
    sealed = [
        ObjectInfo("landing/erp/customers/B/a.csv", 120, "9e107d9d372bb6826bd81d3542a419d6"),
        ObjectInfo("landing/erp/customers/B/b.csv", 0, "d41d8cd98f00b204e9800998ecf8427e-2"),
    ]
    assert registry.register(BatchRecord(TID, "20260101T000000Z", sealed=sealed, registered_by="landing_sensor"))
    record = registry.get(TID, "20260101T000000Z")
    assert record.sealed == sealed
    assert record.files == [o.key for o in sealed]
    assert registry.list_batches(TID)[0].sealed == sealed


def test_checksums_are_recorded_per_batch_and_compared_only_with_other_live_batches(registry):
    for b in ("20260101T000000Z", "20260102T000000Z", "20260103T000000Z"):
        registry.register(batch(b))
    registry.record_checksums(TID, "20260101T000000Z", {"a.csv": "aaa"})
    registry.record_checksums(TID, "20260102T000000Z", {"b.csv": "bbb"})
    registry.record_checksums(TID, "20260103T000000Z", {"c.csv": "ccc"})
    registry.retire(TID, "20260102T000000Z", "re-landed")
    assert registry.known_checksums(TID, except_batch="20260103T000000Z") == {"aaa": "20260101T000000Z/a.csv"}
    # Recording again (a re-run of the batch) replaces, never accumulates.
    registry.record_checksums(TID, "20260101T000000Z", {"a.csv": "aa2"})
    assert registry.get(TID, "20260101T000000Z").checksums == {"a.csv": "aa2"}
    with pytest.raises(KeyError, match="not registered"):
        registry.record_checksums(TID, "20990101T000000Z", {"x.csv": "x"})


def test_a_registry_file_from_before_sealing_gains_the_new_columns_and_keeps_its_batches(tmp_path):
    import json
    import sqlite3

    path = tmp_path / "old.sqlite"
    conn = sqlite3.connect(path)
    conn.execute(
        """CREATE TABLE batches (table_id TEXT NOT NULL, batch_id TEXT NOT NULL, status TEXT NOT NULL,
           files TEXT NOT NULL, landed_rows INTEGER, source_rows INTEGER, quarantined_rows INTEGER,
           target_rows INTEGER, error TEXT, registered_at TEXT NOT NULL, updated_at TEXT NOT NULL,
           registered_by TEXT NOT NULL, PRIMARY KEY (table_id, batch_id))"""
    )
    conn.execute(
        "INSERT INTO batches VALUES (?, 'B', 'LANDED', ?, NULL, NULL, NULL, NULL, NULL, 't', 't', 'old')",
        (TID, json.dumps(["a.csv"])),
    )
    conn.commit()
    conn.close()
    registry = SqlitePartitionRegistry(path=str(path))
    old = registry.get(TID, "B")
    assert old.files == ["a.csv"] and old.sealed == [] and old.checksums == {}
    registry.record_checksums(TID, "B", {"a.csv": "aaa"})
    assert registry.get(TID, "B").checksums == {"a.csv": "aaa"}


def _big_batch(batch_id: str, files: int) -> BatchRecord:
    folder = f"landing/erp/customers/{batch_id}/"
    sealed = [ObjectInfo(f"{folder}part-{i:05d}.csv", 1000 + i, f"{i:032x}") for i in range(files)]
    return BatchRecord(TID, batch_id, sealed=sealed, registered_by="landing_sensor")


def test_a_batch_of_5000_files_registers_and_reads_back_whole_with_its_checksums(registry):
    record = _big_batch("20260101T000000Z", 5000)
    assert registry.register(record) is True
    checksums = {f"part-{i:05d}.csv": f"{i:064x}" for i in range(5000)}
    registry.record_checksums(TID, record.batch_id, checksums)
    registry.record_progress(
        TID, record.batch_id, "source/erp/customers", AssetProgress("MATERIALIZED", "r1", progress_order(1.0, True))
    )
    for stored in (registry.get(TID, record.batch_id), registry.list_batches(TID)[0]):
        assert stored.sealed == record.sealed and stored.files == record.files
        assert stored.checksums == checksums
        assert stored.progress["source/erp/customers"].status == "MATERIALIZED"
    assert registry.register(_big_batch(record.batch_id, 4999)) is False, "still registered exactly once"
    assert len(registry.get(TID, record.batch_id).sealed) == 5000
    assert [r.batch_id for r in registry.list_batches(TID)] == [record.batch_id]
    registry.delete(TID, record.batch_id)
    assert registry.get(TID, record.batch_id) is None and registry.list_batches(TID) == []


@pytest.mark.aws
def test_a_dynamodb_batch_item_stays_small_however_many_files_the_batch_has(aws):
    create_partitions_table(aws)
    registry = DynamoPartitionRegistry(table_name=TABLE, region_name=REGION, endpoint_url=aws)
    record = _big_batch("20260102T000000Z", 5000)
    registry.register(record)
    registry.record_checksums(TID, record.batch_id, {f"part-{i:05d}.csv": f"{i:064x}" for i in range(5000)})
    client = boto3.client("dynamodb", region_name=REGION, endpoint_url=aws)
    item = client.get_item(TableName=TABLE, Key={"table_id": {"S": TID}, "batch_id": {"S": record.batch_id}})["Item"]
    assert len(json.dumps(item)) < 10_000
    registry.delete(TID, record.batch_id)
    assert client.scan(TableName=TABLE)["Items"] == [], "the chunk items go with the batch"
