"""The Step Functions definition (terraform/modules/orchestration/state_machine.asl.json).

Checks the template statically (states, integrations, retries, catch) and runs the failure
path in moto's ASL interpreter: moto has no Glue job to start, so the RunGlueJob task fails,
which must publish to SNS and end the execution FAILED with the Glue error and cause.
"""

from __future__ import annotations

import json
import re
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.iac

REPO = Path(__file__).resolve().parents[2]
ORCHESTRATION = REPO / "terraform" / "modules" / "orchestration"
TEMPLATE = ORCHESTRATION / "state_machine.asl.json"
TOPIC = "arn:aws:sns:eu-west-1:123456789012:lake-platform-dev-alerts"

# What the Dagster runner sends as execution input.
RUNNER_INPUT = {
    "glue_job_name": "files-spark-ingest-default",
    "arguments": {
        "--config_name": "erp",
        "--table_name": "orders",
        "--batch_id": "20260101T000000Z",
        "--dagster-pipes-context": "e30=",
        "--dagster-pipes-messages": "e30=",
    },
    "worker_type": "G.1X",
    "number_of_workers": 2,
    "timeout_minutes": 30,
}

TRANSIENT_GLUE_ERRORS = {
    "Glue.ConcurrentRunsExceededException",
    "Glue.InternalServiceException",
    "Glue.ThrottlingException",
}


def render(topic_arn: str = TOPIC) -> dict:
    """Render the template the way templatefile() does for its only variable."""
    text = TEMPLATE.read_text()
    return json.loads(text.replace("${sns_topic_arn}", topic_arn))


def test_template_variables_are_exactly_those_terraform_passes():
    placeholders = set(re.findall(r"\$\{([^}]*)\}", TEMPLATE.read_text()))
    assert placeholders == {"sns_topic_arn"}
    main = (ORCHESTRATION / "main.tf").read_text()
    assert 'templatefile("${path.module}/state_machine.asl.json", {' in main
    assert re.search(r"sns_topic_arn\s*=\s*var\.sns_topic_arn", main)


def test_rendered_definition_is_valid_json_with_the_agreed_states():
    asl = render()
    assert asl["StartAt"] == "RunGlueJob"
    states = asl["States"]
    assert set(states) == {"RunGlueJob", "NotifyFailure", "Failed", "Succeeded"}
    assert {name: s["Type"] for name, s in states.items()} == {
        "RunGlueJob": "Task",
        "NotifyFailure": "Task",
        "Failed": "Fail",
        "Succeeded": "Succeed",
    }


def test_every_transition_targets_an_existing_state_and_every_state_is_reachable():
    states = render()["States"]
    edges = {name: ({s.get("Next")} | {c["Next"] for c in s.get("Catch", [])}) - {None} for name, s in states.items()}
    for name, targets in edges.items():
        assert targets <= set(states), (name, targets)
    reachable, todo = set(), ["RunGlueJob"]
    while todo:
        name = todo.pop()
        if name not in reachable:
            reachable.add(name)
            todo.extend(edges[name])
    assert reachable == set(states)


def test_run_glue_job_uses_the_sync_integration_with_the_runner_input():
    task = render()["States"]["RunGlueJob"]
    assert task["Resource"] == "arn:aws:states:::glue:startJobRun.sync"
    assert task["Parameters"] == {
        "JobName.$": "$.glue_job_name",
        "Arguments.$": "$.arguments",
        "WorkerType.$": "$.worker_type",
        "NumberOfWorkers.$": "$.number_of_workers",
        "Timeout.$": "$.timeout_minutes",
    }
    assert task["Next"] == "Succeeded"
    # The job run result must not overwrite the input (the Catch still needs it).
    assert task["ResultPath"] not in (None, "$")


