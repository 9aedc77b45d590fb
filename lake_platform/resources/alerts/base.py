"""The alerts interface: where the platform tells people a batch needs them."""

from __future__ import annotations

from abc import abstractmethod

import dagster as dg


class Alerts(dg.ConfigurableResource):
    """Where batch alerts go."""

    @abstractmethod
    def send(self, subject: str, message: str) -> None:
        """Deliver one alert; ``subject`` is one line naming the table and batch."""
