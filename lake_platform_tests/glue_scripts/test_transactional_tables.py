"""What readers and writers of the lake's Iceberg tables can rely on.

Every job commits its batch in one conflict-checked Iceberg transaction: concurrent runs of one
table end as if they had run one by one, replays of older batches cannot win, a bad or missing
batch never replaces good data, and readers see committed snapshots only. Jobs run in-process
on the shared SparkSession (threads stand in for concurrent Glue runs; each opens its own
catalog connection, as separate processes would).
"""

import json
import os
import shutil
from concurrent.futures import ThreadPoolExecutor

import pytest

from lake_glue.prepare import PrepareError
from lake_platform.resources.catalog import LakeCatalog
from lake_platform.resources.query_engine.local import DuckDBQueryEngine
from lake_platform_tests.conftest import ORDERS_HEADER, ingest_job, order_row

CUSTOMERS_HEADER = "customer_id,customer_name,email,country_code,credit_limit,created_at\n"


def _land_orders(lake, batch, rows):
    lake.land("orders", batch, {"a.csv": ORDERS_HEADER + "".join(order_row(*r) for r in rows)})
    lake.ingest("orders", batch)


def _land_customers(lake, batch, names):
    lines = "".join(f"{i},{name},,ZA,1.00,2025-01-01 00:00:00\n" for i, name in enumerate(names, start=1))
    lake.land("customers", batch, {"c.csv": CUSTOMERS_HEADER + lines})
    lake.ingest("customers", batch)


def _land_lines(lake, batch, order_ids):
    text = "".join(
        json.dumps({"order_id": i, "line_number": 1, "sku": "S", "quantity": 1, "unit_price": 2.5}) + "\n"
        for i in order_ids
    )
    lake.land("order_lines", batch, {"l.jsonl": text})
    lake.ingest("order_lines", batch)


def query(lake, sql, as_of=None):
    """Rows of ``sql`` through the local query engine (DuckDB over snapshot file lists)."""
    return DuckDBQueryEngine(catalog=LakeCatalog(uri=lake.catalog)).query(sql, as_of=as_of).rows


def _at_once(*calls):
    """Run the calls at the same time and return their results (re-raising the first error)."""
    with ThreadPoolExecutor(max_workers=len(calls)) as pool:
        futures = [pool.submit(call) for call in calls]
        return [f.result() for f in futures]


def test_concurrent_upserts_into_one_bucket_end_as_if_run_one_by_one(lake):
    _land_orders(lake, "20260101T000000Z", [(i, "NEW", 10) for i in range(1, 11)])
    lake.prepare("orders", "20260101T000000Z")
    batches = [f"2026010{d}T000000Z" for d in range(2, 6)]
    for n, batch in enumerate(batches, start=1):
        _land_orders(lake, batch, [(n, "SHIPPED", 10 + n)])
    # All keys share range bucket 0: every pair of these commits conflicts.
    results = _at_once(*[lambda b=b: lake.prepare("orders", b) for b in batches])
    assert all(r["partitions_touched"] == 1 for r in results)
    statuses = dict(query(lake, "select order_id, order_status from sales.orders"))
    assert statuses == {i: "SHIPPED" if i <= 4 else "NEW" for i in range(1, 11)}
    assert lake.target("orders").count() == 10


def test_two_append_batches_of_one_day_committed_at_once_both_survive(lake):
    _land_lines(lake, "20260101T010000Z", [1])
    _land_lines(lake, "20260101T020000Z", [2, 3])
    _at_once(
        lambda: lake.prepare("order_lines", "20260101T010000Z"), lambda: lake.prepare("order_lines", "20260101T020000Z")
    )
    assert sorted(r[0] for r in query(lake, "select order_id from sales.order_lines")) == [1, 2, 3]


def test_two_overwrite_snapshots_committed_at_once_leave_the_newer(lake):
    _land_customers(lake, "20260101T000000Z", ["old"])
    _land_customers(lake, "20260102T000000Z", ["new", "newer"])
    results = _at_once(
        lambda: lake.prepare("customers", "20260101T000000Z"), lambda: lake.prepare("customers", "20260102T000000Z")
    )
    assert results[1]["applied"] is True
    assert sorted(r[0] for r in query(lake, "select customer_name from sales.customers")) == ["new", "newer"]
    assert lake.iceberg("customers").properties["lake.snapshot-batch-id"] == "20260102T000000Z"


