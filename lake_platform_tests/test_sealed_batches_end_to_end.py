"""Sealed batches, duplicate deliveries and acceptance rules through Dagster, as `lake process` runs them.

A real Dagster instance, the landing sensor, the SQLite registry and the Glue scripts as local
Spark subprocesses reporting through Pipes: what the corpus pins on the job's logic, shown
here where an engineer sees it (run failures, asset checks, the registry).
"""

import dagster as dg
import pytest

from lake_platform.instance import get_instance
from lake_platform.process import evaluate_landing_sensor, process
from lake_platform_tests.conftest import embedded_lake

pytestmark = pytest.mark.slow

HEADER = b"customer_id,customer_name,email,country_code,credit_limit,created_at\n"
ROWS = b"1,Ann,a@x.org,ZA,10.00,2026-01-01 10:00:00\n2,Bo,b@x.org,ZA,5.00,2026-01-01 11:00:00\n"
FIRST, DUPLICATE, HEADER_ONLY, GROWN = "20260301T000000Z", "20260302T000000Z", "20260303T000000Z", "20260304T000000Z"
SOURCE = dg.AssetKey(["source", "erp", "customers"])


def _land(store, batch: str, data: bytes, name: str = "customers.csv") -> str:
    prefix = f"landing/erp/customers/{batch}/"
    store.put_bytes(store.raw_bucket, prefix + name, data)
    store.put_bytes(store.raw_bucket, prefix + "_SUCCESS", b"")
    return prefix + name


def _check_evaluations(instance, check: str, batch: str) -> list:
    key = dg.AssetCheckKey(SOURCE, check)
    records = instance.event_log_storage.get_asset_check_execution_history(key, limit=50)
    found = []
    for record in records:
        evaluation = (
            record.event.dagster_event.event_specific_data if record.event and record.event.dagster_event else None
        )
        run = instance.get_run_by_id(record.run_id)
        if hasattr(evaluation, "passed") and run.tags.get("dagster/partition") == batch:
            found.append(evaluation)
    return found


@pytest.fixture(scope="module")
def lake(tmp_path_factory):
    """Customers batches: one clean, the same bytes again, a header-only one, one grown after sealing."""
    with embedded_lake(tmp_path_factory.mktemp("sealed") / "lake") as (defs, res):
        store, registry = res.object_store, res.partition_registry
        instance = get_instance()
        _land(store, FIRST, HEADER + ROWS)
        _land(store, DUPLICATE, HEADER + ROWS)
        _land(store, HEADER_ONLY, HEADER)
        grown = _land(store, GROWN, HEADER + ROWS)
        # The landing sensor seals every batch; then a late writer appends to one file.
        evaluate_landing_sensor(instance, defs)
        sealed_size = registry.get("erp.customers", GROWN).sealed[0].size
        store.put_bytes(store.raw_bucket, grown, HEADER + ROWS + b"3,Cy,c@x.org,ZA,1.00,2026-01-01 12:00:00\n")
        report = process(defs, registry, instance, log=lambda *_: None)
        yield {"instance": instance, "registry": registry, "report": report, "sealed_size": sealed_size}


def _failure(lake, batch: str) -> str:
    errors = [r.error for r in lake["report"].runs if r.batch_id == batch and not r.success]
    assert errors, f"batch {batch} did not fail"
    return errors[0]


def test_registration_seals_each_file_with_its_size_and_etag(lake):
    record = lake["registry"].get("erp.customers", FIRST)
    assert [(o.key, o.size) for o in record.sealed] == [
        (f"landing/erp/customers/{FIRST}/customers.csv", len(HEADER + ROWS))
    ]
    assert record.sealed[0].etag and record.files == [record.sealed[0].key]


def test_a_file_grown_after_sealing_fails_its_batch_naming_the_file_and_the_fix(lake):
    error = _failure(lake, GROWN)
    size = len(HEADER + ROWS)
    assert lake["sealed_size"] == size
    assert f"customers.csv: changed after sealing: sealed {size} bytes, now {size + 41} bytes" in error
    assert "land the complete files under a new batch id" in error
    assert lake["instance"].get_latest_materialization_event(SOURCE) is not None
    assert GROWN not in lake["instance"].get_materialized_partitions(SOURCE)


def test_a_duplicate_delivery_is_refused_by_default_naming_both_batches_and_the_override(lake):
    error = _failure(lake, DUPLICATE)
    assert f"batch erp.customers/{DUPLICATE}: refused as a duplicate delivery" in error
    assert f"customers.csv is byte-identical to {FIRST}/customers.csv" in error
    assert "acceptance.reject_duplicate_delivery: false on table customers" in error
    assert DUPLICATE not in lake["instance"].get_materialized_partitions(SOURCE)
    [evaluation] = _check_evaluations(lake["instance"], "not_a_duplicate_delivery", DUPLICATE)
    assert evaluation.passed is False and evaluation.severity == dg.AssetCheckSeverity.ERROR
    assert evaluation.metadata["duplicates"].value == [f"customers.csv is byte-identical to {FIRST}/customers.csv"]
    [first] = _check_evaluations(lake["instance"], "not_a_duplicate_delivery", FIRST)
    assert first.passed is True


def test_a_refused_batch_records_the_failed_acceptance_check_and_nothing_downstream_runs(lake):
    error = _failure(lake, HEADER_ONLY)
    assert "refused by the acceptance rules" in error and "['customers.csv']" in error
    [evaluation] = _check_evaluations(lake["instance"], "acceptance_rules", HEADER_ONLY)
    assert evaluation.passed is False and evaluation.severity == dg.AssetCheckSeverity.ERROR
    assert "files with no records" in evaluation.metadata["refused_because"].value
    assert HEADER_ONLY not in lake["instance"].get_materialized_partitions(SOURCE)
    target = dg.AssetKey(["target", "sales", "customers"])
    assert HEADER_ONLY not in lake["instance"].get_materialized_partitions(target)
    assert FIRST in lake["instance"].get_materialized_partitions(target)


def test_checks_are_recorded_per_batch_so_a_refused_batch_leaves_the_others_green(lake):
    from dagster._core.storage.asset_check_execution_record import AssetCheckExecutionRecordStatus as Status

    key = dg.AssetCheckKey(SOURCE, "acceptance_rules")
    latest: dict[str, object] = {}
    for record in lake["instance"].event_log_storage.get_asset_check_execution_history(key, limit=50):
        latest.setdefault(record.partition, record.status)
    succeeded = Status.SUCCEEDED
    assert latest[FIRST] == succeeded
    # The duplicate was refused before the rules were evaluated.
    assert latest.get(DUPLICATE) != succeeded
    assert latest[HEADER_ONLY] == Status.FAILED
    # The grown batch was refused before the rules were evaluated: its own record is not a pass.
    assert latest[GROWN] != succeeded
