"""The landing sensor, evaluated with build_sensor_context on a real instance and SQLite registry."""

import json

import dagster as dg
import pytest

from lake_glue.config import load_config_dir
from lake_platform.assets import build_table_assets
from lake_platform.resources.alerts.local import LocalAlerts
from lake_platform.resources.object_store.local import LocalObjectStore
from lake_platform.resources.partition_registry.base import BatchRecord
from lake_platform.resources.partition_registry.local import SqlitePartitionRegistry
from lake_platform.sensors import build_landing_sensor
from lake_platform.sensors.landing import LOOK_BACK_INTERVAL_SECONDS
from lake_platform.sensors.landing_cursor import LandingCursor
from lake_platform_tests.conftest import CONFIG_DIR

BATCH = "20260105T020000Z"
LATER = "20260106T020000Z"


@pytest.fixture
def env(tmp_path):
    """Sensor, store, registry and instance for one test."""
    tables = build_table_assets(load_config_dir(CONFIG_DIR), "local")
    store = LocalObjectStore(root=str(tmp_path / "buckets"), raw_bucket="raw", source_bucket="src", target_bucket="tgt")
    registry = SqlitePartitionRegistry(path=str(tmp_path / "registry.sqlite"))
    instance = dg.DagsterInstance.ephemeral()
    alerts = LocalAlerts(path=str(tmp_path / "alerts.jsonl"))
    sensor = build_landing_sensor(tables)

    class Env:
        def land(self, table, batch_id, marker=True, name="part-0.csv"):
            prefix = f"landing/erp/{table}/{batch_id}/"
            store.put_bytes("raw", prefix + name, b"x")
            if marker:
                store.put_bytes("raw", prefix + "_SUCCESS", b"")

        def tick(self, cursor=None):
            context = dg.build_sensor_context(
                instance=instance,
                cursor=cursor,
                resources={"object_store": store, "partition_registry": registry, "alerts": alerts},
            )
            result = sensor(context)
            for request in result.dynamic_partitions_requests:
                instance.add_dynamic_partitions(request.partitions_def_name, list(request.partition_keys))
            return result

    e = Env()
    e.store, e.registry, e.instance, e.alerts = store, registry, instance, alerts
    return e


def test_complete_batch_is_registered_partitioned_and_requested(env):
    env.land("orders", BATCH)
    result = env.tick()
    assert [(r.job_name, r.partition_key, r.run_key) for r in result.run_requests] == [
        ("process_erp__orders", BATCH, f"erp.orders:{BATCH}")
    ]
    assert env.instance.get_dynamic_partitions("erp__orders") == [BATCH]
    record = env.registry.get("erp.orders", BATCH)
    assert record.status == "LANDED" and record.files == [f"landing/erp/orders/{BATCH}/part-0.csv"]


def test_batch_without_marker_is_left_alone_until_the_marker_arrives(env):
    env.land("orders", BATCH, marker=False)
    first = env.tick()
    assert first.run_requests == []
    assert env.registry.get("erp.orders", BATCH) is None
    assert json.loads(first.cursor)["erp.orders"]["pending"] == [BATCH]
    env.land("orders", LATER)
    env.store.put_bytes("raw", f"landing/erp/orders/{BATCH}/_SUCCESS", b"")
    second = env.tick(first.cursor)
    assert sorted(r.partition_key for r in second.run_requests) == [BATCH, LATER]
    assert json.loads(second.cursor)["erp.orders"]["pending"] == []


def test_batch_already_registered_is_not_requested_again_on_the_next_tick(env):
    env.land("orders", BATCH)
    first = env.tick()
    second = env.tick(first.cursor)
    assert second.run_requests == []
    assert second.dynamic_partitions_requests == []


def test_batch_registered_by_another_producer_still_gets_its_partition_and_run(env):
    env.registry.register(BatchRecord("erp.orders", BATCH, files=["x"], registered_by="uploader"))
    env.land("orders", BATCH)
    result = env.tick()
    assert [r.partition_key for r in result.run_requests] == [BATCH]
    assert env.instance.get_dynamic_partitions("erp__orders") == [BATCH]
    assert env.registry.get("erp.orders", BATCH).registered_by == "uploader"


def test_folder_that_is_not_a_batch_id_is_skipped_with_a_warning(env, caplog):
    env.land("orders", "2026-01-05", marker=True)
    result = env.tick()
    assert result.run_requests == []
    assert env.registry.list_batches("erp.orders") == []


