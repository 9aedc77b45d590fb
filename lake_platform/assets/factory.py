"""The asset factory: validated configs -> raw, source and target assets with their checks.

Keys are ``[layer, config_name, table_name]``; the group is the layer. Each ingest table has
one dynamic partition set whose keys are its batch ids, shared by its raw and source assets and
by every target table prepared from it, so a batch can be followed through all three layers.
"""

from dataclasses import dataclass, field

import dagster as dg

from lake_glue import lineage as derivation
from lake_platform.config import IngestConfig, PrepareConfig, TableConfig, job_dict, targets_of
from lake_platform.layout import (
    SUCCESS_MARKER,
    asset_key,
    batch_prefix,
    job_name_for,
    table_id,
    validate_batch_id,
)
from lake_platform.partitions import batch_partitions
from lake_platform.resources import ConfigStore, GlueJobRunner, ObjectStore, PartitionRegistry
from lake_platform.resources.glue_runner import GlueJobError
from lake_platform.resources.partition_registry import BatchRecord
from lake_platform.sensors.landing import seal_batch

RECONCILE_CHECK = "landed_rows_reconcile"
PK_CHECK = "primary_key_unique"
UNDECLARED_CHECK = "no_undeclared_fields"
# Reported by the ingest job itself, before it commits (see files_spark_ingest_default.py).
ACCEPTANCE_CHECK = "acceptance_rules"
DUPLICATE_CHECK = "not_a_duplicate_delivery"
LINEAGE_HINT = (
    "\n\nWhere each column comes from: the Columns list below; without Dagster,"
    " `lake lineage {table}` or the page `lake docs` writes (section `#{table}`)."
)
PK_SCOPE = {"upsert": "buckets the batch rewrote", "overwrite": "the whole snapshot", "append": "the batch's rows"}


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


@dataclass
class TableAssets:
    """Everything the factory built for one ingest table and the targets prepared from it."""

    config: IngestConfig
    table: TableConfig
    partitions_def: dg.DynamicPartitionsDefinition
    raw: dg.AssetsDefinition
    source: dg.AssetsDefinition
    targets: list[dg.AssetsDefinition] = field(default_factory=list)
    job: "dg.JobDefinition | None" = None

    @property
    def table_id(self) -> str:
        """Registry key of the table."""
        return table_id(self.config.config_name, self.table.table_name)


def _builtin_columns(layer: str, table: TableConfig) -> list[dg.TableColumn]:
    """The lineage and partition columns the platform adds, marked as such."""
    return [
        dg.TableColumn(name=name, type=type_name, description=text, tags={"lake/column": text.split(":", 1)[0]})
        for name, type_name, text in derivation.builtin_columns(layer, job_dict(table))
    ]


def raw_schema(config: IngestConfig, table: TableConfig) -> dg.TableSchema:
    """The declared columns as landed: text, typed by the source layer."""
    folder = derivation.landing_folder(job_dict(config), job_dict(table))
    return dg.TableSchema(
        columns=[
            dg.TableColumn(
                name=c.name,
                type="string",
                description=derivation.join_description(
                    c.description, f"as landed in `{folder}`, text until the source layer types it as {c.type}"
                ),
                constraints=dg.TableColumnConstraints(nullable=True),
            )
            for c in table.columns
        ]
    )


def source_schema(config: IngestConfig, table: TableConfig) -> dg.TableSchema:
    """The source table as queried: declared columns with their derivation, then lineage and partitions."""
    ingest, plain_table = job_dict(config), job_dict(table)
    return dg.TableSchema(
        columns=[
            *[
                dg.TableColumn(
                    name=c.name,
                    type=c.type,
                    description=derivation.source_column_doc(ingest, plain_table, job_dict(c)),
                    constraints=dg.TableColumnConstraints(nullable=c.nullable),
                )
                for c in table.columns
            ],
            *_builtin_columns("source", table),
        ]
    )


