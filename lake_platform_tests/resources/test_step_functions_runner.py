"""StepFunctionsGlueJobRunner: launching and watching Glue jobs through Step Functions and Pipes.

Two kinds of Step Functions stand in for AWS here:

* **moto executing the real ASL** (``terraform/modules/orchestration/state_machine.asl.json``)
  wherever moto 5.2.5 can: the failure path (no such Glue job -> ``Glue.EntityNotFoundException``
  -> NotifyFailure -> Failed) and execution-name idempotency.
* **``FakeStepFunctions``** for success, job-run failure, timeout and termination: moto 5.2.5
  cannot run ``glue:startJobRun.sync`` (every ``.sync`` task fails with ``'NoneType' object has
  no attribute 'interrupt_all'``, and after that DescribeExecution cannot serialise its dates;
  see DESIGN.md). The fake implements only the calls the runner makes, with the service's
  documented behaviour for this state machine: executions are RUNNING while the Glue run is,
  then SUCCEEDED with the JobRun as ``$.glue_job_run``, or FAILED with ``States.TaskFailed`` and
  the JobRun document (including Glue's ``ErrorMessage``) as cause, the same error and cause
  that the ASL's Fail state copies from ``$.error``; the history holds TaskSubmitted
  (``{"JobRunId"}``) and TaskSucceeded/TaskFailed events; StopExecution aborts the execution and
  the Glue run; a name is unique per state machine (same name and input while running returns
  the same execution, otherwise ``ExecutionAlreadyExists``). Its "Glue job" runs in a thread
  and talks to Dagster exactly as the real job does: ``PipesS3ContextLoader`` and
  ``PipesS3MessageWriter`` against the moto S3 bucket, with the bootstrap parameters taken from
  the execution input's ``arguments``, so the Pipes wiring is exercised end to end.

The runner itself is never patched: tests build it with its real constructor and, for the
fake, hand it the client with ``use_clients``.
"""

from __future__ import annotations

import hashlib
import json
import re
import sys
import threading
import urllib.request
from pathlib import Path

import boto3
import dagster as dg
import pytest

from lake_platform.resources.glue_runner.aws import EXECUTION_NAME_MAX, StepFunctionsGlueJobRunner, execution_name
from lake_platform.resources.glue_runner.base import GlueJobError
from lake_platform_tests.resources.fake_step_functions import (
    ALLOWED_NAME,
    PIPES_BUCKET,
    PIPES_PREFIX,
    REGION,
    FakeStepFunctions,
    make_runner,
    subprocess_glue_job,
)

pytestmark = pytest.mark.aws

REPO = Path(__file__).resolve().parents[2]
ASL_TEMPLATE = REPO / "terraform" / "modules" / "orchestration" / "state_machine.asl.json"
JOB = "files-spark-ingest-default"
BATCH = "20260101T000000Z"
ASSET_KEY = dg.AssetKey(["source", "erp", "orders"])
ARGUMENTS = {
    "--config_name": "erp",
    "--table_name": "orders",
    "--batch_id": BATCH,
    "--config_source": "dynamodb://lake-configs",
    "--object_listing": "s3",
}
INPUT_KEYS = {"glue_job_name", "arguments", "worker_type", "number_of_workers", "timeout_minutes"}


@pytest.fixture
def fast_pipes_close(monkeypatch):
    """Shorten the Pipes message reader's pacing: 1 s loop sleeps and a 10 s wait after close.

    Both belong to Dagster's threaded message reader (how long it keeps looking for late
    messages after the session closes), not to the runner; at their defaults, a job that sent
    no messages would cost each failure test 11 s. Delivery itself is unchanged: the fake job's
    last chunk is in S3 before its execution leaves RUNNING.
    """
    import dagster._core.pipes.utils as pipes_utils

    monkeypatch.setattr(pipes_utils, "WAIT_FOR_LOGS_AFTER_EXECUTION_INTERVAL", 0)
    monkeypatch.setattr(pipes_utils, "DEFAULT_SLEEP_INTERVAL", 0.1)


