"""Alerts appended to a JSON-lines file: the embedded default."""

from __future__ import annotations

import json
from pathlib import Path

from lake_platform.resources.alerts.base import Alerts
from lake_platform.resources.partition_registry.base import utc_now


class LocalAlerts(Alerts):
    """Alerts as JSON lines in a file (the embedded default)."""

    path: str

    def _deliver(self, subject, message):
        Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        with open(self.path, "a", encoding="utf-8") as out:
            out.write(json.dumps({"at": utc_now(), "subject": subject, "message": message}) + "\n")

    def read(self) -> list[dict]:
        """Every alert sent so far, oldest first."""
        path = Path(self.path)
        if not path.exists():
            return []
        return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
