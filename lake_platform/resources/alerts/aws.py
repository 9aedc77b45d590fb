"""Alerts published to the SNS topic."""

from __future__ import annotations

from lake_platform.resources.alerts.base import Alerts
from lake_platform.resources.aws import AwsResource


class SnsAlerts(Alerts, AwsResource):
    """Alerts published to an SNS topic."""

    topic_arn: str

    def send(self, subject, message):
        # SNS subjects are limited to 100 printable ASCII characters.
        clean = "".join(c if 32 <= ord(c) < 127 else "?" for c in subject)[:100]
        self.aws("sns").publish(TopicArn=self.topic_arn, Subject=clean, Message=message)
