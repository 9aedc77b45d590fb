"""The alerts interface: where the platform tells people a batch needs them."""

from __future__ import annotations

from abc import abstractmethod

import dagster as dg


class Alerts(dg.ConfigurableResource):
    """Where batch alerts go."""

    def send(self, subject: str, message: str) -> None:
        """Deliver one alert; ``subject`` is one line naming the table and batch.

        Every implementation delivers the same subject: SNS's rule (at most 100 printable ASCII
        characters, others shown as ``?``), so what a person reads does not depend on where.
        """
        self._deliver("".join(c if 32 <= ord(c) < 127 else "?" for c in subject)[:100], message)

    @abstractmethod
    def _deliver(self, subject: str, message: str) -> None:
        """Deliver one alert whose subject is already clean."""
