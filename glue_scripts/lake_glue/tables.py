"""Iceberg tables: where Spark's files become visible, in one atomic, conflict-checked commit.

The protocol every writing job follows:

1. Spark writes the batch's Parquet files to a folder no one else writes to,
   ``<table location>/data/<write id>/``; readers never list folders, so these files are
   invisible until step 2.
2. pyiceberg commits one transaction: delete the files the batch replaces (a filter on the
   batch or on the partitions it rewrote) and add the new files. The catalog swaps the table's
   metadata pointer in one compare-and-set (a SQL ``UPDATE ... WHERE metadata_location = ?``
   locally, Glue ``UpdateTable`` with a version id in AWS), so readers see the table before or
   after the batch, never in between.
3. If another writer committed first, pyiceberg re-validates: a concurrent commit that added
   files matching this transaction's delete filter is a conflict (``ValidationException``), a
   disjoint one is not. Callers re-read and retry through :func:`retry_on_conflict`.

4. If the commit raises anything else (a timeout of Glue's ``UpdateTable``, a failure after the
   swap), its outcome is unknown: :func:`commit` reloads the table and looks for the snapshot
   carrying this commit's ``lake.commit-id``. Found, the commit is done; surely absent,
   :class:`CommitNotLanded` is raised and the caller may delete its output files; reload failed,
   :class:`CommitOutcomeUnknown` is raised and the files must stay (they may be the table's).
   :func:`surely_not_committed` tells callers which errors allow deleting output.

A job killed before step 2 leaves unreferenced files (removed later by ``lake maintain``);
a job killed during step 2 leaves manifests that no snapshot points to. Either way the table is
unchanged and a re-run replaces the batch as if the first attempt never happened.

Locally Spark reaches buckets through ``s3://`` URIs mapped to folders (see ``lake_glue.spark``);
pyiceberg cannot use that mapping, so the catalog holds ``file://`` locations there.
"""

from __future__ import annotations

import json
import os
import time
import uuid
import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

from lake_glue import failpoints
from lake_glue.snapshot_files import remember_committed
from lake_glue.spark import LOCAL_ROOT_ENV

SNAPSHOT_PREFIX = "lake."
BUCKET_SPEC_PROPERTY = "lake.bucket-spec"
# The table's whole key contract (``lake_glue.layout.key_contract``), stored at creation.
KEY_CONTRACT_PROPERTY = "lake.key-contract"
APPLIED_SNAPSHOT_PROPERTY = "lake.snapshot-batch-id"
BATCH_ID_PROPERTY = "lake.batch-id"
# Where a source table's quarantine attempt folders live (catalog form); snapshots name theirs in
# ``lake.quarantine-uri``, and maintenance removes the folders no retained snapshot names.
QUARANTINE_ROOT_PROPERTY = "lake.quarantine-root"
QUARANTINE_URI_PROPERTY = "lake.quarantine-uri"
COMMIT_ID_PROPERTY = "lake.commit-id"
EMPTY_BATCH_PREFIX = "lake.empty-batch."
DATA_DIR = "data"
COMMIT_ATTEMPTS = 5

T = TypeVar("T")


class CommitConflict(RuntimeError):
    """Concurrent writers kept winning; the message names the table and the competing snapshot."""


class KeyContractChanged(RuntimeError):
    """The config's key contract differs from the one the table stores; the message says how to apply it."""


def key_contract_properties(table: Any, wanted: str, label: str, rebuild: bool = False) -> dict[str, str]:
    """The property recording ``wanted`` on the next commit; refuses a contract the table does not hold.

    A table created before contracts were stored gets ``wanted`` recorded by that commit. A
    rebuild (one commit that replaces every row) applies a changed contract.
    """
    stored = table.properties.get(KEY_CONTRACT_PROPERTY)
    if stored is not None and stored != wanted and not rebuild:
        name = ".".join(table.name())
        raise KeyContractChanged(
            f"{label}: {name} stores the key contract [{stored}], the config now says [{wanted}]; one key"
            f" would live in two places. Run `lake rebuild {name}` to rebuild the table under the new"
            " contract in one commit (`lake rebuild --from-raw` for a source table), or restore the config."
        )
    return {KEY_CONTRACT_PROPERTY: wanted}


