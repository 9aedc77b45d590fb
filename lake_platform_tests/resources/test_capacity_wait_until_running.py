"""Issue 21 item 14: the capacity wait lasts until the Glue run is RUNNING (a submitted FLEX run
waits for workers in WAITING/STARTING), and the state machine keeps retrying
ConcurrentRunsExceeded at least as long as the runner waits for capacity."""

from __future__ import annotations

import json
import time
from pathlib import Path

from lake_platform.resources.glue_runner.aws import StepFunctionsGlueJobRunner
from lake_platform_tests.resources.fake_step_functions import FakeStepFunctions, make_runner
from lake_platform_tests.resources.test_step_functions_runner import (
    BATCH,
    JOB,
    failure_text,
    fast_pipes_close,  # noqa: F401  (fixture)
    hanging_job,
    materialize_with,
    pipes_bucket,  # noqa: F401  (fixture)
)

ARN = "arn:aws:states:eu-west-1:123456789012:stateMachine:m"
ASL = Path(__file__).resolve().parents[2] / "terraform" / "modules" / "orchestration" / "state_machine.asl.json"


class SlowCapacityGlue:
    """GetJobRun of a submitted run that Glue keeps WAITING for ``wait`` seconds, then RUNNING."""

    def __init__(self, wait: float):
        self.wait = wait
        self.first_seen: dict[str, float] = {}
        self.calls = 0

    def get_job_run(self, *, JobName: str, RunId: str) -> dict:
        self.calls += 1
        seen = self.first_seen.setdefault(RunId, time.monotonic())
        state = "WAITING" if time.monotonic() - seen < self.wait else "RUNNING"
        return {"JobRun": {"Id": RunId, "JobName": JobName, "JobRunState": state}}


def test_a_submitted_run_waiting_for_workers_counts_as_capacity_wait_not_run_time(pipes_bucket):  # noqa: F811
    glue = SlowCapacityGlue(wait=60)
    fake = FakeStepFunctions(hanging_job)
    runner = make_runner(pipes_bucket, ARN, capacity_wait_seconds=0.8, timeout_grace_seconds=0.3)
    runner.use_clients(stepfunctions=fake, glue=glue)
    result, _ = materialize_with(runner, timeout_minutes=0)
    fake.join()
    text = failure_text(result)
    assert f"Glue job {JOB} for erp.orders batch {BATCH} waited more than capacity_wait_seconds=0.8" in text
    assert "for the Glue run to be RUNNING" in text
    assert fake.stop_calls[0]["error"] == "DagsterCapacityTimeout"
    (execution,) = fake.executions.values()
    assert any(e["type"] == "TaskSubmitted" for e in execution["events"]), "submitted, yet still waiting"
    assert glue.calls >= 1


def test_the_job_timeout_counts_from_the_running_state_not_the_submission(pipes_bucket):  # noqa: F811
    glue = SlowCapacityGlue(wait=1.2)
    fake = FakeStepFunctions(hanging_job)
    runner = make_runner(pipes_bucket, ARN, capacity_wait_seconds=60, timeout_grace_seconds=0.5)
    runner.use_clients(stepfunctions=fake, glue=glue)
    started = time.monotonic()
    result, _ = materialize_with(runner, timeout_minutes=0)
    fake.join()
    assert "exceeded timeout_minutes=0 (+0.5s grace) counted from the Glue run's start" in failure_text(result)
    assert fake.stop_calls[0]["error"] == "DagsterTimeout"
    # Counted from the submission, the 0.5 s deadline would have ended the wait during WAITING.
    assert time.monotonic() - started >= 1.2 + 0.5


def _retry_budget_seconds(rule: dict) -> float:
    """Total wait of a Step Functions retrier over all its attempts (no jitter)."""
    interval, rate = rule.get("IntervalSeconds", 1), rule.get("BackoffRate", 2.0)
    cap = rule.get("MaxDelaySeconds", float("inf"))
    return sum(min(interval * rate**k, cap) for k in range(rule.get("MaxAttempts", 3)))


def test_the_state_machine_retries_concurrent_runs_at_least_as_long_as_the_runner_waits_for_capacity():
    retry = json.loads(ASL.read_text().replace("${sns_topic_arn}", "arn"))["States"]["RunGlueJob"]["Retry"]
    (rule,) = [r for r in retry if "Glue.ConcurrentRunsExceededException" in r["ErrorEquals"]]
    capacity = StepFunctionsGlueJobRunner.model_fields["capacity_wait_seconds"].default
    budget = _retry_budget_seconds(rule)
    assert capacity <= budget <= capacity + 600, (budget, capacity)
    # Throttling and internal errors keep a short budget: they are not a capacity wait.
    (other,) = [r for r in retry if "Glue.ThrottlingException" in r["ErrorEquals"]]
    assert _retry_budget_seconds(other) < 3600