def target_schema(prepare: PrepareConfig, table: TableConfig, ingest: IngestConfig) -> dg.TableSchema:
    """The target table as queried: declared columns with their derivation, then lineage and partitions."""
    plain_prepare, plain_table, plain_ingest = job_dict(prepare), job_dict(table), job_dict(ingest)
    return dg.TableSchema(
        columns=[
            *[
                dg.TableColumn(
                    name=c.name,
                    type=c.type,
                    description=derivation.target_column_doc(plain_prepare, plain_table, job_dict(c), plain_ingest),
                    constraints=dg.TableColumnConstraints(nullable=c.nullable),
                )
                for c in table.columns
            ],
            *_builtin_columns("target", table),
        ]
    )


def _metadata_value(result: dg.MaterializeResult, key: str, default=None):
    value = (result.metadata or {}).get(key, default)
    return getattr(value, "value", value)


def _run_glue_job(
    context: dg.AssetExecutionContext,
    *,
    config: IngestConfig | PrepareConfig,
    table_name: str,
    batch_id: str,
    env: str,
    glue_runner: GlueJobRunner,
    config_store: ConfigStore,
    object_store: ObjectStore,
    extras: dict | None = None,
) -> dg.MaterializeResult:
    """Run the config's Glue job for one table and batch and turn its report into a result."""
    arguments = {
        "--config_name": config.config_name,
        "--table_name": table_name,
        "--batch_id": batch_id,
        "--config_source": config_store.job_config_source(),
        "--catalog": glue_runner.catalog_uri,
        "--raw_bucket": object_store.raw_bucket,
        "--source_bucket": object_store.source_bucket,
        "--target_bucket": object_store.target_bucket,
        "--lake_env": env,
    }
    invocation = glue_runner.run(
        context,
        job_name=config.etl_job,
        arguments=arguments,
        timeout_minutes=config.job_settings.timeout_minutes,
        worker_type=config.job_settings.worker_type,
        number_of_workers=config.job_settings.number_of_workers,
        extras=extras,
    )
    return invocation.get_materialize_result()


def _batch_of(context: dg.AssetExecutionContext) -> str:
    """The run's partition key as a batch id; a key that is not one fails with a one-line reason."""
    try:
        return validate_batch_id(context.partition_key)
    except ValueError as exc:
        raise dg.Failure(f"partition key {context.partition_key!r} is not a batch: {exc}") from None


def _require_live_batch(partition_registry: PartitionRegistry, tid: str, batch_id: str) -> BatchRecord:
    """The batch's record; fails before any job starts when it is not registered or was retired."""
    record = partition_registry.get(tid, batch_id)
    if record is None:
        raise dg.Failure(f"batch {tid}/{batch_id} is not registered; materialize raw first")
    if record.status == "RETIRED":
        raise dg.Failure(f"batch {tid}/{batch_id} is retired ({record.error}); it is not processed again")
    return record


def ingest_extras(record: BatchRecord, object_store: ObjectStore, partition_registry: PartitionRegistry) -> dict:
    """What the ingest job needs beyond its arguments: the sealed file list and the checksums
    of the table's other live batches (for duplicate deliveries)."""
    extras = {"known_checksums": partition_registry.known_checksums(record.table_id, record.batch_id)}
    # A batch registered before batches were sealed has no list: the job reads the folder as it is.
    if record.sealed:
        extras.update(
            sealed_files=[{"key": o.key, "size": o.size, "etag": o.etag} for o in record.sealed],
            sealed_at=record.registered_at,
            etag_is_content_md5=object_store.etag_is_content_md5,
        )
    return extras