def test_transient_glue_errors_are_retried_with_exponential_backoff():
    retry = render()["States"]["RunGlueJob"]["Retry"]
    transient = [r for r in retry if TRANSIENT_GLUE_ERRORS & set(r["ErrorEquals"])]
    assert TRANSIENT_GLUE_ERRORS <= {e for r in transient for e in r["ErrorEquals"]}
    for rule in transient:
        assert rule["BackoffRate"] > 1 and rule["IntervalSeconds"] >= 1 and rule["MaxAttempts"] >= 3
    for r in retry:
        assert "States.ALL" not in r["ErrorEquals"], "a failed job run must not be re-run blindly"
        assert "States.TaskFailed" not in r["ErrorEquals"]


def test_any_failure_is_caught_notified_on_sns_and_fails_with_the_glue_error():
    states = render()["States"]
    (catch,) = states["RunGlueJob"]["Catch"]
    assert catch == {"ErrorEquals": ["States.ALL"], "ResultPath": "$.error", "Next": "NotifyFailure"}
    notify = states["NotifyFailure"]
    assert notify["Resource"] == "arn:aws:states:::sns:publish"
    assert notify["Parameters"]["TopicArn"] == TOPIC
    assert "Message.$" in notify["Parameters"]
    assert notify["ResultPath"] is None, "the publish result must not replace $.error"
    assert notify["Next"] == "Failed"
    assert all(c["Next"] == "Failed" and c["ResultPath"] != "$.error" for c in notify.get("Catch", []))
    assert states["Failed"]["ErrorPath"] == "$.error.Error"
    assert states["Failed"]["CausePath"] == "$.error.Cause"


def test_state_machine_role_allows_exactly_the_integrations_the_definition_uses():
    main = (ORCHESTRATION / "main.tf").read_text()
    for action in ("glue:StartJobRun", "glue:GetJobRun", "glue:GetJobRuns", "glue:BatchStopJobRun", "sns:Publish"):
        assert f'"{action}"' in main, action
    assert "resources = local.glue_job_arns" in main
    assert 'type     = "STANDARD"' in main, ".sync integrations need a STANDARD state machine"


def test_failure_path_runs_in_moto_publishes_to_sns_and_fails_with_the_glue_error():
    import boto3
    from moto import mock_aws

    with mock_aws(config={"stepfunctions": {"execute_state_machine": True}}):
        region = "eu-west-1"
        sns = boto3.client("sns", region_name=region)
        sqs = boto3.client("sqs", region_name=region)
        sfn = boto3.client("stepfunctions", region_name=region)
        topic = sns.create_topic(Name="alerts")["TopicArn"]
        queue = sqs.create_queue(QueueName="alerts")["QueueUrl"]
        queue_arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=queue_arn)
        machine = sfn.create_state_machine(
            name="glue-runner",
            definition=json.dumps(render(topic)),
            roleArn="arn:aws:iam::123456789012:role/sfn",
        )["stateMachineArn"]

        execution = sfn.start_execution(stateMachineArn=machine, name="run-1", input=json.dumps(RUNNER_INPUT))
        deadline = time.monotonic() + 30
        while True:
            described = sfn.describe_execution(executionArn=execution["executionArn"])
            if described["status"] != "RUNNING" or time.monotonic() > deadline:
                break
            time.sleep(0.1)

        assert described["status"] == "FAILED"
        assert described["error"].startswith("Glue.")
        assert "files-spark-ingest-default" in described["cause"]

        history = sfn.get_execution_history(executionArn=execution["executionArn"])["events"]
        scheduled = [
            json.loads(e["taskScheduledEventDetails"]["parameters"]) for e in history if e["type"] == "TaskScheduled"
        ]
        assert scheduled[0] == {
            "JobName": "files-spark-ingest-default",
            "Arguments": RUNNER_INPUT["arguments"],
            "WorkerType": "G.1X",
            "NumberOfWorkers": 2,
            "Timeout": 30,
        }
        entered = [e["stateEnteredEventDetails"]["name"] for e in history if "stateEnteredEventDetails" in e]
        assert entered == ["RunGlueJob", "NotifyFailure", "Failed"]

        messages = sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10)["Messages"]
        notification = json.loads(messages[0]["Body"])
        body = json.loads(notification["Message"])
        assert body["glue_job_name"] == "files-spark-ingest-default"
        assert body["arguments"]["--config_name"] == "erp"
        assert body["error"]["Error"] == described["error"]