def test_concurrent_ingests_of_different_batches_both_commit(lake):
    lake.land("orders", "20260101T000000Z", {"a.csv": ORDERS_HEADER + order_row(1, "NEW", 10)})
    lake.land("orders", "20260102T000000Z", {"a.csv": ORDERS_HEADER + order_row(2, "NEW", 10)})
    _at_once(lambda: lake.ingest("orders", "20260101T000000Z"), lambda: lake.ingest("orders", "20260102T000000Z"))
    assert sorted(query(lake, "select _batch_id, count(*) from erp.orders group by 1")) == [
        ("20260101T000000Z", 1),
        ("20260102T000000Z", 1),
    ]


def test_an_older_upsert_batch_replayed_later_changes_nothing(lake):
    _land_orders(lake, "20260101T000000Z", [(1, "NEW", 10)])
    _land_orders(lake, "20260102T000000Z", [(1, "SHIPPED", 12)])
    lake.prepare("orders", "20260101T000000Z")
    lake.prepare("orders", "20260102T000000Z")
    lake.prepare("orders", "20260101T000000Z")
    assert query(lake, "select order_id, order_status from sales.orders") == [(1, "SHIPPED")]


def test_upsert_without_order_by_lets_the_later_batch_win_and_ties_are_deterministic(lake):
    orders = next(t for t in lake.sales["table_config"] if t["table_name"] == "orders")
    orders["order_by"] = []
    _land_orders(lake, "20260101T000000Z", [(1, "NEW", 12)])
    _land_orders(lake, "20260102T000000Z", [(1, "CANCELLED", 10), (2, "A", 10), (2, "B", 10)])
    lake.prepare("orders", "20260101T000000Z")
    lake.prepare("orders", "20260102T000000Z")
    first = dict(query(lake, "select order_id, order_status from sales.orders"))
    assert first[1] == "CANCELLED"
    lake.prepare("orders", "20260102T000000Z")
    assert dict(query(lake, "select order_id, order_status from sales.orders")) == first


def test_an_append_batch_replayed_replaces_exactly_its_own_rows(lake):
    _land_lines(lake, "20260101T010000Z", [1, 2])
    _land_lines(lake, "20260101T020000Z", [3])
    for batch in ("20260101T010000Z", "20260101T020000Z", "20260101T010000Z"):
        lake.prepare("order_lines", batch)
    assert sorted(query(lake, "select _batch_id, count(*) from sales.order_lines group by 1")) == [
        ("20260101T010000Z", 2),
        ("20260101T020000Z", 1),
    ]


def test_a_changed_bucket_spec_is_refused_naming_both_and_rebuild_applies_it(lake):
    _land_orders(lake, "20260101T000000Z", [(i, "NEW", 10) for i in range(1, 121)])
    lake.prepare("orders", "20260101T000000Z")
    orders = next(t for t in lake.sales["table_config"] if t["table_name"] == "orders")
    orders["bucket_width"] = 10
    _land_orders(lake, "20260102T000000Z", [(5, "SHIPPED", 12)])
    with pytest.raises(
        PrepareError,
        match=r"bucketed by range\(width=50\), the config now says range\(width=10\).*lake rebuild sales.orders",
    ):
        lake.prepare("orders", "20260102T000000Z")
    rebuilt = lake.prepare("orders", "rebuild", rebuild=True)
    assert rebuilt["target_rows"] == 120
    assert lake.iceberg("orders").properties["lake.bucket-spec"] == "range(width=10)"
    assert query(lake, "select count(distinct p_bucket), max(order_status) from sales.orders") == [(13, "SHIPPED")]
    assert lake.prepare("orders", "20260102T000000Z")["partitions_touched"] == 1


def test_a_batch_the_source_never_committed_is_refused(lake):
    _land_lines(lake, "20260101T010000Z", [1, 2, 3])
    lake.prepare("order_lines", "20260101T010000Z")
    with pytest.raises(PrepareError, match=r"erp.order_lines has no committed batch 20260102T000000Z"):
        lake.prepare("order_lines", "20260102T000000Z")
    assert query(lake, "select count(*) from sales.order_lines") == [(3,)]


def test_a_source_table_that_does_not_exist_is_refused(lake):
    with pytest.raises(PrepareError, match=r"source table erp.orders does not exist"):
        lake.prepare("orders", "20260101T000000Z")


def test_an_ingested_batch_with_zero_valid_rows_prepares_as_empty(lake):
    lake.land("order_lines", "20260101T010000Z", {"l.jsonl": '{"order_id": "x"}\n'})
    assert lake.ingest("order_lines", "20260101T010000Z")["source_rows"] == 0
    figures = lake.prepare("order_lines", "20260101T010000Z")
    assert (figures["batch_rows"], figures["target_rows"]) == (0, 0)


