"""`lake doctor`, `lake retire` and `lake redrive`: what an operator sees and may do."""

import dagster as dg
import pytest
from dagster._core.test_utils import create_run_for_test

from lake_glue.config import load_config_dir
from lake_platform.assets import build_table_assets
from lake_platform.operations import doctor, redrive, retire
from lake_platform.process import process
from lake_platform.resources.object_store.local import LocalObjectStore
from lake_platform.resources.partition_registry.base import AssetProgress, BatchRecord, progress_order
from lake_platform.resources.partition_registry.local import SqlitePartitionRegistry
from lake_platform_tests.conftest import CONFIG_DIR

A, B, C = "20260105T020000Z", "20260106T020000Z", "20260107T020000Z"


@pytest.fixture
def lake(tmp_path):
    """Tables, a landing zone with every kind of trouble, and a registry."""
    tables = build_table_assets(load_config_dir(CONFIG_DIR), "local")
    store = LocalObjectStore(root=str(tmp_path / "b"), raw_bucket="raw", source_bucket="s", target_bucket="t")
    registry = SqlitePartitionRegistry(path=str(tmp_path / "registry.sqlite"))
    land = "landing/erp/orders/"
    store.put_bytes("raw", f"{land}{A}/a.csv", b"x")
    store.put_bytes("raw", f"{land}{A}/_SUCCESS", b"")
    store.put_bytes("raw", f"{land}{B}/a.csv", b"x")  # no marker yet
    store.put_bytes("raw", f"{land}2026-01-05/a.csv", b"x")  # not a batch id
    store.put_bytes("raw", f"{land}stray.csv", b"x")  # outside any batch
    registry.register(BatchRecord("erp.orders", A, files=["a.csv"], registered_by="test"))
    registry.record_progress(
        "erp.orders",
        A,
        "source/erp/orders",
        AssetProgress(
            "FAILED",
            "r3",
            progress_order(3.0, True),
            error="GlueJobError: order_total: cannot read '1,5' as decimal(12,2)\ntrace",
        ),
    )
    registry.register(BatchRecord("erp.orders", C, files=["a.csv"], registered_by="test"))
    return tables, store, registry


def test_doctor_lists_every_kind_of_stuck_failed_or_stray_batch(lake):
    tables, store, registry = lake
    retire(registry, "erp.orders", C, "duplicate of 20260105T020000Z")
    with dg.instance_for_test() as instance:
        for _ in range(3):
            create_run_for_test(
                instance,
                job_name="process_erp__orders",
                status=dg.DagsterRunStatus.FAILURE,
                tags={"dagster/partition": A, "lake/table": "erp.orders"},
            )
        stuck = create_run_for_test(
            instance,
            job_name="process_erp__orders",
            status=dg.DagsterRunStatus.STARTED,
            tags={"dagster/partition": B, "lake/table": "erp.orders"},
        )
        findings = doctor(tables, store, registry, instance, now=4_000_000_000.0)
    by_kind = {
        (f.kind, f.subject.rsplit("/", 2)[-2] if f.subject.endswith("/") else f.subject.rsplit("/", 1)[-1]): f
        for f in findings
    }
    assert set(by_kind) == {
        ("waiting for marker", B),
        ("not a batch id", "2026-01-05"),
        ("loose file", "stray.csv"),
        ("failed", A),
        ("retired", C),
        ("stuck run", B),
    }
    assert by_kind[("failed", A)].detail == (
        "3 failed run(s), retries gave up; source/erp/orders not materialized:"
        " order_total: cannot read '1,5' as decimal(12,2)"
    )
    assert stuck.run_id in by_kind[("stuck run", B)].detail
    assert by_kind[("retired", C)].detail == "retired: duplicate of 20260105T020000Z"


