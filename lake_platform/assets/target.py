"""The target layer: one asset per prepared table, curated by the prepare Glue job."""

import dagster as dg

from lake_glue import lineage as derivation
from lake_glue.config import IngestConfig, PrepareConfig, TableConfig
from lake_glue.layout import catalog_database
from lake_platform.assets.common import (
    LINEAGE_HINT,
    JobResources,
    builtin_columns,
    metadata_value,
    run_batch_job,
    table_metadata,
    table_pool,
)
from lake_platform.layout import asset_key, table_id
from lake_platform.resources import ConfigStore, GlueJobRunner, LakeCatalog, ObjectStore, PartitionRegistry
from lake_platform.settings import glue_database_prefix


def target_schema(prepare: PrepareConfig, table: TableConfig, ingest: IngestConfig) -> dg.TableSchema:
    """The target table as queried: declared columns with their derivation, then lineage and partitions."""
    return dg.TableSchema(
        columns=[
            *[
                dg.TableColumn(
                    name=c.name,
                    type=c.type,
                    description=derivation.target_column_doc(prepare, table, c, ingest),
                    constraints=dg.TableColumnConstraints(nullable=c.nullable),
                )
                for c in table.columns
            ],
            *builtin_columns("target", table),
        ]
    )


def build_target(
    prepare: PrepareConfig, table: TableConfig, ingest: IngestConfig, pdef: dg.DynamicPartitionsDefinition
) -> dg.AssetsDefinition:
    """The target asset of one prepared table; its primary-key check is :mod:`lake_platform.assets.checks`."""
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
    # The catalog name analysts query in Athena: the environment's database prefix + the config's.
    table_name = f"{catalog_database(prepare.target.database, glue_database_prefix())}.{table.table_name}"

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
    )
    def target_asset(
        context: dg.AssetExecutionContext,
        object_store: ObjectStore,
        config_store: ConfigStore,
        partition_registry: PartitionRegistry,
        glue_runner: GlueJobRunner,
        lake_catalog: LakeCatalog,
    ) -> dg.MaterializeResult:
        # Run the prepare Glue job for one batch and commit what it wrote.
        res = JobResources(glue_runner, lake_catalog, config_store, object_store, partition_registry)
        batch_id, result = run_batch_job(context, prepare, table.table_name, tid, res)
        metadata = table_metadata(
            context,
            result,
            rows=int(metadata_value(result, "target_rows", -1)),
            table_name=table_name,
            uri_key="table_uri",
            schema=target_schema(prepare, table, ingest),
            lineage=lineage,
        )
        return dg.MaterializeResult(metadata=metadata, data_version=dg.DataVersion(batch_id))

    return target_asset
