"""The registry sync sensor, with a real SQLite registry file and a real ephemeral Dagster instance.

The sensor is evaluated as the daemon would: one context per tick carrying the stored cursor,
and its partition requests applied to the instance afterwards (``build_sensor_context`` only
evaluates; applying the requests is the daemon's job).
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from pathlib import Path

import dagster as dg
import pytest

from lake_glue.config import load_config_dir
from lake_platform.assets import build_table_assets
from lake_platform.resources.partition_registry.base import BatchRecord
from lake_platform.resources.partition_registry.local import SqlitePartitionRegistry
from lake_platform.sensors import build_registry_sync_sensor

CONFIG_DIR = Path(__file__).resolve().parents[2] / "configs"


def batch_ids(n: int, day: int = 1) -> list[str]:
    """``n`` consecutive minute batch ids on one day of January 2024."""
    start = datetime(2024, 1, day, tzinfo=timezone.utc)
    return [f"{start + timedelta(minutes=i):%Y%m%dT%H%M%SZ}" for i in range(n)]


@pytest.fixture(scope="module")
def tables():
    """The TableAssets of the repository's configs (three erp tables)."""
    return build_table_assets(load_config_dir(CONFIG_DIR), "local")


@pytest.fixture
def registry(tmp_path) -> SqlitePartitionRegistry:
    """A real registry file; producers write to it through their own handles."""
    return SqlitePartitionRegistry(path=str(tmp_path / "registry.sqlite"))


@pytest.fixture
def instance():
    """A real ephemeral (in-memory) Dagster instance."""
    return dg.DagsterInstance.ephemeral()


class Daemon:
    """Ticks a sensor the way the daemon does, keeping the cursor between ticks."""

    def __init__(self, sensor, instance, registry):
        self.sensor, self.instance, self.registry = sensor, instance, registry
        self.cursor: str | None = None

    def tick(self) -> dg.SensorResult:
        """Evaluate once, store the cursor and apply the partition requests."""
        context = dg.build_sensor_context(
            instance=self.instance, cursor=self.cursor, resources={"partition_registry": self.registry}
        )
        result = self.sensor(context)
        self.cursor = result.cursor
        for request in result.dynamic_partitions_requests or []:
            if isinstance(request, dg.AddDynamicPartitionsRequest):
                self.instance.add_dynamic_partitions(request.partitions_def_name, list(request.partition_keys))
            else:
                for key in request.partition_keys:
                    self.instance.delete_dynamic_partition(request.partitions_def_name, key)
        return result


def keys(instance, tables, table_id: str) -> list[str]:
    """The dynamic partition keys Dagster has for a table."""
    entry = next(t for t in tables if t.table_id == table_id)
    return sorted(instance.get_dynamic_partitions(entry.partitions_def.name))


def register(registry_path: str, table_id: str, ids: list[str], by: str = "other_producer") -> None:
    """Another producer registers batches through its own handle on the same file."""
    producer = SqlitePartitionRegistry(path=registry_path)
    for b in ids:
        producer.register(BatchRecord(table_id, b, files=[f"{b}/part-0.csv"], registered_by=by))


def test_sensor_is_registered_in_the_code_location(lake_home):
    from lake_platform.definitions import build_definitions

    sensor = build_definitions().resolve_sensor_def("registry_sync_sensor")
    assert sensor.minimum_interval_seconds == 60
    assert sensor.default_status == dg.DefaultSensorStatus.RUNNING
    assert not sensor.targets, "the sync adds partitions only; runs come from other sensors and schedules"


def test_batch_registered_by_another_producer_becomes_a_partition(tables, registry, instance):
    daemon = Daemon(build_registry_sync_sensor(tables), instance, registry)
    assert daemon.tick().skip_reason  # nothing registered yet: nothing to do
    register(registry.path, "erp.orders", ["20240101T000000Z", "20240102T000000Z"])

    result = daemon.tick()
    assert not result.run_requests
    assert keys(instance, tables, "erp.orders") == ["20240101T000000Z", "20240102T000000Z"]
    assert keys(instance, tables, "erp.customers") == []
    # In sync now: the next tick changes nothing.
    assert daemon.tick().dynamic_partitions_requests in (None, [])