def test_retiring_needs_a_registered_batch_and_a_reason(lake):
    _, _, registry = lake
    with pytest.raises(ValueError, match="needs a reason"):
        retire(registry, "erp.orders", A, " ")
    with pytest.raises(ValueError, match="erp.orders/20990101T000000Z is not registered"):
        retire(registry, "erp.orders", "20990101T000000Z", "typo")


def test_a_retired_batch_is_neither_redriven_nor_processed(lake, lake_home):
    from lake_platform.definitions import build_definitions

    _, _, registry = lake
    retire(registry, "erp.orders", C, "bad export")
    defs = build_definitions()
    with dg.instance_for_test() as instance:
        with pytest.raises(ValueError, match=r"erp.orders/20260107T020000Z is retired \(retired: bad export\)"):
            redrive(defs, registry, instance, "erp.orders", [C])
        with pytest.raises(ValueError, match="unknown table 'erp.invoices'; tables: erp.customers"):
            redrive(defs, registry, instance, "erp.invoices", [])
        for _ in range(3):
            create_run_for_test(
                instance,
                job_name="process_erp__orders",
                status=dg.DagsterRunStatus.FAILURE,
                tags={"dagster/partition": A, "lake/table": "erp.orders"},
            )
        report = process(defs, registry, instance, log=lambda *_: None)
    assert report.runs == []
    assert report.gave_up == [f"erp.orders/{A}: 3 failed runs; not retried"]


def test_a_run_for_a_key_that_is_no_batch_or_an_unregistered_batch_fails_before_any_job(lake, lake_home):
    from lake_platform.definitions import build_definitions

    defs = build_definitions()
    job = defs.resolve_job_def("process_erp__orders")
    with dg.instance_for_test() as instance:
        for key, reason in (
            ("latest", "partition key 'latest' is not a batch"),
            (A, f"batch erp.orders/{A} is not complete"),
        ):
            instance.add_dynamic_partitions("erp__orders", [key])
            result = job.execute_in_process(instance=instance, partition_key=key, raise_on_error=False)
            assert not result.success
            failure = next(e for e in result.all_events if e.is_step_failure)
            assert reason in failure.step_failure_data.error.message
            started = {e.step_key for e in result.all_events if e.event_type_value == "STEP_START"}
            assert started == {"raw__erp__orders"}
        # The source alone (as the UI can launch it) with a bad key: its own step fails at once, and
        # its checks are left unevaluated, not failed.
        from dagster._core.storage.asset_check_execution_record import AssetCheckExecutionRecordStatus as Status

        source = dg.AssetKey(["source", "erp", "orders"])
        result = job.execute_in_process(
            instance=instance, partition_key="latest", raise_on_error=False, asset_selection=[source]
        )
        failure = next(e for e in result.all_events if e.is_step_failure)
        assert "partition key 'latest' is not a batch" in failure.step_failure_data.error.message
        for check in ("landed_rows_reconcile", "no_undeclared_fields"):
            history = instance.event_log_storage.get_asset_check_execution_history(
                dg.AssetCheckKey(source, check), limit=10
            )
            assert history and {h.status for h in history} == {Status.PLANNED}


def test_a_rebuild_from_raw_plans_every_batch_again_but_never_a_retired_one(lake, lake_home):
    from lake_platform.definitions import build_definitions
    from lake_platform.process import plan_runs

    _, _, registry = lake
    retire(registry, "erp.orders", C, "bad export")
    defs = build_definitions()
    with dg.instance_for_test() as instance:
        create_run_for_test(
            instance,
            job_name="process_erp__orders",
            status=dg.DagsterRunStatus.SUCCESS,
            tags={"dagster/partition": A, "lake/table": "erp.orders"},
        )
        normal, _ = plan_runs(defs, registry, instance, [])
        redo, _ = plan_runs(defs, registry, instance, [], redo=True)
    assert [(r.job_name, r.partition_key) for r in normal] == []
    assert [(r.job_name, r.partition_key) for r in redo] == [("process_erp__orders", A)]
