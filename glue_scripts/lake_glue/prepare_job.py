"""Glue job ``dapfw-prepare-default``: one batch of a source table -> a curated Iceberg target table.

The entry point Glue runs is ``glue_scripts/dapfw_prepare_default.py``; this is its logic.

Arguments: ``lake_glue.args.PrepareArgs`` (Glue style, ``--key value``): ``--config_name`` (a
``prepare`` config), ``--table_name`` (its target table), ``--batch_id``, ``--config_source``,
``--catalog``, ``--target_bucket`` and optionally ``--rebuild true`` (rebuild the whole table
from the source layer in one commit, e.g. after a bucket-spec change). The source batch is read
from the files of the source table's current snapshot, never from a folder listing.

The job is a few named phases: resolve the configs (validated once), pin the target (a
rebuild), read and project the source batch, refuse nulls, open the target, and hand the batch
to the table's write mode (``lake_glue.write_modes``), whose ``commit`` is one Iceberg
transaction with its own conflict retry. One ``ExitStack`` releases everything the job cached.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from lake_glue.args import PrepareArgs
from lake_glue.config import IngestConfig, PrepareConfig, TableConfig, as_config
from lake_glue.configs import load_config_item
from lake_glue.layout import key_contract, source_table_spec, target_table_spec
from lake_glue.prepare import PrepareError, null_violations, project_columns
from lake_glue.tables import (
    EMPTY_BATCH_PREFIX,
    TableSpec,
    arrow_schema_of,
    column_equals,
    data_files,
    load_table,
    open_catalog,
    read_files,
    snapshot_properties,
    total_records,
)
from lake_glue.tables import (
    find_table as find_iceberg_table,
)
from lake_glue.write_modes import PrepareBatch, StaleRebuild

__all__ = ["PrepareError", "StaleRebuild", "run_prepare", "summary"]

# A rebuild reads the whole source table; it re-reads this often while other batches keep committing.
REBUILD_READS = 5


@dataclass(frozen=True)
class PrepareJob:
    """The validated inputs of one run: the prepare config, the ingest config it reads, both tables."""

    prepare: PrepareConfig
    ingest: IngestConfig
    table: TableConfig
    source_table: TableConfig
    args: PrepareArgs

    @property
    def label(self) -> str:
        """How errors name the batch."""
        return f"batch {self.prepare.config_name}.{self.table.table_name}/{self.args.batch_id}"


def run_prepare(
    spark: Any,
    args: PrepareArgs,
    config: PrepareConfig | IngestConfig | dict,
    source_config: IngestConfig | PrepareConfig | dict | None = None,
    pipes: Any = None,
) -> dict[str, Any]:
    """Prepare one batch of one target table, commit it, and return the figures reported to Dagster.

    ``source_config`` is the ingest config the prepare config reads; loaded when not given. A
    plain item is validated once here. ``pipes`` (the Pipes context) is not needed: the figures
    are reported by the caller.

    A rebuild pins the target snapshot before it reads the source and commits only over that
    snapshot: a batch committed in between makes it read the source again (a new read holds
    the batch), never commit its older rows over the batch.
    """
    job = resolve(args, config, source_config)
    last: StaleRebuild | None = None
    for _ in range(REBUILD_READS if args.rebuild else 1):
        try:
            return _prepare_once(spark, job)
        except StaleRebuild as exc:
            last = exc
    raise PrepareError(f"{last}; gave up after {REBUILD_READS} reads, run `lake rebuild` again when it is quiet")


def resolve(
    args: PrepareArgs,
    config: PrepareConfig | IngestConfig | dict,
    source_config: IngestConfig | PrepareConfig | dict | None,
) -> PrepareJob:
    """The job's configs as models, checked to be a prepare config over an ingest config."""
    prepare = as_config(config, f"config {args.config_name!r}")
    if not isinstance(prepare, PrepareConfig):
        raise PrepareError(f"config {prepare.config_name!r} is not a prepare config")
    if source_config is None:
        source_config = load_config_item(args.config_source, prepare.source.config_name)
    ingest = as_config(source_config, f"config {prepare.source.config_name!r}")
    if not isinstance(ingest, IngestConfig):
        raise PrepareError(f"config {ingest.config_name!r} (source of {prepare.config_name!r}) is not spark_ingest")
    table = prepare.table(args.table_name)
    return PrepareJob(prepare, ingest, table, ingest.table(table.source_table_name or ""), args)


