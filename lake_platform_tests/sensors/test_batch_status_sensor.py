"""The batch status sensor: the registry mirrors Dagster's progress per (table, batch, asset).

Runs are real runs on a real Dagster instance. Their assets carry the lake's asset keys but
stand in for the Glue jobs (a materialization with the job's row counts, or an exception),
because the sensor's subject is what Dagster recorded, not how the data was written.
"""

import json
import time

import dagster as dg
import pytest
from dagster._core.test_utils import create_run_for_test

from lake_glue.config import load_config_dir
from lake_platform.assets import build_table_assets
from lake_platform.partitions import batch_partitions
from lake_platform.resources.alerts.local import LocalAlerts
from lake_platform.resources.partition_registry.base import BatchRecord
from lake_platform.resources.partition_registry.local import SqlitePartitionRegistry
from lake_platform.sensors.batch_status import build_batch_status_sensor
from lake_platform_tests.conftest import CONFIG_DIR

TABLE, JOB = "erp.orders", "process_erp__orders"
A = "20260105T020000Z"
RAW, SOURCE, TARGET = "raw/erp/orders", "source/erp/orders", "target/sales/orders"


def stand_in_job(fail: str | None = None) -> dg.JobDefinition:
    """The orders job's three assets; ``fail`` names the asset whose step raises."""
    pdef = batch_partitions("erp", "orders")

    def body(key: str, metadata: dict):
        def compute(context):
            if key == fail:
                raise RuntimeError(f"{key} broke: cannot read '1,5' as decimal(12,2)")
            return dg.MaterializeResult(metadata=metadata)

        return compute

    raw = dg.asset(key=["raw", "erp", "orders"], partitions_def=pdef)(body(RAW, {}))
    source = dg.asset(key=["source", "erp", "orders"], deps=[raw], partitions_def=pdef)(
        body(SOURCE, {"landed_rows": 3, "source_rows": 2, "quarantined_rows": 1})
    )
    target = dg.asset(key=["target", "sales", "orders"], deps=[source], partitions_def=pdef)(
        body(TARGET, {"target_rows": 2})
    )
    return dg.Definitions(
        assets=[raw, source, target], jobs=[dg.define_asset_job(JOB, partitions_def=pdef)]
    ).resolve_job_def(JOB)


@pytest.fixture
def world(tmp_path):
    """A Dagster instance, a SQLite registry holding batch A, file alerts and the sensor."""
    registry = SqlitePartitionRegistry(path=str(tmp_path / "registry.sqlite"))
    registry.register(BatchRecord(TABLE, A, files=["a.csv"], registered_by="test"))
    alerts = LocalAlerts(path=str(tmp_path / "alerts.jsonl"))
    tables = build_table_assets(load_config_dir(CONFIG_DIR), "local")
    with dg.instance_for_test() as instance:
        instance.add_dynamic_partitions("erp__orders", [A, "20260106T020000Z"])
        yield {"instance": instance, "registry": registry, "alerts": alerts, "tables": tables, "cursor": None}


def run(world, fail=None, batch=A):
    """Execute the stand-in job for one batch; returns the run id."""
    result = stand_in_job(fail).execute_in_process(
        instance=world["instance"], partition_key=batch, raise_on_error=False
    )
    return result.run_id


def tick(world, now=None) -> str:
    """One sensor evaluation, keeping the cursor as the daemon would; returns the skip message."""
    sensor = build_batch_status_sensor(world["tables"], **({"now": now} if now else {}))
    context = dg.build_sensor_context(
        instance=world["instance"],
        cursor=world["cursor"],
        resources={"partition_registry": world["registry"], "alerts": world["alerts"]},
    )
    result = sensor(context)
    world["cursor"] = context.cursor
    return result.skip_message


def progress(world, batch=A):
    record = world["registry"].get(TABLE, batch)
    return {asset: (p.status, p.error) for asset, p in record.progress.items()}


def test_a_run_is_mirrored_per_asset_with_the_counts_and_the_failed_steps_reason(world):
    run_id = run(world, fail=TARGET)
    tick(world)
    record = world["registry"].get(TABLE, A)
    assert {a: p.status for a, p in record.progress.items()} == {
        RAW: "MATERIALIZED",
        SOURCE: "MATERIALIZED",
        TARGET: "FAILED",
    }
    assert "target/sales/orders broke: cannot read '1,5' as decimal(12,2)" in record.progress[TARGET].error
    assert record.progress[TARGET].run_id == run_id
    assert (record.landed_rows, record.source_rows, record.quarantined_rows) == (3, 2, 1)
    assert record.status == "LANDED"


