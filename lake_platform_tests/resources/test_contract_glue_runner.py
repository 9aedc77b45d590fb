"""Contract of the Glue job runner: the local runner and the Step Functions runner must behave alike.

Both run the same job script, ``CONTRACT_JOB``, which talks to Dagster through the platform's
own job-side reporter (``lake_glue.report.open_reporter``). The local runner starts it as a
subprocess with file-based Pipes; the Step Functions runner goes through
``FakeStepFunctions`` (the faithful stand-in for the state machine, see
``fake_step_functions.py``), whose "Glue run" starts the same script with the execution's
arguments and S3-based Pipes on moto. The AWS case is marked ``aws``.

What the asset sees must not depend on where the job ran: the job's reported materialization
and partition, the arguments it was given, the runner's own run metadata, a failure's reason
and the batch it names, the checks a failed job reported, and a timeout.
"""

import sys
import textwrap

import boto3
import dagster as dg
import pytest

from lake_platform.resources.glue_runner.base import GlueJobError, GlueJobRunner
from lake_platform.resources.glue_runner.local import LocalGlueJobRunner
from lake_platform_tests.resources.fake_step_functions import (
    PIPES_BUCKET,
    REGION,
    FakeStepFunctions,
    make_runner,
    subprocess_glue_job,
)

JOB = "contract-job"
BATCH = "20260101T000000Z"
KEY = dg.AssetKey(["source", "erp", "orders"])
CHECK = "acceptance_rules"
CONTRACT_JOB = textwrap.dedent(
    """
    import sys, time
    from lake_glue.args import parse_glue_argv
    from lake_glue.report import open_reporter

    argv = sys.argv[1:]
    args = parse_glue_argv(argv)
    with open_reporter(argv) as pipes:
        behaviour = args["behaviour"]
        pipes.log.info("contract job: " + behaviour)
        if behaviour == "hang":
            time.sleep(120)
        if behaviour in ("refuse", "succeed"):
            reason = "min_rows 5" if behaviour == "refuse" else "-"
            passed = behaviour == "succeed"
            pipes.report_asset_check("acceptance_rules", passed=passed, metadata={"refused_because": reason})
        if behaviour in ("fail", "refuse"):
            raise RuntimeError("the job's own reason: column order_totl does not exist")
        ours = {k: v for k, v in args.items() if not k.startswith("dagster-pipes")}
        pipes.report_asset_materialization(
            metadata={
                "rows": 3,
                "partition_seen": pipes.partition_key,
                "arguments": {"raw_value": ours, "type": "json"},
            },
            data_version=args["batch_id"],
        )
    """
)


def job_arguments(behaviour: str) -> dict[str, str]:
    """Glue-style arguments of one contract run."""
    return {
        "--config_name": "erp",
        "--table_name": "orders",
        "--batch_id": BATCH,
        "--behaviour": behaviour,
    }


@pytest.fixture(params=["local", pytest.param("aws", marks=pytest.mark.aws)])
def runner(request, tmp_path, monkeypatch) -> GlueJobRunner:
    """The runner under contract, set up to run ``CONTRACT_JOB`` as the Glue job ``contract-job``."""
    scripts = tmp_path / "scripts"
    scripts.mkdir()
    script = scripts / "contract_job.py"
    script.write_text(CONTRACT_JOB)
    if request.param == "local":
        return LocalGlueJobRunner(
            scripts_dir=str(scripts),
            bucket_root=str(tmp_path / "buckets"),
            buckets=[],
            log_dir=str(tmp_path / "logs"),
            shared_spark=False,
        )
    endpoint = request.getfixturevalue("aws")
    import dagster._core.pipes.utils as pipes_utils

    # Dagster's threaded message reader waits 10 s for late messages after a job ends; the fake
    # job's last chunk is in S3 before its execution leaves RUNNING, so no wait is needed.
    monkeypatch.setattr(pipes_utils, "WAIT_FOR_LOGS_AFTER_EXECUTION_INTERVAL", 0)
    monkeypatch.setattr(pipes_utils, "DEFAULT_SLEEP_INTERVAL", 0.1)
    boto3.client("s3", region_name=REGION).create_bucket(
        Bucket=PIPES_BUCKET, CreateBucketConfiguration={"LocationConstraint": REGION}
    )
    fake = FakeStepFunctions(subprocess_glue_job([sys.executable, str(script)]))
    arn = "arn:aws:states:eu-west-1:123456789012:stateMachine:lake-glue-runner"
    return make_runner(endpoint, arn, timeout_grace_seconds=1.0).use_clients(stepfunctions=fake)


