"""Alerts published to the SNS topic."""

from __future__ import annotations

from lake_platform.resources.alerts.base import Alerts
from lake_platform.resources.aws import AwsResource


class SnsAlerts(Alerts, AwsResource):
    """Alerts published to an SNS topic."""

    topic_arn: str

    def _deliver(self, subject, message):
        self.aws("sns").publish(TopicArn=self.topic_arn, Subject=subject, Message=message)
