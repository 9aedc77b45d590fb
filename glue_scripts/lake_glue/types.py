"""The column types a config may declare, and how they map to Spark, Glue/Athena and DuckDB."""

from __future__ import annotations

import re

SUPPORTED_TYPE_PATTERN = (
    r"^(string|boolean|int|bigint|double|date|timestamp|decimal\((\d{1,2}),\s*(\d{1,2})\))$"
)
_TYPE_RE = re.compile(SUPPORTED_TYPE_PATTERN)

LINEAGE_COLUMNS = ("_batch_id", "_source_file", "_source_line", "_ingested_at")
PARTITION_COLUMNS = ("p_ingest_day", "p_batch_id", "p_bucket")
BUILTIN_COLUMNS = frozenset(LINEAGE_COLUMNS + PARTITION_COLUMNS + ("_prepared_at",))


def is_temporal(type_name: str) -> bool:
    """True for ``date`` and ``timestamp``, the types that accept a ``timestamp_mask``."""
    return type_name in ("date", "timestamp")


def spark_type(type_name: str):
    """The ``pyspark.sql.types`` instance for a declared type name."""
    from pyspark.sql import types as T

    m = _TYPE_RE.match(type_name)
    if not m:
        raise ValueError(f"unsupported column type {type_name!r}")
    if m.group(2):
        return T.DecimalType(int(m.group(2)), int(m.group(3)))
    return {
        "string": T.StringType(),
        "boolean": T.BooleanType(),
        "int": T.IntegerType(),
        "bigint": T.LongType(),
        "double": T.DoubleType(),
        "date": T.DateType(),
        "timestamp": T.TimestampType(),
    }[type_name]


def glue_type(type_name: str) -> str:
    """The Glue Data Catalog / Athena (Hive DDL) spelling of a declared type."""
    return type_name.replace(" ", "")
