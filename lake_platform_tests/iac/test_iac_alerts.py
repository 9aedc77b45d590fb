"""Who publishes to the SNS alerts topic, and which failure each publisher reports.

Every platform Glue run goes through the state machine, so a failed run must reach the topic once
(NotifyFailure, which carries the batch context), and an execution that times out as a whole (no
Catch runs then) once, through the ExecutionsTimedOut alarm. The publishers are enumerated from
the parsed HCL of every module: SNS publish states of the state machines whose template is given
the topic, metric alarms whose alarm_actions name it, and EventBridge targets on it. Dagster's own
alerts (lake_platform/sensors) report other events: a batch whose retries stopped, stragglers.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from lake_platform_tests.iac.test_iac_terraform import (
    MODULES,
    TF,
    load_dir,
    module_dirs,
    named,
    policy_statements,
    resources,
)

pytestmark = pytest.mark.iac

ROOT_TOPIC = "${module.monitoring.alerts_topic_arn}"
FAILED_RUN = "a failed Glue run"
TIMED_OUT_EXECUTION = "an execution that times out"
# (namespace, metric) of an alarm -> the failure it reports; other alarms (ECS services, the
# landing DLQ) report none of these.
ALARM_TRIGGERS = {
    ("AWS/States", "ExecutionsFailed"): FAILED_RUN,
    ("AWS/States", "ExecutionsTimedOut"): TIMED_OUT_EXECUTION,
}
# Error names a Catch must list to see a failed Glue run.
CATCHES_A_FAILED_RUN = {"States.ALL", "States.TaskFailed"}


@dataclass(frozen=True)
class Publisher:
    """One path to the alerts topic and the failures that take it."""

    address: str
    triggers: frozenset[str]


def topic_references() -> dict[Path, str]:
    """Module directory -> the expression that names the alerts topic inside that module."""
    refs = {TF: ROOT_TOPIC, MODULES / "monitoring": "${aws_sns_topic.alerts.arn}"}
    for call in named(load_dir(TF)["module"]).values():
        for argument, value in call.items():
            if value == ROOT_TOPIC:
                refs[(TF / call["source"]).resolve()] = f"${{var.{argument}}}"
    return refs


def _resolve_each(value: Any, key: str, instance: Any) -> Any:
    """each.key / each.value.<field> of one for_each instance (literal maps only)."""
    if value == "${each.key}":
        return key
    match = re.fullmatch(r"\$\{each\.value\.([a-z_]+)\}", str(value))
    return instance[match.group(1)] if match else value


def alarm_publishers(directory: Path, topic: str) -> list[Publisher]:
    found = []
    for (rtype, name), body in resources(load_dir(directory)).items():
        if rtype != "aws_cloudwatch_metric_alarm" or topic not in body.get("alarm_actions", []):
            continue
        for_each = body.get("for_each")
        assert for_each is None or isinstance(for_each, dict), f"{rtype}.{name}: for_each must be a literal map"
        for key, instance in (for_each or {None: {}}).items():
            metric = tuple(_resolve_each(body.get(f), key, instance) for f in ("namespace", "metric_name"))
            trigger = ALARM_TRIGGERS.get(metric)
            address = f'{rtype}.{name}["{key}"]' if key else f"{rtype}.{name}"
            found.append(Publisher(f"{directory.name}: {address}", frozenset([trigger] if trigger else [])))
    return found


def event_target_publishers(directory: Path, topic: str) -> list[Publisher]:
    module = resources(load_dir(directory))
    found = []
    for (rtype, name), body in module.items():
        if rtype != "aws_cloudwatch_event_target" or body["arn"] != topic:
            continue
        rule = re.fullmatch(r"\$\{aws_cloudwatch_event_rule\.([a-z0-9_]+)\.name\}", body["rule"])
        assert rule, f"{rtype}.{name}: rule {body['rule']}"
        pattern = str(module[("aws_cloudwatch_event_rule", rule.group(1))]["event_pattern"])
        triggers = set()
        if "aws.glue" in pattern or ("aws.states" in pattern and "FAILED" in pattern):
            triggers.add(FAILED_RUN)
        if "aws.states" in pattern and "TIMED_OUT" in pattern:
            triggers.add(TIMED_OUT_EXECUTION)
        found.append(Publisher(f"{directory.name}: {rtype}.{name}", frozenset(triggers)))
    return found


def state_machine_publishers(directory: Path, topic: str) -> list[Publisher]:
    found = []
    for (rtype, name), body in resources(load_dir(directory)).items():
        if rtype != "aws_sfn_state_machine":
            continue
        match = re.fullmatch(r'\$\{templatefile\("\$\{path\.module\}/([^"]+)", \{(.*)\}\)\}', body["definition"], re.S)
        assert match, f"{rtype}.{name}: definition is not a templatefile()"
        template = (directory / match.group(1)).read_text()
        for variable, value in re.findall(r"(\w+)\s*=\s*([\w.]+)", match.group(2)):
            template = template.replace(f"${{{variable}}}", "ALERTS" if f"${{{value}}}" == topic else "OTHER")
        states = json.loads(template)["States"]
        for state_name, state in states.items():
            publishes = state.get("Resource", "").endswith(":sns:publish")
            if publishes and state["Parameters"].get("TopicArn") == "ALERTS":
                triggers = _asl_triggers(states, state_name)
                found.append(Publisher(f"{directory.name}: {rtype}.{name} state {state_name}", triggers))
    return found


def _asl_triggers(states: dict[str, Any], target: str) -> frozenset[str]:
    """What takes an execution into `target`: a Catch of a Glue task that sees a failed run.

    No Catch sees an execution-level timeout (States.Timeout of the whole execution ends it at
    once), so no ASL state can report a timed-out execution.
    """
    for state in states.values():
        if ":glue:startJobRun" not in state.get("Resource", ""):
            continue
        for catch in state.get("Catch", []):
            if catch["Next"] == target and CATCHES_A_FAILED_RUN & set(catch["ErrorEquals"]):
                return frozenset({FAILED_RUN})
    return frozenset()


def publishers() -> list[Publisher]:
    found = []
    for directory, topic in topic_references().items():
        assert directory in module_dirs(), directory
        for enumerate_publishers in (alarm_publishers, event_target_publishers, state_machine_publishers):
            found.extend(enumerate_publishers(directory, topic))
    return found


def test_a_failed_platform_run_reaches_the_alerts_topic_once():
    taken = [p.address for p in publishers() if FAILED_RUN in p.triggers]
    assert taken == ["orchestration: aws_sfn_state_machine.glue_runner state NotifyFailure"]


def test_an_execution_that_times_out_reaches_the_alerts_topic_once():
    taken = [p.address for p in publishers() if TIMED_OUT_EXECUTION in p.triggers]
    assert taken == ['orchestration: aws_cloudwatch_metric_alarm.executions["timed-out"]']


def test_the_enumeration_sees_every_alarm_that_notifies_the_topic():
    # Every alarm_actions in the configuration names the alerts topic, so each one must be a publisher.
    tf_files = [p for d in module_dirs() for p in d.glob("*.tf")]
    alarm_actions = sum(len(re.findall(r"^\s*alarm_actions\s*=", p.read_text(), re.M)) for p in tf_files)
    alarms = {p.address.split("[")[0] for p in publishers() if "aws_cloudwatch_metric_alarm" in p.address}
    assert len(alarms) == alarm_actions > 1


def test_nothing_publishes_to_the_alerts_topic_through_eventbridge():
    statements = policy_statements(resources(load_dir(MODULES / "monitoring"), "data"), "alerts")
    services = {
        identifier
        for statement in statements.values()
        if statement["effect"] == "Allow"
        for principal in statement.get("principals", [])
        if principal["type"] == "Service"
        for identifier in principal["identifiers"]
    }
    assert services == {"cloudwatch.amazonaws.com"}
    assert not [p for p in publishers() if "aws_cloudwatch_event_target" in p.address]
