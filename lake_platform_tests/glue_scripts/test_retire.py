"""Retiring a batch removes its rows from the source table and from every target built from it."""

from lake_glue.config import parse_config
from lake_glue.retire import retire_batch
from lake_glue.tables import open_catalog
from lake_platform.resources.catalog import LakeCatalog
from lake_platform_tests.glue_scripts.test_transactional_tables import (
    _land_customers,
    _land_lines,
    _land_orders,
    query,
)

A, B = "20260101T010000Z", "20260102T010000Z"


def _retire(lake, table_name, batch_id):
    def rebuild(config, table):
        lake.prepare(table.table_name, "rebuild", rebuild=True)

    erp, sales = parse_config(lake.erp, "erp.json"), parse_config(lake.sales, "sales.json")
    done = retire_batch(open_catalog(lake.catalog), erp, table_name, [sales], batch_id, "bad export", rebuild)
    return {d.table: d.action for d in done}


def test_retiring_an_append_batch_removes_its_rows_from_source_and_target_and_a_replay_changes_nothing(lake):
    _land_lines(lake, A, [1, 2])
    _land_lines(lake, B, [3])
    lake.prepare("order_lines", A)
    lake.prepare("order_lines", B)
    assert _retire(lake, "order_lines", B) == {"erp.order_lines": "deleted", "sales.order_lines": "deleted"}
    assert query(lake, "select order_id from erp.order_lines order by 1") == [(1,), (2,)]
    assert query(lake, "select order_id, _batch_id from sales.order_lines order by 1") == [(1, A), (2, A)]
    snapshots = [
        lake.iceberg(t, db).current_snapshot().snapshot_id
        for db, t in [("erp", "order_lines"), ("sales", "order_lines")]
    ]
    assert _retire(lake, "order_lines", B) == {
        "erp.order_lines": "already retired",
        "sales.order_lines": "already retired",
    }
    assert [
        lake.iceberg(t, db).current_snapshot().snapshot_id
        for db, t in [("erp", "order_lines"), ("sales", "order_lines")]
    ] == snapshots
    # `lake rebuild sales.order_lines` reads the source, which no longer holds the batch.
    lake.prepare("order_lines", "rebuild", rebuild=True)
    assert query(lake, "select order_id, _batch_id from sales.order_lines order by 1") == [(1, A), (2, A)]


def test_retiring_an_upsert_batch_restores_each_key_to_its_latest_version_from_the_other_batches(lake):
    _land_orders(lake, A, [(1, "NEW", 10), (2, "NEW", 10)])
    _land_orders(lake, B, [(1, "SHIPPED", 12), (3, "NEW", 12)])
    lake.prepare("orders", A)
    lake.prepare("orders", B)
    assert _retire(lake, "orders", B) == {"erp.orders": "deleted", "sales.orders": "rebuilt"}
    assert query(lake, "select order_id, order_status, _batch_id from sales.orders order by 1") == [
        (1, "NEW", A),
        (2, "NEW", A),
    ]


def test_retiring_the_newest_snapshot_of_an_overwrite_table_puts_the_previous_snapshot_back(lake):
    _land_customers(lake, A, ["old"])
    _land_customers(lake, B, ["new"])
    lake.prepare("customers", A)
    lake.prepare("customers", B)
    assert _retire(lake, "customers", B) == {"erp.customers": "deleted", "sales.customers": "rebuilt"}
    assert query(lake, "select customer_name, _batch_id from sales.customers") == [("old", A)]


def test_a_rebuild_first_removes_a_retired_batch_still_in_the_source_so_it_never_reads_it_back(lake, tmp_path):
    from types import SimpleNamespace

    from lake_platform.cli import _finish_retires
    from lake_platform.resources.partition_registry.base import BatchRecord
    from lake_platform.resources.partition_registry.local import SqlitePartitionRegistry

    _land_lines(lake, A, [1, 2])
    _land_lines(lake, B, [3])
    lake.prepare("order_lines", A)
    lake.prepare("order_lines", B)
    registry = SqlitePartitionRegistry(path=str(tmp_path / "registry.sqlite"))
    for batch in (A, B):
        registry.register(BatchRecord("erp.order_lines", batch, files=["l.jsonl"], registered_by="test"))
    # Retired in the registry only, as `lake retire` did before it removed data.
    registry.retire("erp.order_lines", B, "retired: bad export")
    config_dir = lake.config_dir()
    res = SimpleNamespace(
        partition_registry=registry,
        config_store=SimpleNamespace(job_config_source=lambda: f"file://{config_dir}"),
        glue_runner=SimpleNamespace(database_prefix=""),
        lake_catalog=LakeCatalog(uri=lake.catalog),
    )
    _finish_retires(res, "erp", "order_lines")
    lake.prepare("order_lines", "rebuild", rebuild=True)
    assert query(lake, "select order_id, _batch_id from sales.order_lines order by 1") == [(1, A), (2, A)]
    assert query(lake, "select order_id from erp.order_lines order by 1") == [(1,), (2,)]
