"""What the asset factory builds per ingest table, as a type the layers below the assets can name.

It lives outside ``lake_platform.assets`` so that ``batches``, the sensors and the schedules can
take ``list[TableAssets]`` without importing the asset builders (and without an import cycle).
"""

from dataclasses import dataclass, field

import dagster as dg
from dagster._core.definitions.unresolved_asset_job_definition import UnresolvedAssetJobDefinition

from lake_glue.config import IngestConfig, TableConfig
from lake_platform.layout import partitions_def_name, table_id


@dataclass
class TableAssets:
    """Everything the factory built for one ingest table and the targets prepared from it."""

    config: IngestConfig
    table: TableConfig
    partitions_def: dg.DynamicPartitionsDefinition
    raw: dg.AssetsDefinition
    source: dg.AssetsDefinition
    # The job that processes one batch of the table: raw -> source -> targets.
    job: UnresolvedAssetJobDefinition
    targets: list[dg.AssetsDefinition] = field(default_factory=list)
    checks: list[dg.AssetChecksDefinition] = field(default_factory=list)

    @property
    def table_id(self) -> str:
        """Registry key of the table."""
        return table_id(self.config.config_name, self.table.table_name)

    @property
    def partitions_name(self) -> str:
        """Name of the table's dynamic partition set (its keys are the batch ids)."""
        return partitions_def_name(self.config.config_name, self.table.table_name)
