"""Standalone asset checks: data-safety invariants of the target tables, re-runnable on their own.

A check here reads the committed table through the query engine (DuckDB locally, Athena in
AWS), so it can be run alone from the UI for any batch, after the fact, and it judges what an
analyst would read rather than what a job reported about itself.
"""

import warnings
from collections.abc import Mapping

import dagster as dg

from lake_glue.config import IngestConfig, PrepareConfig, TableConfig
from lake_platform.assets.common import PK_CHECK, UNDECLARED_CHECK
from lake_platform.batches import STRAGGLER_CHECK, find_stragglers, straggler_message
from lake_platform.layout import asset_key, landing_table_prefix, table_id, validate_batch_id
from lake_platform.resources import ObjectStore, PartitionRegistry, QueryEngine
from lake_platform.resources.query_engine.base import QueryError


def quote_identifier(name: str) -> str:
    """``name`` as a double-quoted SQL identifier."""
    return '"' + name.replace('"', '""') + '"'


def duplicate_keys_sql(
    table_name: str,
    primary_key: list[str],
    *,
    within_batches: bool = False,
    batch_id: str | None = None,
    rows: str | None = None,
) -> str:
    """SQL counting the keys held by more than one row of the whole table, or of one batch.

    ``table_name`` is ``<database>.<table>``. ``within_batches`` counts a key once per batch that
    repeats it; ``batch_id`` then picks the batch (None: every batch). ``rows`` (a write mode's
    ``pk_rows`` predicate, e.g. the current rows of a history table) limits the rows counted.
    Identifiers are quoted, which DuckDB and Athena both read, so a column named like a keyword
    (``order``) works.
    """
    pk = ", ".join(quote_identifier(c) for c in primary_key)
    table = ".".join(quote_identifier(part) for part in table_name.split("."))
    conditions = [f"({rows})"] if rows else []
    if within_batches and batch_id:
        conditions.append(f"_batch_id = '{validate_batch_id(batch_id)}'")
    where = f" WHERE {' AND '.join(conditions)}" if conditions else ""
    if within_batches:
        grouped = f"SELECT _batch_id, {pk} FROM {table}{where} GROUP BY _batch_id, {pk} HAVING count(*) > 1"
    else:
        grouped = f"SELECT {pk} FROM {table}{where} GROUP BY {pk} HAVING count(*) > 1"
    return f"SELECT count(*) FROM ({grouped}) duplicates"


def build_primary_key_check(
    prepare: PrepareConfig, table: TableConfig, pdef: dg.PartitionsDefinition
) -> dg.AssetChecksDefinition:
    """``primary_key_unique`` on one keyed target table: blocking, partitioned by batch like its asset.

    A failure stops everything downstream of the table in the run and fails the run, naming the
    table, the key and how many keys repeat.
    """
    key = asset_key("target", prepare.config_name, table.table_name)
    table_name = f"{prepare.target.database}.{table.table_name}"
    mode = table.mode
    scope = mode.pk_scope
    primary_key = list(table.primary_key)

    def primary_key_unique(context: dg.AssetCheckExecutionContext, query_engine: QueryEngine) -> dg.AssetCheckResult:
        """Count the keys more than one row holds, reading the committed table."""
        batch_id = context.partition_key if context.has_partition_key else None
        sql = duplicate_keys_sql(
            table_name, primary_key, within_batches=mode.within_batches, batch_id=batch_id, rows=mode.pk_rows
        )
        try:
            dupes = int(query_engine.query(sql).rows[0][0])
        except QueryError as exc:
            raise dg.Failure(f"{table_name}: primary key {primary_key} could not be checked: {exc}") from None
        return dg.AssetCheckResult(
            passed=dupes == 0,
            severity=dg.AssetCheckSeverity.ERROR,
            description=None if dupes == 0 else f"{dupes} key(s) of {table_name} repeat in {scope}",
            metadata={"duplicate_keys": dupes, "scope": scope, "batch_id": batch_id or "every batch"},
        )

    return _partitioned_check(
        primary_key_unique,
        asset=key,
        name=PK_CHECK,
        blocking=True,
        partitions_def=pdef,
        description=f"No two rows share the primary key ({', '.join(primary_key)}) in {scope}.",
    )