class CommitNotLanded(RuntimeError):
    """A commit raised, and the reloaded table surely holds no snapshot of it: output may be deleted."""


class CommitOutcomeUnknown(RuntimeError):
    """A commit raised and the table could not be reloaded: the output files must be kept."""


def surely_not_committed(exc: BaseException) -> bool:
    """Whether ``exc`` from :func:`commit` or :func:`retry_on_conflict` proves nothing was committed.

    Only then may a job delete the files it wrote for the commit; after any other error they may
    be the files of the table's current snapshot.
    """
    from pyiceberg.exceptions import CommitFailedException, ValidationException

    return isinstance(exc, (CommitFailedException, ValidationException, CommitConflict, CommitNotLanded))


@dataclass(frozen=True)
class TableSpec:
    """What a job needs to create or load one lake table."""

    database: str
    name: str
    location: str
    partition_columns: list[str] = field(default_factory=list)
    properties: dict[str, str] = field(default_factory=dict)
    docs: dict[str, str] = field(default_factory=dict)

    @property
    def identifier(self) -> tuple[str, str]:
        """``(database, table)`` as the catalog names it."""
        return (self.database, self.name)

    @property
    def label(self) -> str:
        """``database.table``, as analysts query it."""
        return f"{self.database}.{self.name}"


def catalog_uri_of(uri: str) -> str:
    """The location pyiceberg uses for a lake ``s3://`` URI: itself in AWS, a ``file://`` path locally."""
    root = os.environ.get(LOCAL_ROOT_ENV)
    if root and uri.startswith(("s3://", "s3a://")):
        rest = uri.split("://", 1)[1]
        return f"file://{os.path.abspath(root)}/{rest}"
    return uri


def open_catalog(catalog_uri: str) -> Any:
    """The Iceberg catalog named by a job's ``--catalog`` argument.

    ``glue`` is the Glue Data Catalog of the job's account and region (``AWS_ENDPOINT_URL``
    points it and S3 at a moto server in tests); ``sqlite:///<path>`` is pyiceberg's SQL
    catalog on a SQLite file, the embedded lake's.
    """
    if catalog_uri == "glue":
        from pyiceberg.catalog.glue import GlueCatalog

        props: dict[str, str] = {}
        region = os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION")
        if region:
            props.update({"client.region": region, "s3.region": region})
        endpoint = os.environ.get("AWS_ENDPOINT_URL")
        if endpoint:
            props.update({"glue.endpoint": endpoint, "s3.endpoint": endpoint})
            for env, key in (
                ("AWS_ACCESS_KEY_ID", "client.access-key-id"),
                ("AWS_SECRET_ACCESS_KEY", "client.secret-access-key"),
                ("AWS_SESSION_TOKEN", "client.session-token"),
            ):
                if os.environ.get(env):
                    props[key] = os.environ[env]
        return GlueCatalog("lake", **props)
    if catalog_uri.startswith("sqlite:///"):
        from pyiceberg.catalog.sql import SqlCatalog

        folder = os.path.dirname(os.path.abspath(catalog_uri[len("sqlite:///") :]))
        os.makedirs(folder, exist_ok=True)
        for attempt in range(3):
            try:
                return SqlCatalog("lake", uri=catalog_uri, warehouse=f"file://{folder}")
            except Exception as exc:  # noqa: BLE001 - only the creation race is retried
                # Two jobs opening a new catalog file at once both try to create its tables.
                if "already exists" not in str(exc) or attempt == 2:
                    raise
                time.sleep(0.1)
    raise ValueError(f"--catalog must be 'glue' or 'sqlite:///<file>', got {catalog_uri!r}")