@pytest.fixture
def pipes_bucket(aws, fast_pipes_close):
    """The Pipes bucket in moto S3; yields the moto endpoint."""
    boto3.client("s3", region_name=REGION).create_bucket(
        Bucket=PIPES_BUCKET, CreateBucketConfiguration={"LocationConstraint": REGION}
    )
    return aws


@pytest.fixture
def executing_moto(pipes_bucket, monkeypatch):
    """moto with its ASL interpreter switched on; switched off again afterwards (it is global)."""
    endpoint = pipes_bucket

    def set_execution(enabled: bool) -> None:
        body = json.dumps({"stepfunctions": {"execute_state_machine": enabled}}).encode()
        request = urllib.request.Request(
            f"{endpoint}/moto-api/config", data=body, method="POST", headers={"Content-Type": "application/json"}
        )
        urllib.request.urlopen(request).read()

    # moto's interpreter calls the other services at localhost:$MOTO_PORT.
    monkeypatch.setenv("MOTO_PORT", endpoint.rsplit(":", 1)[1])
    set_execution(True)
    yield endpoint
    set_execution(False)


def real_state_machine() -> str:
    """Create the platform's state machine (real ASL, SNS topic substituted) in moto."""
    topic = boto3.client("sns", region_name=REGION).create_topic(Name="lake-alerts")["TopicArn"]
    definition = ASL_TEMPLATE.read_text().replace("${sns_topic_arn}", topic)
    return boto3.client("stepfunctions", region_name=REGION).create_state_machine(
        name="lake-glue-runner", definition=definition, roleArn="arn:aws:iam::123456789012:role/lake-sfn"
    )["stateMachineArn"]


def materialize_with(runner: StepFunctionsGlueJobRunner, *, timeout_minutes: int = 30, calls: int = 1):
    """Materialize one partitioned asset whose body runs the Glue job through ``runner``.

    With ``calls=2`` the body starts the job twice in the same step attempt, the first failure
    being recorded in ``errors`` rather than raised.
    """
    errors: list[BaseException] = []

    @dg.asset(key=ASSET_KEY, partitions_def=dg.StaticPartitionsDefinition([BATCH]))
    def orders(context):
        for _ in range(calls - 1):
            try:
                runner.run(context, job_name=JOB, arguments=dict(ARGUMENTS), timeout_minutes=timeout_minutes)
            except GlueJobError as exc:
                errors.append(exc)
        invocation = runner.run(
            context,
            job_name=JOB,
            arguments=dict(ARGUMENTS),
            timeout_minutes=timeout_minutes,
            worker_type="G.2X",
            number_of_workers=5,
        )
        return invocation.get_materialize_result()

    result = dg.materialize(
        [orders], partition_key=BATCH, instance=dg.DagsterInstance.ephemeral(), raise_on_error=False
    )
    return result, errors


def failure_text(result) -> str:
    """Class names and messages of the step failure and its whole cause chain."""
    (failure,) = result.get_step_failure_events()
    parts, error = [], failure.step_failure_data.error
    while error is not None:
        parts.append(f"{error.cls_name}: {error.message}")
        error = error.cause
    return "\n".join(parts)


def materialization_metadata(result) -> dict:
    """The asset's materialization metadata as plain values."""
    (materialization,) = result.asset_materializations_for_node("source__erp__orders")
    return {k: getattr(v, "value", v) for k, v in materialization.metadata.items()}


# The "Glue script" of the fake job: it reports through the platform's real job-side reporter
# (lake_glue.report.open_reporter: PipesCliArgsParamsLoader, and the S3 context loader and S3
# message writer that the S3 Pipes parameters call for), in its own process as on Glue.
FAKE_GLUE_SCRIPT = """
import json, os, sys
from lake_glue.report import open_reporter

argv = sys.argv[1:]
args = dict(zip(argv[::2], argv[1::2]))
with open_reporter(argv) as pipes:
    pipes.log.info("fake Glue job for " + args["--table_name"] + " partition " + str(pipes.partition_key))
    if os.environ.get("FAKE_GLUE_FAIL"):
        raise RuntimeError(os.environ["FAKE_GLUE_FAIL"])
    pipes.report_asset_materialization(
        metadata={**json.loads(os.environ["FAKE_GLUE_REPORT"]), "partition_seen": pipes.partition_key},
        data_version=args["--batch_id"],
    )
"""