def _prepare_once(spark: Any, job: PrepareJob) -> dict[str, Any]:
    """One read of the source and one commit by the table's write mode."""
    args = job.args
    catalog = open_catalog(args.catalog)
    spec = target_table_spec(job.prepare, job.table, args.target_bucket, job.ingest, args.database_prefix)
    pinned = _pin_target(catalog, spec) if args.rebuild else None
    prepared_at = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M:%S")
    with contextlib.ExitStack() as cleanup:
        rows, batch_id = _read_rows(spark, catalog, job, prepared_at)
        rows = rows.persist()
        cleanup.callback(rows.unpersist)

        def every_batch() -> Any:
            return project_columns(read_source(spark, catalog, job, None), job.table, prepared_at)

        batch = _open_batch(spark, catalog, spec, job, rows, batch_id, pinned, cleanup, every_batch)
        committed, figures = job.table.mode.commit(batch)
        return _figures(batch, committed, figures)


def _read_rows(spark: Any, catalog: Any, job: PrepareJob, prepared_at: str) -> tuple[Any, str]:
    """The projected rows the commit writes, and the batch id they are committed as."""
    args = job.args
    source = read_source(spark, catalog, job, None if args.rebuild else args.batch_id)
    rows = project_columns(source, job.table, prepared_at)
    if args.rebuild:
        return job.table.mode.rebuild_rows(rows, args.batch_id)
    return rows, args.batch_id


def _open_batch(
    spark: Any,
    catalog: Any,
    spec: TableSpec,
    job: PrepareJob,
    rows: Any,
    batch_id: str,
    pinned: int | None,
    cleanup: contextlib.ExitStack,
    source_rows: Callable[[], Any],
) -> PrepareBatch:
    """Count and check the rows, open (or create) the target, and gather what the commit needs."""
    row_count = rows.count()
    violations = null_violations(rows, job.table)
    if violations:
        raise PrepareError(f"{job.label}: required columns would be null after casting: {violations}")
    schema = arrow_schema_of(job.table.mode.stored(rows, job.table).schema, spec.docs)
    rebuild = job.args.rebuild
    batch = PrepareBatch(
        spark=spark,
        catalog=catalog,
        spec=spec,
        table=job.table,
        rows=rows,
        batch_id=batch_id,
        row_count=row_count,
        label=job.label,
        rebuild=rebuild,
        pinned=pinned,
        summary=snapshot_properties({"batch_id": batch_id, "batch_rows": row_count, "rebuild": rebuild or None}),
        max_rows=job.prepare.job_settings.num_rows_per_file,
        iceberg=load_table(catalog, spec, schema),
        contract=key_contract(job.table),
        cleanup=cleanup,
        source_rows=source_rows,
    )
    # Refused before any file is written: the mode's own rules first, then the key contract.
    job.table.mode.check_target(batch)
    batch.contract_properties(batch.iceberg)
    return batch


def _figures(batch: PrepareBatch, committed: Any, figures: dict[str, Any]) -> dict[str, Any]:
    """What the run reports: the batch, the mode's figures and the table afterwards."""
    snapshot = committed.current_snapshot()
    return {
        "batch_id": batch.batch_id,
        "write_mode": batch.table.write_mode,
        "batch_rows": batch.row_count,
        "table_uri": batch.spec.location,
        "table": batch.spec.label,
        "applied": True,
        **figures,
        "snapshot_id": snapshot.snapshot_id if snapshot else None,
        "target_rows": total_records(committed),
        "rebuild": batch.rebuild,
    }


def read_source(spark: Any, catalog: Any, job: PrepareJob, batch_id: str | None) -> Any:
    """The source rows of one batch (or of every batch when ``batch_id`` is None).

    A batch the source table has never committed is refused: an empty result would be taken
    for an empty batch and, for a snapshot table, would empty the target.
    """
    spec = source_table_spec(job.ingest, job.source_table, "unused", job.args.database_prefix)
    table = find_iceberg_table(catalog, spec.database, spec.name)
    if table is None:
        raise PrepareError(f"{job.label}: source table {spec.label} does not exist; ingest the batch first")
    files = data_files(table, column_equals("p_batch_id", batch_id) if batch_id else None)
    if files:
        return read_files(spark, table, files)
    if batch_id is None or f"{EMPTY_BATCH_PREFIX}{batch_id}" in table.properties:
        return read_files(spark, table, [])
    raise PrepareError(
        f"{job.label}: {spec.label} has no committed batch {batch_id} (no data files and no record of an"
        " empty batch); ingest the batch first"
    )


def _pin_target(catalog: Any, spec: TableSpec) -> int | None:
    """The target's current snapshot id (None for a new or empty table), read before the source."""
    table = find_iceberg_table(catalog, spec.database, spec.name)
    snapshot = table.current_snapshot() if table is not None else None
    return snapshot.snapshot_id if snapshot is not None else None


def summary(f: dict[str, Any]) -> str:
    """The one log line a person reads first."""
    skipped = "" if f["applied"] else ", skipped: " + f.get("skipped_reason", "")
    return (
        f"prepared {f['batch_rows']} rows ({f['write_mode']}{skipped}); {f['table']} now has"
        f" {f['target_rows']} rows (snapshot {f['snapshot_id']})"
    )
