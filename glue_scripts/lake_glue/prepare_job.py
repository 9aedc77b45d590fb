"""Glue job ``dapfw-prepare-default``: one batch of a source table -> a curated Iceberg target table.

The entry point Glue runs is ``glue_scripts/dapfw_prepare_default.py``; this is its logic.

Arguments: ``lake_glue.args.PrepareArgs`` (Glue style, ``--key value``): ``--config_name`` (a
``prepare`` config), ``--table_name`` (its target table), ``--batch_id``, ``--config_source``,
``--catalog``, ``--target_bucket`` and optionally ``--rebuild true`` (rebuild the whole table
from the source layer in one commit, e.g. after a bucket-spec change). The source batch is read
from the files of the source table's current snapshot, never from a folder listing.

Each write mode is one Iceberg transaction (see ``lake_glue.tables``):

- ``append``: delete the rows of this batch (``_batch_id``), add the batch's files. Batches
  never conflict with each other; a re-run replaces its own rows only.
- ``upsert``: read the buckets the batch's keys fall in, merge, delete those buckets, add the
  merged files. A concurrent commit that touched the same buckets makes the commit fail
  validation; the job then re-reads the buckets, re-merges and tries again.
- ``overwrite``: the table becomes the batch, unless the table's ``lake.snapshot-batch-id``
  is newer. The check and the swap are one commit: a newer snapshot committed in between
  fails validation, and the job decides again.
"""

from __future__ import annotations

from datetime import datetime, timezone

from pyspark.sql import functions as F

from lake_glue.args import PrepareArgs
from lake_glue.config import job_document
from lake_glue.configs import find_table, load_config_item
from lake_glue.layout import bucket_spec, key_contract, source_table_spec, target_table_spec
from lake_glue.prepare import (
    PrepareError,
    duplicate_keys,
    latest_per_key,
    merge_append,
    merge_upsert,
    null_violations,
    project_columns,
    touched_buckets,
    with_bucket,
)
from lake_glue.storage import delete_path
from lake_glue.tables import (
    APPLIED_SNAPSHOT_PROPERTY,
    BUCKET_SPEC_PROPERTY,
    EMPTY_BATCH_PREFIX,
    arrow_schema_of,
    column_equals,
    column_in,
    commit,
    data_files,
    key_contract_properties,
    load_table,
    open_catalog,
    read_files,
    retry_on_conflict,
    snapshot_properties,
    surely_not_committed,
    total_records,
    write_files,
)
from lake_glue.tables import (
    find_table as find_iceberg_table,
)


def read_source(
    spark, catalog, source_config: dict, source_table: dict, batch_id: str | None, label: str, database_prefix: str = ""
):
    """The source rows of one batch (or of every batch when ``batch_id`` is None).

    A batch the source table has never committed is refused: an empty result would be taken
    for an empty batch and, for a snapshot table, would empty the target.
    """
    spec = source_table_spec(source_config, source_table, "unused", database_prefix)
    table = find_iceberg_table(catalog, spec.database, spec.name)
    if table is None:
        raise PrepareError(f"{label}: source table {spec.label} does not exist; ingest the batch first")
    files = data_files(table, column_equals("p_batch_id", batch_id) if batch_id else None)
    if files:
        return read_files(spark, table, files)
    if batch_id is None or f"{EMPTY_BATCH_PREFIX}{batch_id}" in table.properties:
        return read_files(spark, table, [])
    raise PrepareError(
        f"{label}: {spec.label} has no committed batch {batch_id} (no data files and no record of an"
        " empty batch); ingest the batch first"
    )


def _refuse_bucket_change(table, wanted: str, label: str) -> None:
    current = table.properties.get(BUCKET_SPEC_PROPERTY)
    if current is not None and current != wanted:
        name = ".".join(table.name())
        raise PrepareError(
            f"{label}: {name} is bucketed by {current}, the config now says {wanted}; one key would"
            f" land in two buckets. Run `lake rebuild {name}` to rebuild the table with the new spec"
            " in one commit, or restore the old bucket settings."
        )


class StaleRebuild(PrepareError):
    """The target table changed after a rebuild read the source; its rows would drop that commit."""


# A rebuild reads the whole source table; it re-reads this often while other batches keep committing.
REBUILD_READS = 5


