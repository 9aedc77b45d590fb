"""A faithful stand-in for AWS Step Functions running the platform's Glue state machine.

moto 5.2.5 cannot run ``glue:startJobRun.sync`` (see DESIGN.md), so the runner's success,
job-failure, timeout and termination paths are exercised against this fake. It implements only
the calls ``StepFunctionsGlueJobRunner`` makes, with the service's documented behaviour for the
state machine in ``terraform/modules/orchestration/state_machine.asl.json``: executions are
RUNNING while the Glue run is, then SUCCEEDED with the JobRun as ``$.glue_job_run``, or FAILED
with ``States.TaskFailed`` and the JobRun document (including Glue's ``ErrorMessage``) as cause;
the history holds TaskSubmitted (``{"JobRunId"}``) and TaskSucceeded/TaskFailed events;
StopExecution aborts the execution and the Glue run; a name is unique per state machine (same
name and input while running returns the same execution, otherwise ``ExecutionAlreadyExists``).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import subprocess
import threading
import time
from pathlib import Path
from types import SimpleNamespace

import dagster as dg
from botocore.exceptions import ClientError

from lake_platform.resources.glue_runner.aws import StepFunctionsGlueJobRunner

REGION = "eu-west-1"
PIPES_BUCKET = "lake-artifacts"
PIPES_PREFIX = "dagster-pipes/"
ALLOWED_NAME = re.compile(r"^[A-Za-z0-9_-]{1,80}$")
REPO = Path(__file__).resolve().parents[2]


def make_runner(endpoint: str, state_machine_arn: str, **fields) -> StepFunctionsGlueJobRunner:
    """A runner with test-speed polling, pointed at moto."""
    values = {
        "state_machine_arn": state_machine_arn,
        "pipes_bucket": PIPES_BUCKET,
        "pipes_prefix": PIPES_PREFIX,
        "region_name": REGION,
        "endpoint_url": endpoint,
        "initial_poll_seconds": 0.05,
        "max_poll_seconds": 0.2,
        "message_poll_seconds": 0.2,
        **fields,
    }
    return StepFunctionsGlueJobRunner(**values).use_clients(glue=RunningGlue())


class RunningGlue:
    """Glue's GetJobRun for the fake: a submitted run is RUNNING (the fake waits before submitting)."""

    def get_job_run(self, *, JobName: str, RunId: str) -> dict:
        return {"JobRun": {"Id": RunId, "JobName": JobName, "JobRunState": "RUNNING"}}