def glue_script_job(report: dict, fail_with: str | None = None):
    """A fake Glue job run of ``FAKE_GLUE_SCRIPT`` reporting ``report``, or failing with ``fail_with``."""
    env = {"FAKE_GLUE_REPORT": json.dumps(report)}
    if fail_with:
        env["FAKE_GLUE_FAIL"] = fail_with
    return subprocess_glue_job([sys.executable, "-c", FAKE_GLUE_SCRIPT], env)


def hanging_job(arguments: dict, stopped: threading.Event) -> None:
    """A Glue run that only ends when it is stopped (and never reaches Pipes)."""
    stopped.wait(30)


def test_success_delivers_the_jobs_pipes_materialization_and_execution_metadata(pipes_bucket):
    job = glue_script_job({"source_rows": 42, "landed_rows": 43})
    fake = FakeStepFunctions(job)
    arn = "arn:aws:states:eu-west-1:123456789012:stateMachine:lake-glue-runner"
    runner = make_runner(pipes_bucket, arn).use_clients(stepfunctions=fake)

    result, _ = materialize_with(runner)
    fake.join()

    assert result.success
    (execution_input,) = fake.inputs
    assert set(execution_input) == INPUT_KEYS
    assert execution_input["glue_job_name"] == JOB
    assert (execution_input["worker_type"], execution_input["number_of_workers"]) == ("G.2X", 5)
    assert execution_input["timeout_minutes"] == 30
    assert {k: execution_input["arguments"][k] for k in ARGUMENTS} == ARGUMENTS
    # Context and messages live under the Pipes prefix, the only place the Glue role may write.
    assert job.seen["context_params"]["bucket"] == PIPES_BUCKET
    assert job.seen["context_params"]["key"].startswith(PIPES_PREFIX)
    assert job.seen["messages_params"]["key_prefix"].startswith(PIPES_PREFIX)

    metadata = materialization_metadata(result)
    assert metadata["source_rows"] == 42 and metadata["landed_rows"] == 43
    assert metadata["partition_seen"] == BATCH, "the job read the context Dagster injected in S3"
    (execution_arn,) = fake.executions
    run_id = "jr_" + hashlib.sha256(execution_arn.encode()).hexdigest()
    assert metadata["step_functions_execution_arn"] == execution_arn
    assert metadata["glue_run_id"] == run_id
    assert metadata["glue_job_name"] == JOB
    assert metadata["step_functions_execution_url"] == (
        f"https://{REGION}.console.aws.amazon.com/states/home?region={REGION}#/v2/executions/details/{execution_arn}"
    )
    assert metadata["glue_job_run_url"] == (
        f"https://{REGION}.console.aws.amazon.com/gluestudio/home?region={REGION}#/job/{JOB}/run/{run_id}"
    )
    assert metadata["glue_duration_seconds"] >= 0
    assert fake.stop_calls == []

    keys = [o["Key"] for o in boto3.client("s3").list_objects_v2(Bucket=PIPES_BUCKET).get("Contents", [])]
    assert keys and all(k.startswith(PIPES_PREFIX) for k in keys)
    assert not any(k.endswith("context.json") for k in keys), "the injected context is removed afterwards"


def test_the_execution_names_the_deployed_glue_job_prefix_plus_etl_job_from_settings(pipes_bucket):
    # Terraform names the job of etl_job X <project>-<environment>-X (LAKE_GLUE_JOB_PREFIX), so two
    # environments in one account never start each other's jobs.
    job = glue_script_job({"source_rows": 1})
    fake = FakeStepFunctions(job)
    arn = "arn:aws:states:eu-west-1:123456789012:stateMachine:lake-platform-prod-glue-runner"
    runner = make_runner(pipes_bucket, arn, glue_job_prefix="lake-platform-prod-").use_clients(stepfunctions=fake)

    result, _ = materialize_with(runner)
    fake.join()

    assert result.success
    (execution_input,) = fake.inputs
    assert execution_input["glue_job_name"] == f"lake-platform-prod-{JOB}"
    metadata = materialization_metadata(result)
    assert metadata["glue_job_name"] == f"lake-platform-prod-{JOB}"
    assert f"#/job/lake-platform-prod-{JOB}/run/" in metadata["glue_job_run_url"]


