"""One run-key namespace across both landing sensors: before requesting a batch, the job's runs
tagged with it are read from the real Dagster instance, and a queued, running or successful run
(whoever launched it) means no second run."""

import dagster as dg
import pytest
from dagster._core.test_utils import create_run_for_test

from lake_platform.batches import batches_with_live_or_successful_runs
from lake_platform_tests.sensors.test_landing_sensor import BATCH, LATER, env  # noqa: F401  (fixture)

JOB = "process_erp__orders"


def _run(instance, batch, status, sensor="landing_queue_sensor"):
    return create_run_for_test(
        instance,
        job_name=JOB,
        status=status,
        tags={
            "dagster/partition": batch,
            "dagster/sensor_name": sensor,
            "lake/table": "erp.orders",
            "lake/batch": batch,
        },
    )


@pytest.mark.parametrize(
    "status", [dg.DagsterRunStatus.NOT_STARTED, dg.DagsterRunStatus.STARTED, dg.DagsterRunStatus.SUCCESS]
)
def test_a_batch_the_queue_sensor_already_started_is_not_requested_by_the_listing_sensor(env, status):  # noqa: F811
    _run(env.instance, BATCH, status)
    env.land("orders", BATCH)
    env.land("orders", LATER)
    result = env.tick()
    assert [r.partition_key for r in result.run_requests] == [LATER]
    assert [b.batch_id for b in env.registry.list_batches("erp.orders")] == [BATCH, LATER]


@pytest.mark.parametrize("status", [dg.DagsterRunStatus.FAILURE, dg.DagsterRunStatus.CANCELED])
def test_a_batch_whose_only_run_failed_or_was_canceled_is_requested_again(env, status):  # noqa: F811
    _run(env.instance, BATCH, status)
    env.land("orders", BATCH)
    assert [r.partition_key for r in env.tick().run_requests] == [BATCH]


def test_runs_of_another_job_or_batch_do_not_count(env):  # noqa: F811
    create_run_for_test(
        env.instance,
        job_name="process_erp__customers",
        status=dg.DagsterRunStatus.STARTED,
        tags={"dagster/partition": BATCH},
    )
    _run(env.instance, LATER, dg.DagsterRunStatus.STARTED)
    assert batches_with_live_or_successful_runs(env.instance, JOB, [BATCH, LATER]) == {LATER}