def table_properties(spec: TableSpec) -> dict[str, str]:
    """Properties every lake table carries, plus the spec's own.

    Full metrics on partition columns and ``_batch_id`` let a delete by batch or partition drop
    whole files from metadata alone (pyiceberg truncates string bounds to 16 characters by default).
    """
    props = {
        "format-version": "2",
        "write.delete.mode": "copy-on-write",
        "write.parquet.compression-codec": "snappy",
        "commit.retry.num-retries": "4",
    }
    for column in [*spec.partition_columns, "_batch_id", "p_batch_id"]:
        props[f"write.metadata.metrics.column.{column}"] = "full"
    props.update(spec.properties)
    return props


def arrow_schema_of(spark_schema: Any, docs: dict[str, str] | None = None) -> Any:
    """The Arrow schema of a Spark DataFrame, every field nullable, with column docs attached.

    Spark marks literals as non-nullable; an Iceberg ``required`` field would then refuse files
    of a later batch whose column is nullable, so lake tables keep every field optional and
    enforce ``nullable: false`` in the jobs instead.
    """
    import pyarrow as pa
    from pyspark.sql.pandas.types import to_arrow_schema

    schema = to_arrow_schema(spark_schema)
    fields = []
    for f in schema:
        doc = (docs or {}).get(f.name)
        fields.append(pa.field(f.name, f.type, nullable=True, metadata={b"doc": doc.encode()} if doc else None))
    return pa.schema(fields)


def _create(catalog: Any, spec: TableSpec, arrow_schema: Any) -> Any:
    from pyiceberg.io.pyarrow import pyarrow_to_schema
    from pyiceberg.partitioning import PartitionField, PartitionSpec
    from pyiceberg.schema import Schema
    from pyiceberg.table.name_mapping import create_mapping_from_schema
    from pyiceberg.transforms import IdentityTransform

    _ensure_namespace(catalog, spec.database)
    # Field ids are assigned here, once; later files are matched to them by name.
    provisional = pyarrow_to_schema(arrow_schema, name_mapping=_fresh_mapping(arrow_schema))
    schema = Schema(*[f for f in provisional.fields], schema_id=0)
    fields = []
    for i, column in enumerate(spec.partition_columns):
        source = schema.find_field(column)
        fields.append(
            PartitionField(source_id=source.field_id, field_id=1000 + i, transform=IdentityTransform(), name=column)
        )
    props = table_properties(spec)
    props["schema.name-mapping.default"] = create_mapping_from_schema(schema).model_dump_json()
    try:
        return catalog.create_table(
            spec.identifier,
            schema=schema,
            location=catalog_uri_of(spec.location),
            partition_spec=PartitionSpec(*fields),
            properties=props,
        )
    except Exception as exc:
        # Another run of the same table created it a moment ago: SQLite reports that as a
        # unique-key violation rather than TableAlreadyExistsError.
        try:
            return catalog.load_table(spec.identifier)
        except Exception:
            raise exc from None


class MissingDatabase(LookupError):
    """A Glue database a config names does not exist: Terraform creates them, jobs never do."""


def _ensure_namespace(catalog: Any, database: str) -> None:
    """Check the table's namespace exists; only the embedded lake creates it.

    In the Glue Data Catalog the databases are Terraform's (the job role has no
    ``glue:CreateDatabase``), so a missing one is a deploy error, named, not created here.
    Locally a concurrent creator winning the race is fine.
    """
    if catalog.namespace_exists(database):
        return
    if _is_glue(catalog):
        raise MissingDatabase(
            f"Glue database {database!r} does not exist. Terraform creates it from the configs'"
            f' target.database (aws_glue_catalog_database.this["{database}"] in terraform/glue_jobs.tf):'
            " run terraform apply with this config deployed; the Glue job role cannot create databases"
        )
    try:
        catalog.create_namespace(database)
    except Exception:
        if not catalog.namespace_exists(database):
            raise


def _is_glue(catalog: Any) -> bool:
    from pyiceberg.catalog.glue import GlueCatalog

    return isinstance(catalog, GlueCatalog)


