"""Resources behind small interfaces, each with a local and an AWS implementation."""

from __future__ import annotations

import dagster as dg

from lake_platform.resources.alerts.aws import SnsAlerts
from lake_platform.resources.alerts.base import Alerts
from lake_platform.resources.alerts.local import LocalAlerts
from lake_platform.resources.catalog import LakeCatalog
from lake_platform.resources.config_store.aws import DynamoConfigStore
from lake_platform.resources.config_store.base import ConfigStore
from lake_platform.resources.config_store.local import LocalConfigStore
from lake_platform.resources.glue_runner.base import GlueJobRunner
from lake_platform.resources.glue_runner.local import LocalGlueJobRunner
from lake_platform.resources.landing_queue import LandingQueue
from lake_platform.resources.object_store.aws import S3ObjectStore
from lake_platform.resources.object_store.base import ObjectStore
from lake_platform.resources.object_store.local import LocalObjectStore
from lake_platform.resources.partition_registry.aws import DynamoPartitionRegistry
from lake_platform.resources.partition_registry.base import PartitionRegistry
from lake_platform.resources.partition_registry.local import SqlitePartitionRegistry
from lake_platform.resources.query_engine.base import QueryEngine
from lake_platform.resources.query_engine.local import DuckDBQueryEngine
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
    "LakeCatalog",
    "LandingQueue",
    "ObjectStore",
    "PartitionRegistry",
    "QueryEngine",
    "resources_for_env",
]


def _local_resources() -> dict[str, dg.ConfigurableResource]:
    home = lake_home()
    buckets = str(home / "buckets")
    catalog = LakeCatalog(uri=catalog_uri("local"))
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
            scripts_dir=str(glue_scripts_dir()),
            bucket_root=buckets,
            buckets=list(LOCAL_BUCKETS.values()),
            log_dir=str(home / "logs"),
        ),
        "lake_catalog": catalog,
        "query_engine": DuckDBQueryEngine(catalog=catalog),
        "alerts": LocalAlerts(path=str(home / "alerts.jsonl")),
    }


def _aws_resources() -> dict[str, dg.ConfigurableResource]:
    require_aws_settings()
    from lake_platform.resources.glue_runner.aws import StepFunctionsGlueJobRunner
    from lake_platform.resources.query_engine.aws import AthenaQueryEngine

    # No endpoint is passed: boto3 reads AWS_ENDPOINT_URL itself when a client is first made
    # (a moto server in tests), so nothing here reads the environment while definitions load.
    region = dg.EnvVar("AWS_REGION")
    return {
        "object_store": S3ObjectStore(
            region_name=region,
            raw_bucket=dg.EnvVar("LAKE_RAW_BUCKET"),
            source_bucket=dg.EnvVar("LAKE_SOURCE_BUCKET"),
            target_bucket=dg.EnvVar("LAKE_TARGET_BUCKET"),
        ),
        "config_store": DynamoConfigStore(table_name=dg.EnvVar("LAKE_CONFIGS_TABLE"), region_name=region),
        "partition_registry": DynamoPartitionRegistry(
            table_name=dg.EnvVar("LAKE_PARTITIONS_TABLE"), region_name=region
        ),
        "glue_runner": StepFunctionsGlueJobRunner(
            state_machine_arn=dg.EnvVar("LAKE_STATE_MACHINE_ARN"),
            pipes_bucket=dg.EnvVar("LAKE_PIPES_BUCKET"),
            pipes_prefix=dg.EnvVar("LAKE_PIPES_PREFIX"),
            glue_job_prefix=dg.EnvVar("LAKE_GLUE_JOB_PREFIX"),
            database_prefix=dg.EnvVar("LAKE_GLUE_DATABASE_PREFIX"),
            region_name=region,
        ),
        "query_engine": AthenaQueryEngine(
            workgroup=dg.EnvVar("LAKE_ATHENA_WORKGROUP"),
            database_prefix=dg.EnvVar("LAKE_GLUE_DATABASE_PREFIX"),
            region_name=region,
        ),
        "lake_catalog": LakeCatalog(uri=catalog_uri("aws")),
        "landing_queue": LandingQueue(queue_url=dg.EnvVar("LAKE_LANDING_QUEUE_URL"), region_name=region),
        "alerts": SnsAlerts(topic_arn=dg.EnvVar("LAKE_ALERTS_TOPIC_ARN"), region_name=region),
    }


def resources_for_env(env: str | None = None) -> dict[str, dg.ConfigurableResource]:
    """The resources for ``env`` (default: ``LAKE_ENV``). The one place an environment is chosen."""
    env = env or lake_env()
    return _aws_resources() if env == "aws" else _local_resources()
