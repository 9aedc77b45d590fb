"""Pure transforms of the ingest job: landed text -> typed rows plus quarantined rows.

Every landed record ends up in exactly one of the two outputs, so that
``landed = source + quarantined`` holds for every batch.
"""

from __future__ import annotations

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F
from pyspark.sql import types as T

from lake_glue.layout import batch_day
from lake_glue.types import spark_type

CORRUPT_COLUMN = "_corrupt_record"
REASON_COLUMN = "_reject_reason"
_INTEGER_TEXT = r"^[+-]?[0-9]+$"


def raw_read_schema(columns: list[dict]) -> T.StructType:
    """All declared columns as strings, plus the corrupt-record column.

    Reading as text first, rather than with the typed schema, is what lets a bad value be
    quarantined with its original text and a reason instead of silently turning into null.
    """
    fields = [T.StructField(c["name"], T.StringType(), True) for c in columns]
    return T.StructType(fields + [T.StructField(CORRUPT_COLUMN, T.StringType(), True)])


def _typed_value(raw: Column, column: dict) -> Column:
    type_name = column["type"]
    text = F.trim(raw)
    mask = column.get("timestamp_mask")
    if type_name == "string":
        return raw
    if type_name == "timestamp":
        return F.to_timestamp(text, mask) if mask else F.to_timestamp(text)
    if type_name == "date":
        return F.to_date(text, mask) if mask else F.to_date(text)
    if type_name in ("int", "bigint"):
        # Spark casts "12.7" to 12; integers must be written as integers.
        return F.when(text.rlike(_INTEGER_TEXT), text.cast(spark_type(type_name)))
    if type_name.startswith("decimal"):
        typed = text.cast(spark_type(type_name))
        # A cast to decimal(p,s) rounds extra digits away; reject instead of losing them.
        exact = text.cast(T.DecimalType(38, 18))
        return F.when(typed.cast(T.DecimalType(38, 18)) == exact, typed)
    return text.cast(spark_type(type_name))


def _column_error(raw: Column, typed: Column, column: dict) -> Column:
    name, type_name = column["name"], column["type"]
    blank = raw.isNull() | (F.trim(raw) == "")
    if type_name == "string":
        blank = raw.isNull()
    unparsable = F.concat(
        F.lit(f"{name}: cannot read '"), F.substring(raw, 1, 100), F.lit("'"),
        F.lit(f" as {type_name}" + (f" with mask '{column['timestamp_mask']}'" if column.get("timestamp_mask") else "")),
    )
    error = F.when(~blank & typed.isNull(), unparsable)
    if not column.get("nullable", True):
        error = F.when(blank, F.lit(f"{name}: required value is missing")).otherwise(error)
    return error


def cast_and_validate(raw_df: DataFrame, columns: list[dict]) -> tuple[DataFrame, DataFrame]:
    """Split string-typed records into (typed rows, rejected rows with ``_reject_reason``).

    ``raw_df`` has one string column per declared column and ``_corrupt_record``; other
    columns (lineage) pass through to both outputs. Rejected rows keep their original text.
    """
    passthrough = [c for c in raw_df.columns if c not in {x["name"] for x in columns} | {CORRUPT_COLUMN}]
    typed_cols, errors = [], []
    for column in columns:
        raw = F.col(column["name"])
        typed = _typed_value(raw, column)
        typed_cols.append(typed.alias(f"__typed_{column['name']}"))
        errors.append(_column_error(raw, typed, column))
    malformed = F.when(
        F.col(CORRUPT_COLUMN).isNotNull(),
        F.concat(F.lit("malformed record: "), F.substring(F.col(CORRUPT_COLUMN), 1, 200)),
    )
    reason = F.concat_ws("; ", malformed, *errors)
    staged = raw_df.select("*", *typed_cols, reason.alias(REASON_COLUMN))
    valid = staged.where(F.col(REASON_COLUMN) == "").select(
        *[F.col(f"__typed_{c['name']}").cast(spark_type(c["type"])).alias(c["name"]) for c in columns],
        *passthrough,
    )
    rejected = staged.where(F.col(REASON_COLUMN) != "").select(
        *[c["name"] for c in columns], CORRUPT_COLUMN, REASON_COLUMN, *passthrough
    )
    return valid, rejected


def add_lineage(df: DataFrame, batch_id: str, ingested_at: str) -> DataFrame:
    """Add the lineage columns (batch, source file, ingest time) and the partition columns.

    ``p_ingest_day`` is the landing day taken from the batch id, not the wall clock, so that
    re-running a batch writes the same partition again instead of a second copy elsewhere.
    """
    day = batch_day(batch_id)
    return df.select(
        "*",
        F.lit(batch_id).alias("_batch_id"),
        F.input_file_name().alias("_source_file"),
        F.lit(ingested_at).cast("timestamp").alias("_ingested_at"),
        F.lit(day).cast("date").alias("p_ingest_day"),
        F.lit(batch_id).alias("p_batch_id"),
    )


def undeclared_json_fields(text_df: DataFrame, declared: list[str]) -> dict[str, int]:
    """Top-level JSON keys that no declared column reads, with the number of records carrying each.

    The typed reader ignores such keys, so without this their values would vanish from the
    source layer without a word (they stay in the raw files). ``text_df`` has one JSON
    document per row in ``value``, as ``spark.read.text`` gives it; malformed lines count nothing.
    """
    keys = text_df.select(
        F.explode(F.map_keys(F.from_json("value", T.MapType(T.StringType(), T.StringType())))).alias("key")
    )
    rows = keys.where(~F.col("key").isin(declared)).groupBy("key").count().collect()
    return {r["key"]: int(r["count"]) for r in sorted(rows, key=lambda r: r["key"])}


_HEADER_ERRORS = (
    "CSV header does not conform to the schema",
    "Number of column in CSV header is not equal to number of fields in the schema",
)


def explain_header_mismatch(error_text: str) -> str | None:
    """Spark's CSV header complaint (which file, which columns) from an error, or None.

    Spark raises it deep inside a task; the user needs the file and the mismatch, not the
    JVM stack.
    """
    for marker in _HEADER_ERRORS:
        if marker in error_text:
            detail = error_text.split(marker, 1)[1]
            lines = [marker + ":"]
            for line in detail.splitlines()[1:]:
                if line.startswith(("\tat ", "\n")) or not line.strip():
                    break
                lines.append(line.strip())
                if line.startswith("CSV file:"):
                    break
            return "CSV header does not match the declared columns: " + " ".join(lines)
    return None


def read_landed_batch(spark, batch_uri: str, table: dict, fmt: str, options: dict[str, str]) -> DataFrame:
    """Read a landed batch folder as strings with the declared column order (never inferred)."""
    schema = raw_read_schema(table["columns"])
    reader = spark.read.schema(schema).option("mode", "PERMISSIVE").option(
        "columnNameOfCorruptRecord", CORRUPT_COLUMN
    )
    if fmt == "csv":
        reader = (
            reader.option("header", str(table.get("header", True)).lower())
            .option("sep", table.get("delimiter", ","))
            .option("enforceSchema", "false")
            .option("ignoreLeadingWhiteSpace", "false")
            .option("ignoreTrailingWhiteSpace", "false")
        )
        for key, value in options.items():
            reader = reader.option(key, value)
        return reader.csv(batch_uri)
    if fmt == "jsonl":
        for key, value in options.items():
            if key == "encoding":
                reader = reader.option("encoding", value)
        return reader.json(batch_uri)
    raise ValueError(f"unsupported format {fmt!r}")
