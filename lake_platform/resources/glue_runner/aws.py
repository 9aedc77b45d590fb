"""Glue job runner for AWS: the platform's Step Functions state machine runs the Glue job.

The runner is a Dagster Pipes client built on ``dg.open_pipes_session`` (dagster-aws has no
Step Functions client). For one (config, table, batch) it:

1. opens a Pipes session whose context is written to, and whose messages are read from, the
   Pipes bucket under ``pipes_prefix`` (the only prefix the Glue role may write to);
2. starts the state machine with the input the ASL expects
   (``terraform/modules/orchestration/state_machine.asl.json``)::

       {"glue_job_name": ..., "arguments": {"--config_name": ..., "--dagster-pipes-context": ...},
        "worker_type": ..., "number_of_workers": ..., "timeout_minutes": ...}

   under a deterministic execution ``name`` (see ``execution_name``);
3. polls ``DescribeExecution`` with exponential backoff until the execution ends, while the
   S3 message reader delivers the job's logs and materializations to Dagster as they arrive;
4. stops the execution (and with it the ``.sync`` Glue run) when Dagster terminates the run, when
   the Glue run is not RUNNING within ``capacity_wait_seconds``, or when the run outlives
   ``timeout_minutes`` (plus a grace) counted from the moment it was seen RUNNING, and raises
   ``GlueJobError`` with the Step Functions error and cause and the Glue error message when the
   execution fails;
5. returns the invocation with the execution ARN, Glue JobRunId, console URLs and duration.
"""

from __future__ import annotations

import hashlib
import json
import random
import re
import string
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import dagster as dg
from dagster_aws.pipes import PipesS3ContextInjector, PipesS3MessageReader

from lake_platform.resources.aws import AwsResource
from lake_platform.resources.glue_runner.base import (
    GlueJobError,
    GlueJobRunner,
    attach_reported_checks,
)

# Step Functions execution names: 1-80 characters. AWS also forbids whitespace, brackets,
# wildcards and most punctuation, and CloudWatch log routing only copes with [A-Za-z0-9_-],
# so the name keeps to that set.
EXECUTION_NAME_MAX = 80
_UNSAFE_NAME_CHARS = re.compile(r"[^A-Za-z0-9_-]+")
_DIGEST_LENGTH = 16

# Statuses in which the execution may still change; everything else is final.
_ACTIVE_STATUSES = frozenset({"RUNNING", "PENDING_REDRIVE"})

# Glue job run states before the run has its workers: the wait is for capacity, not the job.
_CAPACITY_STATES = frozenset({"WAITING", "STARTING"})

# StopExecution limits its error to 256 and its cause to 32768 characters.
_STOP_ERROR_MAX = 256
_STOP_CAUSE_MAX = 32768

# Cause texts can be whole JobRun documents; error messages keep a readable slice.
_CAUSE_SUMMARY_MAX = 2000


def execution_name(*, run_id: str, asset: str, partition: str, attempt: int, job_name: str) -> str:
    """The Step Functions execution name for one attempt of one asset partition in one run.

    Deterministic, so a repeated ``StartExecution`` for the same attempt (botocore retrying a
    request whose response was lost) cannot start a second Glue run; Step Functions rejects or
    deduplicates an existing name. A new attempt (Dagster step retry) or a new run gets a new
    name. The readable head helps people find the execution in the console; the digest of
    every component keeps names unique after the head is truncated to fit 80 characters.
    """
    digest = hashlib.sha256("\x1f".join([run_id, asset, partition, str(attempt), job_name]).encode()).hexdigest()
    head = _UNSAFE_NAME_CHARS.sub("-", f"{run_id[:8]}-{asset}-{partition}-a{attempt}").strip("-")
    head = head[: EXECUTION_NAME_MAX - _DIGEST_LENGTH - 1].rstrip("-")
    return f"{head}-{digest[:_DIGEST_LENGTH]}"


def execution_console_url(region: str, execution_arn: str) -> str:
    """Console URL of a Step Functions execution."""
    return f"https://{region}.console.aws.amazon.com/states/home?region={region}#/v2/executions/details/{execution_arn}"


