"""Alerts that need a person: retries given up, runs stuck past their timeout.

In AWS they go to the platform's SNS topic (the one CloudWatch alarms use, so one subscription
sees both). Locally they are appended to ``LAKE_HOME/alerts.jsonl``, where ``lake doctor`` and
a person can read them.
"""

from __future__ import annotations

import json
from pathlib import Path

import dagster as dg
from pydantic import PrivateAttr

from lake_platform.resources.aws import lazy_client
from lake_platform.resources.partition_registry import utc_now


class Alerts(dg.ConfigurableResource):
    """Where batch alerts go."""

    def send(self, subject: str, message: str) -> None:
        """Deliver one alert; ``subject`` is one line naming the table and batch."""
        raise NotImplementedError


class LocalAlerts(Alerts):
    """Alerts as JSON lines in a file (the embedded default)."""

    path: str

    def send(self, subject, message):
        Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        with open(self.path, "a", encoding="utf-8") as out:
            out.write(json.dumps({"at": utc_now(), "subject": subject, "message": message}) + "\n")

    def read(self) -> list[dict]:
        """Every alert sent so far, oldest first."""
        path = Path(self.path)
        if not path.exists():
            return []
        return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


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
