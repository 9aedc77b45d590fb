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

import contextlib
import json
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from pyspark.sql import DataFrame, SparkSession

from lake_glue import evolution, failpoints
from lake_glue.args import IngestArgs
from lake_glue.config import Acceptance, ConfigError, IngestConfig, PrepareConfig, TableConfig, as_config
from lake_glue.entrypoint import pipes_metadata
from lake_glue.ingest import REASON_COLUMN, LandedRead, add_lineage, cast_and_validate, read_landed_records
from lake_glue.layout import batch_prefix, key_contract, source_table_spec
from lake_glue.records import FileReport, FormatOptions, format_of
from lake_glue.report import StandaloneReporter
from lake_glue.sealing import FIX, SealedFile, content_problems, listing_problems, sealed_files
from lake_glue.storage import delete_path, join_uri, list_files, object_listing, path_exists
from lake_glue.tables import (
    EMPTY_BATCH_PREFIX,
    QUARANTINE_ROOT_PROPERTY,
    TableSpec,
    catalog_uri_of,
    column_equals,
    commit,
    key_contract_properties,
    load_table,
    new_data_folder,
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


@dataclass(frozen=True)
class Batch:
    """One landed batch as the job reads it: its config, folder and format."""

    args: IngestArgs
    config: IngestConfig
    table: TableConfig
    pipes: Any
    key_prefix: str
    uri: str
    opts: FormatOptions
    ingested_at: str

    @property
    def id(self) -> str:
        """The batch id (``YYYYMMDDTHHMMSSZ``)."""
        return self.args.batch_id

    @property
    def label(self) -> str:
        """How messages name the batch: ``batch <config>.<table>/<batch>``."""
        return f"batch {self.config.config_name}.{self.table.table_name}/{self.id}"

    @property
    def extras(self) -> dict:
        """The Pipes extras Dagster sent (the stand-in reporter has none)."""
        return dict(getattr(self.pipes, "extras", None) or {})


@dataclass
class Parsed:
    """What the read of the batch found: its files, whether they were sealed, each file's report."""

    files: list[str]
    sealed: bool
    reports: list[FileReport]
    duplicates: list[str] = field(default_factory=list)

    @property
    def landed(self) -> int:
        """Records the files hold: what the reconciliation compares the stored rows with."""
        return sum(r.records for r in self.reports)

    @property
    def undeclared(self) -> dict[str, int]:
        """Fields found in the records that no column declares, with how many records hold them."""
        return undeclared_fields(self.reports)


def undeclared_fields(reports: list[FileReport]) -> dict[str, int]:
    """The undeclared fields of the files' reports, with how many records hold them in all."""
    counts: dict[str, int] = {}
    for report in reports:
        for key, count in report.undeclared.items():
            counts[key] = counts.get(key, 0) + count
    return counts


@dataclass
class Attempt:
    """The folders this attempt writes (its data files, its quarantine). They go when the run
    fails, unless the commit may have named them: only a commit error proving nothing was
    committed lets them go then."""

    paths: list[str] = field(default_factory=list)
    committing: bool = False

    def discard_on_failure(self, spark: SparkSession) -> Any:
        """An ExitStack exit callback deleting the folders after a failure that left them unnamed."""

        def _exit(exc_type: type[BaseException] | None, exc: BaseException | None, tb: Any) -> bool:
            if exc is not None and (not self.committing or surely_not_committed(exc)):
                for path in self.paths:
                    delete_path(spark, path)
            return False

        return _exit


@dataclass
class Quarantine:
    """This attempt's quarantine: its root for the table, its folder once written, its rows and examples."""

    root: str
    path: str | None = None
    rows: int = 0
    reasons: list = field(default_factory=list)


@dataclass
class Stored:
    """What the run wrote before committing: the table's data files and the quarantine."""

    spec: TableSpec
    catalog: Any
    iceberg: Any
    contract_props: dict
    data_files: list[str]
    source_rows: int
    quarantine: Quarantine
    attempt: Attempt
    # String columns (name -> doc) this batch's commit adds: ``_rescued`` or the new ones (evolution).
    added: dict[str, str] = field(default_factory=dict)


def run_ingest(
    spark: SparkSession, args: IngestArgs, config: IngestConfig | PrepareConfig | dict, pipes: Any = None
) -> dict:
    """Ingest one batch, commit it, and return the figures reported to Dagster.

    ``pipes`` is the Pipes context (its extras carry the sealed file list); without one the
    job reads the batch folder as it is and reports to stdout. The landed files are read once,
    by the write of the valid rows; what that read found (each file's report) is checked before
    anything is committed. Every cleanup (a cached parse, this attempt's data and quarantine
    folders on failure) is on one stack, whichever phase fails.
    """
    batch = _batch(args, _validated(config), pipes or StandaloneReporter())
    with contextlib.ExitStack() as cleanup:
        files, sealed = _verify_seal(spark, batch)
        landed = read_landed_records(spark, [join_uri(batch.uri, f) for f in files], batch.opts, batch.table.columns)
        stored, landed = _store(spark, batch, landed, cleanup)
        parsed = _check_read(spark, batch, files, sealed, landed.reports()[0])
        _quarantine(spark, batch, parsed, landed, stored)
        _reconcile(spark, batch, parsed, stored)
        acceptance = _accept(batch, parsed, stored)
        return _commit(batch, parsed, stored, acceptance)


def _validated(config: IngestConfig | PrepareConfig | dict) -> IngestConfig:
    """The config as the models read it: a job validates what it loaded once, here."""
    origin = f"config {config.get('config_name')!r}" if isinstance(config, dict) else "config"
    model = as_config(config, origin)
    if not isinstance(model, IngestConfig):
        raise ConfigError(f"config {model.config_name!r}: field config_type: the ingest job needs spark_ingest")
    return model


def _batch(args: IngestArgs, config: IngestConfig, pipes: Any) -> Batch:
    table = config.table(args.table_name)
    key_prefix = batch_prefix(config.source.landing_prefix, table.table_name, args.batch_id).rstrip("/")
    return Batch(
        args=args,
        config=config,
        table=table,
        pipes=pipes,
        key_prefix=key_prefix,
        uri=join_uri(f"s3://{args.raw_bucket}", key_prefix),
        opts=FormatOptions.of(config, table),
        ingested_at=datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M:%S"),
    )


def _verify_seal(spark: SparkSession, batch: Batch) -> tuple[list[str], list[SealedFile] | None]:
    """The batch's files (relative names) and its sealed list, checked against the folder now.

    Dagster passes the registry's sealed list as the Pipes extra ``sealed_files``; a run
    without it (the Glue console, tests of the transforms) reads the folder as it is.
    """
    if not path_exists(spark, join_uri(batch.uri, "_SUCCESS")):
        raise IngestError(f"{batch.label}: {batch.uri}/_SUCCESS is missing; the batch is not complete")
    sealed = None
    if "sealed_files" in batch.extras:
        sealed = sealed_files(batch.extras["sealed_files"], batch.key_prefix)
        if not sealed:
            raise IngestError(f"{batch.label}: no data files were there when the batch was sealed; {FIX}")
        listing = object_listing(spark, batch.uri, batch.args.object_listing)
        _refuse_if(batch.label, "the sealed batch changed, nothing was read", listing_problems(sealed, listing))
    files = [f.name for f in sealed] if sealed is not None else list_files(spark, batch.uri)
    if not files:
        raise IngestError(f"{batch.label}: no data files under {batch.uri}")
    return files, sealed


def _refuse_if(label: str, what: str, problems: list[str]) -> None:
    if problems:
        raise IngestError(f"{label}: {what} or committed: " + "; ".join(problems) + f". {FIX}")


def _check_read(
    spark: SparkSession, batch: Batch, files: list[str], sealed: list[SealedFile] | None, reports: list[FileReport]
) -> Parsed:
    """Refuse the batch for a changed seal, an unreadable file or a duplicate delivery, from what
    the read of its files reported."""
    reports = reports + _unread_empty_files(batch, files, reports)
    if sealed is not None:
        # What was read must be what was sealed, and the folder must still be as sealed.
        by_name = {f: next(r for r in reports if r.path.endswith("/" + f)) for f in files}
        digests = {f: (r.size, r.md5) for f, r in by_name.items()}
        changed = content_problems(sealed, digests, bool(batch.extras.get("etag_is_content_md5")))
        changed += listing_problems(sealed, object_listing(spark, batch.uri, batch.args.object_listing))
        what = "the sealed batch changed while it was read, nothing was stored"
        _refuse_if(batch.label, what, sorted(set(changed)))
    problems = [f"{r.path}: {r.problem}" for r in reports if r.problem]
    if problems:
        raise IngestError(f"{batch.label}: " + "; ".join(problems))
    parsed = Parsed(files=files, sealed=sealed is not None, reports=reports)
    parsed.duplicates = _check_duplicates(batch, reports)
    return parsed


def _unread_empty_files(batch: Batch, files: list[str], reports: list[FileReport]) -> list[FileReport]:
    """Reports for the 0-byte files: Spark's file sources skip them, so they have none, and are empty."""
    reported = {r.path.rsplit("/", 1)[-1] for r in reports}
    return [FileReport.of(join_uri(batch.uri, f), b"") for f in files if f.rsplit("/", 1)[-1] not in reported]


def _check_duplicates(batch: Batch, reports: list[FileReport]) -> list[str]:
    """Compare the batch's files by SHA-256 with the table's other live batches and each other.

    Dagster passes the other batches' checksums as the Pipes extra ``known_checksums``; a
    byte-identical file is reported by the ``not_a_duplicate_delivery`` check and refuses the
    batch, unless the table sets ``acceptance.reject_duplicate_delivery: false`` (a warning). Files
    without records are left out: an empty file repeats harmlessly.
    """
    if "known_checksums" not in batch.extras:
        return []
    known = dict(batch.extras["known_checksums"])
    found = []
    for report in sorted(reports, key=lambda r: r.path):
        name = report.path.rsplit("/", 1)[-1]
        if report.records and report.sha256 in known:
            found.append(f"{name} is byte-identical to {known[report.sha256]}")
        known.setdefault(report.sha256, f"this batch's {name}")
    # A re-delivered file is committed twice otherwise: refusing is the default.
    reject = (batch.table.acceptance or Acceptance()).reject_duplicate_delivery
    batch.pipes.report_asset_check(
        DUPLICATE_CHECK,
        passed=not found,
        severity="ERROR" if reject else "WARN",
        metadata={"duplicates": {"raw_value": found, "type": "json"}, "rejected": reject},
    )
    if found and reject:
        raise IngestError(
            f"{batch.label}: refused as a duplicate delivery, nothing was committed: {'; '.join(found)}. If the"
            f" earlier batch was wrong, retire it (`lake retire {batch.config.config_name}.{batch.table.table_name}"
            " <earlier batch> --reason ...`) and run this batch again; if both deliveries are wanted, set"
            f" acceptance.reject_duplicate_delivery: false on table {batch.table.table_name}"
        )
    return found


def _store(
    spark: SparkSession, batch: Batch, landed: LandedRead, cleanup: contextlib.ExitStack
) -> tuple[Stored, LandedRead]:
    """Cast the records and write the valid rows as the table's data files: the one pass over the
    landed files. Returns what was stored and the read that stored it.

    A split file one of whose cuts was not a record end is written again, read as one range.
    Nothing is committed yet; this attempt's folders go again if the run fails before its commit.
    """
    attempt = Attempt()
    cleanup.push(attempt.discard_on_failure(spark))
    undeclared: dict[str, int] = {}
    if batch.table.on_new_columns == "add":  # the columns to add must be known before the write
        landed, undeclared = _read_before_storing(landed, cleanup)
    spec = source_table_spec(batch.config, batch.table, batch.args.source_bucket, batch.args.database_prefix)
    catalog = open_catalog(batch.args.catalog)
    while True:
        valid, _ = _typed_rows(batch, landed.records)
        failpoints.hit("ingest:cast")
        valid, iceberg, added = evolution.source_table(
            batch.label, batch.table, batch.opts, valid, undeclared, (catalog, spec)
        )
        contract_props = key_contract_properties(iceberg, key_contract(batch.table), batch.label)
        attempt.paths.append(new_data_folder(spec))
        _, data_files = write_files(spark, valid, spec, batch.config.job_settings.num_rows_per_file, attempt.paths[-1])
        inexact = landed.reports()[1]
        if not inexact:
            break
        delete_path(spark, attempt.paths.pop())
        landed = landed.again(inexact)
    failpoints.hit("ingest:stored")
    source_bucket = f"s3://{batch.args.source_bucket}"
    quarantine = Quarantine(join_uri(source_bucket, "quarantine", batch.config.target.prefix, batch.table.table_name))
    stored = Stored(
        spec, catalog, iceberg, contract_props, data_files, _stored_rows(spark, data_files), quarantine, attempt, added
    )
    return stored, landed


def _read_before_storing(landed: LandedRead, cleanup: contextlib.ExitStack) -> tuple[LandedRead, dict[str, int]]:
    """Read the files ahead of the write, cached, for the undeclared fields they hold (``add``)."""
    cleanup.callback(landed.read_now().unpersist)
    reports, inexact = landed.reports()
    if inexact:
        landed = landed.again(inexact)
        cleanup.callback(landed.read_now().unpersist)
        reports, _ = landed.reports()
    return landed, undeclared_fields(reports)


def _typed_rows(batch: Batch, records: DataFrame) -> tuple[DataFrame, DataFrame]:
    """(valid rows with lineage, as the table stores them before evolution; rejected rows)."""
    valid, rejected = cast_and_validate(add_lineage(records, batch.id, batch.ingested_at), batch.table.columns)
    # A format's extra identity (a Parquet row group and row) stays with the quarantined rows only.
    return valid.drop(*format_of(batch.opts.format).extra_identity), rejected


def _quarantine(spark: SparkSession, batch: Batch, parsed: Parsed, landed: LandedRead, stored: Stored) -> None:
    """Write the rejected records to this attempt's quarantine folder.

    Every record is either valid or rejected, so a batch that stored all its records has
    rejected none and its files are not read again (the reconciliation still checks). Otherwise
    they are parsed once more (a cached read is reused), and that read must find the same files.
    """
    if stored.source_rows >= parsed.landed:
        return
    again = landed if landed.cached else landed.again()
    _, rejected = _typed_rows(batch, again.records)
    _write_quarantine(spark, rejected, join_uri(stored.quarantine.root, f"p_batch_id={batch.id}"), stored)
    if again is not landed:
        first = {(r.path, r.size, r.sha256, r.records) for r in landed.reports()[0]}
        second = {(r.path, r.size, r.sha256, r.records) for r in again.reports()[0]}
        changed = sorted({p.rsplit("/", 1)[-1] for p, *_ in first ^ second})
        if changed:
            raise IngestError(
                f"{batch.label}: files changed while the batch was read, nothing was committed: {changed}"
            )


def _write_quarantine(spark: SparkSession, rejected: DataFrame, batch_uri: str, stored: Stored) -> None:
    """Write rejected rows as JSON to a fresh attempt folder; note its rows and example reasons."""
    quarantine = stored.quarantine
    quarantine.path = join_uri(batch_uri, f"attempt={uuid.uuid4().hex[:12]}")
    stored.attempt.paths.append(quarantine.path)
    rejected.drop("p_ingest_day", "p_batch_id").write.mode("errorifexists").json(quarantine.path)
    # Read as text: counting lines needs no JSON schema inference pass.
    lines = spark.read.text(quarantine.path)
    quarantine.rows = lines.count()
    quarantine.reasons = [json.loads(r.value).get(REASON_COLUMN) for r in lines.limit(5).collect()]


def _stored_rows(spark: SparkSession, data_files: list[str]) -> int:
    """Rows in the written data files (Parquet footers only, no data is read)."""
    return spark.read.parquet(*data_files).count() if data_files else 0


def _reconcile(spark: SparkSession, batch: Batch, parsed: Parsed, stored: Stored) -> None:
    """Check what was stored against what landed.

    Reads back the written data and quarantine files' lineage: every record must be there
    exactly once, by (file, line). Any difference fails the batch with the numbers.
    """
    from pyspark.sql import types as T

    identity = ["_source_file", "_source_line"]
    rows = stored.source_rows + stored.quarantine.rows
    lineage = spark.read.parquet(*stored.data_files).select(*identity) if stored.data_files else None
    if stored.quarantine.rows and stored.quarantine.path:
        schema = T.StructType([T.StructField(identity[0], T.StringType()), T.StructField(identity[1], T.LongType())])
        quarantined = spark.read.schema(schema).json(stored.quarantine.path)
        lineage = quarantined if lineage is None else lineage.unionByName(quarantined)
    distinct = lineage.distinct().count() if lineage is not None else 0
    if rows != parsed.landed or distinct != parsed.landed:
        raise IngestError(
            f"{batch.label}: reconciliation failed: {parsed.landed} records landed, {stored.source_rows} stored"
            f" in source + {stored.quarantine.rows} quarantined = {rows}, {distinct} distinct (file, line);"
            " nothing was committed"
        )


def _accept(batch: Batch, parsed: Parsed, stored: Stored) -> dict:
    """Apply the table's acceptance rules and report them as the ``acceptance_rules`` check.

    Returns the rules with the figures, or fails the batch (after reporting the failed check).
    """
    rules = batch.table.acceptance or Acceptance()
    landed, quarantined = parsed.landed, stored.quarantine.rows
    rate = quarantined / landed if landed else 0.0
    broken = _broken_rules(rules, parsed.reports, stored.source_rows, quarantined, landed)
    figures = {**rules.model_dump(), "quarantine_rate": round(rate, 6)}
    batch.pipes.report_asset_check(
        ACCEPTANCE_CHECK,
        passed=not broken,
        severity="ERROR",
        metadata=pipes_metadata(
            {
                "rules": figures,
                "refused_because": "; ".join(broken) or "-",
                "landed_rows": landed,
                "source_rows": stored.source_rows,
                "quarantined_rows": quarantined,
            }
        ),
    )
    if broken:
        refused = f"{batch.label}: refused by the acceptance rules, nothing was committed: "
        raise IngestError(refused + "; ".join(broken))
    return figures


def _broken_rules(rules: Acceptance, reports: list[FileReport], source: int, quarantined: int, landed: int) -> list:
    """The acceptance rules the batch breaks, each as the sentence that names it."""
    broken = []
    empty = sorted(r.path.rsplit("/", 1)[-1] for r in reports if r.records == 0)
    if empty and not rules.allow_empty:
        broken.append(
            f"files with no records (empty or header-only): {empty}; set acceptance.allow_empty to accept them"
        )
    if source < rules.min_rows:
        broken.append(f"{source} valid rows, fewer than acceptance.min_rows={rules.min_rows}")
    rate = quarantined / landed if landed else 0.0
    if rules.max_quarantine_rate is not None and rate > rules.max_quarantine_rate:
        broken.append(
            f"{quarantined} of {landed} records quarantined ({rate:.1%}), above"
            f" acceptance.max_quarantine_rate={rules.max_quarantine_rate}"
        )
    return broken


def _commit(batch: Batch, parsed: Parsed, stored: Stored, acceptance: dict) -> dict:
    """Commit "delete partition p_batch_id=<batch> + add the new files" and return the figures."""
    figures = _figures(batch, parsed, stored, acceptance)
    summary = snapshot_properties(
        {k: figures[k] for k in ("batch_id", "landed_rows", "source_rows", "quarantined_rows", "quarantine_uri")}
    )
    empty_key = f"{EMPTY_BATCH_PREFIX}{batch.id}"
    # A batch with no valid row has no file to show that it was ingested; the property does.
    properties = {QUARANTINE_ROOT_PROPERTY: catalog_uri_of(stored.quarantine.root), **stored.contract_props}
    if not stored.data_files:
        properties[empty_key] = json.dumps({"landed_rows": parsed.landed, "quarantined_rows": stored.quarantine.rows})
    contract = key_contract(batch.table)

    def attempt(n: int) -> Any:
        current = stored.iceberg if n == 0 else load_table(stored.catalog, stored.spec)
        key_contract_properties(current, contract, batch.label)
        return commit(
            current,
            delete_filter=column_equals("p_batch_id", batch.id),
            files=stored.data_files,
            summary=summary,
            set_properties=properties,
            remove_properties=[empty_key] if stored.data_files else None,
            add_string_columns=stored.added,
        )

    # From here the snapshot may name this attempt's quarantine: it stays unless the commit surely
    # failed. Other attempts' folders always stay (a run of this batch still going may commit one);
    # maintenance removes those no retained snapshot names, once older than the orphan window.
    stored.attempt.committing = True
    committed = retry_on_conflict(f"{stored.spec.label} {batch.label}", attempt)
    snapshot = committed.current_snapshot()
    figures.update(
        table=stored.spec.label,
        snapshot_id=snapshot.snapshot_id if snapshot else None,
        table_rows=total_records(committed),
        source_uri=stored.spec.location,
    )
    return figures


def _figures(batch: Batch, parsed: Parsed, stored: Stored, acceptance: dict) -> dict:
    """What the run reports to Dagster (the asset materialization's metadata)."""
    reports = sorted(parsed.reports, key=lambda r: r.path)
    return {
        "batch_id": batch.id,
        "landed_files": len(parsed.files),
        "sealed": parsed.sealed,
        "landed_rows": parsed.landed,
        "source_rows": stored.source_rows,
        "quarantined_rows": stored.quarantine.rows,
        "blank_lines": sum(r.blank_lines for r in reports),
        "files": [
            {"file": r.path.rsplit("/", 1)[-1], "bytes": r.size, "records": r.records, "sha256": r.sha256}
            for r in reports[:100]
        ],
        "acceptance": acceptance,
        "duplicate_files": parsed.duplicates,
        "file_sha256": {r.path.rsplit("/", 1)[-1]: r.sha256 for r in reports},
        "table_uri": stored.spec.location,
        "quarantine_uri": stored.quarantine.path,
        "quarantine_examples": stored.quarantine.reasons,
        "undeclared_fields": parsed.undeclared,
        "on_new_columns": batch.table.on_new_columns,
        "added_columns": sorted(set(stored.added) - {evolution.RESCUED_COLUMN}),
        "format": batch.opts.format,
    }


def summary(f: dict) -> str:
    """The one log line a person reads first."""
    return (
        f"ingested {f['landed_rows']} landed rows: {f['source_rows']} to source,"
        f" {f['quarantined_rows']} quarantined (snapshot {f['snapshot_id']})"
    )