def glue_run_console_url(region: str, job_name: str, job_run_id: str) -> str:
    """Console URL of a Glue job run (Glue Studio's run details page)."""
    return f"https://{region}.console.aws.amazon.com/gluestudio/home?region={region}#/job/{job_name}/run/{job_run_id}"


def _normalized_prefix(prefix: str | None) -> str:
    """``prefix`` as a folder (``a/b/``), or empty: both dagster-aws key builders concatenate."""
    prefix = (prefix or "").strip("/")
    return f"{prefix}/" if prefix else ""


class PrefixedS3MessageReader(PipesS3MessageReader):
    """``PipesS3MessageReader`` whose message chunks live under a fixed key prefix.

    dagster-aws's reader (0.29) picks a random top-level key prefix and has no option to nest it.
    The platform's IAM policies let Glue write Pipes objects only under ``pipes_prefix`` in the
    artifacts bucket, and a lifecycle rule expires that prefix, so the reader must hand the job
    a prefix inside it. The job's ``PipesS3MessageWriter`` uses whatever ``key_prefix`` it is
    given, so only the parameters change; reading is inherited unchanged.
    """

    def __init__(self, *, key_prefix: str = "", **kwargs: Any):
        super().__init__(**kwargs)
        self.key_prefix = _normalized_prefix(key_prefix)

    @contextmanager
    def get_params(self) -> Iterator[dict[str, Any]]:
        """The writer's parameters: the bucket and a fresh key prefix under ``key_prefix``."""
        with super().get_params() as params:
            unique = "".join(random.choices(string.ascii_letters, k=30))
            yield {**params, "key_prefix": f"{self.key_prefix}{unique}"}


