"""The source layer: one asset per ingest table, typed and validated by the ingest Glue job."""

from functools import partial

import dagster as dg

from lake_glue import lineage as derivation
from lake_glue.config import IngestConfig, TableConfig
from lake_glue.layout import catalog_database
from lake_platform.assets.checks import undeclared_fields_check
from lake_platform.assets.common import (
    ACCEPTANCE_CHECK,
    DUPLICATE_CHECK,
    LINEAGE_HINT,
    RECONCILE_CHECK,
    UNDECLARED_CHECK,
    JobResources,
    batch_check,
    builtin_columns,
    metadata_value,
    run_batch_job,
    table_metadata,
    table_pool,
)
from lake_platform.layout import asset_key, table_id
from lake_platform.resources import ConfigStore, GlueJobRunner, LakeCatalog, ObjectStore, PartitionRegistry
from lake_platform.resources.glue_runner.base import GlueJobError
from lake_platform.resources.partition_registry.base import BatchRecord
from lake_platform.settings import glue_database_prefix


def source_schema(config: IngestConfig, table: TableConfig) -> dg.TableSchema:
    """The source table as queried: declared columns with their derivation, then lineage and partitions."""
    return dg.TableSchema(
        columns=[
            *[
                dg.TableColumn(
                    name=c.name,
                    type=c.type,
                    description=derivation.source_column_doc(config, table, c),
                    constraints=dg.TableColumnConstraints(nullable=c.nullable),
                )
                for c in table.columns
            ],
            *builtin_columns("source", table),
        ]
    )


def ingest_extras(record: BatchRecord, object_store: ObjectStore, partition_registry: PartitionRegistry) -> dict:
    """What the ingest job needs beyond its arguments: the sealed file list and the checksums
    of the table's other live batches (for duplicate deliveries)."""
    extras: dict[str, object] = {
        "known_checksums": partition_registry.known_checksums(record.table_id, record.batch_id)
    }
    # A batch registered before batches were sealed has no list: the job reads the folder as it is.
    if record.sealed:
        extras.update(
            sealed_files=[{"key": o.key, "size": o.size, "etag": o.etag} for o in record.sealed],
            sealed_at=record.registered_at,
            etag_is_content_md5=object_store.etag_is_content_md5,
        )
    return extras


def build_source(config: IngestConfig, table: TableConfig, pdef: dg.DynamicPartitionsDefinition) -> dg.AssetsDefinition:
    """The source asset of one ingest table: the ingest job's typed rows, with its blocking checks."""
    key = asset_key("source", config.config_name, table.table_name)
    raw_key = asset_key("raw", config.config_name, table.table_name)
    tid = table_id(config.config_name, table.table_name)
    lineage = dg.TableColumnLineage(
        deps_by_column={c.name: [dg.TableColumnDep(asset_key=raw_key, column_name=c.name)] for c in table.columns}
    )
    # The catalog name analysts query in Athena: the environment's database prefix + the config's.
    table_name = f"{catalog_database(config.target.database, glue_database_prefix())}.{table.table_name}"

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
                blocking=table.acceptance is None or table.acceptance.reject_duplicate_delivery,
                description="no file of the batch is byte-identical (SHA-256) to a file of another live"
                " batch; a refusal before commit, or a warning with acceptance.reject_duplicate_delivery: false",
            ),
        ],
    )
    def source_asset(
        context: dg.AssetExecutionContext,
        object_store: ObjectStore,
        config_store: ConfigStore,
        partition_registry: PartitionRegistry,
        glue_runner: GlueJobRunner,
        lake_catalog: LakeCatalog,
    ):
        # Run the ingest Glue job for one batch and check that every landed row is accounted for.
        # The job reads exactly the files the batch was sealed with, and applies the acceptance
        # and duplicate-delivery checks before it commits; a check that refused the batch is
        # recorded with the failure.
        try:
            res = JobResources(glue_runner, lake_catalog, config_store, object_store, partition_registry)
            extras_for = partial(ingest_extras, object_store=object_store, partition_registry=partition_registry)
            batch_id, result = run_batch_job(context, config, table.table_name, tid, res, extras_for)
        except GlueJobError as exc:
            yield from exc.reported_checks
            raise
        checksums = metadata_value(result, "file_sha256", {}) or {}
        if checksums:
            partition_registry.record_checksums(tid, batch_id, checksums)
        landed = int(metadata_value(result, "landed_rows", -1))
        source_rows = int(metadata_value(result, "source_rows", -1))
        quarantined = int(metadata_value(result, "quarantined_rows", -1))
        metadata = table_metadata(
            context,
            result,
            rows=source_rows,
            table_name=table_name,
            uri_key="source_uri",
            schema=source_schema(config, table),
            lineage=lineage,
        )
        check = dg.AssetCheckResult(
            check_name=RECONCILE_CHECK,
            asset_key=key,
            passed=landed >= 0 and landed == source_rows + quarantined,
            metadata={"landed_rows": landed, "source_rows": source_rows, "quarantined_rows": quarantined},
            description=None
            if quarantined == 0
            else f"{quarantined} rows quarantined at {metadata_value(result, 'quarantine_uri')}",
        )
        drift = undeclared_fields_check(
            key,
            tid,
            {name: metadata_value(result, name) for name in ("undeclared_fields", "on_new_columns", "added_columns")},
        )
        yield dg.MaterializeResult(
            metadata=metadata,
            check_results=[*(result.check_results or []), check, drift],
            data_version=dg.DataVersion(batch_id),
        )

    return source_asset
