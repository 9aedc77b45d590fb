"""One batch whose registration fails (the store refuses its record) never fails the landing
tick for the others: they are registered and requested, the failure is reported, and the batch is
registered by a later tick once the store accepts it."""

import dagster as dg

from lake_platform.resources.partition_registry.local import SqlitePartitionRegistry
from lake_platform.sensors.landing import LandedTable, scan_landing
from lake_platform.sensors.landing_cursor import LandingCursor
from lake_platform_tests.sensors.test_landing_sensor import BATCH, LATER, env  # noqa: F401  (fixture)

TABLES = [LandedTable("erp.orders", "landing/erp", "orders"), LandedTable("erp.customers", "landing/erp", "customers")]


class RefusingRegistry(SqlitePartitionRegistry):
    """A registry whose store refuses one batch's record (as DynamoDB refuses an item over 400 KB)."""

    refused: str = ""

    def register_many(self, records):
        # As DynamoDB's threaded puts: one refused record fails the whole call.
        for record in records:
            if record.batch_id == self.refused:
                raise RuntimeError(f"ValidationException: item size exceeds the maximum allowed ({record.batch_id})")
        return super().register_many(records)


def test_a_batch_the_registry_refuses_is_reported_and_the_others_of_every_table_register(env, tmp_path):  # noqa: F811
    registry = RefusingRegistry(path=str(tmp_path / "refusing.sqlite"), refused=BATCH)
    env.land("orders", BATCH)
    env.land("orders", LATER)
    env.land("customers", BATCH)
    refused = RefusingRegistry(path=str(tmp_path / "refusing.sqlite"), refused="")
    scan = scan_landing(env.store, registry, TABLES, LandingCursor(), now=1000.0)
    assert [r.batch_id for r in refused.list_batches("erp.orders")] == [LATER]
    assert refused.list_batches("erp.customers") == []  # the same id refused in the other table too
    assert scan.complete == {"erp.orders": [LATER], "erp.customers": []}
    assert any(f"erp.orders/{BATCH}: could not be registered" in w for w in scan.warnings)
    assert sorted(scan.cursor.tables["erp.orders"].pending) == [BATCH], "re-checked next tick"

    # The store accepts it again: the next tick registers it from the pending list.
    again = scan_landing(env.store, refused, TABLES, LandingCursor.parse(scan.cursor.serialize()), now=1030.0)
    assert again.complete == {"erp.orders": [BATCH], "erp.customers": [BATCH]}
    assert [r.batch_id for r in refused.list_batches("erp.orders")] == [BATCH, LATER]


def test_the_sensor_requests_the_batches_that_registered_when_one_fails(env, tmp_path):  # noqa: F811
    registry = RefusingRegistry(path=str(tmp_path / "refusing.sqlite"), refused=BATCH)
    env.land("orders", BATCH)
    env.land("orders", LATER)
    from lake_glue.config import load_config_dir
    from lake_platform.assets import build_table_assets
    from lake_platform.sensors import build_landing_sensor
    from lake_platform_tests.conftest import CONFIG_DIR

    sensor = build_landing_sensor(build_table_assets(load_config_dir(CONFIG_DIR), "local"))
    context = dg.build_sensor_context(
        instance=env.instance,
        resources={"object_store": env.store, "partition_registry": registry, "alerts": env.alerts},
    )
    result = sensor(context)
    assert [r.partition_key for r in result.run_requests] == [LATER]
