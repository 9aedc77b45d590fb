"""Schema evolution of ingest tables: what undeclared fields and extra CSV columns do.

A table chooses with ``on_new_columns`` (see ``docs/schema_evolution.md``):

- ``fail`` (the default): a CSV header with a column the config does not declare refuses the
  batch; a JSONL record's undeclared fields are not stored and the ``no_undeclared_fields``
  check warns, naming them.
- ``rescue``: the batch is kept; each record's undeclared fields (JSONL) or extra columns (CSV)
  are stored in the ``_rescued`` column, a JSON object of their original text.
- ``add``: the same values become nullable string columns of the source table, added by an
  Iceberg schema update in the same commit as the batch; ``lake configs suggest`` prints the
  config patch that declares them.

Removed columns: a CSV header missing a declared column refuses the batch in every mode; a
JSONL record missing a field reads it as null. Types never change implicitly.

The record parser (``lake_glue.records``) calls the plain-Python part of this module inside
Spark tasks; the job calls the rest. Nothing here imports Spark at module level.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pyspark.sql import DataFrame

    from lake_glue.config import Column, TableConfig
    from lake_glue.formats.base import FormatOptions
    from lake_glue.tables import TableSpec

RESCUED_COLUMN = "_rescued"
# Starts the doc of every column ``add`` creates: ``lake configs suggest`` finds them by it, and
# tells them from columns a config dropped (those stay in the table, with their own types).
ADDED_DOC = "Added from the landed files by on_new_columns: add; not declared in the config"
RESCUED_DOC = (
    "The record's undeclared fields (extra CSV columns, undeclared JSON fields) as a JSON object of"
    " their original text; null when it had none (on_new_columns: rescue)"
)


class SchemaEvolutionError(RuntimeError):
    """New columns cannot be taken as the table's mode says; the message names the batch and field."""


def rescuing(mode: str) -> bool:
    """Whether records carry their undeclared fields (in ``_rescued``) under ``mode``."""
    return mode != "fail"


def rescued_text(fields: Mapping[str, str | None]) -> str | None:
    """One record's undeclared fields as the ``_rescued`` JSON object, None when there are none."""
    return json.dumps(dict(fields), ensure_ascii=False, sort_keys=True) if fields else None


def count_fields(counts: dict[str, int], fields: Mapping[str, object]) -> None:
    """Add one record's undeclared field names to a file's per-field record counts."""
    for name in fields:
        counts[name] = counts.get(name, 0) + 1


def source_table(
    label: str,
    table: TableConfig,
    opts: FormatOptions,
    valid: DataFrame,
    undeclared: Mapping[str, int],
    where: tuple[Any, TableSpec],
) -> tuple[DataFrame, Any, dict[str, str]]:
    """The ingest job's one call: (the batch's rows as stored, the source table, the columns to add).

    ``where`` is (catalog, table spec). A declared type the table cannot widen to is refused
    before anything is touched; the table is created or extended with newly declared columns
    (``lake_glue.tables.load_table``); the columns this mode adds (name -> doc) are returned for
    the batch's commit, and the rows are shaped to match.
    """
    from lake_glue.tables import arrow_schema_of, find_table, load_table

    catalog, spec = where
    mode = table.on_new_columns
    refuse_type_changes(label, table.columns, find_table(catalog, spec.database, spec.name))
    iceberg = load_table(catalog, spec, arrow_schema_of(stored_before_commit(valid, mode).schema, spec.docs))
    added = new_columns(label, mode, undeclared, table.column_names, iceberg.schema())
    valid = with_new_columns(valid, mode, list(added), {n: opts.nulls_of(n) for n in added})
    return valid, iceberg, added


def refuse_type_changes(label: str, columns: list[Column], table: Any) -> None:
    """Refuse a declared column whose type the table holds differently and cannot widen to.

    Checked before the table is touched. Iceberg's own promotions (int to bigint, a wider
    decimal) stay allowed; any other change, such as declaring a column ``add`` created as text
    with a number type, needs a rebuild, never a silent conversion.
    """
    from pyiceberg.exceptions import ResolveError
    from pyiceberg.schema import promote

    if table is None:
        return
    existing = {f.name: f.field_type for f in table.schema().fields}
    for column in columns:
        old = existing.get(column.name)
        if old is None:
            continue
        new = iceberg_type(column.type)
        # A table written before timestamps were stored with their zone holds plain timestamps.
        if old == new or (column.type == "timestamp" and str(old) == "timestamp"):
            continue
        try:
            promote(old, new)
        except ResolveError:
            raise SchemaEvolutionError(
                f"{label}: column {column.name!r} is {old} in the table and the config declares"
                f" {column.type!r}; types never change implicitly, nothing was committed. Restore the"
                " declared type, or rebuild the table under the new one (`lake rebuild --from-raw`)"
            ) from None