def _build_raw(config: IngestConfig, table: TableConfig, pdef: dg.DynamicPartitionsDefinition) -> dg.AssetsDefinition:
    key = asset_key("raw", config.config_name, table.table_name)
    tid = table_id(config.config_name, table.table_name)
    fmt = table.format or config.source.format
    landing = f"{config.source.landing_prefix}/{table.table_name}/<batch_id>/"

    @dg.asset(
        key=key,
        group_name="raw",
        kinds={"s3", fmt},
        partitions_def=pdef,
        description=(
            f"{table.description or table.table_name} Files exactly as they landed from"
            f" {config.config_name}: `{landing}` in the raw bucket; a batch counts once its"
            f" `{SUCCESS_MARKER}` marker exists."
        ),
        metadata={
            "landing_prefix": landing,
            "format": fmt,
            "dagster/column_schema": raw_schema(config, table),
        },
    )
    def raw_asset(
        context: dg.AssetExecutionContext, object_store: ObjectStore, partition_registry: PartitionRegistry
    ) -> dg.MaterializeResult:
        """Check that the batch is complete and record its files; nothing is copied or changed."""
        batch_id = _batch_of(context)
        prefix = batch_prefix(config.source.landing_prefix, table.table_name, batch_id)
        if not object_store.exists(object_store.raw_bucket, prefix + SUCCESS_MARKER):
            raise dg.Failure(
                f"batch {tid}/{batch_id} is not complete: {object_store.uri(object_store.raw_bucket, prefix)}"
                f"{SUCCESS_MARKER} does not exist yet"
            )
        record = partition_registry.get(tid, batch_id)
        if record is None:
            if seal_batch(object_store, partition_registry, tid, prefix, batch_id, "raw_asset"):
                context.log.info(f"registered batch {tid}/{batch_id}, materialized before any sensor saw it")
            record = partition_registry.get(tid, batch_id)
        objects = record.sealed or object_store.seal(object_store.raw_bucket, prefix)
        if not objects:
            raise dg.Failure(
                f"batch {tid}/{batch_id} has a {SUCCESS_MARKER} marker but no data files were there when it"
                f" was sealed ({record.registered_at}); land the files under a new batch id"
            )
        files = [o.key for o in objects]
        return dg.MaterializeResult(
            metadata={
                "batch_id": batch_id,
                "files": len(files),
                "bytes": sum(o.size for o in objects),
                "file_list": files[:50],
                "sealed_at": record.registered_at,
                "dagster/uri": object_store.uri(object_store.raw_bucket, prefix),
            },
            data_version=dg.DataVersion(batch_id),
        )

    return raw_asset


