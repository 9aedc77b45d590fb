"""Glue job ``files-spark-ingest-default``: one landed batch -> the source layer's Iceberg table.

The entry point Glue runs is ``glue_scripts/files_spark_ingest_default.py``; this is its logic.

Arguments: ``lake_glue.args.IngestArgs`` (Glue style, ``--key value``): ``--config_name``,
``--table_name``, ``--batch_id``, ``--config_source`` (``dynamodb://table`` or ``file:///dir``),
``--catalog`` (``glue`` or ``sqlite:///<file>``), ``--raw_bucket``, ``--source_bucket`` and
``--object_listing`` (``s3`` or ``filesystem``). Arguments Glue adds itself are ignored.

The batch is the table's ``p_batch_id`` partition: a run writes the batch's files to a fresh
folder and commits "delete partition p_batch_id=<batch> + add the new files" in one Iceberg
transaction, so a re-run replaces exactly that batch and a killed run changes nothing.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from datetime import datetime, timezone

from lake_glue import evolution
from lake_glue.args import IngestArgs
from lake_glue.config import job_document
from lake_glue.configs import find_table
from lake_glue.entrypoint import pipes_metadata
from lake_glue.ingest import REASON_COLUMN, add_lineage, cast_and_validate, read_landed_records
from lake_glue.layout import batch_prefix, key_contract, source_table_spec
from lake_glue.records import FileReport, FormatOptions
from lake_glue.report import StandaloneReporter
from lake_glue.sealing import FIX, content_problems, listing_problems, sealed_files
from lake_glue.storage import delete_path, join_uri, list_files, object_listing, path_exists
from lake_glue.tables import (
    EMPTY_BATCH_PREFIX,
    QUARANTINE_ROOT_PROPERTY,
    catalog_uri_of,
    column_equals,
    commit,
    key_contract_properties,
    load_table,
    open_catalog,
    retry_on_conflict,
    snapshot_properties,
    surely_not_committed,
    total_records,
    write_files,
)

ACCEPTANCE_CHECK = "acceptance_rules"
DUPLICATE_CHECK = "not_a_duplicate_delivery"


class IngestError(RuntimeError):
    """The batch cannot be ingested; the message names the batch and what is wrong."""


def _write_quarantine(spark, rejected, quarantine_batch_uri: str) -> tuple[str, int, list]:
    """Write rejected rows as JSON to a fresh attempt folder; returns (folder, rows, example reasons)."""
    attempt = join_uri(quarantine_batch_uri, f"attempt={uuid.uuid4().hex[:12]}")
    rejected.drop("p_ingest_day", "p_batch_id").write.mode("errorifexists").json(attempt)
    # Read as text: counting lines needs no JSON schema inference pass.
    lines = spark.read.text(attempt)
    rows = lines.count()
    reasons = [json.loads(r.value).get(REASON_COLUMN) for r in lines.limit(5).collect()] if rows else []
    return attempt, rows, reasons


def _stored_rows(spark, data_files: list[str]) -> int:
    """Rows in the written data files (Parquet footers only, no data is read)."""
    return spark.read.parquet(*data_files).count() if data_files else 0


def _reconcile(
    spark,
    label: str,
    data_files: list[str],
    source_rows: int,
    quarantine_path: str | None,
    quarantined_rows: int,
    landed_rows: int,
) -> None:
    """Check what was stored against what landed.

    Reads back the written data and quarantine files' lineage: every physical record must be
    there exactly once, by (file, line). Any difference fails the batch with the numbers.
    """
    from pyspark.sql import types as T

    lineage = ["_source_file", "_source_line"]
    stored = spark.read.parquet(*data_files).select(*lineage) if data_files else None
    if quarantined_rows:
        schema = T.StructType(
            [T.StructField("_source_file", T.StringType()), T.StructField("_source_line", T.LongType())]
        )
        quarantined = spark.read.schema(schema).json(quarantine_path)
        stored = quarantined if stored is None else stored.unionByName(quarantined)
    distinct = stored.distinct().count() if stored is not None else 0
    if source_rows + quarantined_rows != landed_rows or distinct != landed_rows:
        raise IngestError(
            f"{label}: reconciliation failed: {landed_rows} records landed, {source_rows} stored in source"
            f" + {quarantined_rows} quarantined = {source_rows + quarantined_rows},"
            f" {distinct} distinct (file, line); nothing was committed"
        )


def _accept(label: str, table: dict, reports, landed: int, source: int, quarantined: int, pipes) -> dict:
    """Apply the table's acceptance rules and report them as the ``acceptance_rules`` check.

    Returns the rules with the figures, or fails the batch (after reporting the failed check).
    """
    rules = {"allow_empty": False, "min_rows": 0, "max_quarantine_rate": None, **(table.get("acceptance") or {})}
    rate = quarantined / landed if landed else 0.0
    broken = []
    if not rules["allow_empty"]:
        empty = sorted(r.path.rsplit("/", 1)[-1] for r in reports if r.records == 0)
        if empty:
            broken.append(
                f"files with no records (empty or header-only): {empty}; set acceptance.allow_empty to accept them"
            )
    if source < rules["min_rows"]:
        broken.append(f"{source} valid rows, fewer than acceptance.min_rows={rules['min_rows']}")
    if rules["max_quarantine_rate"] is not None and rate > rules["max_quarantine_rate"]:
        broken.append(
            f"{quarantined} of {landed} records quarantined ({rate:.1%}), above"
            f" acceptance.max_quarantine_rate={rules['max_quarantine_rate']}"
        )
    figures = {**rules, "quarantine_rate": round(rate, 6)}
    pipes.report_asset_check(
        ACCEPTANCE_CHECK,
        passed=not broken,
        severity="ERROR",
        metadata=pipes_metadata(
            {
                "rules": figures,
                "refused_because": "; ".join(broken) or "-",
                "landed_rows": landed,
                "source_rows": source,
                "quarantined_rows": quarantined,
            }
        ),
    )
    if broken:
        raise IngestError(f"{label}: refused by the acceptance rules, nothing was committed: " + "; ".join(broken))
    return figures


def _extras(pipes) -> dict:
    """The Pipes extras Dagster sent (the stand-in reporter has none)."""
    return dict(getattr(pipes, "extras", None) or {})


def _check_duplicates(label: str, table: dict, reports, pipes) -> list[str]:
    """Compare the batch's files by SHA-256 with the table's other live batches and each other.

    Dagster passes the other batches' checksums as the Pipes extra ``known_checksums``; a
    byte-identical file is reported by the ``not_a_duplicate_delivery`` check and refuses the
    batch, unless the table sets ``acceptance.reject_duplicate_delivery: false`` (a warning). Files
    without records are left out: an empty file repeats harmlessly.
    """
    extras = _extras(pipes)
    if "known_checksums" not in extras:
        return []
    known = dict(extras["known_checksums"])
    found = []
    for report in sorted(reports, key=lambda r: r.path):
        name = report.path.rsplit("/", 1)[-1]
        if report.records and report.sha256 in known:
            found.append(f"{name} is byte-identical to {known[report.sha256]}")
        known.setdefault(report.sha256, f"this batch's {name}")
    # A re-delivered file is committed twice otherwise: refusing is the default.
    reject = bool((table.get("acceptance") or {}).get("reject_duplicate_delivery", True))
    pipes.report_asset_check(
        DUPLICATE_CHECK,
        passed=not found,
        severity="ERROR" if reject else "WARN",
        metadata={"duplicates": {"raw_value": found, "type": "json"}, "rejected": reject},
    )
    if found and reject:
        table_id = label.removeprefix("batch ").split("/", 1)[0]
        raise IngestError(
            f"{label}: refused as a duplicate delivery, nothing was committed: {'; '.join(found)}. If the"
            f" earlier batch was wrong, retire it (`lake retire {table_id} <earlier batch> --reason ...`)"
            " and run this batch again; if both deliveries are wanted, set"
            f" acceptance.reject_duplicate_delivery: false on table {table['table_name']}"
        )
    return found


def _sealed(spark, args: IngestArgs, pipes, label: str, key_prefix: str, batch_uri: str):
    """The batch's sealed files (relative names), checked against the folder now; None if unsealed.

    Dagster passes the registry's sealed list as the Pipes extra ``sealed_files``; a run
    without it (the Glue console, tests of the transforms) reads the folder as it is.
    """
    extras = _extras(pipes)
    if "sealed_files" not in extras:
        return None
    sealed = sealed_files(extras["sealed_files"], key_prefix)
    if not sealed:
        raise IngestError(f"{label}: no data files were there when the batch was sealed; {FIX}")
    _refuse_if(
        label,
        "the sealed batch changed, nothing was read",
        listing_problems(sealed, object_listing(spark, batch_uri, args.object_listing)),
    )
    return sealed


def _refuse_if(label: str, what: str, problems: list[str]) -> None:
    if problems:
        raise IngestError(f"{label}: {what} or committed: " + "; ".join(problems) + f". {FIX}")


def run_ingest(spark, args: IngestArgs, config: dict, pipes=None) -> dict:
    """Ingest one batch, commit it, and return the figures reported to Dagster.

    ``pipes`` is the Pipes context (its extras carry the sealed file list); without one the
    job reads the batch folder as it is and reports to stdout.
    """
    config = job_document(config, f"config {config.get('config_name')!r}")
    pipes = pipes or StandaloneReporter()
    table = find_table(config, args.table_name)
    batch_id = args.batch_id
    key_prefix = batch_prefix(config["source"]["landing_prefix"], table["table_name"], batch_id).rstrip("/")
    batch_uri = join_uri(f"s3://{args.raw_bucket}", key_prefix)
    label = f"batch {config['config_name']}.{table['table_name']}/{batch_id}"
    if not path_exists(spark, join_uri(batch_uri, "_SUCCESS")):
        raise IngestError(f"{label}: {batch_uri}/_SUCCESS is missing; the batch is not complete")
    sealed = _sealed(spark, args, pipes, label, key_prefix, batch_uri)
    files = [f.name for f in sealed] if sealed is not None else list_files(spark, batch_uri)
    if not files:
        raise IngestError(f"{label}: no data files under {batch_uri}")
    opts = FormatOptions.of(config, table)
    ingested_at = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M:%S")

    records, parsed, reports = read_landed_records(
        spark, [join_uri(batch_uri, f) for f in files], opts, table["columns"]
    )
    # Spark's file sources skip 0-byte files: such a file has no report, and is empty.
    reported = {r.path.rsplit("/", 1)[-1] for r in reports}
    reports += [
        FileReport(
            path=join_uri(batch_uri, f),
            size=0,
            sha256=hashlib.sha256(b"").hexdigest(),
            md5=hashlib.md5(b"", usedforsecurity=False).hexdigest(),
        )
        for f in files
        if f.rsplit("/", 1)[-1] not in reported
    ]
    if sealed is not None:
        # What was read must be what was sealed, and the folder must still be as sealed.
        by_name = {f: next(r for r in reports if r.path.endswith("/" + f)) for f in files}
        changed = content_problems(
            sealed, {f: (r.size, r.md5) for f, r in by_name.items()}, bool(_extras(pipes).get("etag_is_content_md5"))
        )
        changed += listing_problems(sealed, object_listing(spark, batch_uri, args.object_listing))
        if changed:
            parsed.unpersist()
        _refuse_if(label, "the sealed batch changed while it was read, nothing was stored", sorted(set(changed)))
    problems = [f"{r.path}: {r.problem}" for r in reports if r.problem]
    if problems:
        parsed.unpersist()
        raise IngestError(f"{label}: " + "; ".join(problems))
    try:
        duplicates = _check_duplicates(label, table, reports, pipes)
    except IngestError:
        parsed.unpersist()
        raise
    landed_rows = sum(r.records for r in reports)
    undeclared: dict[str, int] = {}
    for report in reports:
        for key, count in report.undeclared.items():
            undeclared[key] = undeclared.get(key, 0) + count
    valid, rejected = cast_and_validate(add_lineage(records, batch_id, ingested_at), table["columns"])

    spec = source_table_spec(config, table, args.source_bucket, args.database_prefix)
    catalog = open_catalog(args.catalog)
    valid, iceberg, added = evolution.source_table(label, table, opts, valid, undeclared, (catalog, spec))
    contract = key_contract(table)
    contract_props = key_contract_properties(iceberg, contract, label)
    max_rows = config["job_settings"]["num_rows_per_file"]
    _, data_files = write_files(spark, valid, spec, max_rows)

    quarantine_root = join_uri(
        f"s3://{args.source_bucket}", "quarantine", config["target"]["prefix"], table["table_name"]
    )
    quarantine_batch_uri = join_uri(quarantine_root, f"p_batch_id={batch_id}")
    source_rows = _stored_rows(spark, data_files)
    # Every record is either valid or rejected, so a batch that stored all its records has
    # rejected none: the rejected side's plan is not run at all (reconciliation still checks).
    quarantine_path, quarantined_rows, reasons = (
        _write_quarantine(spark, rejected, quarantine_batch_uri) if source_rows < landed_rows else (None, 0, [])
    )
    parsed.unpersist()
    try:
        _reconcile(spark, label, data_files, source_rows, quarantine_path, quarantined_rows, landed_rows)
        acceptance = _accept(label, table, reports, landed_rows, source_rows, quarantined_rows, pipes)
    except IngestError:
        if quarantine_path:
            delete_path(spark, quarantine_path)
        raise

    figures = {
        "batch_id": batch_id,
        "landed_files": len(files),
        "sealed": sealed is not None,
        "landed_rows": landed_rows,
        "source_rows": source_rows,
        "quarantined_rows": quarantined_rows,
        "blank_lines": sum(r.blank_lines for r in reports),
        "files": [
            {"file": r.path.rsplit("/", 1)[-1], "bytes": r.size, "records": r.records, "sha256": r.sha256}
            for r in sorted(reports, key=lambda r: r.path)[:100]
        ],
        "acceptance": acceptance,
        "duplicate_files": duplicates,
        "file_sha256": {r.path.rsplit("/", 1)[-1]: r.sha256 for r in reports},
        "table_uri": spec.location,
        "quarantine_uri": quarantine_path,
        "quarantine_examples": reasons,
        "undeclared_fields": undeclared,
        "on_new_columns": table["on_new_columns"],
        "added_columns": sorted(set(added) - {evolution.RESCUED_COLUMN}),
        "format": opts.format,
    }
    summary = snapshot_properties(
        {k: figures[k] for k in ("batch_id", "landed_rows", "source_rows", "quarantined_rows", "quarantine_uri")}
    )
    empty_key = f"{EMPTY_BATCH_PREFIX}{batch_id}"

    # A batch with no valid row has no file to show that it was ingested; the property does.
    properties = {QUARANTINE_ROOT_PROPERTY: catalog_uri_of(quarantine_root), **contract_props}
    if not data_files:
        properties[empty_key] = json.dumps({"landed_rows": landed_rows, "quarantined_rows": quarantined_rows})

    def attempt(n: int):
        current = iceberg if n == 0 else load_table(catalog, spec)
        key_contract_properties(current, contract, label)
        return commit(
            current,
            delete_filter=column_equals("p_batch_id", batch_id),
            files=data_files,
            summary=summary,
            set_properties=properties,
            remove_properties=[empty_key] if data_files else None,
            add_string_columns=added,
        )

    try:
        committed = retry_on_conflict(f"{spec.label} {label}", attempt)
    except Exception as exc:
        # Nothing of this attempt was committed: its quarantine must not be mistaken for the batch's.
        # After any other error the snapshot may name it, so it stays.
        if quarantine_path and surely_not_committed(exc):
            delete_path(spark, quarantine_path)
        raise
    # Other attempts' quarantine folders stay: a run of this batch still going may commit one of
    # them. Maintenance removes those no retained snapshot names, once older than the orphan window.
    snapshot = committed.current_snapshot()
    figures.update(
        table=spec.label,
        snapshot_id=snapshot.snapshot_id if snapshot else None,
        table_rows=total_records(committed),
        source_uri=spec.location,
    )
    return figures


def summary(f: dict) -> str:
    """The one log line a person reads first."""
    return (
        f"ingested {f['landed_rows']} landed rows: {f['source_rows']} to source,"
        f" {f['quarantined_rows']} quarantined (snapshot {f['snapshot_id']})"
    )