def run_asset(runner: GlueJobRunner, behaviour: str, timeout_minutes: int = 5):
    """Materialize one partitioned asset whose body runs ``contract-job`` through ``runner``.

    Returns the Dagster result and the ``GlueJobError`` the runner raised (or None).
    """
    raised: list[GlueJobError] = []

    @dg.asset(
        key=KEY,
        partitions_def=dg.StaticPartitionsDefinition([BATCH]),
        check_specs=[dg.AssetCheckSpec(CHECK, asset=KEY)],
    )
    def orders(context: dg.AssetExecutionContext):
        try:
            invocation = runner.run(
                context, job_name=JOB, arguments=job_arguments(behaviour), timeout_minutes=timeout_minutes
            )
        except GlueJobError as exc:
            raised.append(exc)
            raise
        yield from invocation.get_results()

    result = dg.materialize(
        [orders], partition_key=BATCH, instance=dg.DagsterInstance.ephemeral(), raise_on_error=False
    )
    return result, (raised[0] if raised else None)


def test_a_job_that_succeeds_delivers_its_materialization_partition_and_arguments(runner):
    result, error = run_asset(runner, "succeed")

    assert result.success and error is None
    (materialization,) = result.asset_materializations_for_node("source__erp__orders")
    metadata = {k: getattr(v, "value", v) for k, v in materialization.metadata.items()}
    assert metadata["rows"] == 3
    assert metadata["partition_seen"] == BATCH, "the job read the context Dagster injected"
    assert {f"--{k}": v for k, v in metadata["arguments"].items()} == job_arguments("succeed")
    assert materialization.tags["dagster/data_version"] == BATCH
    (check,) = result.get_asset_check_evaluations()
    assert (check.check_name, check.passed) == (CHECK, True)
    # The runner adds where the job ran, in the same keys in both environments.
    assert metadata["glue_job_name"] == JOB
    assert metadata["glue_run_id"]
    assert metadata["glue_duration_seconds"] >= 0


def test_a_failed_job_raises_a_glue_job_error_naming_the_batch_and_the_jobs_own_reason(runner):
    result, error = run_asset(runner, "fail")

    assert not result.success
    assert isinstance(error, GlueJobError)
    assert f"Glue job {JOB} for erp.orders batch {BATCH}" in str(error)
    assert "RuntimeError: the job's own reason: column order_totl does not exist" in str(error)
    assert error.reported_checks == []


def test_the_checks_a_failed_job_reported_are_kept_on_its_error(runner):
    result, error = run_asset(runner, "refuse")

    assert not result.success and isinstance(error, GlueJobError)
    (check,) = error.reported_checks
    assert (check.check_name, check.passed) == (CHECK, False)
    assert check.metadata["refused_because"].value == "min_rows 5"


def test_a_job_past_its_timeout_is_stopped_and_the_error_names_the_limit_and_the_batch(runner):
    result, error = run_asset(runner, "hang", timeout_minutes=0)

    assert not result.success and isinstance(error, GlueJobError)
    assert f"Glue job {JOB} for erp.orders batch {BATCH} exceeded timeout_minutes=0" in str(error)
    assert not result.asset_materializations_for_node("source__erp__orders")