def test_restart_from_an_empty_cursor_does_not_redo_registered_batches(env):
    env.land("customers", BATCH)
    env.tick()
    restarted = env.tick(None)
    # The run key is the same, so Dagster dedupes the request; the partition is not added twice.
    assert [r.run_key for r in restarted.run_requests] == [f"erp.customers:{BATCH}"]
    assert restarted.dynamic_partitions_requests == []


@pytest.fixture
def clock(monkeypatch):
    """The sensor's wall clock, advanced by hand."""
    import lake_platform.sensors.landing as landing

    now = {"t": 1_800_000_000.0}
    monkeypatch.setattr(landing.time, "time", lambda: now["t"])

    def advance(seconds):
        now["t"] += seconds

    return advance


def test_a_late_batch_landing_below_the_cursor_is_registered_by_the_look_back(env, clock):
    env.land("orders", LATER)
    cursor = env.tick().cursor
    env.land("orders", BATCH)  # an earlier export, landed after the cursor passed its id
    cursor = env.tick(cursor).cursor
    clock(LOOK_BACK_INTERVAL_SECONDS + 1)
    result = env.tick(cursor)
    assert [r.partition_key for r in result.run_requests] == [BATCH]
    assert [r.batch_id for r in env.registry.list_batches("erp.orders")] == [BATCH, LATER]
    clock(LOOK_BACK_INTERVAL_SECONDS + 1)
    assert env.tick(result.cursor).run_requests == []


def test_a_folder_name_sorting_after_every_batch_id_does_not_hide_later_batches(env, clock, caplog):
    env.land("orders", "2099-12-31")
    env.land("orders", BATCH)
    cursor = env.tick().cursor
    env.land("orders", LATER)
    for _ in range(2):
        clock(LOOK_BACK_INTERVAL_SECONDS + 1)
        cursor = env.tick(cursor).cursor
    assert [r.batch_id for r in env.registry.list_batches("erp.orders")] == [BATCH, LATER]


def test_bad_folder_names_are_reported_wherever_they_sort_and_at_most_hourly(env, clock):
    from lake_platform.sensors.landing import LandedTable, scan_landing

    env.land("orders", BATCH)
    env.land("orders", "2026-01-01")  # sorts before the batch ids
    env.land("orders", "zzz")  # sorts after
    table = [LandedTable("erp.orders", "landing/erp", "orders")]
    first = scan_landing(env.store, env.registry, table, LandingCursor(), now=1000.0)
    assert sorted(w.split("orders/", 1)[1].split(":")[0] for w in first.warnings) == ["2026-01-01", "zzz"]
    again = scan_landing(env.store, env.registry, table, first.cursor, now=1000.0 + 700)
    assert again.warnings == []


def test_the_pending_list_expires_with_a_report_and_the_skip_reason_names_waiting_batches(env, clock):
    from lake_platform.sensors.landing import PENDING_EXPIRY_SECONDS

    env.land("orders", BATCH, marker=False)
    first = env.tick()
    assert f"waiting for _SUCCESS: erp.orders/{BATCH}" in first.skip_reason.skip_message
    clock(PENDING_EXPIRY_SECONDS + 1)
    from lake_platform.sensors.landing import LandedTable, scan_landing

    table = [LandedTable("erp.orders", "landing/erp", "orders")]
    expired = scan_landing(
        env.store,
        env.registry,
        table,
        LandingCursor.parse(first.cursor),
        now=1_800_000_000.0 + PENDING_EXPIRY_SECONDS + 1,
    )
    assert any(f"erp.orders/{BATCH}: no _SUCCESS after 7 days" in w for w in expired.warnings)
    assert sorted(expired.cursor.tables["erp.orders"].pending) == []


def test_a_batch_every_asset_already_materialized_is_not_requested_again(env):
    tables = build_table_assets(load_config_dir(CONFIG_DIR), "local")
    orders = next(t for t in tables if t.table_id == "erp.orders")
    env.land("orders", BATCH)
    env.land("orders", LATER)
    for asset in (orders.raw, orders.source, *orders.targets):
        env.instance.report_runless_asset_event(dg.AssetMaterialization(asset_key=asset.key, partition=BATCH))
    # e.g. processed by `lake process`, then seen by the daemon's sensor with its own cursor
    result = env.tick(None)
    assert [r.partition_key for r in result.run_requests] == [LATER]