class StepFunctionsGlueJobRunner(GlueJobRunner, AwsResource):
    """Runs a Glue job through the platform's Step Functions state machine, over Dagster Pipes.

    All names come from settings (see ``lake_platform.resources._aws_resources``). The polling
    and timeout fields have production defaults and exist so that tests can run in seconds.
    """

    state_machine_arn: str
    pipes_bucket: str
    pipes_prefix: str = "dagster-pipes/"
    # Glue job names live in an account-wide namespace, so Terraform deploys the job of etl_job X
    # as <project>-<environment>-X; configs keep the plain etl_job (local mode runs it as is).
    glue_job_prefix: str = ""
    initial_poll_seconds: float = 5.0
    max_poll_seconds: float = 60.0
    # Glue enforces ``Timeout = timeout_minutes`` itself and then fails the execution with its
    # own TIMEOUT message, which is the better error. The runner's deadline is the backstop for
    # an execution that hangs beyond that (queued runs, state machine retries), so it allows
    # this much longer before stopping the execution.
    timeout_grace_seconds: float = 300.0
    # Before the Glue run is RUNNING (the state machine retries ConcurrentRunsExceeded with
    # backoff, and a submitted FLEX run waits for spare capacity), the wait is for capacity, not
    # the job: it has its own limit, and ``timeout_minutes`` counts from the run's RUNNING state.
    # The state machine's ConcurrentRunsExceeded retries last at least this long (asl test).
    capacity_wait_seconds: float = 3600.0
    message_poll_seconds: float = 10.0

    @property
    def stepfunctions(self) -> Any:
        """The Step Functions client, created on first use (no AWS call when definitions load).

        StartExecution is retried with the rest, which is safe because execution names are
        deterministic.
        """
        return self.aws("stepfunctions")

    @property
    def s3(self) -> Any:
        """The S3 client for Pipes context and messages, created on first use."""
        return self.aws("s3")

    def deployed_job_name(self, etl_job: str) -> str:
        """The Glue job Terraform deployed for a config's ``etl_job`` (``glue_job_prefix`` + etl_job)."""
        return f"{self.glue_job_prefix}{etl_job}"

    def _region(self) -> str:
        return self.region_name or self.stepfunctions.meta.region_name

    def run(
        self, context, *, job_name, arguments, timeout_minutes, worker_type="G.1X", number_of_workers=2, extras=None
    ):
        """Start the state machine for ``job_name``, wait for it and return the Pipes invocation.

        Raises ``GlueJobError`` when the execution fails, times out or is aborted, and when it
        outlives ``timeout_minutes`` (plus ``timeout_grace_seconds``), after stopping it.
        """
        glue_job = self.deployed_job_name(job_name)
        label = (
            f"Glue job {glue_job} for {arguments.get('--config_name')}.{arguments.get('--table_name')}"
            f" batch {arguments.get('--batch_id')}"
        )
        prefix = _normalized_prefix(self.pipes_prefix)
        try:
            with dg.open_pipes_session(
                context=context,
                context_injector=PipesS3ContextInjector(bucket=self.pipes_bucket, client=self.s3, key_prefix=prefix),
                message_reader=PrefixedS3MessageReader(
                    bucket=self.pipes_bucket, client=self.s3, interval=self.message_poll_seconds, key_prefix=prefix
                ),
                extras=extras,
            ) as session:
                execution_input = {
                    "glue_job_name": glue_job,
                    "arguments": {**arguments, **session.get_bootstrap_cli_arguments()},
                    "worker_type": worker_type,
                    "number_of_workers": number_of_workers,
                    "timeout_minutes": timeout_minutes,
                }
                name = execution_name(
                    run_id=context.run.run_id,
                    asset=_asset_label(context),
                    partition=context.partition_key if context.has_partition_key else "",
                    attempt=context.retry_number,
                    job_name=glue_job,
                )
                started = time.monotonic()
                execution_arn = self._start(name, execution_input, label)
                console_url = execution_console_url(self._region(), execution_arn)
                try:
                    context.log.info(f"started {label}: Step Functions execution {name} ({console_url})")
                    described, waited_for = self._wait(
                        execution_arn, started, timeout_minutes * 60 + self.timeout_grace_seconds, glue_job, context
                    )
                except BaseException as exc:
                    # Dagster run termination (DagsterExecutionInterruptedError, KeyboardInterrupt) or
                    # a lost connection: stop the execution so that no Glue run is left unwatched.
                    self._stop(context, execution_arn, "DagsterRunTerminated", f"{label}: {type(exc).__name__}: {exc}")
                    raise
                if described is None and waited_for == "capacity":
                    reason = (
                        f"{label} waited more than capacity_wait_seconds={self.capacity_wait_seconds:g}"
                        " for the Glue run to be RUNNING"
                    )
                    self._stop(context, execution_arn, "DagsterCapacityTimeout", reason)
                    raise GlueJobError(f"{reason}; execution stopped: {console_url}")
                if described is None:
                    self._stop(
                        context,
                        execution_arn,
                        "DagsterTimeout",
                        f"{label} exceeded timeout_minutes={timeout_minutes}",
                    )
                    raise GlueJobError(
                        f"{label} exceeded timeout_minutes={timeout_minutes}"
                        f" (+{self.timeout_grace_seconds:g}s grace) counted from the Glue run's start;"
                        f" execution stopped: {console_url}"
                    )
                duration = time.monotonic() - started
                details = self._history_details(execution_arn)
                status = described["status"]
                if status != "SUCCEEDED":
                    raise GlueJobError(_failure_message(label, status, described, details, console_url))
                context.log.info(f"{label} succeeded in {duration:.1f}s (Glue run {details.get('job_run_id')})")
        except GlueJobError as exc:
            # The session has closed, so every message the job sent has been read.
            raise attach_reported_checks(exc, session) from exc.__cause__

        metadata: dict[str, Any] = {
            "glue_job_name": glue_job,
            "step_functions_execution_arn": execution_arn,
            "step_functions_execution_name": name,
            "step_functions_execution_url": dg.MetadataValue.url(console_url),
            "glue_duration_seconds": round(duration, 2),
        }
        if details.get("job_run_id"):
            metadata["glue_run_id"] = details["job_run_id"]
            metadata["glue_job_run_url"] = dg.MetadataValue.url(
                glue_run_console_url(self._region(), glue_job, details["job_run_id"])
            )
        return dg.PipesClientCompletedInvocation(session, metadata=metadata)

    def _start(self, name: str, execution_input: dict, label: str) -> str:
        from botocore.exceptions import ClientError

        try:
            response = self.stepfunctions.start_execution(
                stateMachineArn=self.state_machine_arn, name=name, input=json.dumps(execution_input)
            )
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") == "ExecutionAlreadyExists":
                # The same attempt already started an execution with other Pipes parameters;
                # attaching to it would lose its messages, and starting another would run the
                # batch twice. A Dagster retry or re-execution gets a new name.
                raise GlueJobError(
                    f"{label}: execution {name} already exists for this run attempt; retry the step"
                    " or re-execute the run to start a new one"
                ) from exc
            raise
        return response["executionArn"]

    def _wait(
        self, execution_arn: str, started: float, run_seconds: float, glue_job: str = "", context=None
    ) -> tuple[dict | None, str]:
        """``DescribeExecution`` until the execution ends; ``(None, what)`` if a deadline passes first.

        Until the Glue run is RUNNING, the deadline is ``capacity_wait_seconds`` from the start
        (``what`` = ``"capacity"``): the state machine's ConcurrentRunsExceeded retries, and a
        submitted run that Glue keeps WAITING or STARTING for workers (FLEX capacity). From the
        first poll that sees the run RUNNING it is ``run_seconds`` from then (``what`` = ``"run"``).
        """
        delay = self.initial_poll_seconds
        running: float | None = None
        while True:
            described = self.stepfunctions.describe_execution(executionArn=execution_arn)
            if described["status"] not in _ACTIVE_STATUSES:
                return described, "run" if running is not None else "capacity"
            if running is None and self._glue_run_running(execution_arn, glue_job, context):
                running = time.monotonic()
            deadline = started + self.capacity_wait_seconds if running is None else running + run_seconds
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return None, "capacity" if running is None else "run"
            # Backoff keeps long Glue runs cheap in API calls while short ones still end promptly.
            time.sleep(min(delay, remaining))
            delay = min(delay * 2, self.max_poll_seconds)

    def _submitted_run_id(self, execution_arn: str) -> str | None:
        """The JobRunId of the Glue task's TaskSubmitted event, once the history has it."""
        # Newest first: the Glue task's current attempt is at the end of a history that may hold
        # many capacity retries.
        page = self.stepfunctions.get_execution_history(
            executionArn=execution_arn, maxResults=50, includeExecutionData=True, reverseOrder=True
        )
        for event in page.get("events", []):
            if event.get("type") == "TaskSubmitted":
                details: dict[str, str] = {}
                _read_history_event(event, details)
                return details.get("job_run_id") or ""
        return None

    def _glue_run_running(self, execution_arn: str, glue_job: str, context) -> bool:
        """Whether the submitted Glue run has left WAITING/STARTING (its capacity wait)."""
        from botocore.exceptions import ClientError

        run_id = self._submitted_run_id(execution_arn)
        if run_id is None:
            return False
        if not run_id or not glue_job:
            return True
        try:
            state = self.aws("glue").get_job_run(JobName=glue_job, RunId=run_id)["JobRun"]["JobRunState"]
        except ClientError as exc:
            # The run's state cannot be read (a missing glue:GetJobRun grant): count from the
            # submission, the earlier and stricter point, rather than stop a healthy run.
            if context is not None:
                context.log.warning(f"GetJobRun {glue_job}/{run_id} failed ({exc}); timeout counted from submission")
            return True
        return state not in _CAPACITY_STATES

    def _stop(self, context, execution_arn: str, error: str, cause: str) -> None:
        from botocore.exceptions import ClientError

        context.log.warning(f"stopping Step Functions execution {execution_arn}: {cause}")
        try:
            # Stopping a .sync task makes Step Functions stop the Glue job run as well.
            self.stepfunctions.stop_execution(
                executionArn=execution_arn, error=error[:_STOP_ERROR_MAX], cause=cause[:_STOP_CAUSE_MAX]
            )
        except ClientError as exc:
            # The execution may have ended meanwhile; the original reason still matters more.
            context.log.warning(f"could not stop {execution_arn}: {exc}")

    def _history_details(self, execution_arn: str) -> dict[str, str]:
        """The Glue JobRunId and the Glue task's error, read from the execution history."""
        details: dict[str, str] = {}
        token = None
        while True:
            kwargs: dict[str, Any] = {"executionArn": execution_arn, "maxResults": 1000, "includeExecutionData": True}
            if token:
                kwargs["nextToken"] = token
            page = self.stepfunctions.get_execution_history(**kwargs)
            for event in page.get("events", []):
                _read_history_event(event, details)
            token = page.get("nextToken")
            if not token:
                return details