def test_an_empty_snapshot_is_refused_and_the_last_good_one_stays(lake):
    _land_customers(lake, "20260101T000000Z", ["a", "b"])
    lake.prepare("customers", "20260101T000000Z")
    lake.land("customers", "20260102T000000Z", {"c.csv": CUSTOMERS_HEADER})
    # Ingest refuses a header-only file by default; a table that allows empty batches still
    # cannot empty its curated snapshot.
    with pytest.raises(ingest_job.IngestError, match=r"files with no records \(empty or header-only\): \['c.csv'\]"):
        lake.ingest("customers", "20260102T000000Z")
    next(t for t in lake.erp["table_config"] if t["table_name"] == "customers")["acceptance"] = {"allow_empty": True}
    lake.ingest("customers", "20260102T000000Z")
    with pytest.raises(PrepareError, match=r"snapshot has 0 rows.*keeps snapshot 20260101T000000Z"):
        lake.prepare("customers", "20260102T000000Z")
    assert query(lake, "select count(*) from sales.customers") == [(2,)]


def test_files_no_snapshot_references_are_never_read(lake):
    _land_lines(lake, "20260101T010000Z", [1, 2])
    lake.prepare("order_lines", "20260101T010000Z")
    committed = lake.target("order_lines").inputFiles()[0].removeprefix("file://")
    table_dir = lake.root / "lake-target" / lake.sales["target"]["prefix"] / "order_lines"
    for junk in (
        "data/killed-run/part-0.parquet",
        ".spark-staging-1/part-0.parquet",
        "_temporary/0/part-0.parquet",
        "p_ingest_day=2026-01-01/part-0.parquet",
    ):
        (table_dir / junk).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(committed, table_dir / junk)
    assert query(lake, "select count(*) from sales.order_lines") == [(2,)]


def test_time_travel_reads_an_earlier_snapshot(lake):
    _land_lines(lake, "20260101T010000Z", [1])
    first = lake.prepare("order_lines", "20260101T010000Z")["snapshot_id"]
    _land_lines(lake, "20260101T020000Z", [2, 3])
    lake.prepare("order_lines", "20260101T020000Z")
    assert query(lake, "select count(*) from sales.order_lines") == [(3,)]
    assert query(lake, "select count(*) from sales.order_lines", as_of=str(first)) == [(1,)]


def test_row_counts_come_from_the_snapshot_summary(lake):
    _land_orders(lake, "20260101T000000Z", [(i, "NEW", 10) for i in range(1, 6)])
    figures = lake.prepare("orders", "20260101T000000Z")
    summary = lake.iceberg("orders").current_snapshot().summary
    assert figures["target_rows"] == int(summary["total-records"]) == 5
    assert summary["lake.batch-id"] == "20260101T000000Z"


def test_maintenance_compacts_expires_and_removes_only_old_orphans_without_changing_results(lake):
    from datetime import timedelta

    from lake_platform.maintenance import maintain_table

    for hour in ("01", "02", "03"):
        _land_lines(lake, f"20260101T{hour}0000Z", [int(hour), int(hour) + 10])
        lake.prepare("order_lines", f"20260101T{hour}0000Z")
    before = sorted(query(lake, "select order_id, _batch_id, line_amount from sales.order_lines"))
    data_dir = lake.root / "lake-target" / lake.sales["target"]["prefix"] / "order_lines" / "data"
    committed = next(data_dir.rglob("*.parquet"))
    old_orphan, fresh_orphan = data_dir / "killed-a" / "old.parquet", data_dir / "killed-b" / "fresh.parquet"
    for orphan in (old_orphan, fresh_orphan):
        orphan.parent.mkdir()
        shutil.copy(committed, orphan)
    os.utime(old_orphan, (0, 0))

    table = lake.iceberg("order_lines")
    report = maintain_table(table, retain=timedelta(0), orphan_age=timedelta(hours=1), compact_min_files=2)
    assert (report.partitions_compacted, report.files_compacted) == (1, 3)
    # With no retention every superseded snapshot goes: the batches' three and the first step of
    # compaction's own transaction, superseded by its second; only the current one stays.
    assert report.snapshots_expired == 4
    remaining = lake.iceberg("order_lines").metadata.snapshots
    assert len(remaining) == 1
    assert {s.summary["lake.maintenance"] for s in remaining} == {"compaction"}
    assert [p.rsplit("/", 1)[-1] for p in report.orphans_removed if "killed" in p] == ["old.parquet"]
    assert fresh_orphan.exists() and not old_orphan.exists()
    assert sorted(query(lake, "select order_id, _batch_id, line_amount from sales.order_lines")) == before
    assert len(lake.iceberg("order_lines").inspect.files()) == 1