def iceberg_type(type_name: str) -> Any:
    """The Iceberg type the source table holds for a declared type (timestamps are UTC)."""
    from pyiceberg import types as I

    from lake_glue.types import spark_type

    spark = spark_type(type_name)
    if type_name.startswith("decimal"):
        return I.DecimalType(spark.precision, spark.scale)
    return {
        "string": I.StringType(),
        "boolean": I.BooleanType(),
        "int": I.IntegerType(),
        "bigint": I.LongType(),
        "double": I.DoubleType(),
        "date": I.DateType(),
        "timestamp": I.TimestamptzType(),
    }[type_name]


def stored_before_commit(df: DataFrame, mode: str) -> DataFrame:
    """``df`` without the columns this module adds in the batch's own commit (for creating the table).

    The table is created, or extended with newly declared columns, before the batch is written;
    ``_rescued`` and the ``add`` columns must instead appear in the same commit as the batch.
    """
    return df.drop(RESCUED_COLUMN) if rescuing(mode) else df


def new_columns(label: str, mode: str, undeclared: Mapping[str, int], declared: list[str], table_schema: Any) -> dict:
    """The string columns this batch's commit adds, by name with their docs (none under ``fail``).

    ``rescue`` adds ``_rescued``; ``add`` adds each undeclared field, in name order, and refuses
    a field that cannot be a column.
    """
    if mode == "rescue":
        return {RESCUED_COLUMN: RESCUED_DOC}
    if mode != "add":
        return {}
    return {name: ADDED_DOC for name in _addable(label, undeclared, declared, table_schema)}


def _addable(label: str, undeclared: Mapping[str, int], declared: list[str], table_schema: Any) -> list[str]:
    """The columns an ``add`` batch adds to the source table, in name order; refuses what cannot be a column.

    A field must be a valid identifier, not a lineage column, and, if the table already has a
    column of that name (from an earlier batch), that column must be a string: a type is never
    changed implicitly.
    """
    from lake_glue.types import BUILTIN_COLUMNS, IDENTIFIER_PATTERN

    existing = {f.name: f for f in table_schema.fields} if table_schema is not None else {}
    names = sorted(set(undeclared) - set(declared))
    for name in names:
        if not re.match(IDENTIFIER_PATTERN, name) or name in BUILTIN_COLUMNS or name == RESCUED_COLUMN:
            raise SchemaEvolutionError(
                f"{label}: field {name!r} cannot become a column (names match ^[a-z][a-z0-9_]{{0,62}}$ and"
                " are not lineage columns); nothing was committed. Use on_new_columns: rescue to keep it"
                " in _rescued, or rename it at the source"
            )
        field = existing.get(name)
        if field is not None and str(field.field_type) != "string":
            raise SchemaEvolutionError(
                f"{label}: field {name!r} lands as text but the table's column {name!r} is"
                f" {field.field_type}; types never change implicitly, nothing was committed. Declare it"
                " in the config with its type"
            )
    return names


def with_new_columns(
    df: DataFrame, mode: str, names: list[str], null_values: Mapping[str, frozenset[str]]
) -> DataFrame:
    """The batch's rows as the mode stores them.

    ``rescue`` keeps ``_rescued``; ``add`` turns the named fields into string columns (null texts
    read as null, like a declared string column) and drops ``_rescued``; ``fail`` has neither.
    """
    if mode != "add":
        return df
    from pyspark.sql import functions as F
    from pyspark.sql import types as T

    # pyspark documents a MapType schema for from_json; its type hints leave it out.
    fields = F.from_json(F.col(RESCUED_COLUMN), T.MapType(T.StringType(), T.StringType()))  # type: ignore[arg-type]
    columns = []
    for name in names:
        value = fields.getItem(name)
        nulls = sorted(null_values.get(name, frozenset()))
        if nulls:
            value = F.when(value.isin(*nulls), F.lit(None).cast("string")).otherwise(value)
        columns.append(value.alias(name))
    return df.select(*[c for c in df.columns if c != RESCUED_COLUMN], *columns)


def suggest_patch(table_index: int, declared: list[str], table_schema: Any) -> list[dict]:
    """RFC 6902 operations declaring the table's added string columns in the config, in table order.

    ``table_index`` is the table's position in ``table_config``. Only columns ``add`` created
    are offered (their doc says so); a column a config once dropped keeps its own type and stays out.
    """
    return [
        {
            "op": "add",
            "path": f"/table_config/{table_index}/columns/-",
            "value": {"name": f.name, "type": "string", "nullable": True},
        }
        for f in table_schema.fields
        if f.name not in declared and (f.doc or "").startswith(ADDED_DOC)
    ]
