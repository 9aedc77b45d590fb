"""CSV landing files (RFC 4180, as Python's ``csv`` and Spark read them).

A line ends at CR LF, LF or a bare CR. A record ends at a line end outside a quoted field. A
quote opens a quoted field only at the start of a field (record start, or right after the
delimiter); a quote anywhere else is a literal character of an unquoted field (``NEW 3/4"
pipe`` is stored as written). Inside quotes, a doubled quote (or the ``escape`` character
followed by any byte) does not close the field. A quoted field not closed before the end of the
file or within ``max_record_lines`` line ends is an unclosed quote: the line where it opened is
quarantined with that reason, and the lines after it are split again as records. With
``multiline`` off, every line end ends a record. With ``header``, each file's first record is
its header, not data, and must name exactly the declared columns.

A plain UTF-8 file (no quote, escape or carriage-return byte, every record of the declared
width) is cut and split by Arrow's compute kernels (:func:`plain_csv`); any other file goes
record by record. Both give the same rows.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator
from typing import Any

from lake_glue import evolution
from lake_glue.formats.base import (
    ARROW_CHUNK,
    ENCODINGS,
    FileReport,
    FormatOptions,
    arrow_names,
    tuples_to_arrow,
    value_width,
)
from lake_glue.formats.compression import DecompressError, decompress
from lake_glue.formats.registry import register
from lake_glue.formats.text import BOM, Shape, Span, Split, TextFormat, Values


@register
class CsvFormat(TextFormat):
    """Delimited text with an optional header line; a record is identified by its first line."""

    name = "csv"
    bare_cr = True

    def quoting(self, opts: FormatOptions) -> bool:
        return opts.multiline

    def read_header(
        self, data: bytes, split: Split, opts: FormatOptions, columns: list[str], report: FileReport
    ) -> tuple[list[Span], Shape] | None:
        if not opts.header:
            return super().read_header(data, split, opts, columns, report)
        if not split.spans:
            return None
        start, end, _ = split.spans[0]
        try:
            if start in split.problems:
                raise csv.Error(split.problems[start])
            header = next(_csv_reader(io.StringIO(data[start:end].decode(ENCODINGS[opts.encoding]), newline=""), opts))
        except (UnicodeDecodeError, csv.Error, StopIteration) as exc:
            report.problem = f"cannot read the header line: {exc}"
            return None
        report.header = [h.strip() for h in header]
        # Under rescue/add an extra column is data to keep, not a mismatch; a missing one always is.
        keep_extra = evolution.rescuing(opts.on_new_columns)
        report.problem = header_problem(report.header, columns, extra_allowed=keep_extra)
        if report.problem:
            return None
        positions = [report.header.index(c) for c in columns]
        nulls = [opts.nulls_of(c) for c in columns]
        extras = [(h, i) for i, h in enumerate(report.header) if h not in columns] if keep_extra else []
        return split.spans[1:], Shape(columns, positions, len(report.header), nulls, extras=extras)

    def parse_record(self, text: str, opts: FormatOptions, shape: Shape) -> Values:
        values, error = _csv_values(text, opts, shape.width, shape.positions, shape.nulls)
        if values is None or not evolution.rescuing(opts.on_new_columns):
            return values, error
        # Only a file whose header has extra columns pays for reading the record's fields again.
        row = _csv_row(text, opts) if shape.extras else []
        extras = {name: row[i] for name, i in shape.extras}
        evolution.count_fields(shape.undeclared, extras)
        return [*values, evolution.rescued_text(extras)], None

    def arrow_batches(self, path: str, content: bytes, opts: FormatOptions, columns: list[str]) -> Iterator[Any]:
        fast = plain_csv(path, content, opts, columns)
        if fast is not None:
            yield from fast
            return
        yield from super().arrow_batches(path, content, opts, columns)


def header_problem(header: list[str], columns: list[str], extra_allowed: bool = False) -> str | None:
    """Why a file's header does not name exactly the declared columns (or, with ``extra_allowed``,
    does not name all of them), or None."""
    missing = [c for c in columns if c not in header]
    unexpected = [] if extra_allowed else [h for h in header if h not in columns]
    dupes = sorted({h for h in header if header.count(h) > 1})
    parts = []
    if missing:
        parts.append(f"missing columns {missing}")
    if unexpected:
        parts.append(f"unexpected columns {unexpected}")
    if dupes:
        parts.append(f"repeated columns {dupes}")
    return "CSV header does not match the declared columns: " + ", ".join(parts) if parts else None


def _csv_reader(source: Iterable[str], opts: FormatOptions) -> Any:
    return csv.reader(
        source,
        delimiter=opts.delimiter,
        quotechar=opts.quote,
        doublequote=opts.escape == opts.quote,
        escapechar=None if opts.escape == opts.quote else opts.escape,
        strict=True,
    )


def _csv_row(text: str, opts: FormatOptions) -> list[str]:
    """The fields of one record; raises ``csv.Error`` for a malformed one."""
    if opts.quote in text or opts.escape in text or "\r" in text:
        rows = list(_csv_reader(io.StringIO(text, newline=""), opts))
        if len(rows) != 1:
            raise csv.Error(f"reads as {len(rows)} rows")
        return rows[0]
    # Without quote, escape or carriage return the csv module only splits on the delimiter.
    return text.split(opts.delimiter)


def _csv_values(
    text: str, opts: FormatOptions, width: int, positions: list[int], nulls: list[frozenset[str]]
) -> Values:
    try:
        row = _csv_row(text, opts)
    except csv.Error as exc:
        return None, f"malformed CSV record: {exc}"
    if len(row) != width:
        return None, f"record has {len(row)} fields, expected {width}"
    return [None if row[p] in null else row[p] for p, null in zip(positions, nulls)], None


def plain_csv(path: str, content: bytes, opts: FormatOptions, columns: list[str]) -> list[Any] | None:
    """Arrow batches for a plain CSV file, or None when the file needs the record-by-record path."""
    import pyarrow as pa
    import pyarrow.compute as pc

    data = _plain_data(path, content, opts)
    if data is None:
        return None
    offset = len(BOM) if data.startswith(BOM) else 0
    lines = data[offset:].split(b"\n")
    numbers = pa.array(range(1, len(lines) + 1), pa.int64())
    texts = pa.array(lines, pa.binary()).cast(pa.string())
    nonblank = pc.greater(pc.binary_length(texts), 0)
    report = FileReport.of(path, content)
    # The empty text after a final line feed is the file's end, not a blank line.
    report.blank_lines = len(lines) - (pc.sum(nonblank).as_py() or 0) - (lines[-1] == b"")
    texts, numbers = texts.filter(nonblank), numbers.filter(nonblank)
    positions = list(range(len(columns)))
    if opts.header:
        if len(texts) == 0:
            return None
        report.header = [h.strip() for h in texts[0].as_py().split(opts.delimiter)]
        if sorted(report.header) != sorted(columns) or len(set(report.header)) != len(report.header):
            return None
        positions = [report.header.index(c) for c in columns]
        texts, numbers = texts.slice(1), numbers.slice(1)
    fields = pc.split_pattern(texts, opts.delimiter)
    widths = pc.list_value_length(fields)
    width = len(report.header) if report.header is not None else len(columns)
    if len(texts) and (pc.min(widths).as_py() != width or pc.max(widths).as_py() != width):
        return None
    report.records = len(texts)
    values = [_plain_column(fields, position, opts.nulls_of(c)) for c, position in zip(columns, positions)]
    # The header matched exactly, so no record has anything to rescue: ``_rescued`` is null.
    outputs = value_width(opts, columns)
    values += [pa.nulls(len(texts), pa.string())] * (outputs - len(columns))
    return _plain_batches(path, numbers, values, outputs) + [tuples_to_arrow([("file", report)], outputs)]


def _plain_data(path: str, content: bytes, opts: FormatOptions) -> bytes | None:
    """The file's UTF-8 content when no quote, escape or CR is in it (only then is a split enough)."""
    if opts.format != "csv" or opts.encoding != "utf-8" or len(opts.delimiter) != 1:
        return None
    try:
        data = decompress(path, content, opts.compression)
    except (OSError, EOFError, DecompressError):
        return None
    if any(ch.encode() in data for ch in {opts.quote, opts.escape, "\r"}):
        return None
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return None
    return data


def _plain_column(fields: Any, position: int, nulls: frozenset[str]) -> Any:
    """One declared column's texts out of the split records, null markers made null."""
    import pyarrow as pa
    import pyarrow.compute as pc

    value = pc.list_element(fields, position) if len(fields) else pa.array([], pa.string())
    markers = pa.array(sorted(nulls), pa.string())
    return pc.if_else(pc.is_in(value, value_set=markers), pa.scalar(None, pa.string()), value)


def _plain_batches(path: str, numbers: Any, values: list, width: int) -> list[Any]:
    """The record rows in batches of at most ``ARROW_CHUNK``."""
    import pyarrow as pa

    n = len(numbers)
    missing = pa.nulls(n, pa.string())
    batches = []
    for start in range(0, n, ARROW_CHUNK):
        size = min(ARROW_CHUNK, n - start)
        batches.append(
            pa.RecordBatch.from_arrays(
                [
                    pa.array(["record"] * size, pa.string()),
                    pa.array([path] * size, pa.string()),
                    numbers.slice(start, size),
                    *[v.slice(start, size) for v in values],
                    missing.slice(start, size),
                    missing.slice(start, size),
                    missing.slice(start, size),
                ],
                names=arrow_names(width),
            )
        )
    return batches
