"""Resources behind small interfaces, each with a local and an AWS implementation."""

from __future__ import annotations

import dagster as dg

from lake_platform.resources.alerts import Alerts, LocalAlerts, SnsAlerts
from lake_platform.resources.config_store import ConfigStore, DynamoConfigStore, LocalConfigStore
from lake_platform.resources.glue_runner import GlueJobRunner, LocalGlueJobRunner
from lake_platform.resources.object_store import LocalObjectStore, ObjectStore, S3ObjectStore
from lake_platform.resources.partition_registry import (
    DynamoPartitionRegistry,
    PartitionRegistry,
    SqlitePartitionRegistry,
)
from lake_platform.resources.query_engine import DuckDBQueryEngine, QueryEngine
from lake_platform.settings import (
    LOCAL_BUCKETS,
    catalog_uri,
    config_dir,
    glue_scripts_dir,
    lake_env,
    lake_home,
    require_aws_settings,
)

__all__ = [
    "Alerts",
    "ConfigStore",
    "GlueJobRunner",
    "ObjectStore",
    "PartitionRegistry",
    "QueryEngine",
    "resources_for_env",
]


def _local_resources() -> dict[str, dg.ConfigurableResource]:
    home = lake_home()
    buckets = str(home / "buckets")
    catalog = catalog_uri("local")
    return {
        "object_store": LocalObjectStore(
            root=buckets,
            raw_bucket=LOCAL_BUCKETS["raw"],
            source_bucket=LOCAL_BUCKETS["source"],
            target_bucket=LOCAL_BUCKETS["target"],
        ),
        "config_store": LocalConfigStore(config_dir=str(config_dir())),
        "partition_registry": SqlitePartitionRegistry(path=str(home / "registry.sqlite")),
        "glue_runner": LocalGlueJobRunner(
            catalog_uri=catalog,
            scripts_dir=str(glue_scripts_dir()),
            bucket_root=buckets,
            buckets=list(LOCAL_BUCKETS.values()),
            log_dir=str(home / "logs"),
        ),
        "query_engine": DuckDBQueryEngine(catalog_uri=catalog),
        "alerts": LocalAlerts(path=str(home / "alerts.jsonl")),
    }


def _aws_resources() -> dict[str, dg.ConfigurableResource]:
    require_aws_settings()
    from lake_platform.resources.athena import AthenaQueryEngine
    from lake_platform.resources.step_functions import StepFunctionsGlueJobRunner
    from lake_platform.sensors.landing_queue import LandingQueue

    region = dg.EnvVar("AWS_REGION")
    endpoint = dg.EnvVar("AWS_ENDPOINT_URL").get_value() or None
    return {
        "object_store": S3ObjectStore(
            region_name=region,
            endpoint_url=endpoint,
            raw_bucket=dg.EnvVar("LAKE_RAW_BUCKET"),
            source_bucket=dg.EnvVar("LAKE_SOURCE_BUCKET"),
            target_bucket=dg.EnvVar("LAKE_TARGET_BUCKET"),
        ),
        "config_store": DynamoConfigStore(
            table_name=dg.EnvVar("LAKE_CONFIGS_TABLE"), region_name=region, endpoint_url=endpoint
        ),
        "partition_registry": DynamoPartitionRegistry(
            table_name=dg.EnvVar("LAKE_PARTITIONS_TABLE"), region_name=region, endpoint_url=endpoint
        ),
        "glue_runner": StepFunctionsGlueJobRunner(
            state_machine_arn=dg.EnvVar("LAKE_STATE_MACHINE_ARN"),
            pipes_bucket=dg.EnvVar("LAKE_PIPES_BUCKET"),
            pipes_prefix=dg.EnvVar("LAKE_PIPES_PREFIX"),
            region_name=region,
            endpoint_url=endpoint,
        ),
        "query_engine": AthenaQueryEngine(
            workgroup=dg.EnvVar("LAKE_ATHENA_WORKGROUP"), region_name=region, endpoint_url=endpoint
        ),
        "landing_queue": LandingQueue(
            queue_url=dg.EnvVar("LAKE_LANDING_QUEUE_URL"), region_name=region, endpoint_url=endpoint
        ),
        "alerts": SnsAlerts(topic_arn=dg.EnvVar("LAKE_ALERTS_TOPIC_ARN"), region_name=region, endpoint_url=endpoint),
    }


def resources_for_env(env: str | None = None) -> dict[str, dg.ConfigurableResource]:
    """The resources for ``env`` (default: ``LAKE_ENV``). The one place an environment is chosen."""
    env = env or lake_env()
    return _aws_resources() if env == "aws" else _local_resources()
