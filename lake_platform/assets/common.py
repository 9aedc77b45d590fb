"""What the layer builders share: check names, partitioned checks, pools and running a Glue job for a batch."""

from collections.abc import Callable
from dataclasses import dataclass

import dagster as dg

from lake_glue import lineage as derivation
from lake_glue.args import IngestArgs, JobArgs, PrepareArgs
from lake_glue.config import IngestConfig, PrepareConfig, TableConfig
from lake_platform.layout import (
    validate_batch_id,
)
from lake_platform.resources import ConfigStore, GlueJobRunner, LakeCatalog, ObjectStore, PartitionRegistry
from lake_platform.resources.partition_registry.base import BatchRecord

RECONCILE_CHECK = "landed_rows_reconcile"
PK_CHECK = "primary_key_unique"
UNDECLARED_CHECK = "no_undeclared_fields"
# Reported by the ingest job itself, before it commits (see lake_glue/ingest_job.py).
ACCEPTANCE_CHECK = "acceptance_rules"
DUPLICATE_CHECK = "not_a_duplicate_delivery"
LINEAGE_HINT = (
    "\n\nWhere each column comes from: the Columns list below; without Dagster,"
    " `lake lineage {table}` or the page `lake docs` writes (section `#{table}`)."
)


def batch_check(name: str, key: dg.AssetKey, pdef: dg.PartitionsDefinition, **kwargs) -> dg.AssetCheckSpec:
    """A check partitioned like its asset: evaluated and shown per batch, so one batch's failed
    run never marks another batch's checks.

    Partitioned checks are a preview feature of Dagster 1.13; the platform opts in knowingly, so
    its warning is not repeated on every definitions load.
    """
    import warnings

    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", category=dg.PreviewWarning)
        return dg.AssetCheckSpec(name, asset=key, partitions_def=pdef, **kwargs)


def table_pool(database: str, table_name: str) -> str:
    """The concurrency pool of one lake table: runs that write it queue instead of racing.

    Commits are conflict-checked anyway; the pool keeps a backfill from spending its time on
    re-merges after lost commits.
    """
    return f"lake_table.{database}.{table_name}"


def builtin_columns(layer: str, table: TableConfig) -> list[dg.TableColumn]:
    """The lineage and partition columns the platform adds, marked as such."""
    return [
        dg.TableColumn(name=name, type=type_name, description=text, tags={"lake/column": text.split(":", 1)[0]})
        for name, type_name, text in derivation.builtin_columns(layer, table)
    ]


def metadata_value(result: dg.MaterializeResult, key: str, default=None):
    """One metadata value of a job's result, unwrapped from its Dagster metadata type."""
    value = (result.metadata or {}).get(key, default)
    return getattr(value, "value", value)


def run_glue_job(
    context: dg.AssetExecutionContext,
    *,
    config: IngestConfig | PrepareConfig,
    table_name: str,
    batch_id: str,
    glue_runner: GlueJobRunner,
    lake_catalog: LakeCatalog,
    config_store: ConfigStore,
    object_store: ObjectStore,
    extras: dict | None = None,
) -> dg.MaterializeResult:
    """Run the config's Glue job for one table and batch and turn its report into a result."""
    base = JobArgs(
        config_name=config.config_name,
        table_name=table_name,
        batch_id=batch_id,
        config_source=config_store.job_config_source(),
        catalog=lake_catalog.uri,
        database_prefix=glue_runner.database_prefix,
    )
    job_args: JobArgs
    if isinstance(config, IngestConfig):
        job_args = IngestArgs(
            **vars(base),
            raw_bucket=object_store.raw_bucket,
            source_bucket=object_store.source_bucket,
            object_listing=object_store.job_listing,
        )
    else:
        job_args = PrepareArgs(**vars(base), target_bucket=object_store.target_bucket)
    invocation = glue_runner.run(
        context,
        job_name=config.etl_job,
        arguments=job_args.glue_arguments(),
        timeout_minutes=config.job_settings.timeout_minutes,
        worker_type=config.job_settings.worker_type,
        number_of_workers=config.job_settings.number_of_workers,
        extras=extras,
    )
    return invocation.get_materialize_result()


def batch_of(context: dg.AssetExecutionContext) -> str:
    """The run's partition key as a batch id; a key that is not one fails with a one-line reason."""
    try:
        return validate_batch_id(context.partition_key)
    except ValueError as exc:
        raise dg.Failure(f"partition key {context.partition_key!r} is not a batch: {exc}") from None


def require_live_batch(partition_registry: PartitionRegistry, tid: str, batch_id: str) -> BatchRecord:
    """The batch's record; fails before any job starts when it is not registered or was retired."""
    record = partition_registry.get(tid, batch_id)
    if record is None:
        raise dg.Failure(f"batch {tid}/{batch_id} is not registered; materialize raw first")
    if record.status == "RETIRED":
        raise dg.Failure(f"batch {tid}/{batch_id} is retired ({record.error}); it is not processed again")
    return record


@dataclass(frozen=True)
class JobResources:
    """The resources a layer asset runs its Glue job with."""

    glue_runner: GlueJobRunner
    lake_catalog: LakeCatalog
    config_store: ConfigStore
    object_store: ObjectStore
    partition_registry: PartitionRegistry


def run_batch_job(
    context: dg.AssetExecutionContext,
    config: IngestConfig | PrepareConfig,
    table_name: str,
    tid: str,
    res: JobResources,
    extras_for: Callable[[BatchRecord], dict] | None = None,
) -> tuple[str, dg.MaterializeResult]:
    """Run the config's Glue job on the run's batch of ingest table ``tid``: (batch id, result).

    A batch that is not registered, or was retired, fails before any job starts. ``extras_for``
    turns the batch's registry record into the job's Pipes extras.
    """
    batch_id = batch_of(context)
    record = require_live_batch(res.partition_registry, tid, batch_id)
    result = run_glue_job(
        context,
        config=config,
        table_name=table_name,
        batch_id=batch_id,
        glue_runner=res.glue_runner,
        lake_catalog=res.lake_catalog,
        config_store=res.config_store,
        object_store=res.object_store,
        extras=extras_for(record) if extras_for else None,
    )
    return batch_id, result


def table_metadata(
    context: dg.AssetExecutionContext,
    result: dg.MaterializeResult,
    *,
    rows: int,
    table_name: str,
    uri_key: str,
    schema: dg.TableSchema,
    lineage: dg.TableColumnLineage,
) -> dict:
    """A layer table's materialization metadata: the job's figures plus Dagster's table keys."""
    return {
        **(result.metadata or {}),
        "dagster/row_count": rows,
        "dagster/table_name": table_name,
        "dagster/uri": metadata_value(result, uri_key, ""),
        "dagster/column_schema": schema,
        "dagster/column_lineage": lineage,
        "dagster_run_id": context.run.run_id,
    }