def run_prepare(spark, args: PrepareArgs, config: dict, source_config: dict | None = None, pipes=None) -> dict:
    """Prepare one batch of one target table, commit it, and return the figures reported to Dagster.

    ``source_config`` is the ingest config the prepare config reads; loaded when not given.
    ``pipes`` (the Pipes context) is not needed: the figures are reported by the caller.

    A rebuild pins the target snapshot before it reads the source and commits only over that
    snapshot: a batch committed in between makes it read the source again (a new read holds
    the batch), never commit its older rows over the batch.
    """
    last: StaleRebuild | None = None
    for _ in range(REBUILD_READS if args.rebuild else 1):
        try:
            return _prepare_once(spark, args, config, source_config)
        except StaleRebuild as exc:
            last = exc
    raise PrepareError(f"{last}; gave up after {REBUILD_READS} reads, run `lake rebuild` again when it is quiet")


def _pin_target(catalog, spec):
    """The target's current snapshot id (None for a new or empty table), read before the source."""
    table = find_iceberg_table(catalog, spec.database, spec.name)
    snapshot = table.current_snapshot() if table is not None else None
    return snapshot.snapshot_id if snapshot is not None else None


def _check_pin(current, pinned, label: str, spark=None, folder: str | None = None) -> None:
    """Refuse a rebuild commit over a snapshot other than the one pinned before the source read.

    ``folder`` (files written for the refused commit, never committed) is removed first.
    """
    snapshot = current.current_snapshot()
    now = snapshot.snapshot_id if snapshot is not None else None
    if now != pinned:
        if folder is not None:
            delete_path(spark, folder)
        batch = (snapshot.summary.additional_properties if snapshot and snapshot.summary else {}).get("lake.batch-id")
        raise StaleRebuild(
            f"{label}: {'.'.join(current.name())} moved from snapshot {pinned} to {now} (batch {batch})"
            " after the rebuild read the source"
        )