def test_assets_a_failed_run_never_reached_are_failed_as_not_run(world):
    run(world, fail=SOURCE)
    tick(world)
    states = progress(world)
    assert states[RAW] == ("MATERIALIZED", None)
    assert states[SOURCE][0] == "FAILED" and "source/erp/orders broke" in states[SOURCE][1]
    assert states[TARGET][0] == "FAILED" and states[TARGET][1].startswith(
        "not run: run failure (step source__erp__orders"
    )


def test_a_later_success_replaces_the_failure_and_re_reading_old_runs_changes_nothing(world):
    run(world, fail=TARGET)
    tick(world)
    second = run(world)
    tick(world)
    assert progress(world)[TARGET] == ("MATERIALIZED", None)
    # A reset cursor replays both runs, the failed one first: nothing it says is newer.
    world["cursor"] = None
    message = tick(world)
    assert "0 progress write(s), 6 not newer" in message
    record = world["registry"].get(TABLE, A)
    assert record.progress[TARGET].run_id == second and record.progress[TARGET].status == "MATERIALIZED"


def test_a_run_in_flight_is_mirrored_as_running_until_it_ends(world):
    from dagster._core.events import DagsterEvent, DagsterEventType

    instance = world["instance"]
    job = stand_in_job()
    pending = instance.create_run_for_job(job, tags={"dagster/partition": A})
    tick(world)
    assert progress(world) == {}  # a queued or not-started run is not progress yet
    instance.report_dagster_event(
        DagsterEvent(DagsterEventType.RUN_START.value, job_name=job.name), run_id=pending.run_id
    )
    tick(world)
    assert progress(world) == {RAW: ("RUNNING", None), SOURCE: ("RUNNING", None), TARGET: ("RUNNING", None)}
    instance.report_run_failed(instance.get_run_by_id(pending.run_id), message="run worker process died")
    tick(world)
    states = progress(world)
    assert {s for s, _ in states.values()} == {"FAILED"}
    assert "run worker process died" in states[SOURCE][1]


def test_retries_given_up_alert_once_with_the_reason_and_the_way_out(world):
    for _ in range(3):  # erp's max_attempts
        run(world, fail=SOURCE)
        tick(world)
    tick(world)
    alerts = world["alerts"].read()
    assert len(alerts) == 1
    assert alerts[0]["subject"] == f"lake: {TABLE}/{A} failed 3 times; retries stopped"
    assert "source/erp/orders broke" in alerts[0]["message"]
    assert f"lake redrive {TABLE} {A}" in alerts[0]["message"]


def test_failures_mirrored_in_one_tick_alert_once_and_read_the_run_history_once(world, monkeypatch):
    import lake_platform.sensors.batch_status as module

    for _ in range(3):  # erp's max_attempts, all failed before the sensor looks (it was behind)
        run(world, fail=SOURCE)
    reads = []
    real = module.run_history
    monkeypatch.setattr(module, "run_history", lambda instance, job: reads.append(job) or real(instance, job))
    tick(world)
    alerts = world["alerts"].read()
    assert [a["subject"] for a in alerts] == [f"lake: {TABLE}/{A} failed 3 times; retries stopped"]
    assert len(reads) == 1


def test_a_run_stuck_past_its_tables_timeout_alerts_once(world):
    stuck = create_run_for_test(
        world["instance"],
        job_name=JOB,
        status=dg.DagsterRunStatus.STARTED,
        tags={"dagster/partition": A, "lake/table": TABLE},
    )
    later = time.time() + 10 * 3600
    tick(world, now=lambda: later)
    tick(world, now=lambda: later)
    alerts = world["alerts"].read()
    assert len(alerts) == 1
    assert alerts[0]["subject"].startswith(f"lake: {TABLE}/{A} run stuck for ")
    assert stuck.run_id in alerts[0]["message"]
    assert json.loads(world["cursor"])["stuck_alerted"] == [stuck.run_id]


def test_a_run_of_a_batch_the_registry_does_not_know_is_skipped_not_fatal(world):
    run(world, batch="20260106T020000Z")
    assert "0 progress write(s)" in tick(world)
    assert world["registry"].get(TABLE, "20260106T020000Z") is None
