"""Alerts published to the SNS topic."""

from __future__ import annotations

from pydantic import PrivateAttr

from lake_platform.resources.alerts.base import Alerts
from lake_platform.resources.aws import lazy_client


class SnsAlerts(Alerts):
    """Alerts published to an SNS topic."""

    topic_arn: str
    region_name: str
    endpoint_url: str | None = None
    _clients: dict = PrivateAttr(default_factory=dict)

    def send(self, subject, message):
        # SNS subjects are limited to 100 printable ASCII characters.
        clean = "".join(c if 32 <= ord(c) < 127 else "?" for c in subject)[:100]
        lazy_client(self, "sns").publish(TopicArn=self.topic_arn, Subject=clean, Message=message)