def build_straggler_check(
    config: IngestConfig, table: TableConfig, pdef: dg.PartitionsDefinition
) -> dg.AssetChecksDefinition:
    """``no_stragglers`` on one raw asset: no file landed in the batch's folder after it was sealed.

    The landing sensor reports a failed evaluation of this check when it sees a straggler; the
    check can also be run alone for any batch, and passes again once ``lake reseal`` has copied
    the stragglers into a new batch.
    """
    key = asset_key("raw", config.config_name, table.table_name)
    tid = table_id(config.config_name, table.table_name)
    root = landing_table_prefix(config.source.landing_prefix, table.table_name)

    def no_stragglers(
        context: dg.AssetCheckExecutionContext, object_store: ObjectStore, partition_registry: PartitionRegistry
    ) -> dg.AssetCheckResult:
        """List the batch's folder and compare it with the batch's sealed file list."""
        batch_id = validate_batch_id(context.partition_key)
        keys = [s.key for s in find_stragglers(object_store, partition_registry, tid, root, [batch_id])]
        return dg.AssetCheckResult(
            passed=not keys,
            severity=dg.AssetCheckSeverity.WARN,
            description=straggler_message(tid, batch_id, keys) if keys else None,
            metadata={"stragglers": len(keys), "files": keys[:50], "batch_id": batch_id},
        )

    return _partitioned_check(
        no_stragglers,
        asset=key,
        name=STRAGGLER_CHECK,
        blocking=False,
        partitions_def=pdef,
        description="No data file landed in the batch's folder after the batch was sealed (see `lake reseal`).",
    )


def _partitioned_check(fn, **spec) -> dg.AssetChecksDefinition:
    """``fn`` as a partitioned asset check."""
    # Partitioned checks are a Dagster preview the platform opts into (see common.batch_check).
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", category=dg.PreviewWarning)
        return dg.asset_check(**spec)(fn)


def undeclared_fields_check(key: dg.AssetKey, table: str, figures: Mapping) -> dg.AssetCheckResult:
    """``no_undeclared_fields`` of one ingested batch: a warning naming the fields the config lacks.

    ``table`` is ``<config>.<table>``; ``figures`` are the ingest job's (``undeclared_fields``,
    ``on_new_columns``, ``added_columns``). What the warning says depends on what the table's
    ``on_new_columns`` did with the fields (docs/schema_evolution.md).
    """
    undeclared = dict(figures.get("undeclared_fields") or {})
    mode = figures.get("on_new_columns") or "fail"
    added = list(figures.get("added_columns") or [])
    names = sorted(undeclared)
    config_file = f"{table.split('.', 1)[0]}.json"
    description = {
        "fail": f"records carry undeclared fields {names}; declare them in {config_file} to keep them",
        "rescue": f"undeclared fields {names} were rescued into _rescued (their original text); declare them"
        f" in {config_file} to get them as columns",
        "add": f"columns {added} were added to the source table as nullable strings; `lake configs suggest"
        f" {table}` prints the patch that declares them in {config_file}",
    }[mode]
    return dg.AssetCheckResult(
        check_name=UNDECLARED_CHECK,
        asset_key=key,
        passed=not undeclared,
        severity=dg.AssetCheckSeverity.WARN,
        metadata={
            "undeclared_fields": dg.MetadataValue.json(undeclared),
            "on_new_columns": mode,
            "rescued_fields": dg.MetadataValue.json(names if mode == "rescue" else []),
            "added_columns": dg.MetadataValue.json(added),
        },
        description=description if undeclared else None,
    )