def _fresh_mapping(arrow_schema: Any) -> Any:
    from pyiceberg.table.name_mapping import MappedField, NameMapping

    return NameMapping(
        [MappedField.model_validate({"field-id": i + 1, "names": [f.name]}) for i, f in enumerate(arrow_schema)]
    )


def load_table(catalog: Any, spec: TableSpec, arrow_schema: Any = None) -> Any:
    """Load the table, creating it (or adding new columns) from ``arrow_schema`` when given.

    A column a config adds is appended to the schema (by name); a column a config drops stays
    in the table with nulls for new batches, so no earlier data disappears.
    """
    from pyiceberg.exceptions import NoSuchTableError

    try:
        table = catalog.load_table(spec.identifier)
    except NoSuchTableError:
        if arrow_schema is None:
            raise
        return _create(catalog, spec, arrow_schema)
    if arrow_schema is not None:
        known = {f.name for f in table.schema().fields}
        if any(f.name not in known for f in arrow_schema):
            with table.update_schema() as update:
                update.union_by_name(arrow_schema)
            table = catalog.load_table(spec.identifier)
        table = _sync_docs(catalog, spec, table)
    return table


def _sync_docs(catalog: Any, spec: TableSpec, table: Any) -> Any:
    """Bring the column docs and the table description up to the config's.

    Analysts read them as Glue column comments and the table description, so an edited config
    description must reach tables created earlier. Docs are not data: a commit that loses to a
    concurrent writer is left for the next run instead of failing this one.
    """
    from pyiceberg.exceptions import CommitFailedException

    stale = {
        f.name: spec.docs[f.name]
        for f in table.schema().fields
        if spec.docs.get(f.name) and (f.doc or "") != spec.docs[f.name]
    }
    description = spec.properties.get("Description")
    describe = bool(description) and table.properties.get("Description") != description
    if not stale and not describe:
        return table
    try:
        with table.transaction() as transaction:
            if stale:
                with transaction.update_schema() as update:
                    for name, doc in stale.items():
                        update.update_column(name, doc=doc)
            if describe:
                transaction.set_properties(Description=description)
    except CommitFailedException:
        pass
    return catalog.load_table(spec.identifier)


def find_table(catalog: Any, database: str, name: str) -> Any:
    """The table ``database.name``, or None if it was never created."""
    from pyiceberg.exceptions import NoSuchNamespaceError, NoSuchTableError

    try:
        return catalog.load_table((database, name))
    except (NoSuchTableError, NoSuchNamespaceError):
        return None


def new_data_folder(spec: TableSpec) -> str:
    """A folder no other write uses: ``<table>/data/<time>-<random id>``."""
    from lake_glue.storage import join_uri

    return join_uri(spec.location, DATA_DIR, f"{time.strftime('%Y%m%dT%H%M%S')}-{uuid.uuid4().hex[:12]}")


def write_files(
    spark: Any, df: Any, spec: TableSpec, max_rows: int, folder: str | None = None
) -> tuple[str, list[str]]:
    """Write ``df`` as Parquet under ``folder`` (by default a new one); returns (folder, catalog paths).

    Each file holds one value of each partition column and keeps the column inside the file
    (``add_files`` reads partition values from the files' statistics, and Spark's
    ``partitionBy`` would drop them), so the folders are named after copies of the columns.
    """
    from pyspark.sql import functions as F

    from lake_glue.storage import list_files_recursive

    folder = folder or new_data_folder(spec)
    copies = [f"part_{c}" for c in spec.partition_columns]
    out = df.select("*", *[F.col(c).alias(k) for c, k in zip(spec.partition_columns, copies)])
    writer = out.write.mode("errorifexists").option("maxRecordsPerFile", max_rows)
    if copies:
        writer = writer.partitionBy(*copies)
    writer.parquet(folder)
    files = [catalog_uri_of(p) for p in list_files_recursive(spark, folder) if p.endswith(".parquet")]
    return folder, files