def _asset_label(context) -> str:
    """The asset(s) the step materializes, or the op name outside assets."""
    if context.has_assets_def:
        return ",".join(sorted(key.to_user_string() for key in context.selected_asset_keys))
    return context.op_def.name


def _parse_json(text: str | None) -> Any:
    if not text:
        return None
    try:
        return json.loads(text)
    except ValueError:
        return None


def _read_history_event(event: dict, details: dict[str, str]) -> None:
    """Collect the JobRunId and task error from one history event into ``details``."""
    kind = event.get("type")
    if kind == "TaskSubmitted":
        # For glue:startJobRun(.sync) the submitted output is the StartJobRun response.
        output = _parse_json(event.get("taskSubmittedEventDetails", {}).get("output"))
        if isinstance(output, dict) and output.get("JobRunId"):
            details["job_run_id"] = output["JobRunId"]
    elif kind == "TaskSucceeded":
        # The .sync result is the final GetJobRun JobRun document.
        output = _parse_json(event.get("taskSucceededEventDetails", {}).get("output"))
        if isinstance(output, dict) and (output.get("Id") or output.get("JobRunId")):
            details["job_run_id"] = output.get("Id") or output["JobRunId"]
    elif kind in ("TaskFailed", "TaskTimedOut", "TaskStartFailed", "TaskSubmitFailed"):
        key = {
            "TaskFailed": "taskFailedEventDetails",
            "TaskTimedOut": "taskTimedOutEventDetails",
            "TaskStartFailed": "taskStartFailedEventDetails",
            "TaskSubmitFailed": "taskSubmitFailedEventDetails",
        }[kind]
        failed = event.get(key, {})
        details["task_error"] = failed.get("error", "")
        details["task_cause"] = failed.get("cause", "")
        # A failed .sync Glue run's cause is the JobRun document, with the Glue ErrorMessage;
        # an API error's cause is plain text (e.g. EntityNotFoundException's message).
        cause = _parse_json(failed.get("cause"))
        if isinstance(cause, dict):
            if cause.get("ErrorMessage"):
                details["glue_error"] = cause["ErrorMessage"]
            if cause.get("Id"):
                details["job_run_id"] = cause["Id"]
            if cause.get("JobRunState"):
                details["glue_state"] = cause["JobRunState"]
        elif failed.get("cause"):
            details["glue_error"] = failed["cause"]


def _failure_message(label: str, status: str, described: dict, details: dict[str, str], console_url: str) -> str:
    error = described.get("error") or details.get("task_error") or "unknown error"
    cause = described.get("cause") or details.get("task_cause") or ""
    if len(cause) > _CAUSE_SUMMARY_MAX:
        cause = cause[:_CAUSE_SUMMARY_MAX] + "..."
    lines = [f"{label} failed: Step Functions execution {status}: {error}"]
    if cause:
        lines.append(f"cause: {cause}")
    if details.get("glue_error"):
        state = f" ({details['glue_state']})" if details.get("glue_state") else ""
        lines.append(f"Glue error{state}: {details['glue_error']}")
    if details.get("job_run_id"):
        lines.append(f"Glue job run: {details['job_run_id']}")
    lines.append(f"execution: {console_url}")
    return "\n".join(lines)
