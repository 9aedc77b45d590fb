"""The raw layer: one asset per ingest table, a batch of files exactly as they landed."""

import dagster as dg

from lake_glue import lineage as derivation
from lake_glue.config import IngestConfig, TableConfig
from lake_platform.assets.common import batch_of
from lake_platform.batches import seal_batch
from lake_platform.layout import SUCCESS_MARKER, asset_key, batch_prefix, table_id
from lake_platform.resources import ObjectStore, PartitionRegistry


def raw_schema(config: IngestConfig, table: TableConfig) -> dg.TableSchema:
    """The declared columns as landed: text, typed by the source layer."""
    folder = derivation.landing_folder(config, table)
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


def build_raw(config: IngestConfig, table: TableConfig, pdef: dg.DynamicPartitionsDefinition) -> dg.AssetsDefinition:
    """The raw asset of one ingest table: a sealed batch of landed files, partitioned by batch id."""
    key = asset_key("raw", config.config_name, table.table_name)
    tid = table_id(config.config_name, table.table_name)
    fmt = table.format or config.source.format
    landing = derivation.landing_folder(config, table)

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
        # Check that the batch is complete and record its files; nothing is copied or changed.
        batch_id = batch_of(context)
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
        if record is None:
            raise dg.Failure(f"batch {tid}/{batch_id} could not be registered in the partition registry")
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
