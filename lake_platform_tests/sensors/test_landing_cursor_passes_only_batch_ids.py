"""The listing cursor only ever passes batch ids: an odd folder (``archive``, ``tmp``,
``2099-12-31``) is reported and skipped, and batches landing after it are still found by the
next tick and by ``lake process``, which also runs the look-back pass every time."""

import json

import dagster as dg

from lake_platform.process import evaluate_landing_sensor
from lake_platform.sensors.landing import LandedTable, scan_landing
from lake_platform.sensors.landing_cursor import LandingCursor
from lake_platform_tests.conftest import embedded_lake
from lake_platform_tests.sensors.test_landing_sensor import BATCH, LATER, env  # noqa: F401  (fixture)

NEWEST = "20260107T020000Z"
ORDERS = "landing/erp/orders/"


def _registered(registry, table="erp.orders"):
    return [r.batch_id for r in registry.list_batches(table)]


def test_after_an_archive_folder_a_new_batch_and_a_gzip_batch_are_registered_by_the_next_tick(env):  # noqa: F811
    env.land("orders", BATCH)
    env.land("orders", "archive", name="old.csv")
    first = env.tick()
    assert json.loads(first.cursor)["erp.orders"]["after"] == f"{ORDERS}{BATCH}/part-0.csv"
    env.land("orders", LATER)
    env.land("orders", NEWEST, name="part-0.csv.gz")
    second = env.tick(first.cursor)
    assert sorted(r.partition_key for r in second.run_requests) == [LATER, NEWEST]
    assert _registered(env.registry) == [BATCH, LATER, NEWEST]
    assert json.loads(second.cursor)["erp.orders"]["after"] == f"{ORDERS}{NEWEST}/part-0.csv.gz"


def test_a_folder_named_like_a_date_far_ahead_is_not_a_batch_id_and_is_never_passed(env):  # noqa: F811
    env.land("orders", BATCH)
    env.land("orders", "2099-12-31")
    env.land("orders", "tmp", marker=False)
    first = env.tick()
    assert _registered(env.registry) == [BATCH]
    assert any("2099-12-31" in w for w in json.loads(first.cursor)["erp.orders"]["bad"])
    env.land("orders", LATER)
    assert [r.partition_key for r in env.tick(first.cursor).run_requests] == [LATER]


def test_a_full_page_of_an_odd_folder_is_hopped_so_batches_sorting_after_it_are_reached(env):  # noqa: F811
    # "2026-old" sorts between the 2025 and 2026 batch ids; it holds more keys than a page.
    env.land("orders", "20251231T000000Z")
    for i in range(120):
        env.store.put_bytes("raw", f"{ORDERS}2026-old/f{i:03}.csv", b"x")
    env.land("orders", BATCH)
    table = [LandedTable("erp.orders", "landing/erp", "orders")]
    scan = scan_landing(env.store, env.registry, table, LandingCursor(), max_keys=50, now=1000.0)
    scan = scan_landing(env.store, env.registry, table, scan.cursor, max_keys=50, now=1001.0)
    assert _registered(env.registry) == ["20251231T000000Z", BATCH]
    assert any("2026-old" in w for w in scan.warnings + list(scan.cursor.tables["erp.orders"].bad))


def test_lake_process_registers_batches_after_an_odd_folder_and_a_late_batch_with_an_older_id(tmp_path):
    with embedded_lake(tmp_path / "lake") as (defs, res), dg.instance_for_test() as instance:
        store, registry = res.object_store, res.partition_registry

        def land(batch, name="part-0.csv"):
            store.put_bytes(store.raw_bucket, f"{ORDERS}{batch}/{name}", b"x")
            store.put_bytes(store.raw_bucket, f"{ORDERS}{batch}/_SUCCESS", b"")

        land(LATER)
        land("archive", "old.csv")
        evaluate_landing_sensor(instance, defs)
        assert _registered(registry) == [LATER]
        land(NEWEST, "part-0.csv.gz")
        land(BATCH)  # complete, but with an id older than the cursor: only the look-back sees it
        _, report = evaluate_landing_sensor(instance, defs)
        assert sorted(report.registered["erp.orders"]) == [BATCH, NEWEST]
        assert _registered(registry) == [BATCH, LATER, NEWEST]
