"""Dagster's run retries and the catch-up schedule never run one batch twice at once."""

import dagster as dg
from dagster._core.storage.tags import PARENT_RUN_ID_TAG, WILL_RETRY_TAG
from dagster._core.test_utils import create_run_for_test

from lake_platform_tests.test_schedules import JOB, TABLE, A, B, C, _materialize, _requests, registry  # noqa: F401


def _failed(instance, batch, will_retry: bool) -> str:
    run = create_run_for_test(
        instance,
        job_name=JOB,
        status=dg.DagsterRunStatus.FAILURE,
        tags={"lake/table": TABLE, "dagster/partition": batch, WILL_RETRY_TAG: str(will_retry).lower()},
    )
    return run.run_id


def test_a_failed_run_awaiting_its_retry_is_not_requested_by_the_catch_up(registry):  # noqa: F811
    instance = dg.DagsterInstance.ephemeral()
    _materialize(instance, C)
    _failed(instance, A, will_retry=True)  # the run-retry daemon has not launched the retry yet
    _failed(instance, B, will_retry=False)
    requests, left = _requests(instance, registry, now=4_000_000_000.0)
    assert [r.partition_key for r in requests] == [B]
    assert left[0].startswith(f"{A}: run ") and "queued or running" in left[0]


def test_a_batch_waits_for_its_run_retry_and_the_catch_up_takes_over_once_the_retry_failed(registry):  # noqa: F811
    instance = dg.DagsterInstance.ephemeral()
    _materialize(instance, C)
    _materialize(instance, B)
    parent = _failed(instance, A, will_retry=True)
    waiting, _ = _requests(instance, registry, now=4_000_000_000.0)
    assert waiting == [], "the retry daemon owns the batch until it launched the retry"
    create_run_for_test(
        instance,
        job_name=JOB,
        status=dg.DagsterRunStatus.FAILURE,
        tags={"lake/table": TABLE, "dagster/partition": A, PARENT_RUN_ID_TAG: parent, WILL_RETRY_TAG: "false"},
    )
    requests, _ = _requests(instance, registry, now=4_000_000_000.0)
    assert [(r.partition_key, r.run_key) for r in requests] == [(A, f"{TABLE}:{A}:ingest:attempt3")]
