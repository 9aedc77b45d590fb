"""Sensors: landing detection, the sync of registry batches into dynamic partitions, and the
mirror of batch progress into the registry."""

import dagster as dg

from lake_platform.sensors.batch_status import build_batch_status_sensor
from lake_platform.sensors.landing import build_landing_sensor, scan_landing
from lake_platform.sensors.registry_sync import build_registry_sync_sensor

__all__ = [
    "build_automation_sensor",
    "build_batch_status_sensor",
    "build_landing_sensor",
    "build_registry_sync_sensor",
    "scan_landing",
]


def build_automation_sensor() -> dg.AutomationConditionSensorDefinition:
    """The sensor that evaluates the target assets' ``AutomationCondition.eager()``, running by default.

    The landing sensor runs a batch's whole job (raw -> source -> targets) in one run; this
    sensor is what makes a target follow a source materialized on its own (a re-ingest from the
    UI, a backfill of the source layer) without anyone launching the target.
    """
    return dg.AutomationConditionSensorDefinition(
        "lake_automation_sensor",
        target=dg.AssetSelection.all(),
        default_status=dg.DefaultSensorStatus.RUNNING,
        minimum_interval_seconds=30,
        description="Materializes target partitions whose source partition was updated without them.",
    )
