"""Sensors: landing detection, and the sync of registry batches into dynamic partitions."""

from lake_platform.sensors.landing import build_landing_sensor, scan_landing
from lake_platform.sensors.registry_sync import build_registry_sync_sensor

__all__ = ["build_landing_sensor", "build_registry_sync_sensor", "scan_landing"]
