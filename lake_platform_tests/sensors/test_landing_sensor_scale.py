"""The landing sensor at scale: thousands of landed keys, bounded work per tick, exactly once.

The same scenarios run against the local folder store and against S3 on moto (marked ``aws``).
Work per tick is measured by a thin wrapper that delegates every call to the real store and
counts what was asked of it; for S3 the actual ``ListObjectsV2`` requests are observed too,
through botocore's event hooks. Nothing in the code under test is replaced.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from datetime import datetime, timedelta, timezone
from pathlib import Path

import dagster as dg
import pytest

from lake_glue.config import load_config_dir
from lake_platform.assets import build_table_assets
from lake_platform.layout import SUCCESS_MARKER, batch_prefix, landing_table_prefix
from lake_platform.resources.alerts.local import LocalAlerts
from lake_platform.resources.object_store.aws import S3ObjectStore
from lake_platform.resources.object_store.base import ObjectStore
from lake_platform.resources.object_store.local import LocalObjectStore
from lake_platform.resources.partition_registry.local import SqlitePartitionRegistry
from lake_platform.sensors.landing import LandedTable, build_landing_sensor, catch_up, scan_landing
from lake_platform.sensors.landing_cursor import LandingCursor
from lake_platform_tests.resources.test_contract_object_store import BUCKETS, make_s3_store, seed_moto_objects

CONFIG_DIR = Path(__file__).resolve().parents[2] / "configs"
TABLES = [LandedTable(f"erp.{t}", "landing/erp", t) for t in ("customers", "orders", "order_lines")]
DATA_FILES = ("part-0000.csv", "part-0001.csv", "part-0002.csv")


def batch_ids(n: int, start: datetime = datetime(2024, 1, 1, tzinfo=timezone.utc)) -> list[str]:
    """``n`` consecutive hourly batch ids."""
    return [f"{start + timedelta(hours=i):%Y%m%dT%H%M%SZ}" for i in range(n)]


def batch_keys(table: LandedTable, batch_id: str, files=DATA_FILES, marker: bool = True) -> list[str]:
    """The keys one landed batch consists of."""
    prefix = batch_prefix(table.landing_prefix, table.table_name, batch_id)
    return [prefix + f for f in files] + ([prefix + SUCCESS_MARKER] if marker else [])


class CountingStore:
    """Delegates to a real object store and records each listing and existence check."""

    def __init__(self, inner: ObjectStore):
        self.inner = inner
        self.raw_bucket = inner.raw_bucket
        self.listings: list[tuple[str, int]] = []
        self.exists_calls = 0

    def reset(self) -> None:
        """Start counting a new tick."""
        self.listings.clear()
        self.exists_calls = 0

    def list_objects(self, bucket, prefix, start_after=None, max_keys=1000):
        """The real listing, counted."""
        objects = self.inner.list_objects(bucket, prefix, start_after=start_after, max_keys=max_keys)
        self.listings.append((prefix, len(objects)))
        return objects

    def seal(self, bucket, prefix, listed=None):
        """The real sealing; a listing of one batch when the caller had none, counted."""
        if listed is None:
            listed = self.list_objects(bucket, prefix, max_keys=100_000)
        return self.inner.seal(bucket, prefix, listed)

    def exists(self, bucket, key):
        """The real check, counted."""
        self.exists_calls += 1
        return self.inner.exists(bucket, key)

    def table_keys_listed(self) -> int:
        """Keys returned by listings of whole table prefixes (not of one batch)."""
        table_prefixes = {landing_table_prefix(t.landing_prefix, t.table_name) for t in TABLES}
        return sum(n for prefix, n in self.listings if prefix in table_prefixes)


class Landing:
    """A raw bucket of one kind, with a fast way to land many keys in it."""

    def __init__(self, store: ObjectStore, seed):
        self.store = store
        self._seed = seed
        self.requests: list[dict] = []
        if isinstance(store, S3ObjectStore):
            store.client.meta.events.register(
                "provide-client-params.s3.ListObjectsV2", lambda params, **_: self.requests.append(dict(params))
            )

    def land(self, keys: list[str]) -> None:
        """Create the objects (content is irrelevant to the sensor)."""
        self._seed(keys)


@pytest.fixture(params=["local", pytest.param("aws", marks=pytest.mark.aws)])
def landing(request, tmp_path) -> Landing:
    """An empty raw bucket: local folders, or S3 on a fresh moto server."""
    if request.param == "local":
        store = LocalObjectStore(root=str(tmp_path / "buckets"), **BUCKETS)

        def seed(keys):
            for key in keys:
                path = Path(store.root) / store.raw_bucket / key
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_bytes(b"x")

        return Landing(store, seed)
    store = make_s3_store(request.getfixturevalue("aws"))
    return Landing(store, lambda keys: seed_moto_objects(store.raw_bucket, keys))


@pytest.fixture
def registry(tmp_path):
    """The registry is not under test here; a real SQLite one records what was registered.

    Each registration commits (and fsyncs) on its own connection, about 12 ms on a disk; on a
    RAM-backed folder, when the machine has one, 1200 registrations take a second instead of 15.
    """
    shm = Path("/dev/shm")
    if shm.is_dir() and os.access(shm, os.W_OK):
        folder = Path(tempfile.mkdtemp(prefix="lake-registry-", dir=shm))
        yield SqlitePartitionRegistry(path=str(folder / "registry.sqlite"))
        shutil.rmtree(folder, ignore_errors=True)
    else:
        yield SqlitePartitionRegistry(path=str(tmp_path / "registry.sqlite"))


def run_ticks(store, registry, cursor: LandingCursor, max_keys: int, limit: int = 100, idle_keys: int = 0):
    """Tick until a tick completes nothing and lists at most ``idle_keys``; yields (result, store counters).

    ``idle_keys``: keys of odd folders after the last batch, which the cursor never passes and
    every tick lists again.
    """
    for _ in range(limit):
        store.reset()
        # The cursor goes through JSON between ticks, exactly as Dagster stores it.
        result = scan_landing(store, registry, TABLES, LandingCursor.parse(cursor.serialize()), max_keys=max_keys)
        cursor = result.cursor
        yield result
        if not any(result.complete.values()) and result.keys_listed <= idle_keys:
            return
    raise AssertionError(f"scan did not settle within {limit} ticks")


def test_thousands_of_keys_are_scanned_in_bounded_ticks_each_batch_once(landing, registry):
    ids = batch_ids(400)
    late = {("erp.orders", ids[150]), ("erp.customers", ids[399])}
    keys = []
    for table in TABLES:
        for b in ids:
            keys += batch_keys(table, b, marker=(table.table_id, b) not in late)
    # A folder that is not a batch id: warned about once, never registered.
    keys.append("landing/erp/customers/latest/export.csv")
    landing.land(keys)
    store = CountingStore(landing.store)
    max_keys = 600

    seen: dict[str, list[str]] = {t.table_id: [] for t in TABLES}
    warnings, ticks, total_listed, look_back_listed = [], 0, 0, 0
    cursor = LandingCursor()
    for result in run_ticks(store, registry, cursor, max_keys, idle_keys=1):
        ticks += 1
        cursor = result.cursor
        total_listed += result.keys_listed
        look_back_listed += result.look_back_keys_listed
        warnings += result.warnings
        for tid, done in result.complete.items():
            seen[tid] += done
        # Bounded work: the table listings of one tick never exceed the cap, and nothing else
        # is listed except the batches that just completed.
        assert store.table_keys_listed() == result.keys_listed <= max_keys
        # At most two listings per table (forward, and the look-back in what the forward page
        # left of the table's share); a batch is listed on its own only when the page did not
        # hold all of it (here: the late batches, completed through the pending re-check).
        assert len(store.listings) <= 2 * len(TABLES)
        # Only the batches seen without a marker are re-checked, one existence check each.
        assert store.exists_calls <= len(late)

    # The forward scan takes 8 to 12 ticks; the look-back's one pass over its window (7 days of
    # hourly batches behind the newest, 168 batches of 4 keys per table) takes a few more.
    window_keys = 7 * 24 * 4 * len(TABLES)
    assert 8 <= ticks <= 12 + window_keys // max_keys + 1
    # Every key is listed about once by the forward scan: the prefix is never listed again from
    # the start (a batch cut off at the end of a page is listed again on the next tick, at most
    # 4 keys); the look-back lists its window once, never more.
    assert look_back_listed <= window_keys + 4 * len(TABLES) * ticks
    assert total_listed - look_back_listed <= len(keys) + 4 * len(TABLES) * ticks
    for table in TABLES:
        expected = [b for b in ids if (table.table_id, b) not in late]
        assert sorted(seen[table.table_id]) == expected, table.table_id
        assert len(seen[table.table_id]) == len(set(seen[table.table_id])), "a batch was returned twice"
        assert [r.batch_id for r in registry.list_batches(table.table_id)] == expected
    assert len(warnings) == 1 and "latest" in warnings[0]
    assert sorted(cursor.tables["erp.orders"].pending) == [ids[150]]

    if isinstance(landing.store, S3ObjectStore):
        # Pages stay small: the per-table share of the cap, never S3's 1000-key maximum.
        assert landing.requests and max(r["MaxKeys"] for r in landing.requests) <= max_keys // len(TABLES)

    # The late markers arrive after hundreds of later batches: found by the pending re-check,
    # with no listing of the landing prefix from the start.
    landing.land([batch_prefix("landing/erp", "orders", ids[150]) + SUCCESS_MARKER])
    landing.land([batch_prefix("landing/erp", "customers", ids[399]) + SUCCESS_MARKER])
    results = list(run_ticks(store, registry, cursor, max_keys, idle_keys=1))
    found = {(tid, b) for r in results for tid, done in r.complete.items() for b in done}
    assert found == late
    assert sum(r.keys_listed for r in results) <= 4
    assert all(not state.pending for state in results[-1].cursor.tables.values())
    assert registry.get("erp.orders", ids[150]).files == batch_keys(TABLES[1], ids[150], marker=False)


def test_a_tick_that_is_behind_makes_bounded_passes_until_it_has_caught_up(landing, registry):
    ids = batch_ids(300)
    landing.land([k for table in TABLES for b in ids for k in batch_keys(table, b)])
    store = CountingStore(landing.store)
    max_keys = 300

    result = catch_up(store, registry, TABLES, LandingCursor(), max_keys, seconds=120)
    # Every page of every pass stays within the table's share of the per-pass cap.
    assert max(n for _, n in store.listings) <= max_keys // len(TABLES)
    assert len(store.listings) > 10 * len(TABLES), "several passes in one tick"
    assert not result.behind
    for table in TABLES:
        assert sorted(result.complete[table.table_id]) == ids
        assert [r.batch_id for r in registry.list_batches(table.table_id)] == ids

    # With no time to spare, a tick makes exactly one pass: the steady-state bound.
    more = batch_ids(300, start=datetime(2025, 1, 1, tzinfo=timezone.utc))
    landing.land([k for table in TABLES for b in more for k in batch_keys(table, b)])
    store.reset()
    one = catch_up(store, registry, TABLES, LandingCursor.parse(result.cursor.serialize()), max_keys, seconds=0)
    assert one.behind and one.keys_listed <= max_keys
    assert len(store.listings) == len(TABLES)
    rest = catch_up(store, registry, TABLES, one.cursor, max_keys, seconds=120)
    for table in TABLES:
        done = one.complete[table.table_id] + rest.complete[table.table_id]
        assert sorted(done) == more, "each batch once across the two ticks"


@pytest.mark.parametrize(
    "files",
    [
        pytest.param([f"part-{i:04d}.csv" for i in range(120)], id="marker-sorts-first"),
        pytest.param([f"{i:04d}.csv" for i in range(120)], id="marker-sorts-last"),
    ],
)
def test_batch_larger_than_a_page_is_registered_once_with_all_its_files(landing, registry, files):
    # '_' sorts after digits and before lower-case letters, so the marker can be on the first or
    # the last page of a batch that does not fit in one tick's page.
    table = TABLES[0]
    ids = batch_ids(3)
    landing.land([k for b in ids for k in batch_keys(table, b, files=files)])
    store = CountingStore(landing.store)
    returned = []
    for result in run_ticks(store, registry, LandingCursor(), max_keys=50):
        returned += result.complete.get(table.table_id, [])
        # A page never exceeds the per-table budget, even in the middle of a big batch.
        assert result.keys_listed <= 50
    assert sorted(returned) == ids and len(returned) == len(ids), returned
    for b in ids:
        assert registry.get(table.table_id, b).files == batch_keys(table, b, files=files, marker=False)


def test_files_arriving_after_the_marker_do_not_complete_a_batch_twice(landing, registry):
    # Against the landing contract, but it happens (a retried upload): the batch already
    # counted must not be reported again.
    table = TABLES[0]
    ids = batch_ids(2)
    landing.land(batch_keys(table, ids[0]))
    first = scan_landing(landing.store, registry, [table], LandingCursor(), max_keys=100)
    assert first.complete[table.table_id] == [ids[0]]
    landing.land([batch_prefix(table.landing_prefix, table.table_name, ids[0]) + "part-9999.csv"])
    landing.land(batch_keys(table, ids[1]))
    cursor, returned = first.cursor, []
    for _ in range(3):
        result = scan_landing(landing.store, registry, [table], LandingCursor.parse(cursor.serialize()), max_keys=100)
        cursor = result.cursor
        returned += result.complete[table.table_id]
    assert returned == [ids[1]]
    assert sorted(cursor.tables[table.table_id].pending) == []


# The Dagster sensor itself, evaluated with a real ephemeral instance.


def evaluate(sensor, instance, cursor, store, registry) -> dg.SensorResult:
    """One tick as the daemon runs it, applying the partition requests to the instance."""
    alerts = LocalAlerts(path=str(Path(tempfile.gettempdir()) / f"lake-alerts-{os.getpid()}.jsonl"))
    context = dg.build_sensor_context(
        instance=instance,
        cursor=cursor,
        resources={"object_store": store, "partition_registry": registry, "alerts": alerts},
    )
    result = sensor(context)
    for request in result.dynamic_partitions_requests or []:
        instance.add_dynamic_partitions(request.partitions_def_name, list(request.partition_keys))
    return result


def test_landing_sensor_requests_each_batch_once_across_ticks_and_restarts(landing, registry):
    tables = build_table_assets(load_config_dir(CONFIG_DIR), "local")
    sensor = build_landing_sensor(tables, max_keys_per_tick=300)
    ids = batch_ids(120)
    keys = []
    for entry in tables:
        for b in ids:
            keys += batch_keys(
                LandedTable(entry.table_id, "landing/erp", entry.table.table_name), b, marker=b != ids[10]
            )
    landing.land(keys)
    instance = dg.DagsterInstance.ephemeral()

    requests: list[dg.RunRequest] = []
    cursor = None
    for _ in range(3):
        result = evaluate(sensor, instance, cursor, landing.store, registry)
        cursor = result.cursor
        requests += result.run_requests
    assert requests, "the first ticks found complete batches"

    # Restart: the daemon comes back with a new context, the same instance and the stored cursor.
    landing.land([batch_prefix("landing/erp", "orders", ids[10]) + SUCCESS_MARKER])
    for _ in range(40):
        result = evaluate(sensor, instance, cursor, landing.store, registry)
        cursor = result.cursor
        requests += result.run_requests
        if not result.run_requests:
            break
    run_keys = [r.run_key for r in requests]
    assert len(run_keys) == len(set(run_keys)), "a batch was requested twice"
    expected = {f"{e.table_id}:{b}" for e in tables for b in ids if b != ids[10]} | {f"erp.orders:{ids[10]}"}
    assert set(run_keys) == expected
    for entry in tables:
        got = set(instance.get_dynamic_partitions(entry.partitions_def.name))
        assert got == {k.split(":", 1)[1] for k in expected if k.startswith(entry.table_id + ":")}
    state = json.loads(cursor)
    assert state["erp.customers"]["pending"] == [ids[10]] and state["erp.orders"]["pending"] == []
    by_id = {e.table_id: e for e in tables}
    for r in requests:
        tid, batch_id = r.run_key.split(":", 1)
        assert (r.job_name, r.partition_key) == (by_id[tid].job.name, batch_id)
