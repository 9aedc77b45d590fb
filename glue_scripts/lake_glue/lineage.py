"""Column lineage as text: one derivation per column, written the same everywhere it is shown.

The Dagster UI (column descriptions), the Iceberg schema's field docs (which the Glue Data
Catalog shows as column comments, and Athena next to its editor), ``lake lineage`` and
``lake docs`` all take their words from here, so they cannot disagree. Inputs are the config
items as the jobs read them (plain dicts).
"""

from __future__ import annotations

from dataclasses import dataclass

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
BUCKET_BUILTIN = ("p_bucket", "int", "partition: the primary key's bucket (upsert tables)")


@dataclass(frozen=True)
class Upstream:
    """One column a column is derived from."""

    layer: str  # "raw" or "source"
    table: str  # "<database>.<table>" for source, the landing prefix for raw
    column: str


def landing_folder(ingest: dict, table: dict) -> str:
    """Where a table's batches land in the raw bucket, with the batch id left as a placeholder."""
    from lake_glue.layout import landing_table_prefix  # layout imports this module

    return f"{landing_table_prefix(ingest['source']['landing_prefix'], table['table_name'])}<batch_id>/"


def _format_of(ingest: dict, table: dict) -> str:
    fmt = table.get("format") or ingest["source"].get("format", "csv")
    options = {**ingest["source"].get("options", {}), **(table.get("options") or {})}
    encoding = str(options.get("encoding", "utf-8")).lower()
    return f"{fmt.upper()}, {encoding}"


def source_column_doc(ingest: dict, table: dict, column: dict) -> str:
    """A source column's description and where it comes from in the landed files."""
    how = f"read as {column['type']}"
    if column.get("timestamp_mask"):
        how += f" with mask '{column['timestamp_mask']}'"
    if column.get("null_values") is not None:
        how += f"; null when the text is one of {column['null_values']}"
    lineage = (
        f"← raw column `{column['name']}` of the landed files in `{landing_folder(ingest, table)}`"
        f" ({_format_of(ingest, table)}), {how}"
    )
    return join_description(column.get("description"), lineage)


def target_column_doc(prepare: dict, table: dict, column: dict, ingest: dict) -> str:
    """A target column's description and its derivation from source columns."""
    source = f"{ingest['target']['database']}.{table['source_table_name']}"
    if column.get("expression"):
        inputs = ", ".join(f"`{source}.{c}`" for c in column.get("source_columns") or [])
        lineage = f"← {inputs} (expression: `{column['expression']}`), cast to {column['type']}"
    else:
        name = column.get("source_column") or column["name"]
        renamed = f" (renamed from `{name}`)" if name != column["name"] else ""
        lineage = f"← `{source}.{name}`{renamed}, cast to {column['type']}"
    return join_description(column.get("description"), lineage)


def source_table_doc(ingest: dict, table: dict) -> str:
    """A source table's description and where its rows come from (the Glue table description)."""
    return join_description(
        table.get("description"),
        f"Source layer: typed rows of the files landed in `{landing_folder(ingest, table)}`"
        f" ({_format_of(ingest, table)}), one partition per batch; rejected records are in quarantine.",
    )


def target_table_doc(prepare: dict, table: dict, ingest: dict) -> str:
    """A target table's description and what it is prepared from (the Glue table description)."""
    source = f"{ingest['target']['database']}.{table['source_table_name']}"
    return join_description(
        table.get("description"),
        f"Target layer: prepared from `{source}` by {prepare.get('etl_job', 'the prepare job')}"
        f" (write mode {table.get('write_mode', 'append')}).",
    )


def upstream_of(prepare: dict, table: dict, column: dict, ingest: dict) -> list[Upstream]:
    """The source columns a target column reads, then the raw columns those come from."""
    names = column.get("source_columns") or [column.get("source_column") or column["name"]]
    source_table = f"{ingest['target']['database']}.{table['source_table_name']}"
    ingest_table = next(t for t in ingest["table_config"] if t["table_name"] == table["source_table_name"])
    folder = landing_folder(ingest, ingest_table)
    return [Upstream("source", source_table, n) for n in names] + [Upstream("raw", folder, n) for n in names]


def builtin_columns(layer: str, table: dict) -> list[tuple[str, str, str]]:
    """(name, type, description) of the columns the platform adds to a table of ``layer``."""
    if layer == "source":
        return list(SOURCE_BUILTINS)
    builtins = list(TARGET_BUILTINS)
    if table.get("write_mode") == "upsert":
        builtins.append(BUCKET_BUILTIN)
    return builtins


def join_description(description: str | None, lineage: str) -> str:
    """A config description, then the derivation, as one sentence-separated text."""
    description = (description or "").strip()
    if description and not description.endswith((".", "!", "?")):
        description += "."
    return f"{description} {lineage}".strip()