def test_the_maintenance_job_observes_whole_table_duplicate_keys_a_later_append_batch_delivered(
    lake, tmp_path, monkeypatch
):
    import dagster as dg

    from lake_platform.jobs import lake_maintenance
    from lake_platform.resources.config_store.local import LocalConfigStore

    monkeypatch.setenv("LAKE_HOME", str(tmp_path))  # the job opens LAKE_HOME/catalog.sqlite, the lake's catalog
    _land_orders(lake, "20260101T000000Z", [(1, "NEW", 10)])
    lake.prepare("orders", "20260101T000000Z")
    for batch in ("20260101T010000Z", "20260101T020000Z"):  # the same line delivered twice
        _land_lines(lake, batch, [7])
        lake.prepare("order_lines", batch)
    instance = dg.DagsterInstance.ephemeral()
    result = lake_maintenance.execute_in_process(
        instance=instance,
        raise_on_error=False,
        resources={
            "config_store": LocalConfigStore(config_dir=str(lake.config_dir())),
            "query_engine": DuckDBQueryEngine(catalog=LakeCatalog(uri=lake.catalog)),
        },
    )
    # order_lines appends every batch as delivered: the repeated line is recorded, not a failure.
    assert result.success
    observed = {
        tuple(o.asset_key.path): o.metadata["duplicate_keys"].value
        for o in (
            record.get_dagster_event().event_specific_data.asset_observation
            for record in instance.all_logs(result.run_id, of_type=dg.DagsterEventType.ASSET_OBSERVATION)
        )
    }
    assert observed == {("target", "sales", "orders"): 0, ("target", "sales", "order_lines"): 1}


def test_many_jobs_opening_a_new_local_catalog_at_once_all_get_it(tmp_path):
    from lake_glue.tables import open_catalog

    uri = f"sqlite:///{tmp_path / 'new' / 'catalog.sqlite'}"
    catalogs = _at_once(*[lambda: open_catalog(uri) for _ in range(8)])
    assert all(c.list_namespaces() == [] for c in catalogs)


def _run_primary_key_check(lake, table: str, batch_id: str):
    """Run ``primary_key_unique`` of one target table alone, for one batch, as the UI would."""
    import dagster as dg

    from lake_glue.config import load_config_dir
    from lake_platform.assets.checks import build_primary_key_check
    from lake_platform.partitions import batch_partitions

    prepare = next(c for c in load_config_dir(lake.config_dir()) if c.config_name == "sales")
    target = prepare.table(table)
    pdef = batch_partitions("erp", target.source_table_name)
    check = build_primary_key_check(prepare, target, pdef)
    defs = dg.Definitions(
        assets=[dg.AssetSpec(spec.asset_key, partitions_def=pdef) for spec in check.check_specs],
        asset_checks=[check],
        jobs=[dg.define_asset_job("check_alone", selection=dg.AssetSelection.checks(check))],
        resources={"query_engine": DuckDBQueryEngine(catalog=LakeCatalog(uri=lake.catalog))},
    )
    instance = dg.DagsterInstance.ephemeral()
    instance.add_dynamic_partitions(pdef.name, [batch_id])
    result = defs.resolve_job_def("check_alone").execute_in_process(
        instance=instance, tags={"dagster/partition": batch_id}, raise_on_error=False
    )
    (evaluation,) = result.get_asset_check_evaluations()
    return result, evaluation


def test_primary_key_check_runs_alone_and_judges_an_append_table_per_batch(lake):
    import dagster as dg

    _land_lines(lake, "20260101T010000Z", [7])
    lake.prepare("order_lines", "20260101T010000Z")
    _land_lines(lake, "20260101T020000Z", [7, 8, 8])  # 7 again (a later batch may), 8 twice (a fault)
    lake.prepare("order_lines", "20260101T020000Z")

    first, passed = _run_primary_key_check(lake, "order_lines", "20260101T010000Z")
    assert first.success and passed.passed and passed.metadata["duplicate_keys"].value == 0

    second, failed = _run_primary_key_check(lake, "order_lines", "20260101T020000Z")
    assert not failed.passed and failed.severity == dg.AssetCheckSeverity.ERROR
    assert failed.metadata["duplicate_keys"].value == 1
    assert failed.metadata["scope"].value == "the batch's rows"
    # Blocking: the failed check fails the run that ran it.
    assert not second.success
