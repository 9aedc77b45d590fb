"""Column lineage as text: one derivation per column, written the same everywhere it is shown.

The Dagster UI (column descriptions), the Iceberg schema's field docs (which the Glue Data
Catalog shows as column comments, and Athena next to its editor), ``lake lineage`` and
``lake docs`` all take their words from here, so they cannot disagree. Inputs are the
validated config models; a write mode's columns and wording come from its class
(``lake_glue.write_modes``).
"""

from __future__ import annotations

from dataclasses import dataclass

from lake_glue.config import Column, IngestConfig, PrepareConfig, TableConfig
from lake_glue.landing import landing_table_prefix

# The columns the platform adds to every table, and why they are there.
SOURCE_BUILTINS = (
    ("_source_file", "string", "lineage: the landed file this row was read from"),
    ("_source_line", "bigint", "lineage: the line of that file where the row's record starts"),
    ("_batch_id", "string", "lineage: the landed batch (YYYYMMDDTHHMMSSZ)"),
    ("_ingested_at", "timestamp", "lineage: when the ingest job read the batch (UTC)"),
    ("p_ingest_day", "date", "partition: the landing day, from the batch id"),
    ("p_batch_id", "string", "partition: one per batch, so a re-run replaces exactly its batch"),
)
TARGET_BUILTINS = (
    ("_batch_id", "string", "lineage: the landed batch this row came from"),
    ("p_ingest_day", "date", "lineage: the landing day of that batch (partition of append tables)"),
    ("_prepared_at", "timestamp", "lineage: when the prepare job wrote the row (UTC)"),
)


@dataclass(frozen=True)
class Upstream:
    """One column a column is derived from."""

    layer: str  # "raw" or "source"
    table: str  # "<database>.<table>" for source, the landing prefix for raw
    column: str


def landing_folder(ingest: IngestConfig, table: TableConfig) -> str:
    """Where a table's batches land in the raw bucket, with the batch id left as a placeholder."""
    return f"{landing_table_prefix(ingest.source.landing_prefix, table.table_name)}<batch_id>/"


def _format_of(ingest: IngestConfig, table: TableConfig) -> str:
    fmt = table.format or ingest.source.format
    # A table's options override the config's key by key: only an encoding it sets counts.
    own = table.options is not None and "encoding" in table.options.model_fields_set
    encoding = (table.options if own and table.options else ingest.source.options).encoding
    return f"{fmt.upper()}, {str(encoding).lower()}"


def source_column_doc(ingest: IngestConfig, table: TableConfig, column: Column) -> str:
    """A source column's description and where it comes from in the landed files."""
    how = f"read as {column.type}"
    if column.timestamp_mask:
        how += f" with mask '{column.timestamp_mask}'"
    if column.null_values is not None:
        how += f"; null when the text is one of {column.null_values}"
    lineage = (
        f"← raw column `{column.name}` of the landed files in `{landing_folder(ingest, table)}`"
        f" ({_format_of(ingest, table)}), {how}"
    )
    return join_description(column.description, lineage)


def target_column_doc(prepare: PrepareConfig, table: TableConfig, column: Column, ingest: IngestConfig) -> str:
    """A target column's description and its derivation from source columns."""
    source = f"{ingest.target.database}.{table.source_table_name}"
    if column.expression:
        inputs = ", ".join(f"`{source}.{c}`" for c in column.source_columns or [])
        lineage = f"← {inputs} (expression: `{column.expression}`), cast to {column.type}"
    else:
        name = column.source_column or column.name
        renamed = f" (renamed from `{name}`)" if name != column.name else ""
        lineage = f"← `{source}.{name}`{renamed}, cast to {column.type}"
    return join_description(column.description, lineage)


def source_table_doc(ingest: IngestConfig, table: TableConfig) -> str:
    """A source table's description and where its rows come from (the Glue table description)."""
    return join_description(
        table.description,
        f"Source layer: typed rows of the files landed in `{landing_folder(ingest, table)}`"
        f" ({_format_of(ingest, table)}), one partition per batch; rejected records are in quarantine.",
    )


def target_table_doc(prepare: PrepareConfig, table: TableConfig, ingest: IngestConfig) -> str:
    """A target table's description and what it is prepared from (the Glue table description)."""
    source = f"{ingest.target.database}.{table.source_table_name}"
    return join_description(
        table.description,
        f"Target layer: prepared from `{source}` by {prepare.etl_job}"
        f" (write mode {table.write_mode}: {table.mode.lineage}).",
    )


def upstream_of(prepare: PrepareConfig, table: TableConfig, column: Column, ingest: IngestConfig) -> list[Upstream]:
    """The source columns a target column reads, then the raw columns those come from."""
    names = column.lineage_sources
    source_table = f"{ingest.target.database}.{table.source_table_name}"
    folder = landing_folder(ingest, ingest.table(table.source_table_name or ""))
    return [Upstream("source", source_table, n) for n in names] + [Upstream("raw", folder, n) for n in names]


def builtin_columns(layer: str, table: TableConfig) -> list[tuple[str, str, str]]:
    """(name, type, description) of the columns the platform adds to a table of ``layer``."""
    if layer == "source":
        return list(SOURCE_BUILTINS)
    return [*TARGET_BUILTINS, *table.mode.builtins]


def join_description(description: str | None, lineage: str) -> str:
    """A config description, then the derivation, as one sentence-separated text."""
    description = (description or "").strip()
    if description and not description.endswith((".", "!", "?")):
        description += "."
    return f"{description} {lineage}".strip()
