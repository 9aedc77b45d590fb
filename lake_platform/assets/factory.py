"""The asset factory: validated configs -> raw, source and target assets with their checks.

Keys are ``[layer, config_name, table_name]``; the group is the layer. Each ingest table has
one dynamic partition set whose keys are its batch ids, shared by its raw and source assets and
by every target table prepared from it, so a batch can be followed through all three layers.

Every asset states its description; the functions the assets run carry comments rather than
docstrings because Dagster parses a function's docstring for input and output descriptions on
every load. (A check's function keeps its docstring: Dagster shows it as the check op's
description.)
"""

import dagster as dg

from lake_glue.config import IngestConfig, PrepareConfig, TableConfig, targets_of
from lake_platform.assets.checks import build_primary_key_check, build_straggler_check
from lake_platform.assets.raw import build_raw
from lake_platform.assets.source import build_source
from lake_platform.assets.target import build_target
from lake_platform.batches import RetryPolicy
from lake_platform.layout import job_name_for, table_id
from lake_platform.partitions import batch_partitions
from lake_platform.table_assets import TableAssets

__all__ = ["TableAssets", "build_table_assets"]


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
            built.append(_table_assets(config, table, configs, env))
    return built


def _table_assets(
    config: IngestConfig, table: TableConfig, configs: list[IngestConfig | PrepareConfig], env: str
) -> TableAssets:
    """One ingest table's raw and source assets, the targets prepared from it, their checks and its job."""
    pdef = batch_partitions(config.config_name, table.table_name)
    raw, source = build_raw(config, table, pdef), build_source(config, table, pdef)
    targets, checks = [], [build_straggler_check(config, table, pdef)]
    for prepare, target_table in targets_of(config, table, configs):
        targets.append(build_target(prepare, target_table, config, pdef))
        if target_table.primary_key:
            checks.append(build_primary_key_check(prepare, target_table, pdef))
    tid = table_id(config.config_name, table.table_name)
    job = dg.define_asset_job(
        name=job_name_for(config.config_name, table.table_name),
        selection=dg.AssetSelection.assets(raw, source, *targets),
        partitions_def=pdef,
        description=f"Process one batch of {tid}: raw -> source -> target.",
        tags={"lake/table": tid, **RetryPolicy.of(config.job_settings).tags()},
        executor_def=_executor(env),
    )
    return TableAssets(config, table, pdef, raw, source, job, targets, checks)