def _build_source(
    config: IngestConfig, table: TableConfig, pdef: dg.DynamicPartitionsDefinition, env: str
) -> dg.AssetsDefinition:
    key = asset_key("source", config.config_name, table.table_name)
    raw_key = asset_key("raw", config.config_name, table.table_name)
    tid = table_id(config.config_name, table.table_name)
    lineage = dg.TableColumnLineage(
        deps_by_column={c.name: [dg.TableColumnDep(asset_key=raw_key, column_name=c.name)] for c in table.columns}
    )
    table_name = f"{config.target.database}.{table.table_name}"

    @dg.asset(
        key=key,
        deps=[raw_key],
        group_name="source",
        kinds={"glue", "spark", "iceberg"},
        partitions_def=pdef,
        pool=table_pool(config.target.database, table.table_name),
        description=(
            f"{table.description or table.table_name} Typed, validated Iceberg table `{table_name}`"
            f" committed batch by batch by the Glue job {config.etl_job}; rows that fail their"
            " declared type go to quarantine with a reason."
            f"{LINEAGE_HINT.format(table=table_name)}"
        ),
        metadata={
            "dagster/table_name": table_name,
            "dagster/column_schema": source_schema(config, table),
            "dagster/column_lineage": lineage,
            "glue_job": config.etl_job,
        },
        check_specs=[
            batch_check(
                RECONCILE_CHECK,
                key,
                pdef,
                description="landed rows = source rows + quarantined rows: no record is lost",
            ),
            batch_check(
                UNDECLARED_CHECK,
                key,
                pdef,
                description="landed JSON records carry no field the config does not declare"
                " (such values stay in the raw layer only); a warning, not a failure",
            ),
            batch_check(
                ACCEPTANCE_CHECK,
                key,
                pdef,
                blocking=True,
                description="the table's acceptance rules (allow_empty, min_rows, max_quarantine_rate),"
                " checked by the ingest job before it commits: a refused batch is not committed and"
                " nothing downstream runs",
            ),
            batch_check(
                DUPLICATE_CHECK,
                key,
                pdef,
                blocking=table.acceptance is not None and table.acceptance.reject_duplicate_delivery,
                description="no file of the batch is byte-identical (SHA-256) to a file of another live"
                " batch; a warning, or a refusal before commit with acceptance.reject_duplicate_delivery",
            ),
        ],
    )
    def source_asset(
        context: dg.AssetExecutionContext,
        object_store: ObjectStore,
        config_store: ConfigStore,
        partition_registry: PartitionRegistry,
        glue_runner: GlueJobRunner,
    ):
        """Run the ingest Glue job for one batch and check that every landed row is accounted for.

        The job reads exactly the files the batch was sealed with, and applies the acceptance
        and duplicate-delivery checks before it commits; a check that refused the batch is
        recorded with the failure.
        """
        batch_id = _batch_of(context)
        record = _require_live_batch(partition_registry, tid, batch_id)
        try:
            result = _run_glue_job(
                context,
                config=config,
                table_name=table.table_name,
                batch_id=batch_id,
                env=env,
                glue_runner=glue_runner,
                config_store=config_store,
                object_store=object_store,
                extras=ingest_extras(record, object_store, partition_registry),
            )
        except GlueJobError as exc:
            yield from exc.reported_checks
            raise
        checksums = _metadata_value(result, "file_sha256", {}) or {}
        if checksums:
            partition_registry.record_checksums(tid, batch_id, checksums)
        landed = int(_metadata_value(result, "landed_rows", -1))
        source_rows = int(_metadata_value(result, "source_rows", -1))
        quarantined = int(_metadata_value(result, "quarantined_rows", -1))
        metadata = {
            **(result.metadata or {}),
            "dagster/row_count": source_rows,
            "dagster/table_name": table_name,
            "dagster/uri": _metadata_value(result, "source_uri", ""),
            "dagster/column_schema": source_schema(config, table),
            "dagster/column_lineage": lineage,
            "dagster_run_id": context.run.run_id,
        }
        check = dg.AssetCheckResult(
            check_name=RECONCILE_CHECK,
            asset_key=key,
            passed=landed >= 0 and landed == source_rows + quarantined,
            metadata={"landed_rows": landed, "source_rows": source_rows, "quarantined_rows": quarantined},
            description=None
            if quarantined == 0
            else f"{quarantined} rows quarantined at {_metadata_value(result, 'quarantine_uri')}",
        )
        undeclared = _metadata_value(result, "undeclared_fields", {}) or {}
        drift = dg.AssetCheckResult(
            check_name=UNDECLARED_CHECK,
            asset_key=key,
            passed=not undeclared,
            severity=dg.AssetCheckSeverity.WARN,
            metadata={"undeclared_fields": dg.MetadataValue.json(undeclared)},
            description=(
                f"records carry undeclared fields {sorted(undeclared)}; declare them in"
                f" {config.config_name}.json to keep them"
                if undeclared
                else None
            ),
        )
        yield dg.MaterializeResult(
            metadata=metadata,
            check_results=[*(result.check_results or []), check, drift],
            data_version=dg.DataVersion(batch_id),
        )

    return source_asset