def subprocess_glue_job(argv_prefix: list[str], env: dict[str, str] | None = None):
    """A fake Glue job run: ``argv_prefix`` plus the execution's arguments, as a subprocess.

    A non-zero exit ends the run FAILED with the process's last stderr line as ErrorMessage, as
    Glue reports an uncaught Python exception; stopping the run kills the process. ``job.seen``
    keeps the decoded Pipes parameters and the process's stderr.
    """
    from dagster_pipes import decode_param

    seen: dict = {}

    def job(arguments: dict, stopped: threading.Event) -> None:
        seen["context_params"] = decode_param(arguments["--dagster-pipes-context"])
        seen["messages_params"] = decode_param(arguments["--dagster-pipes-messages"])
        argv = list(argv_prefix)
        for key, value in arguments.items():
            argv += [key, value]
        full_env = {**os.environ, "PYTHONPATH": str(REPO / "glue_scripts"), **(env or {})}
        proc = subprocess.Popen(argv, env=full_env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        while proc.poll() is None:
            if stopped.wait(0.05):
                proc.kill()
                proc.wait()
                return
        _, stderr = proc.communicate()
        seen["stderr"] = stderr
        if proc.returncode != 0:
            raise GlueRunFailed(stderr.strip().splitlines()[-1])

    job.seen = seen  # type: ignore[attr-defined]
    return job


class GlueRunFailed(Exception):
    """Raised by a fake Glue job: the run ends FAILED with this ErrorMessage."""


class FakeStepFunctions:
    """The Step Functions calls the runner makes, for the platform's state machine (see module doc).

    ``glue_job(arguments, stopped)`` plays the Glue job run; ``interrupt_on_describe`` makes the
    n-th DescribeExecution raise ``DagsterExecutionInterruptedError``, which is how Dagster's
    run termination (its SIGTERM handler) surfaces in the step's thread while the runner waits.
    """

    def __init__(self, glue_job, interrupt_on_describe: int | None = None, capacity_delay: float = 0.0):
        self.glue_job = glue_job
        self.interrupt_on_describe = interrupt_on_describe
        # How long the state machine waits (ConcurrentRunsExceeded retries) before Glue accepts the run.
        self.capacity_delay = capacity_delay
        self.meta = SimpleNamespace(region_name=REGION)
        self.executions: dict[str, dict] = {}
        self.inputs: list[dict] = []
        self.stop_calls: list[dict] = []
        self.describe_calls = 0
        self.threads: list[threading.Thread] = []

    def start_execution(self, *, stateMachineArn: str, name: str, input: str) -> dict:
        assert ALLOWED_NAME.match(name), name
        arn = f"{stateMachineArn.replace(':stateMachine:', ':execution:')}:{name}"
        existing = self.executions.get(arn)
        if existing is not None:
            if existing["input"] == input and existing["status"] == "RUNNING":
                return {"executionArn": arn}
            raise ClientError(
                {"Error": {"Code": "ExecutionAlreadyExists", "Message": f"Execution Already Exists: '{arn}'"}},
                "StartExecution",
            )
        payload = json.loads(input)
        self.inputs.append(payload)
        execution = {"arn": arn, "input": input, "status": "RUNNING", "stopped": threading.Event(), "events": []}
        self.executions[arn] = execution
        thread = threading.Thread(target=self._run_glue, args=(execution, payload), daemon=True)
        self.threads.append(thread)
        thread.start()
        return {"executionArn": arn}

    def _run_glue(self, execution: dict, payload: dict) -> None:
        run_id = "jr_" + hashlib.sha256(execution["arn"].encode()).hexdigest()
        job_run = {"Id": run_id, "JobName": payload["glue_job_name"], "Arguments": payload["arguments"]}
        if execution["stopped"].wait(self.capacity_delay):
            return
        execution["events"].append(
            {"type": "TaskSubmitted", "taskSubmittedEventDetails": {"output": json.dumps({"JobRunId": run_id})}}
        )
        try:
            self.glue_job(payload["arguments"], execution["stopped"])
        except Exception as exc:  # Glue ends a run whose script raised as FAILED, with the message.
            message = str(exc) if isinstance(exc, GlueRunFailed) else f"{type(exc).__name__}: {exc}"
            cause = json.dumps({**job_run, "JobRunState": "FAILED", "ErrorMessage": message})
            execution["events"].append(
                {"type": "TaskFailed", "taskFailedEventDetails": {"error": "States.TaskFailed", "cause": cause}}
            )
            if execution["status"] == "RUNNING":
                execution.update(status="FAILED", error="States.TaskFailed", cause=cause)
            return
        if execution["status"] == "RUNNING":
            output = {**job_run, "JobRunState": "SUCCEEDED"}
            execution["events"].append(
                {"type": "TaskSucceeded", "taskSucceededEventDetails": {"output": json.dumps(output)}}
            )
            execution.update(status="SUCCEEDED", output=json.dumps({**payload, "glue_job_run": output}))

    def describe_execution(self, *, executionArn: str) -> dict:
        self.describe_calls += 1
        if self.interrupt_on_describe and self.describe_calls >= self.interrupt_on_describe:
            raise dg.DagsterExecutionInterruptedError()
        execution = self.executions[executionArn]
        return {k: execution[k] for k in ("status", "error", "cause", "output") if k in execution} | {
            "executionArn": executionArn
        }

    def get_execution_history(
        self, *, executionArn: str, maxResults: int, includeExecutionData: bool, nextToken=None, reverseOrder=False
    ):
        events = list(self.executions[executionArn]["events"])
        return {"events": events[::-1] if reverseOrder else events}

    def stop_execution(self, *, executionArn: str, error: str, cause: str) -> dict:
        self.stop_calls.append({"executionArn": executionArn, "error": error, "cause": cause})
        execution = self.executions[executionArn]
        if execution["status"] == "RUNNING":
            execution.update(status="ABORTED", error=error, cause=cause)
            execution["stopped"].set()
        return {"stopDate": time.time()}

    def join(self) -> None:
        """Wait for every fake Glue run to end."""
        for thread in self.threads:
            thread.join(timeout=10)