def test_glue_not_found_runs_the_real_asl_in_moto_and_surfaces_the_glue_error(executing_moto):
    runner = make_runner(executing_moto, real_state_machine())

    result, _ = materialize_with(runner)

    assert not result.success
    text = failure_text(result)
    assert "GlueJobError" in text
    assert f"Glue job {JOB} for erp.orders batch {BATCH} failed" in text
    assert "Step Functions execution FAILED: Glue.EntityNotFoundException" in text
    # The Glue error message, from the TaskFailed event's cause, names the missing job.
    glue_error = re.search(r"Glue error: (.*)", text).group(1)
    assert JOB in glue_error
    assert "console.aws.amazon.com/states/home" in text

    sfn = boto3.client("stepfunctions", region_name=REGION)
    (execution,) = sfn.list_executions(stateMachineArn=runner.state_machine_arn)["executions"]
    assert execution["status"] == "FAILED"
    history = sfn.get_execution_history(executionArn=execution["executionArn"])["events"]
    (scheduled,) = [
        e for e in history if e["type"] == "TaskScheduled" and e["taskScheduledEventDetails"]["resourceType"] == "glue"
    ]
    parameters = json.loads(scheduled["taskScheduledEventDetails"]["parameters"])
    assert parameters["JobName"] == JOB and parameters["WorkerType"] == "G.2X" and parameters["NumberOfWorkers"] == 5
    assert {"--dagster-pipes-context", "--dagster-pipes-messages"} <= set(parameters["Arguments"])


def test_glue_run_failure_raises_with_the_step_functions_cause_and_the_glue_error_message(pipes_bucket):
    message = "[UNRESOLVED_COLUMN] order_total cannot be resolved"
    fake = FakeStepFunctions(glue_script_job({}, fail_with=message))
    runner = make_runner(pipes_bucket, "arn:aws:states:eu-west-1:123456789012:stateMachine:m").use_clients(
        stepfunctions=fake
    )

    result, _ = materialize_with(runner)
    fake.join()

    assert not result.success
    text = failure_text(result)
    assert (
        f"Glue job {JOB} for erp.orders batch {BATCH} failed: Step Functions execution FAILED: States.TaskFailed"
        in text
    )
    assert "cause: {" in text, "the Step Functions cause is included"
    assert f"Glue error (FAILED): RuntimeError: {message}" in text
    assert "Glue job run: jr_" in text
    assert fake.stop_calls == [], "a finished execution is not stopped"


def test_timeout_stops_the_execution_and_names_the_batch(pipes_bucket):
    fake = FakeStepFunctions(hanging_job)
    runner = make_runner(
        pipes_bucket, "arn:aws:states:eu-west-1:123456789012:stateMachine:m", timeout_grace_seconds=1.0
    ).use_clients(stepfunctions=fake)

    result, _ = materialize_with(runner, timeout_minutes=0)
    fake.join()

    assert not result.success
    text = failure_text(result)
    assert f"Glue job {JOB} for erp.orders batch {BATCH} exceeded timeout_minutes=0" in text
    (stop,) = fake.stop_calls
    (execution,) = fake.executions.values()
    assert stop["executionArn"] == execution["arn"] and stop["error"] == "DagsterTimeout"
    assert execution["status"] == "ABORTED" and execution["stopped"].is_set()
    # Polling backs off (0.05, 0.1, 0.2, 0.2 s...) yet still notices the deadline promptly.
    assert 4 <= fake.describe_calls <= 12


def test_waiting_for_glue_capacity_has_its_own_limit_and_is_named(pipes_bucket):
    fake = FakeStepFunctions(hanging_job, capacity_delay=30)
    runner = make_runner(
        pipes_bucket, "arn:aws:states:eu-west-1:123456789012:stateMachine:m", capacity_wait_seconds=0.5
    ).use_clients(stepfunctions=fake)
    result, _ = materialize_with(runner, timeout_minutes=30)
    fake.join()
    assert not result.success
    assert f"Glue job {JOB} for erp.orders batch {BATCH} waited more than capacity_wait_seconds=0.5" in failure_text(
        result
    )
    (stop,) = fake.stop_calls
    assert stop["error"] == "DagsterCapacityTimeout"
    (execution,) = fake.executions.values()
    assert not any(e["type"] == "TaskSubmitted" for e in execution["events"])