def snapshot_properties(figures: dict[str, Any]) -> dict[str, str]:
    """Job figures as snapshot summary properties (``lake.<name>``), strings only."""
    return {
        f"{SNAPSHOT_PREFIX}{k.replace('_', '-')}": v if isinstance(v, str) else json.dumps(v, default=str)
        for k, v in figures.items()
        if v is not None
    }


def _add_string_columns(transaction: Any, columns: Mapping[str, str]) -> None:
    """Stage, in ``transaction``, the string columns (name -> doc) its table does not have yet.

    Called inside the batch's commit, so the schema update and the batch's files land together
    or not at all; a retry after a concurrent writer added them adds nothing.
    """
    from pyiceberg.types import StringType

    present = {f.name for f in transaction.table_metadata.schema().fields}
    missing = {name: doc for name, doc in columns.items() if name not in present}
    if not missing:
        return
    with transaction.update_schema() as update:
        for name, doc in missing.items():
            update.add_column(name, StringType(), doc=doc)


def commit(
    table: Any,
    *,
    delete_filter: Any,
    files: list[str],
    summary: dict[str, str],
    set_properties: dict[str, str] | None = None,
    remove_properties: list[str] | None = None,
    add_string_columns: dict[str, str] | None = None,
) -> Any:
    """Replace what ``delete_filter`` matches with ``files`` in one transaction; returns the new table.

    ``table`` must be the object the caller planned its read from: its snapshot is the base
    that concurrent commits are validated against. ``add_string_columns`` (name -> doc) are
    added to the schema in the same transaction, so the files that hold them land with them.
    """
    from pyiceberg.exceptions import CommitFailedException, ValidationException

    failpoints.hit("commit:before")
    # Names this commit's snapshot, so that a commit whose outcome is unknown can be found.
    summary = {**summary, COMMIT_ID_PROPERTY: uuid.uuid4().hex}
    with warnings.catch_warnings():
        # "Delete operation did not match any records" is the normal first run of a batch.
        warnings.simplefilter("ignore", UserWarning)
        tx = table.transaction()
        if add_string_columns:
            _add_string_columns(tx, add_string_columns)
        if set_properties:
            tx.set_properties(set_properties)
        if remove_properties:
            present = [k for k in remove_properties if k in table.properties]
            if present:
                tx.remove_properties(*present)
        tx.delete(delete_filter, snapshot_properties=summary)
        if files:
            tx.add_files(files, snapshot_properties=summary, check_duplicate_files=False)
        try:
            failpoints.hit("commit:staged")
            result = tx.commit_transaction()
            failpoints.hit("commit:after")
            remember_committed(result)
        except (CommitFailedException, ValidationException) as exc:
            # The catalog refused the swap: a clear conflict, nothing landed.
            raise type(exc)(f"{exc} (competing writer: {_head_description(table)})") from exc
        except Exception as exc:  # noqa: BLE001 - every other error leaves the outcome to be found out
            result = resolve_commit(table, summary, files, exc)
            # The bookkeeping is keyed by the table version, so finishing it again is harmless.
            remember_committed(result)
    return result


def resolve_commit(table: Any, summary: dict[str, str], files: list[str], error: Exception) -> Any:
    """After ``error`` from a commit: the reloaded table if the commit's snapshot landed.

    Raises :class:`CommitNotLanded` when the table surely holds no snapshot with the summary's
    ``lake.commit-id`` and ``lake.batch-id`` (the output may be deleted), and
    :class:`CommitOutcomeUnknown` when the table cannot be reloaded (the output must stay).
    """
    label = ".".join(table.name())
    batch = summary.get(BATCH_ID_PROPERTY, "?")
    try:
        reloaded = table.catalog.load_table(table.name())
    except Exception as reload_error:  # noqa: BLE001 - any failure leaves the outcome unknown
        raise CommitOutcomeUnknown(
            f"{label} batch {batch}: the commit raised {error!r} and reloading the table failed"
            f" ({reload_error!r}), so whether it landed is unknown. Its {len(files)} output files are kept"
            f" (e.g. {files[:1]}); re-run the batch once the catalog answers: the re-run replaces it."
        ) from error
    for snapshot in reloaded.metadata.snapshots:
        props = snapshot.summary.additional_properties if snapshot.summary is not None else {}
        if props.get(COMMIT_ID_PROPERTY) == summary[COMMIT_ID_PROPERTY] and props.get(BATCH_ID_PROPERTY) == summary.get(
            BATCH_ID_PROPERTY
        ):
            return reloaded
    raise CommitNotLanded(
        f"{label} batch {batch}: the commit raised {error!r} and the reloaded table holds no snapshot of it"
    ) from error