def _prepare_once(spark, args: PrepareArgs, config: dict, source_config: dict | None = None) -> dict:
    from pyiceberg.expressions import AlwaysTrue

    config = job_document(config, f"config {config.get('config_name')!r}")
    if source_config is None:
        source_config = load_config_item(args.config_source, config["source"]["config_name"])
    source_config = job_document(source_config, f"config {source_config.get('config_name')!r}")
    table = find_table(config, args.table_name)
    rebuild = args.rebuild
    batch_id = args.batch_id
    label = f"batch {config['config_name']}.{table['table_name']}/{batch_id}"
    source_table = find_table(source_config, table["source_table_name"])
    catalog = open_catalog(args.catalog)
    spec = target_table_spec(config, table, args.target_bucket, source_config, args.database_prefix)
    pinned = _pin_target(catalog, spec) if rebuild else None
    source_df = read_source(
        spark, catalog, source_config, source_table, None if rebuild else batch_id, label, args.database_prefix
    )
    prepared_at = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M:%S")
    mode = table["write_mode"]
    batch_df = project_columns(source_df, table, prepared_at)
    if rebuild and mode == "overwrite":
        newest = batch_df.agg(F.max("_batch_id")).collect()[0][0]
        batch_df, batch_id = batch_df.where(F.col("_batch_id") == newest), newest or batch_id
    batch_df = batch_df.persist()
    batch_rows = batch_df.count()
    violations = null_violations(batch_df, table)
    if violations:
        raise PrepareError(f"{label}: required columns would be null after casting: {violations}")

    max_rows = config["job_settings"]["num_rows_per_file"]
    summary = snapshot_properties({"batch_id": batch_id, "batch_rows": batch_rows, "rebuild": rebuild or None})
    iceberg = load_table(
        catalog,
        spec,
        arrow_schema_of(
            with_bucket(batch_df, table.get("primary_key") or [], 1).schema if mode == "upsert" else batch_df.schema,
            spec.docs,
        ),
    )
    if mode == "upsert" and not rebuild:
        _refuse_bucket_change(iceberg, bucket_spec(table), label)
    contract = key_contract(table)
    contract_props = key_contract_properties(iceberg, contract, label, rebuild)
    figures = {
        "batch_id": batch_id,
        "write_mode": mode,
        "batch_rows": batch_rows,
        "table_uri": spec.location,
        "table": spec.label,
        "applied": True,
    }
    pk = table.get("primary_key") or []

    if mode == "overwrite":
        if batch_rows == 0:
            raise PrepareError(
                f"{label}: the snapshot has 0 rows (an empty, header-only or fully quarantined upload);"
                f" {spec.label} keeps snapshot {iceberg.properties.get(APPLIED_SNAPSHOT_PROPERTY, '(none)')}"
            )
        folder, files = write_files(spark, batch_df, spec, max_rows)

        def attempt(n: int):
            current = iceberg if n == 0 else load_table(catalog, spec)
            key_contract_properties(current, contract, label, rebuild)
            if rebuild:
                # Over the pinned snapshot, a newer applied batch is one no longer in the source (retired).
                _check_pin(current, pinned, label, spark, folder)
            applied = current.properties.get(APPLIED_SNAPSHOT_PROPERTY)
            if applied is not None and applied > batch_id and not rebuild:
                return current, f"snapshot {applied} is newer than {batch_id}"
            return commit(
                current,
                delete_filter=AlwaysTrue(),
                files=files,
                summary=summary,
                set_properties={APPLIED_SNAPSHOT_PROPERTY: batch_id, **contract_props},
            ), None

        committed, skipped = retry_on_conflict(f"{spec.label} {label}", attempt)
        if skipped:
            delete_path(spark, folder)
            figures.update(applied=False, skipped_reason=skipped)
        figures.update(partitions_touched=1, duplicate_keys=duplicate_keys(batch_df, pk) if pk else 0)
    elif mode == "append":
        if rebuild:
            folder, files = write_files(spark, batch_df, spec, max_rows)
            delete_filter = AlwaysTrue()
        else:
            folder, files = write_files(spark, merge_append(None, batch_df, batch_id), spec, max_rows)
            delete_filter = column_equals("_batch_id", batch_id)

        def attempt(n: int):
            current = iceberg if n == 0 else load_table(catalog, spec)
            key_contract_properties(current, contract, label, rebuild)
            if rebuild:
                _check_pin(current, pinned, label, spark, folder)
            return commit(
                current, delete_filter=delete_filter, files=files, summary=summary, set_properties=contract_props
            ), None

        committed, _ = retry_on_conflict(f"{spec.label} {label}", attempt)
        figures.update(partitions_touched=1, duplicate_keys=duplicate_keys(batch_df, pk) if pk else 0)
    elif mode == "upsert":
        wanted_spec = bucket_spec(table)
        if not rebuild:
            _refuse_bucket_change(iceberg, wanted_spec, label)
        bucketed = with_bucket(
            batch_df, pk, table["num_buckets"], table["bucket_by"], table.get("bucket_width")
        ).persist()
        buckets = touched_buckets(bucketed)
        order_by = table.get("order_by") or []

        def attempt(n: int):
            current = iceberg if n == 0 else load_table(catalog, spec)
            if rebuild:
                _check_pin(current, pinned, label)
                merged, existing_rows, delete_filter = latest_per_key(bucketed, pk, order_by), 0, AlwaysTrue()
            else:
                _refuse_bucket_change(current, wanted_spec, label)
                key_contract_properties(current, contract, label)
                delete_filter = column_in("p_bucket", buckets) if buckets else column_equals("p_bucket", -1)
                existing_files = data_files(current, delete_filter) if buckets else []
                existing = read_files(spark, current, existing_files) if existing_files else None
                existing_rows = existing.count() if existing is not None else 0
                merged = merge_upsert(existing, bucketed, pk, order_by)
            folder, files = write_files(spark, merged, spec, max_rows)
            try:
                committed = commit(
                    current,
                    delete_filter=delete_filter,
                    files=files,
                    summary=summary,
                    set_properties={BUCKET_SPEC_PROPERTY: wanted_spec, **contract_props},
                )
            except Exception as exc:
                # Only a commit that surely did not land leaves these files to no one.
                if surely_not_committed(exc):
                    delete_path(spark, folder)
                raise
            # What was committed for these buckets is exactly these files: check keys there.
            dupes = duplicate_keys(read_files(spark, committed, files), pk) if files else 0
            return committed, (existing_rows, dupes)

        committed, (existing_rows, dupes) = retry_on_conflict(f"{spec.label} {label}", attempt)
        figures.update(partitions_touched=len(buckets), existing_rows_read=existing_rows, duplicate_keys=dupes)
        bucketed.unpersist()
    else:
        raise PrepareError(f"{label}: unknown write_mode {mode!r}")
    batch_df.unpersist()

    snapshot = committed.current_snapshot()
    figures.update(
        snapshot_id=snapshot.snapshot_id if snapshot else None,
        target_rows=total_records(committed),
        rebuild=rebuild,
    )
    return figures


def summary(f: dict) -> str:
    """The one log line a person reads first."""
    skipped = "" if f["applied"] else ", skipped: " + f.get("skipped_reason", "")
    return (
        f"prepared {f['batch_rows']} rows ({f['write_mode']}{skipped}); {f['table']} now has"
        f" {f['target_rows']} rows (snapshot {f['snapshot_id']})"
    )