def test_the_job_timeout_counts_from_the_glue_runs_start_not_the_executions(pipes_bucket):
    fake = FakeStepFunctions(hanging_job, capacity_delay=1.5)
    runner = make_runner(
        pipes_bucket,
        "arn:aws:states:eu-west-1:123456789012:stateMachine:m",
        timeout_grace_seconds=1.0,
        capacity_wait_seconds=60,
    ).use_clients(stepfunctions=fake)
    result, _ = materialize_with(runner, timeout_minutes=0)
    fake.join()
    assert "exceeded timeout_minutes=0 (+1s grace) counted from the Glue run's start" in failure_text(result)
    (execution,) = fake.executions.values()
    # Counted from the execution's start, the 1 s deadline would have stopped it before Glue accepted the run.
    assert any(e["type"] == "TaskSubmitted" for e in execution["events"])
    assert fake.stop_calls[0]["error"] == "DagsterTimeout"


def test_dagster_run_termination_stops_the_execution_and_is_re_raised(pipes_bucket):
    fake = FakeStepFunctions(hanging_job, interrupt_on_describe=3)
    runner = make_runner(pipes_bucket, "arn:aws:states:eu-west-1:123456789012:stateMachine:m").use_clients(
        stepfunctions=fake
    )

    result, _ = materialize_with(runner)
    fake.join()

    # Dagster records the interrupted step as failed with the interrupt, not a GlueJobError.
    assert not result.success
    assert failure_text(result).startswith("DagsterExecutionInterruptedError")

    (stop,) = fake.stop_calls
    (execution,) = fake.executions.values()
    assert stop["executionArn"] == execution["arn"]
    assert stop["error"] == "DagsterRunTerminated"
    assert "erp.orders" in stop["cause"] and BATCH in stop["cause"]
    assert execution["status"] == "ABORTED" and execution["stopped"].is_set()


def test_execution_name_is_deterministic_bounded_and_unique_per_run_partition_attempt_and_asset():
    base = {
        "run_id": "0f9c2a51-7d5e-4c1b-9a7e-3f2d1c0b9a87",
        "asset": "target/sales_curated/orders_with_a_rather_long_table_name_that_goes_on",
        "partition": "20260101T000000Z",
        "attempt": 0,
        "job_name": "dapfw-prepare-default",
    }
    name = execution_name(**base)
    assert name == execution_name(**base)
    assert ALLOWED_NAME.match(name) and len(name) <= EXECUTION_NAME_MAX
    assert name.startswith("0f9c2a51-target-sales_curated-orders")
    variants = {
        execution_name(**{**base, field: value})
        for field, value in [
            ("run_id", "1f9c2a51-7d5e-4c1b-9a7e-3f2d1c0b9a87"),
            ("asset", base["asset"] + "x"),  # differs only beyond the truncated head
            ("partition", "20260102T000000Z"),
            ("attempt", 1),
            ("job_name", "files-spark-ingest-default"),
        ]
    }
    assert len(variants) == 5 and name not in variants
    assert ALLOWED_NAME.match(execution_name(**{**base, "asset": "a b/c:d", "partition": ""}))


def test_a_second_start_in_the_same_attempt_is_refused_by_step_functions_not_run_twice(executing_moto):
    runner = make_runner(executing_moto, real_state_machine())

    result, errors = materialize_with(runner, calls=2)

    # The first start ran (and failed: moto has no Glue job); the second reused its name.
    assert "Glue.EntityNotFoundException" in str(errors[0])
    assert not result.success
    assert "already exists for this run attempt" in failure_text(result)
    sfn = boto3.client("stepfunctions", region_name=REGION)
    (execution,) = sfn.list_executions(stateMachineArn=runner.state_machine_arn)["executions"]
    assert execution["name"] == execution_name(
        run_id=result.run_id, asset="source/erp/orders", partition=BATCH, attempt=0, job_name=JOB
    )
