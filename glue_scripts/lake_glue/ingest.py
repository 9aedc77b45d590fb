"""Transforms of the ingest job: landed files -> physical records -> typed rows plus quarantined rows.

Every physical record (see :mod:`lake_glue.records`) ends up in exactly one of the two
outputs, carrying its file and line; the job checks that against what it stored.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import asdict, replace
from typing import TYPE_CHECKING, Any

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F
from pyspark.sql import types as T

from lake_glue.layout import batch_day
from lake_glue.types import spark_type

if TYPE_CHECKING:
    from lake_glue import config
    from lake_glue.formats.ranges import Range, Survey
    from lake_glue.records import FileReport, FormatOptions

CORRUPT_COLUMN = "_corrupt_record"
PARSE_ERROR_COLUMN = "_parse_error"
REASON_COLUMN = "_reject_reason"
_INTEGER_TEXT = r"^[+-]?[0-9]+$"


def read_landed_records(
    spark: Any, file_uris: list[str], opts: FormatOptions, columns: list[config.Column]
) -> tuple[DataFrame, Persisted, list[FileReport]]:
    """Parse the landed files in Spark tasks; returns (records, the persisted parse, per-file reports).

    ``records`` has one string column per declared column, ``_source_file``, ``_source_line``,
    ``_parse_error`` and ``_corrupt_record`` (the record's text when it could not be parsed),
    and the columns by which the format identifies a record beyond its file and line.
    It is persisted: the reports are collected from the same pass that produced the records.

    The parsed records cross from Python to the JVM as Arrow columns (``mapInArrow``), not as
    pickled rows: for a clean CSV that transfer cost more than the parsing itself. A file larger
    than ``opts.split_bytes`` is read as byte ranges, one task each (:mod:`lake_glue.formats.ranges`).
    """
    from lake_glue.evolution import RESCUED_COLUMN
    from lake_glue.records import arrow_names, format_of, value_width

    names = [c.name for c in columns]
    # Under on_new_columns rescue/add each record also carries its undeclared fields (``_rescued``).
    outputs = names + [RESCUED_COLUMN] * (value_width(opts, names) - len(names))
    extra = format_of(opts.format).extra_identity
    schema = T.StructType(
        [
            T.StructField(n, T.LongType() if n in extra or n == "_source_line" else T.StringType())
            for n in arrow_names(len(outputs), extra)
        ]
    )
    whole, surveys = _plan_split(spark, file_uris, opts)
    parts = [r for s in surveys for r in s.ranges]
    parsed, reports, inexact = _parse_pass(spark, whole, parts, opts, names, schema, surveys)
    persisted = Persisted([parsed])
    if inexact:
        parsed, reports = _reread_whole(spark, (parsed, reports, inexact), surveys, persisted, opts, names, schema)
    records = parsed.where("kind = 'record'").select(
        *[F.col(f"__value_{i}").alias(n) for i, n in enumerate(outputs)],
        "_source_file",
        "_source_line",
        PARSE_ERROR_COLUMN,
        CORRUPT_COLUMN,
        *extra,
    )
    return records, persisted, reports


def _reread_whole(
    spark: Any,
    first: tuple[DataFrame, list[FileReport], set[str]],
    surveys: list[Survey],
    persisted: Persisted,
    opts: FormatOptions,
    names: list[str],
    schema: Any,
) -> tuple[DataFrame, list[FileReport]]:
    """The parse with the ``inexact`` files read again as one range each (a quote-parity cut of
    theirs was not a record end), and their reports replaced."""
    parsed, reports, inexact = first
    again = [replace(s, ranges=[_one_range(s)]) for s in surveys if s.path in inexact]
    retry, more, _ = _parse_pass(spark, [], [r for s in again for r in s.ranges], opts, names, schema, again)
    persisted.frames.append(retry)
    parsed = parsed.where(~F.col("_source_file").isin(sorted(inexact))).unionByName(retry)
    return parsed, [r for r in reports if r.path not in inexact] + more


class Persisted:
    """The persisted parse passes of a batch, released together at the end of the job."""

    def __init__(self, frames: list[DataFrame]):
        self.frames = frames

    def unpersist(self) -> None:
        """Release every pass."""
        for frame in self.frames:
            frame.unpersist()


def _plan_split(spark: Any, file_uris: list[str], opts: FormatOptions) -> tuple[list[str], list[Survey]]:
    """(files read whole, surveys of the files read in ranges): one survey task per large file."""
    from lake_glue.formats.ranges import split_reason, survey
    from lake_glue.storage import file_sizes, resolved_uri

    whole, large = [], []
    for uri, (path, size) in file_sizes(spark, file_uris).items():
        if split_reason(path, size, opts):
            whole.append(uri)
        else:
            large.append((path, resolved_uri(spark, uri)))
    if not large:
        return whole, []
    surveys = spark.sparkContext.parallelize(large, len(large)).map(lambda f: survey(f[0], f[1], opts)).collect()
    return whole, surveys


def _one_range(surveyed: Survey) -> Range:
    """The whole file as one range: the whole-file parse, without the binaryFile row cap."""
    return replace(surveyed.ranges[0], stop=surveyed.size, last=True)


def _parse_pass(
    spark: Any,
    whole: list[str],
    parts: list[Range],
    opts: FormatOptions,
    names: list[str],
    schema: Any,
    surveys: list[Survey],
) -> tuple[DataFrame, list[FileReport], set[str]]:
    """One persisted parse of the whole files and the ranges: (parse, reports, inexact split files)."""
    from pyspark import StorageLevel

    from lake_glue.formats.ranges import file_report
    from lake_glue.records import FileReport

    frames = []
    if whole:
        binary = spark.read.format("binaryFile").load([literal_path(u) for u in whole]).select("path", "content")
        frames.append(binary.mapInArrow(_ArrowParser(opts, names), schema))
    if parts:
        rows = spark.sparkContext.parallelize([(json.dumps(asdict(p)),) for p in parts], len(parts))
        frames.append(spark.createDataFrame(rows, "part string").mapInArrow(_RangeParser(opts, names), schema))
    if not frames:
        frames.append(spark.createDataFrame([], schema))
    parsed = frames[0]
    for frame in frames[1:]:
        parsed = parsed.unionByName(frame)
    parsed = parsed.persist(StorageLevel.MEMORY_AND_DISK)
    rows = parsed.where("kind in ('file', 'range')").select("kind", "report").collect()
    reports = [FileReport(**json.loads(r.report)) for r in rows if r.kind == "file"]
    by_file: dict[str, list[dict]] = {}
    for r in rows:
        if r.kind == "range":
            part = json.loads(r.report)
            by_file.setdefault(part["path"], []).append(part)
    inexact = {path for path, got in by_file.items() if not all(p["exact"] for p in got)}
    reports += [file_report(s, by_file.get(s.path, [])) for s in surveys if s.path not in inexact]
    return parsed, reports, inexact


_GLOB_CHARACTERS = "\\[]{}*?"


def literal_path(uri: str) -> str:
    """``uri`` with Hadoop's glob characters escaped, so that a load reads exactly that file.

    Spark's file sources expand a path as a glob pattern: a landed ``lines[1].jsonl`` would
    match ``lines1.jsonl`` instead. Landed names are never patterns.
    """
    return "".join("\\" + c if c in _GLOB_CHARACTERS else c for c in uri)


class _RangeParser:
    """The ``mapInArrow`` function of the ranges of large files: one JSON range row in, its rows out."""

    def __init__(self, opts: FormatOptions, names: list[str]):
        self.opts, self.names = opts, names

    def __call__(self, batches: Iterator[Any]) -> Iterator[Any]:
        from lake_glue.formats.ranges import Range, range_batches

        for batch in batches:
            for part in batch.column("part").to_pylist():
                yield from range_batches(Range(**json.loads(part)), self.opts, self.names)


class _ArrowParser:
    """The ``mapInArrow`` function: (path, content) batches in, record and file rows out.

    A class rather than a closure so that only the options and names are pickled to the tasks.
    """

    def __init__(self, opts: FormatOptions, names: list[str]):
        self.opts, self.names = opts, names

    def __call__(self, batches: Iterator[Any]) -> Iterator[Any]:
        from lake_glue.records import parse_file_arrow

        for batch in batches:
            paths, contents = batch.column("path").to_pylist(), batch.column("content").to_pylist()
            for path, content in zip(paths, contents):
                yield from parse_file_arrow(path, content, self.opts, self.names)


_DATE_TEXT = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"
# Texts that name an infinity, or a zero whatever its exponent: the only ones whose double may
# be infinite, or 0.0. Any other text reaching inf or 0.0 overflowed or underflowed.
_INFINITY_TEXT = r"(?i)^[+-]?inf(inity)?$"
_ZERO_TEXT = r"^[+-]?(0+\.?0*|\.0+)([eE][+-]?[0-9]+)?$"
_PLAIN_DECIMAL_TEXT = r"^[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)$"


def _typed_value(raw: Column, column: config.Column) -> Column:
    type_name = column.type
    text = F.trim(raw)
    mask = column.timestamp_mask
    if type_name == "string":
        return raw
    if type_name == "timestamp":
        return F.to_timestamp(text, mask) if mask else F.to_timestamp(text)
    if type_name == "date":
        if mask:
            return F.to_date(text, mask)
        # Unmasked, Spark's to_date reads "2026-01-05 garbage" and drops a time and its zone;
        # a date without a mask is yyyy-MM-dd and nothing else.
        return F.when(text.rlike(_DATE_TEXT), F.to_date(text, "yyyy-MM-dd"))
    if type_name in ("int", "bigint"):
        # Spark casts "12.7" to 12; integers must be written as integers.
        return F.when(text.rlike(_INTEGER_TEXT), text.cast(spark_type(type_name)))
    if type_name.startswith("decimal"):
        return _exact_decimal(text, spark_type(type_name))
    if type_name == "double":
        number = text.cast(T.DoubleType())
        overflow = F.abs(number) == F.lit(float("inf"))
        underflow = number == 0
        return (
            F.when(overflow & ~text.rlike(_INFINITY_TEXT), None)
            .when(underflow & ~text.rlike(_ZERO_TEXT), None)
            .otherwise(number)
        )
    return text.cast(spark_type(type_name))


def _exact_decimal(text: Column, decimal: T.DecimalType) -> Column:
    """The text as decimal(p,s), or null when that would round it (or it does not fit).

    A plain number is checked on its digits: at most ``s`` fraction digits before trailing
    zeros (the cast itself refuses more than ``p - s`` integer digits). A number with an
    exponent is compared with its exact value at decimal(38,18).
    """
    typed = text.cast(decimal)
    fraction = "" if decimal.scale == 0 else f"[0-9]{{0,{decimal.scale}}}"
    fits = text.rlike(rf"^[+-]?[0-9]*(\.{fraction}0*)?$")
    exact = text.cast(T.DecimalType(38, 18))
    return F.when(
        F.when(text.rlike(_PLAIN_DECIMAL_TEXT), fits).otherwise(typed.cast(T.DecimalType(38, 18)) == exact), typed
    )


def _blank(raw: Column, column: config.Column) -> Column:
    """No value: null, or only spaces for a non-string column."""
    return raw.isNull() if column.type == "string" else raw.isNull() | (F.trim(raw) == "")


def _column_problem(raw: Column, typed: Column, column: config.Column) -> Column:
    """True when the column's value makes the record invalid (cheap: no text is built)."""
    blank = _blank(raw, column)
    problem = ~blank & typed.isNull()
    if not column.nullable:
        problem = problem | blank
    return F.coalesce(problem, F.lit(False))


def _column_error(raw: Column, typed: Column, column: config.Column) -> Column:
    name, type_name = column.name, column.type
    blank = _blank(raw, column)
    unparsable = F.concat(
        F.lit(f"{name}: cannot read '"),
        F.substring(raw, 1, 100),
        F.lit("'"),
        F.lit(f" as {type_name}" + (f" with mask '{column.timestamp_mask}'" if column.timestamp_mask else "")),
    )
    error = F.when(~blank & typed.isNull(), unparsable)
    if not column.nullable:
        error = F.when(blank, F.lit(f"{name}: required value is missing")).otherwise(error)
    return error


def cast_and_validate(raw_df: DataFrame, columns: list[config.Column]) -> tuple[DataFrame, DataFrame]:
    """Split string-typed records into (typed rows, rejected rows with ``_reject_reason``).

    ``raw_df`` has one string column per declared column, ``_parse_error`` and
    ``_corrupt_record``; other columns (lineage) pass through to both outputs. Rejected rows
    keep their original text. A record that could not be parsed has only its parse error as
    reason (its fields are unknown, not missing).

    Rows are split on a boolean computed from the casts; the reason text is built only for
    the rejected rows, so a clean batch never pays for it.
    """
    names = [c.name for c in columns]
    passthrough = [c for c in raw_df.columns if c not in {*names, CORRUPT_COLUMN, PARSE_ERROR_COLUMN}]
    staged = raw_df.select("*", *[_typed_value(F.col(c.name), c).alias(f"__typed_{c.name}") for c in columns])
    ok = F.col(PARSE_ERROR_COLUMN).isNull()
    for column in columns:
        ok = ok & ~_column_problem(F.col(column.name), F.col(f"__typed_{column.name}"), column)
    staged = staged.select("*", ok.alias("__ok"))
    valid = staged.where(F.col("__ok")).select(
        *[F.col(f"__typed_{c.name}").cast(spark_type(c.type)).alias(c.name) for c in columns], *passthrough
    )
    errors = [_column_error(F.col(c.name), F.col(f"__typed_{c.name}"), c) for c in columns]
    reason = F.when(F.col(PARSE_ERROR_COLUMN).isNotNull(), F.col(PARSE_ERROR_COLUMN)).otherwise(
        F.concat_ws("; ", *errors)
    )
    rejected = staged.where(~F.col("__ok")).select(*names, CORRUPT_COLUMN, reason.alias(REASON_COLUMN), *passthrough)
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
        F.lit(ingested_at).cast("timestamp").alias("_ingested_at"),
        F.lit(day).cast("date").alias("p_ingest_day"),
        F.lit(batch_id).alias("p_batch_id"),
    )
