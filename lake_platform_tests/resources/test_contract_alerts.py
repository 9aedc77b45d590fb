"""Contract of the alerts: a JSON-lines file locally, the SNS topic in AWS (moto, read through an SQS subscription).

A person reads the same subject and message wherever the platform runs.
"""

import json

import boto3
import pytest

from lake_platform.resources.alerts.aws import SnsAlerts
from lake_platform.resources.alerts.base import Alerts
from lake_platform.resources.alerts.local import LocalAlerts

REGION = "eu-west-1"


class LocalInbox:
    """The alerts file, read back."""

    def __init__(self, path):
        self.alerts = LocalAlerts(path=str(path))

    def received(self) -> list[tuple[str, str]]:
        return [(a["subject"], a["message"]) for a in self.alerts.read()]


class SnsInbox:
    """An SQS queue subscribed to the topic, the way an on-call tool would be."""

    def __init__(self, endpoint: str):
        sns = boto3.client("sns", region_name=REGION, endpoint_url=endpoint)
        self.sqs = boto3.client("sqs", region_name=REGION, endpoint_url=endpoint)
        topic = sns.create_topic(Name="lake-alerts")["TopicArn"]
        self.queue = self.sqs.create_queue(QueueName="alert-inbox")["QueueUrl"]
        arn = self.sqs.get_queue_attributes(QueueUrl=self.queue, AttributeNames=["QueueArn"])["Attributes"]
        sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=arn["QueueArn"])
        self.alerts = SnsAlerts(topic_arn=topic, region_name=REGION, endpoint_url=endpoint)

    def received(self) -> list[tuple[str, str]]:
        messages = self.sqs.receive_message(QueueUrl=self.queue, MaxNumberOfMessages=10, WaitTimeSeconds=1)
        bodies = [json.loads(m["Body"]) for m in messages.get("Messages", [])]
        return [(b["Subject"], b["Message"]) for b in bodies]


@pytest.fixture(params=["local", pytest.param("aws", marks=pytest.mark.aws)])
def inbox(request, tmp_path):
    """Where the alerts under contract arrive."""
    if request.param == "local":
        return LocalInbox(tmp_path / "alerts.jsonl")
    return SnsInbox(request.getfixturevalue("aws"))


def test_an_alert_arrives_with_its_subject_and_its_whole_message(inbox):
    message = "source/erp/orders failed: boom\nfull log: /var/log/lake/x.log"
    inbox.alerts.send("lake: erp.orders/20260101T000000Z failed 3 times; retries stopped", message)
    assert inbox.received() == [("lake: erp.orders/20260101T000000Z failed 3 times; retries stopped", message)]


def test_a_subject_is_one_line_of_at_most_100_printable_ascii_characters_everywhere(inbox):
    inbox.alerts.send("lake: erp.orders — café\nsecond line " + "x" * 200, "m")
    ((subject, _),) = inbox.received()
    assert subject.startswith("lake: erp.orders ? caf??second line xxx")
    assert len(subject) == 100


def test_the_interface_cannot_be_used_without_an_implementation():
    with pytest.raises(TypeError, match="_deliver"):
        Alerts()