def _head_description(table: Any) -> str:
    """The table's newest snapshot and the batch that wrote it, for conflict messages."""
    try:
        table.refresh()
    except Exception:  # noqa: BLE001 - only decorates an error that is raised anyway
        return "unknown"
    summary = current_summary(table)
    return f"snapshot {summary.get('snapshot-id')} of batch {summary.get('lake.batch-id', '?')}"


def retry_on_conflict(label: str, attempt: Callable[[int], T], attempts: int = COMMIT_ATTEMPTS) -> T:
    """Run ``attempt(n)`` until it commits; each try must re-read the table it merges with.

    Raises :class:`CommitConflict` naming the table and the snapshot that won after ``attempts``.
    """
    from pyiceberg.exceptions import CommitFailedException, ValidationException

    last: Exception | None = None
    for n in range(attempts):
        try:
            return attempt(n)
        except (CommitFailedException, ValidationException) as exc:
            last = exc
            time.sleep(min(0.2 * 2**n, 3.0))
    raise CommitConflict(
        f"{label}: gave up after {attempts} commits lost to concurrent writers; last conflict: {last}"
    ) from last


def column_equals(column: str, value: object) -> Any:
    """Iceberg row filter ``column = value``."""
    from pyiceberg.expressions import EqualTo

    # pyiceberg's predicates take (term, literal) positionally; their pydantic fields make type
    # checkers expect keyword fields instead.
    return EqualTo(column, value)  # type: ignore[call-arg, misc, arg-type]


def column_in(column: str, values: list) -> Any:
    """Iceberg row filter ``column IN values`` (at least one value)."""
    from pyiceberg.expressions import In

    if not values:
        raise ValueError(f"column_in({column!r}) needs at least one value")
    return In(column, values)  # type: ignore[call-arg, misc, arg-type]


def data_files(table: Any, row_filter: Any = None) -> list[str]:
    """Paths of the current snapshot's data files, optionally only those ``row_filter`` may match."""
    from pyiceberg.expressions import AlwaysTrue

    if table.current_snapshot() is None:
        return []
    return [task.file.file_path for task in table.scan(row_filter=row_filter or AlwaysTrue()).plan_files()]


def current_summary(table: Any) -> dict[str, str]:
    """The current snapshot's summary (``total-records``, ``lake.*`` properties), empty for a new table."""
    snapshot = table.current_snapshot()
    if snapshot is None or snapshot.summary is None:
        return {}
    return {k: str(v) for k, v in snapshot.summary.additional_properties.items()} | {
        "operation": str(snapshot.summary.operation.value),
        "snapshot-id": str(snapshot.snapshot_id),
    }


def total_records(table: Any) -> int:
    """Rows in the current snapshot, from its summary: no data file is read."""
    return int(current_summary(table).get("total-records", 0))


def read_files(spark: Any, table: Any, files: list[str]) -> Any:
    """Spark rows of some of ``table``'s data files, shaped like the table's current schema.

    Files written before a column was added lack it; it reads as null. No files gives an
    empty DataFrame with the table's columns.
    """
    from pyspark.sql import functions as F
    from pyspark.sql.pandas.types import from_arrow_schema

    schema = from_arrow_schema(table.schema().as_arrow())
    if not files:
        return spark.createDataFrame([], schema)
    df = spark.read.option("mergeSchema", "true").parquet(*files)
    present = set(df.columns)
    return df.select(
        *[F.col(f.name) if f.name in present else F.lit(None).cast(f.dataType).alias(f.name) for f in schema.fields]
    )
