"""Sensors: landing detection (and, in AWS, registry sync)."""

from lake_platform.sensors.landing import build_landing_sensor, scan_landing

__all__ = ["build_landing_sensor", "scan_landing"]
