"""One decision of what runs next: the catch-up schedules, ``lake process`` and ``lake doctor`` agree.

The two copies this replaced differed: ``lake process`` counted only a successful run of the
job as done (it re-ran a batch a backfill had materialized), read ``max_attempts`` from the job
while the schedules read the config, and knew no backoff. These tests pin the one behaviour.
"""

import dagster as dg
from dagster._core.storage.tags import WILL_RETRY_TAG
from dagster._core.test_utils import create_run_for_test

from lake_glue.config import load_config_dir
from lake_platform.assets import build_table_assets
from lake_platform.batches import Decision, RetryPolicy, finished_batches, next_runs
from lake_platform.resources.partition_registry.base import BatchRecord
from lake_platform.run_history import RunHistory, run_history
from lake_platform_tests.conftest import CONFIG_DIR
from lake_platform_tests.test_schedules import (  # noqa: F401
    JOB,
    KEYS,
    TABLE,
    A,
    B,
    C,
    _materialize,
    _requests,
    registry,
)

POLICY = RetryPolicy(max_attempts=3, backoff_minutes=15)
NOW = 4_000_000_000.0


def _records(*batches: str, retired: str | None = None) -> list[BatchRecord]:
    return [BatchRecord(TABLE, b, status="RETIRED" if b == retired else "LANDED") for b in batches]


def _decisions(steps) -> dict[str, Decision]:
    return {s.batch_id: s.decision for s in steps}


def test_a_retired_batch_never_runs_not_even_when_everything_is_redone():
    steps = next_runs(_records(A, B, retired=B), RunHistory(), set(), POLICY, NOW, redo=True)
    assert _decisions(steps) == {A: Decision.RUN, B: Decision.RETIRED}


def test_a_done_batch_is_left_alone_unless_everything_is_redone():
    assert _decisions(next_runs(_records(A), RunHistory(), {A}, POLICY, NOW)) == {A: Decision.DONE}
    assert _decisions(next_runs(_records(A), RunHistory(), {A}, POLICY, NOW, redo=True)) == {A: Decision.RUN}


def test_a_batch_in_flight_is_never_started_twice_not_even_by_a_redo():
    run = create_run_for_test(dg.DagsterInstance.ephemeral(), job_name=JOB)
    history = RunHistory(in_flight={A: [type("Record", (), {"dagster_run": run})()]})
    for redo in (False, True):
        (step,) = next_runs(_records(A), history, set(), POLICY, NOW, redo=redo)
        assert (step.decision, step.run_id) == (Decision.IN_FLIGHT, run.run_id)


def test_an_unattended_retry_backs_off_doubling_per_failure_and_an_attended_one_runs_at_once():
    history = RunHistory(failed_at={A: [NOW - 20 * 60, NOW - 60]})  # two failures, the last a minute ago
    (waiting,) = next_runs(_records(A), history, set(), POLICY, NOW)
    assert (waiting.decision, waiting.attempt, waiting.due_at) == (Decision.BACKING_OFF, 3, NOW - 60 + 30 * 60)
    (due,) = next_runs(_records(A), history, set(), POLICY, NOW + 30 * 60)
    assert (due.decision, due.attempt) == (Decision.RUN, 3)
    (attended,) = next_runs(_records(A), history, set(), POLICY, NOW, attended=True)
    assert attended.decision is Decision.RUN


def test_max_attempts_failed_runs_give_up_whoever_asks_but_a_redo_runs_again():
    history = RunHistory(failed_at={A: [1.0, 2.0, 3.0]})
    for attended in (False, True):
        (step,) = next_runs(_records(A), history, set(), POLICY, NOW, attended=attended)
        assert (step.decision, step.failures) == (Decision.GAVE_UP, 3)
    (redo,) = next_runs(_records(A), history, set(), POLICY, NOW, redo=True)
    assert redo.decision is Decision.RUN


def test_a_failed_run_awaiting_dagsters_retry_counts_as_in_flight():
    instance = dg.DagsterInstance.ephemeral()
    create_run_for_test(
        instance,
        job_name=JOB,
        status=dg.DagsterRunStatus.FAILURE,
        tags={"dagster/partition": A, WILL_RETRY_TAG: "true"},
    )
    steps = next_runs(_records(A), run_history(instance, JOB), set(), POLICY, NOW, attended=True)
    assert _decisions(steps) == {A: Decision.IN_FLIGHT}


def test_a_batch_is_finished_by_its_materializations_or_by_a_successful_run_of_the_whole_job():
    instance = dg.DagsterInstance.ephemeral()
    _materialize(instance, A)  # a backfill materialized every asset: no run of the job at all
    _materialize(instance, B, keys=KEYS[:1])  # the target is missing
    create_run_for_test(instance, job_name=JOB, status=dg.DagsterRunStatus.SUCCESS, tags={"dagster/partition": C})
    history = run_history(instance, JOB)
    assert finished_batches(instance, history, KEYS, whole_job=True) == {A, C}
    # A subset run (a prepare config's catch-up) finishes only what it materialized.
    assert finished_batches(instance, history, KEYS, whole_job=False) == {A}


def test_the_retry_policy_is_read_from_the_config_in_one_place_and_carried_on_the_job():
    for entry in build_table_assets(load_config_dir(CONFIG_DIR), "local"):
        policy = RetryPolicy.of(entry.config.job_settings)
        assert RetryPolicy.from_tags(entry.job.tags or {}) == policy
        assert policy.max_attempts == entry.config.job_settings.max_attempts
        assert policy.backoff_minutes == entry.config.job_settings.retry_backoff_minutes


def test_lake_process_and_the_catch_up_schedule_plan_the_same_batches(registry, lake_home):  # noqa: F811
    from lake_platform.definitions import build_definitions
    from lake_platform.process import plan_runs

    defs = build_definitions()
    with dg.instance_for_test() as instance:
        job_keys = sorted(defs.resolve_job_def(JOB).asset_layer.selected_asset_keys)
        _materialize(instance, A, keys=job_keys)  # done by a backfill: neither runs it
        create_run_for_test(instance, job_name=JOB, status=dg.DagsterRunStatus.FAILURE, tags={"dagster/partition": B})
        create_run_for_test(instance, job_name=JOB, status=dg.DagsterRunStatus.FAILURE, tags={"dagster/partition": C})
        create_run_for_test(
            instance,
            job_name=JOB,
            status=dg.DagsterRunStatus.FAILURE,
            tags={"dagster/partition": C, WILL_RETRY_TAG: "true"},
        )
        planned, _ = plan_runs(defs, registry, instance, [])
        scheduled, left = _requests(instance, registry, now=NOW, asset_keys=job_keys)
    assert [(r.job_name, r.partition_key) for r in planned if r.tags["lake/table"] == TABLE] == [(JOB, B)]
    assert [r.partition_key for r in scheduled] == [B]
    assert [reason.split(":")[0] for reason in left] == [C]