def test_batch_deleted_from_the_registry_is_removed_after_the_grace_period(tables, registry, instance):
    register(registry.path, "erp.customers", ["20240101T000000Z", "20240102T000000Z"])
    daemon = Daemon(build_registry_sync_sensor(tables, delete_grace_seconds=0), instance, registry)
    daemon.tick()
    registry.delete("erp.customers", "20240101T000000Z")
    daemon.tick()
    assert keys(instance, tables, "erp.customers") == ["20240102T000000Z"]
    assert json.loads(daemon.cursor)["absent"] == {}


def test_partition_added_in_dagster_before_registration_is_kept_within_the_grace_period(tables, registry, instance):
    # An engineer adds a partition in the UI; the raw asset registers it when its run starts.
    entry = next(t for t in tables if t.table_id == "erp.orders")
    instance.add_dynamic_partitions(entry.partitions_def.name, ["20240105T000000Z"])
    daemon = Daemon(build_registry_sync_sensor(tables, delete_grace_seconds=3600), instance, registry)
    for _ in range(2):
        daemon.tick()
    assert keys(instance, tables, "erp.orders") == ["20240105T000000Z"]
    assert "20240105T000000Z" in json.loads(daemon.cursor)["absent"]["erp.orders"]
    # Once registered it is in sync and no longer tracked as missing.
    register(registry.path, "erp.orders", ["20240105T000000Z"], by="raw_asset")
    daemon.tick()
    assert json.loads(daemon.cursor)["absent"] == {}
    assert keys(instance, tables, "erp.orders") == ["20240105T000000Z"]


def test_invalid_batch_ids_in_the_registry_are_not_added(tables, registry, instance):
    register(registry.path, "erp.orders", ["20240101T000000Z", "latest", "20241301T000000Z"])
    Daemon(build_registry_sync_sensor(tables), instance, registry).tick()
    assert keys(instance, tables, "erp.orders") == ["20240101T000000Z"]


def test_work_per_tick_is_bounded_and_every_table_catches_up(tables, registry, instance):
    backlog = {"erp.customers": batch_ids(25, 1), "erp.order_lines": batch_ids(7, 2), "erp.orders": batch_ids(12, 3)}
    for tid, ids in backlog.items():
        register(registry.path, tid, ids)
    daemon = Daemon(build_registry_sync_sensor(tables, max_tables_per_tick=2, max_keys_per_tick=10), instance, registry)

    ticks = 0
    while any(keys(instance, tables, tid) != ids for tid, ids in backlog.items()):
        result = daemon.tick()
        ticks += 1
        changed = sum(len(r.partition_keys) for r in result.dynamic_partitions_requests or [])
        assert 0 < changed <= 10
        assert len({r.partitions_def_name for r in result.dynamic_partitions_requests}) <= 2
        assert ticks <= 10
    # 44 keys at 10 per tick: the budget is used fully, not one table per tick.
    assert ticks == 5


def test_round_robin_reaches_every_table_even_when_one_is_always_busy(tables, registry, instance):
    # erp.customers (first in order) gets a new batch before every tick; the others must still
    # be synced, so the cursor must move on instead of restarting at the first table.
    register(registry.path, "erp.orders", ["20240101T000000Z"])
    register(registry.path, "erp.order_lines", ["20240101T000000Z"])
    daemon = Daemon(build_registry_sync_sensor(tables, max_tables_per_tick=1), instance, registry)
    for b in batch_ids(3, 9):
        register(registry.path, "erp.customers", [b])
        daemon.tick()
    assert keys(instance, tables, "erp.orders") == ["20240101T000000Z"]
    assert keys(instance, tables, "erp.order_lines") == ["20240101T000000Z"]
