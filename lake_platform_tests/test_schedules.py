"""Catch-up schedules: unfinished batches are retried once at a time, with backoff, up to a limit."""

import dagster as dg
import pytest
from dagster._core.test_utils import create_run_for_test

from lake_glue.config import load_config_dir
from lake_platform.assets import build_table_assets
from lake_platform.batches import RetryPolicy
from lake_platform.resources.partition_registry.base import AssetProgress, BatchRecord, progress_order
from lake_platform.resources.partition_registry.local import SqlitePartitionRegistry
from lake_platform.schedules import build_schedules, catch_up_requests
from lake_platform_tests.conftest import CONFIG_DIR

JOB, TABLE = "process_erp__orders", "erp.orders"
A, B, C = "20260105T020000Z", "20260106T020000Z", "20260107T020000Z"


KEYS = [dg.AssetKey(["source", "erp", "orders"]), dg.AssetKey(["target", "sales", "orders"])]


@pytest.fixture
def registry(tmp_path):
    """A SQLite registry with three orders batches; B's source failed, C's target is mirrored as materialized."""
    registry = SqlitePartitionRegistry(path=str(tmp_path / "registry.sqlite"))
    for batch in (A, B, C):
        registry.register(BatchRecord(TABLE, batch, files=["f"], registered_by="test"))
    registry.record_progress(
        TABLE,
        B,
        "source/erp/orders",
        AssetProgress("FAILED", "r1", progress_order(1.0, True), error="order_total: cannot read"),
    )
    registry.record_progress(
        TABLE, C, "target/sales/orders", AssetProgress("MATERIALIZED", "r2", progress_order(2.0, True))
    )
    return registry


def _materialize(instance, batch, keys=KEYS):
    for key in keys:
        instance.report_runless_asset_event(dg.AssetMaterialization(asset_key=key, partition=batch))


def _runs(instance, batch, status, count=1):
    for _ in range(count):
        create_run_for_test(
            instance, job_name=JOB, status=status, tags={"lake/table": TABLE, "dagster/partition": batch}
        )


def _requests(instance, registry, now=None, **overrides):
    settings = dict(
        job_name=JOB,
        table_id=TABLE,
        asset_keys=KEYS,
        selection=None,
        scope="ingest",
        policy=RetryPolicy(max_attempts=3, backoff_minutes=15),
        now=now or 4_000_000_000.0,
    )
    settings.update(overrides)
    return catch_up_requests(instance, registry, **settings)


def test_each_unfinished_batch_gets_one_request_with_a_run_key_naming_the_attempt(registry):
    instance = dg.DagsterInstance.ephemeral()
    _materialize(instance, C)
    requests, left = _requests(instance, registry)
    assert [(r.partition_key, r.run_key) for r in requests] == [
        (A, f"{TABLE}:{A}:ingest:attempt1"),
        (B, f"{TABLE}:{B}:ingest:attempt1"),
    ]
    assert left == []


def test_progress_comes_from_dagster_so_a_registry_status_cannot_hide_a_failed_target(registry):
    instance = dg.DagsterInstance.ephemeral()
    _materialize(instance, A)
    _materialize(instance, C, keys=KEYS[:1])  # the target of C failed, whatever the registry says
    requests, _ = _requests(instance, registry)
    assert [r.partition_key for r in requests] == [B, C]


def test_a_retired_batch_is_never_requested(registry):
    from lake_platform.operations import retire

    retire(registry, TABLE, B, "corrupt export")
    requests, _ = _requests(dg.DagsterInstance.ephemeral(), registry)
    assert [r.partition_key for r in requests] == [A, C]


def test_a_batch_with_a_run_in_flight_is_not_requested_again(registry):
    instance = dg.DagsterInstance.ephemeral()
    _runs(instance, A, dg.DagsterRunStatus.STARTED)
    _runs(instance, B, dg.DagsterRunStatus.STARTING)
    _materialize(instance, C)
    requests, left = _requests(instance, registry)
    assert requests == []
    assert [reason.split(":")[0] for reason in left] == [A, B]


def test_failed_batches_back_off_and_stop_after_max_attempts(registry):
    instance = dg.DagsterInstance.ephemeral()
    _materialize(instance, C)
    _runs(instance, B, dg.DagsterRunStatus.FAILURE, count=2)
    last_failure = max(r.end_time or r.update_timestamp.timestamp() for r in instance.get_run_records())
    waiting, left = _requests(instance, registry, now=last_failure + 60)
    assert [r.partition_key for r in waiting] == [A]
    assert "retry 3 waits" in left[0]
    later, _ = _requests(instance, registry, now=last_failure + 31 * 60)
    assert [(r.partition_key, r.run_key) for r in later][1] == (B, f"{TABLE}:{B}:ingest:attempt3")
    _runs(instance, B, dg.DagsterRunStatus.FAILURE)
    final, left = _requests(instance, registry, now=last_failure + 10**6)
    assert [r.partition_key for r in final] == [A]
    assert "gave up after 3 failed runs (order_total: cannot read)" in left[0]


def test_the_schedule_evaluates_against_the_instance_and_registry(registry, lake_home):
    from lake_platform.resources import resources_for_env

    tables = build_table_assets(load_config_dir(CONFIG_DIR), "local")
    schedule = next(s for s in build_schedules(load_config_dir(CONFIG_DIR), tables) if s.name == "erp__orders_catch_up")
    defs = dg.Definitions(
        assets=[a for t in tables for a in (t.raw, t.source, *t.targets)],
        jobs=[t.job for t in tables],
        schedules=[schedule],
        resources=resources_for_env("local"),
    )
    with dg.instance_for_test() as instance:
        instance.add_dynamic_partitions("erp__orders", [A, B, C])
        _runs(instance, A, dg.DagsterRunStatus.STARTED)
        _materialize(
            instance,
            C,
            keys=[
                dg.AssetKey(["raw", "erp", "orders"]),
                *KEYS,
                dg.AssetKey(["target", "sales", "customers"]),
                dg.AssetKey(["target", "sales", "order_lines"]),
            ],
        )
        context = dg.build_schedule_context(
            instance=instance, resources={"partition_registry": registry}, repository_def=defs.get_repository_def()
        )
        result = schedule.evaluate_tick(context)
    assert [r.partition_key for r in result.run_requests] == [B]


def test_a_source_materialized_on_its_own_is_followed_by_its_targets(lake_home):
    from lake_platform.definitions import build_definitions

    defs = build_definitions()
    assert defs.resolve_sensor_def("lake_automation_sensor").default_status == dg.DefaultSensorStatus.RUNNING
    with dg.instance_for_test() as instance:
        instance.add_dynamic_partitions("erp__orders", [A])
        first = dg.evaluate_automation_conditions(defs=defs, instance=instance)  # the sensor's first tick
        for layer, config in (("raw", "erp"), ("source", "erp")):
            instance.report_runless_asset_event(
                dg.AssetMaterialization(asset_key=dg.AssetKey([layer, config, "orders"]), partition=A)
            )
        result = dg.evaluate_automation_conditions(defs=defs, instance=instance, cursor=first.cursor)
    targets = ["customers", "orders", "order_lines"]
    requested = {t: result.get_requested_partitions(dg.AssetKey(["target", "sales", t])) for t in targets}
    assert requested == {"customers": set(), "orders": {A}, "order_lines": set()}
