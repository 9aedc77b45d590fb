"""Alerts that need a person: retries given up, runs stuck past their timeout.

The interface is in ``base``; ``local`` holds the embedded default and ``aws`` the AWS implementation.
"""

from lake_platform.resources.alerts.base import Alerts

__all__ = ["Alerts"]