def _build_target(
    prepare: PrepareConfig, table: TableConfig, ingest: IngestConfig, pdef: dg.DynamicPartitionsDefinition, env: str
) -> dg.AssetsDefinition:
    src_table = ingest.table(table.source_table_name or "")
    key = asset_key("target", prepare.config_name, table.table_name)
    source_key = asset_key("source", ingest.config_name, src_table.table_name)
    tid = table_id(ingest.config_name, src_table.table_name)
    lineage = dg.TableColumnLineage(
        deps_by_column={
            c.name: [dg.TableColumnDep(asset_key=source_key, column_name=s) for s in c.lineage_sources]
            for c in table.columns
        }
    )
    table_name = f"{prepare.target.database}.{table.table_name}"
    checks = []
    if table.primary_key:
        checks.append(
            batch_check(
                PK_CHECK,
                key,
                pdef,
                description=f"no two rows share the primary key {table.primary_key} in {PK_SCOPE[table.write_mode]}",
            )
        )

    @dg.asset(
        key=key,
        deps=[source_key],
        group_name="target",
        kinds={"glue", "athena", "iceberg"},
        partitions_def=pdef,
        pool=table_pool(prepare.target.database, table.table_name),
        automation_condition=dg.AutomationCondition.eager(),
        description=(
            f"{table.description or table.table_name} Curated by {prepare.etl_job} with write mode"
            f" `{table.write_mode}`; query it as `{table_name}`."
            f"{LINEAGE_HINT.format(table=table_name)}"
        ),
        metadata={
            "dagster/table_name": table_name,
            "dagster/column_schema": target_schema(prepare, table, ingest),
            "dagster/column_lineage": lineage,
            "write_mode": table.write_mode,
            "glue_job": prepare.etl_job,
        },
        check_specs=checks,
    )
    def target_asset(
        context: dg.AssetExecutionContext,
        object_store: ObjectStore,
        config_store: ConfigStore,
        partition_registry: PartitionRegistry,
        glue_runner: GlueJobRunner,
    ) -> dg.MaterializeResult:
        """Run the prepare Glue job for one batch and check the primary key where the batch wrote."""
        batch_id = _batch_of(context)
        _require_live_batch(partition_registry, tid, batch_id)
        result = _run_glue_job(
            context,
            config=prepare,
            table_name=table.table_name,
            batch_id=batch_id,
            env=env,
            glue_runner=glue_runner,
            config_store=config_store,
            object_store=object_store,
        )
        target_rows = int(_metadata_value(result, "target_rows", -1))
        check_results = []
        if table.primary_key:
            # The job counts duplicates where this batch could have created them: the buckets it
            # rewrote (upsert keys live in one bucket only), the snapshot (overwrite), the batch (append).
            dupes = int(_metadata_value(result, "duplicate_keys", -1))
            check_results.append(
                dg.AssetCheckResult(
                    check_name=PK_CHECK,
                    asset_key=key,
                    passed=dupes == 0,
                    metadata={"duplicate_keys": dupes, "scope": PK_SCOPE[table.write_mode]},
                )
            )
        metadata = {
            **(result.metadata or {}),
            "dagster/row_count": target_rows,
            "dagster/table_name": table_name,
            "dagster/uri": _metadata_value(result, "table_uri", ""),
            "dagster/column_schema": target_schema(prepare, table, ingest),
            "dagster/column_lineage": lineage,
            "dagster_run_id": context.run.run_id,
        }
        return dg.MaterializeResult(
            metadata=metadata, check_results=check_results, data_version=dg.DataVersion(batch_id)
        )

    return target_asset


def _executor(env: str) -> dg.ExecutorDefinition:
    """How a batch's steps run: one process per step in AWS, all in the run's process locally.

    In AWS each step waits on its own Glue job, so the targets of a table run side by side. On
    a laptop the jobs take turns on one shared Spark JVM, and a process per step only added a
    process start and a code load to every step of a run launched from the UI.
    """
    return dg.multiprocess_executor if env == "aws" else dg.in_process_executor


def build_table_assets(configs: list[IngestConfig | PrepareConfig], env: str) -> list[TableAssets]:
    """Build the assets and per-table jobs for every ingest table and its prepared targets."""
    ingests = [c for c in configs if isinstance(c, IngestConfig)]
    built: list[TableAssets] = []
    for config in ingests:
        for table in config.table_config:
            pdef = batch_partitions(config.config_name, table.table_name)
            entry = TableAssets(
                config=config,
                table=table,
                partitions_def=pdef,
                raw=_build_raw(config, table, pdef),
                source=_build_source(config, table, pdef, env),
            )
            for prepare, target_table in targets_of(config, table, configs):
                entry.targets.append(_build_target(prepare, target_table, config, pdef, env))
            entry.job = dg.define_asset_job(
                name=job_name_for(config.config_name, table.table_name),
                selection=dg.AssetSelection.assets(entry.raw, entry.source, *entry.targets),
                partitions_def=pdef,
                description=f"Process one batch of {entry.table_id}: raw -> source -> target.",
                tags={"lake/table": entry.table_id, "lake/max_attempts": str(config.job_settings.max_attempts)},
                executor_def=_executor(env),
            )
            built.append(entry)
    return built
