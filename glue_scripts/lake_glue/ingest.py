"""Transforms of the ingest job: landed files -> physical records -> typed rows plus quarantined rows.

Every physical record (see :mod:`lake_glue.records`) ends up in exactly one of the two
outputs, carrying its file and line; the job checks that against what it stored.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Iterator
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from pyspark.accumulators import AccumulatorParam
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
) -> LandedRead:
    """The batch's landed files as one lazy parse (:class:`LandedRead`): nothing is read yet.

    Files larger than a range (``opts.split_bytes``, or the batch's share per core:
    :func:`lake_glue.formats.ranges.range_bytes`) are surveyed first, one task each, and read
    as byte ranges (:mod:`lake_glue.formats.ranges`); everything else runs with the action that
    first reads ``records``.
    """
    whole, surveys = _plan_split(spark, file_uris, opts)
    return LandedRead(spark, whole, surveys, opts, columns)


class LandedRead:
    """One parse of a batch's landed files: its records, lazily, and each file's report once an
    action has read them.

    ``records`` has one string column per declared column, ``_source_file``, ``_source_line``,
    ``_parse_error`` and ``_corrupt_record`` (the record's text when it could not be parsed),
    and the columns by which the format identifies a record beyond its file and line.

    The reports travel back to the driver in an accumulator filled by the parse tasks, not as
    rows of the output: the write that stores the records is then the only pass over the files,
    with no cache between a "count the files" action and the write (on 300,000 rows the cache
    cost more than the parse; ``bench/ingest_throughput.py``). The accumulator is keyed by file
    and range, so a task Spark runs again adds the same entries, not more. The parsed records
    cross from Python to the JVM as Arrow columns (``mapInArrow``), not as pickled rows.
    """

    def __init__(
        self, spark: Any, whole: dict[str, str], surveys: list[Survey], opts: FormatOptions, columns: list
    ) -> None:
        from lake_glue.evolution import RESCUED_COLUMN
        from lake_glue.records import format_of, value_width

        self.spark, self.whole, self.surveys, self.opts, self.columns = spark, whole, surveys, opts, columns
        names = [c.name for c in columns]
        # Under on_new_columns rescue/add each record also carries its undeclared fields (``_rescued``).
        outputs = names + [RESCUED_COLUMN] * (value_width(opts, names) - len(names))
        extra = format_of(opts.format).extra_identity
        self.accumulator = spark.sparkContext.accumulator({}, _KeyedReports())
        self.records = _parse_frame(spark, self, names, len(outputs), extra).select(
            *[F.col(f"__value_{i}").alias(n) for i, n in enumerate(outputs)],
            "_source_file",
            "_source_line",
            PARSE_ERROR_COLUMN,
            CORRUPT_COLUMN,
            *extra,
        )
        self.cached = False

    def read_now(self) -> LandedRead:
        """Run the parse as its own action and keep its records cached, for a job that needs the
        reports before it stores anything (``on_new_columns: add``); ``unpersist`` releases it."""
        from pyspark import StorageLevel

        self.records = self.records.persist(StorageLevel.MEMORY_AND_DISK)
        self.cached = True
        self.records.count()
        return self

    def unpersist(self) -> None:
        """Release the cache of :meth:`read_now` (nothing when there is none)."""
        if self.cached:
            self.records.unpersist()

    def reports(self) -> tuple[list[FileReport], set[str]]:
        """(each file's report, the split files a cut of which was not a record end), once an
        action has read ``records``; raises when any file or range read has no report."""
        from lake_glue.formats.ranges import file_report
        from lake_glue.records import FileReport

        got = dict(self.accumulator.value)
        whole = [got.get(("file", path)) for path in self.whole.values()]
        parts = {s.path: [got.get(("range", s.path, r.index)) for r in s.ranges] for s in self.surveys}
        missing = [p for p, r in zip(self.whole.values(), whole) if r is None]
        missing += [path for path, found in parts.items() if None in found]
        if missing:
            raise RuntimeError(f"the parse reported nothing for {sorted(missing)}: no action has read these files")
        reports = [FileReport(**json.loads(r)) for r in whole if r is not None]
        split = {path: [json.loads(r) for r in found if r is not None] for path, found in parts.items()}
        inexact = {path for path, found in split.items() if not all(p["exact"] for p in found)}
        reports += [file_report(s, split[s.path]) for s in self.surveys if s.path not in inexact]
        return reports, inexact

    def again(self, whole_files: Collection[str] = ()) -> LandedRead:
        """A new parse of the same files (with a fresh report accumulator); the split files in
        ``whole_files`` are read as one range each (their quote-parity cut was not a record end)."""
        surveys = [replace(s, ranges=[_one_range(s)]) if s.path in whole_files else s for s in self.surveys]
        return LandedRead(self.spark, self.whole, surveys, self.opts, self.columns)


def _parse_frame(spark: Any, read: LandedRead, names: list[str], width: int, extra: tuple[str, ...]) -> DataFrame:
    """The parse of ``read``'s whole files and ranges as one frame of record rows (the parsers
    send every other row, a file's or range's report, to the accumulator)."""
    from lake_glue.records import arrow_names

    schema = T.StructType(
        [
            T.StructField(n, T.LongType() if n in extra or n == "_source_line" else T.StringType())
            for n in arrow_names(width, extra)
        ]
    )
    frames = []
    if read.whole:
        binary = spark.read.format("binaryFile").load([literal_path(u) for u in read.whole]).select("path", "content")
        frames.append(binary.mapInArrow(_ArrowParser(read.opts, names, read.accumulator), schema))
    parts = [r for s in read.surveys for r in s.ranges]
    if parts:
        # One row per range, by index (the ranges travel with the parser): a frame made from
        # Python rows would import pandas in the driver, a third of a second of a small job.
        parser = _RangeParser(read.opts, names, read.accumulator, parts)
        frames.append(spark.range(0, len(parts), 1, len(parts)).mapInArrow(parser, schema))
    if not frames:
        frames.append(spark.createDataFrame([], schema))
    parsed = frames[0]
    for frame in frames[1:]:
        parsed = parsed.unionByName(frame)
    return parsed


class _KeyedReports(AccumulatorParam):
    """An accumulator of reports keyed by file (or file and range): merging is a dict update,
    so a task that Spark runs twice reports the same entries once."""

    def zero(self, value: dict) -> dict:
        return {}

    def addInPlace(self, value1: dict, value2: dict) -> dict:
        value1.update(value2)
        return value1


def _reporting(batches: Iterator[Any], accumulator: Any) -> Iterator[Any]:
    """The record rows of a parser's batches; its report rows go to ``accumulator`` instead."""
    import pyarrow.compute as pc

    for batch in batches:
        kinds = batch.column("kind")
        is_record = pc.equal(kinds, "record")
        if pc.all(is_record).as_py():
            yield batch
            continue
        for kind, report in zip(kinds.to_pylist(), batch.column("report").to_pylist()):
            if kind == "file":
                accumulator.add({("file", json.loads(report)["path"]): report})
            elif kind == "range":
                part = json.loads(report)
                accumulator.add({("range", part["path"], part["index"]): report})
        if pc.any(is_record).as_py():
            yield batch.filter(is_record)


def _plan_split(spark: Any, file_uris: list[str], opts: FormatOptions) -> tuple[dict[str, str], list[Survey]]:
    """(files read whole, uri -> the path Spark names it by; surveys of the files read in ranges):
    one survey task per large file."""
    from lake_glue.formats.ranges import range_bytes, split_reason, survey
    from lake_glue.storage import file_sizes, resolved_uri

    whole: dict[str, str] = {}
    large = []
    sizes = file_sizes(spark, file_uris)
    total = sum(size for _, size in sizes.values())
    opts = replace(opts, split_bytes=range_bytes(opts, total, spark.sparkContext.defaultParallelism))
    for uri, (path, size) in sizes.items():
        if size == 0:
            continue  # Spark's file sources skip an empty file: it has no report (the job knows it is empty)
        if split_reason(path, size, opts):
            whole[uri] = path
        else:
            large.append((path, resolved_uri(spark, uri)))
    if not large:
        return whole, []
    surveys = spark.sparkContext.parallelize(large, len(large)).map(lambda f: survey(f[0], f[1], opts)).collect()
    return whole, surveys


def _one_range(surveyed: Survey) -> Range:
    """The whole file as one range: the whole-file parse, without the binaryFile row cap."""
    return replace(surveyed.ranges[0], stop=surveyed.size, last=True)


_GLOB_CHARACTERS = "\\[]{}*?"


def literal_path(uri: str) -> str:
    """``uri`` with Hadoop's glob characters escaped, so that a load reads exactly that file.

    Spark's file sources expand a path as a glob pattern: a landed ``lines[1].jsonl`` would
    match ``lines1.jsonl`` instead. Landed names are never patterns.
    """
    return "".join("\\" + c if c in _GLOB_CHARACTERS else c for c in uri)


class _RangeParser:
    """The ``mapInArrow`` function of the ranges of large files: a range's index in, its records
    out (its report to the accumulator)."""

    def __init__(self, opts: FormatOptions, names: list[str], accumulator: Any, parts: list[Range]):
        self.opts, self.names, self.accumulator, self.parts = opts, names, accumulator, parts

    def __call__(self, batches: Iterator[Any]) -> Iterator[Any]:
        from lake_glue.formats.ranges import range_batches

        for batch in batches:
            for index in batch.column("id").to_pylist():
                yield from _reporting(range_batches(self.parts[index], self.opts, self.names), self.accumulator)


class _ArrowParser:
    """The ``mapInArrow`` function: (path, content) batches in, record rows out (each file's
    report to the accumulator).

    A class rather than a closure so that only the options, names and accumulator are pickled
    to the tasks.
    """

    def __init__(self, opts: FormatOptions, names: list[str], accumulator: Any):
        self.opts, self.names, self.accumulator = opts, names, accumulator

    def __call__(self, batches: Iterator[Any]) -> Iterator[Any]:
        from lake_glue.records import parse_file_arrow

        for batch in batches:
            paths, contents = batch.column("path").to_pylist(), batch.column("content").to_pylist()
            for path, content in zip(paths, contents):
                yield from _reporting(parse_file_arrow(path, content, self.opts, self.names), self.accumulator)


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
    # Spark's optimizer would push the ``__ok`` filter below this projection by inlining every
    # cast into it, so each value would be parsed twice (once to filter, once to store). A
    # non-deterministic column, which the filter also names, keeps the casts computed once.
    staged = staged.select("*", ok.alias("__ok"), F.spark_partition_id().alias("__task"))
    ok_here = F.col("__ok") & (F.col("__task") >= 0)
    valid = staged.where(ok_here).select(
        *[F.col(f"__typed_{c.name}").cast(spark_type(c.type)).alias(c.name) for c in columns], *passthrough
    )
    errors = [_column_error(F.col(c.name), F.col(f"__typed_{c.name}"), c) for c in columns]
    reason = F.when(F.col(PARSE_ERROR_COLUMN).isNotNull(), F.col(PARSE_ERROR_COLUMN)).otherwise(
        F.concat_ws("; ", *errors)
    )
    rejected = staged.where(~ok_here).select(*names, CORRUPT_COLUMN, reason.alias(REASON_COLUMN), *passthrough)
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
