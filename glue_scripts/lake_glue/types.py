"""The column types a config may declare, and how they map to Spark, Glue/Athena and DuckDB."""

from __future__ import annotations

import re
from typing import Any

# A table or column name (config models, and the columns on_new_columns: add creates).
IDENTIFIER_PATTERN = r"^[a-z][a-z0-9_]{0,62}$"
SUPPORTED_TYPE_PATTERN = r"^(string|boolean|int|bigint|double|date|timestamp|decimal\((\d{1,2}),\s*(\d{1,2})\))$"
_TYPE_RE = re.compile(SUPPORTED_TYPE_PATTERN)

LINEAGE_COLUMNS = ("_batch_id", "_source_file", "_source_line", "_ingested_at")
PARTITION_COLUMNS = ("p_ingest_day", "p_batch_id", "p_bucket")
BUILTIN_COLUMNS = frozenset(LINEAGE_COLUMNS + PARTITION_COLUMNS + ("_prepared_at",))


def is_temporal(type_name: str) -> bool:
    """True for ``date`` and ``timestamp``, the types that accept a ``timestamp_mask``."""
    return type_name in ("date", "timestamp")


def spark_type(type_name: str) -> Any:
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


_PATTERN_LETTERS = set("GyDMLdQqEFahKkHmsSVzOXxZ")
_WEEK_BASED = set("YwWuec")
_MAX_LETTERS = {
    "a": 1,
    "d": 2,
    "H": 2,
    "h": 2,
    "K": 2,
    "k": 2,
    "m": 2,
    "s": 2,
    "D": 3,
    "S": 9,
    "M": 5,
    "L": 5,
    "E": 5,
    "F": 1,
    "Q": 5,
    "q": 5,
    "G": 5,
    "V": 2,
    "z": 4,
    "O": 4,
    "X": 5,
    "x": 5,
    "Z": 5,
}


def datetime_pattern_problem(mask: str) -> str | None:
    """Why Spark 3 would refuse ``mask`` as a datetime pattern, or None; checked without a JVM.

    The rules are Spark's (``DateTimeFormatterHelper``): letters outside Spark's table are
    illegal, week-based letters were dropped in Spark 3, letters have maximum widths, and
    quotes must pair.
    """
    i, n = 0, len(mask)
    while i < n:
        c = mask[i]
        if c == "'":
            close = mask.find("'", i + 1)
            if close == -1:
                return f"unclosed quote at position {i}"
            i = close + 1
            continue
        if c.isascii() and c.isalpha():
            run = 1
            while i + run < n and mask[i + run] == c:
                run += 1
            if c in _WEEK_BASED:
                return f"week-based pattern letter {c!r} is not supported since Spark 3.0 (use 'y', 'M', 'd')"
            if c not in _PATTERN_LETTERS:
                return f"illegal pattern letter {c!r}"
            if run > _MAX_LETTERS.get(c, 10):
                return f"too many pattern letters: {c * run!r} (at most {_MAX_LETTERS[c]})"
            i += run
            continue
        i += 1
    return None
