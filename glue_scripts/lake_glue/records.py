"""Landed bytes -> physical records -> declared fields, in plain Python (no Spark, no JVM).

The ingest job runs :func:`parse_file` once per landed file, inside Spark tasks, so it stays
distributed. It does two separate things with each file's bytes:

1. **Split into physical records** by a fixed rule on the raw bytes (:func:`record_spans`):
   - CSV: a record ends at a line feed (a carriage return before it belongs to the line end)
     that is outside a quoted field. With ``multiline`` off, every line feed ends a record.
     Inside quotes, a doubled quote (or the ``escape`` character followed by any byte) does
     not close the field.
   - JSONL: a record is one line.
   - Blank lines are not records; they are counted separately. With ``header``, each CSV
     file's first record is its header, not data. A UTF-8 byte order mark is skipped.
   The count of those records is what "landed" means in the reconciliation.
2. **Parse each record on its own**: decode it strictly in the declared encoding, then read it
   as one CSV row, or as exactly one JSON object. Anything that does not give exactly one row
   of the declared width (a stray quote, an invalid byte, ``[]``, two objects on a line, a
   missing field) becomes a quarantined record with the reason; its text is kept with invalid
   bytes written as ``\\xNN``, never replaced by U+FFFD.

So every physical record yields one output row, valid or quarantined, carrying its file and
the line it starts on. The job then reconciles what it stored against the physical count.
Delimiter, quote and escape must be ASCII: the byte-level split is then exact for UTF-8,
Latin-1 and Windows-1252, where an ASCII byte is never part of a multi-byte character.
"""

from __future__ import annotations

import bz2
import csv
import gzip
import hashlib
import io
import json
from dataclasses import dataclass, field
from typing import Literal

Encoding = Literal["utf-8", "latin-1", "windows-1252"]
ENCODINGS: dict[Encoding, str] = {"utf-8": "utf-8", "latin-1": "latin-1", "windows-1252": "cp1252"}
ENCODING_ALIASES = {
    "utf8": "utf-8",
    "utf-8": "utf-8",
    "latin-1": "latin-1",
    "latin1": "latin-1",
    "iso-8859-1": "latin-1",
    "windows-1252": "windows-1252",
    "cp1252": "windows-1252",
}
COMPRESSIONS = ("auto", "none", "gzip", "bz2")
BOM = b"\xef\xbb\xbf"


@dataclass(frozen=True)
class FormatOptions:
    """How a table's landed files are read. Defaults are the documented ones."""

    format: str = "csv"
    delimiter: str = ","
    header: bool = True
    quote: str = '"'
    escape: str = '"'
    encoding: Encoding = "utf-8"
    multiline: bool = True
    compression: str = "auto"
    null_values: tuple[str, ...] = ("",)
    # (column, its own null texts) for the columns that override ``null_values``.
    column_null_values: tuple[tuple[str, tuple[str, ...]], ...] = ()

    def nulls_of(self, column: str) -> frozenset[str]:
        """The texts read as null in ``column``: its own list if it declares one, else the table's."""
        return frozenset(dict(self.column_null_values).get(column, self.null_values))

    @classmethod
    def of(cls, config: dict, table: dict) -> "FormatOptions":
        """The effective options of a table: defaults < ``source.options`` < the table's own."""
        merged = {**config.get("source", {}).get("options", {}), **(table.get("options") or {})}
        merged["format"] = table.get("format") or config.get("source", {}).get("format", "csv")
        merged["delimiter"] = table.get("delimiter", merged.get("delimiter", ","))
        merged["header"] = table.get("header", merged.get("header", True))
        merged["encoding"] = ENCODING_ALIASES.get(str(merged.get("encoding", "utf-8")).lower(), merged.get("encoding"))
        if "null_values" in merged:
            merged["null_values"] = tuple(merged["null_values"])
        merged["column_null_values"] = tuple(
            (c["name"], tuple(c["null_values"])) for c in table.get("columns", []) if c.get("null_values") is not None
        )
        known = set(cls.__dataclass_fields__)
        return cls(**{k: v for k, v in merged.items() if k in known})


@dataclass
class FileReport:
    """What one landed file held: its physical records and what became of its bytes."""

    path: str
    size: int
    sha256: str
    md5: str = ""
    records: int = 0
    blank_lines: int = 0
    header: list[str] | None = None
    problem: str | None = None
    undeclared: dict[str, int] = field(default_factory=dict)


def decompress(path: str, data: bytes, compression: str) -> bytes:
    """The file's content: gunzipped or bunzipped by extension (``auto``) or as declared."""
    kind = compression
    if kind == "auto":
        kind = "gzip" if path.endswith(".gz") else "bz2" if path.endswith(".bz2") else "none"
    if kind == "gzip":
        return gzip.decompress(data)
    if kind == "bz2":
        return bz2.decompress(data)
    return data


def record_spans(data: bytes, opts: FormatOptions) -> tuple[list[tuple[int, int, int]], int]:
    """Physical records as (start byte, end byte, 1-based line) and the number of blank lines.

    The file is cut at every line feed in C (``bytes.find``); a line only needs a closer look
    when it holds a quote. With the escape equal to the quote (the CSV default), a doubled
    quote toggles twice, so the parity of a line's quote count tells whether a record goes on.
    A line holding a distinct escape byte inside quotes is walked byte by byte.
    """
    quote, escape = ord(opts.quote), ord(opts.escape)
    quoting = opts.format == "csv" and opts.multiline
    spans: list[tuple[int, int, int]] = []
    blank, n = 0, len(data)
    start, start_line, line, in_quotes, pos = 0, 1, 1, False, 0
    quote_byte, escape_byte = bytes([quote]), bytes([escape])
    distinct_escape = escape != quote
    while True:
        lf = data.find(b"\n", pos)
        stop = n if lf < 0 else lf
        if quoting:
            if distinct_escape and (in_quotes or quote_byte in data[pos:stop]) and escape_byte in data[pos:stop]:
                in_quotes, extra_lines, stop = _walk(data, pos, stop, in_quotes, quote, escape)
                line += extra_lines
                lf = stop if stop < n else -1
            elif data.count(quote_byte, pos, stop) % 2:
                in_quotes = not in_quotes
        if lf < 0:
            break
        if not in_quotes:
            end = lf - 1 if lf > start and data[lf - 1] == 0x0D else lf
            if end > start:
                spans.append((start, end, start_line))
            else:
                blank += 1
            start, start_line = lf + 1, line + 1
        line += 1
        pos = lf + 1
    end = n - 1 if n > start and data[n - 1] == 0x0D else n
    if end > start:
        spans.append((start, end, start_line))
    return spans, blank


def _walk(data: bytes, pos: int, stop: int, in_quotes: bool, quote: int, escape: int) -> tuple[bool, int, int]:
    """Quote state after the line at ``pos``, byte by byte (a distinct escape skips the next byte).

    An escaped line feed continues the line: returns the new state, the line feeds skipped
    that way, and where the line really stops (its line feed, or the end of the data).
    """
    n, skipped, i = len(data), 0, pos
    while i < n:
        b = data[i]
        if in_quotes and b == escape and i + 1 < n:
            if data[i + 1] == 0x0A:
                skipped += 1
            i += 2
            continue
        if b == quote:
            in_quotes = not in_quotes
        elif b == 0x0A:
            return in_quotes, skipped, i
        i += 1
    return in_quotes, skipped, n


def _text(raw: bytes, encoding: Encoding) -> str:
    """Readable text of a record whatever its bytes: invalid ones as ``\\xNN``."""
    return raw.decode(ENCODINGS[encoding], errors="backslashreplace")


class _Literal(str):
    """A JSON number kept as the text it was written as."""


def _json_value(value) -> str | None:
    """A declared column's text from a JSON value: strings as they are, numbers as written."""
    if value is None:
        return None
    if isinstance(value, str) and not isinstance(value, _Literal):
        return str(value)
    return _dump(value)


def _dump(value) -> str:
    if isinstance(value, _Literal):
        return str(value)
    if isinstance(value, dict):
        return "{" + ",".join(f"{json.dumps(k, ensure_ascii=False)}:{_dump(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ",".join(_dump(v) for v in value) + "]"
    return json.dumps(value, ensure_ascii=False)


def parse_file(path: str, content: bytes, opts: FormatOptions, columns: list[str]):
    """Yield ("record", file, line, values | None, error | None, raw text) per physical record,
    then one ("file", FileReport) for the file.

    ``values`` are the declared columns' texts in order (``None`` for a null marker);
    ``error`` says why a record is quarantined.
    """
    report = FileReport(
        path=path,
        size=len(content),
        sha256=hashlib.sha256(content).hexdigest(),
        md5=hashlib.md5(content, usedforsecurity=False).hexdigest(),
    )
    try:
        data = decompress(path, content, opts.compression)
    except (OSError, EOFError) as exc:
        report.problem = f"cannot decompress ({opts.compression}): {exc}"
        yield ("file", report)
        return
    offset = len(BOM) if opts.encoding == "utf-8" and data.startswith(BOM) else 0
    spans, report.blank_lines = record_spans(data[offset:], opts)
    codec = ENCODINGS[opts.encoding]
    positions = list(range(len(columns)))
    nulls = [opts.nulls_of(c) for c in columns]
    if opts.format == "csv" and opts.header:
        if not spans:
            yield ("file", report)
            return
        start, end, _ = spans[0]
        spans = spans[1:]
        try:
            header = next(_csv_reader(io.StringIO(data[offset + start : offset + end].decode(codec), newline=""), opts))
        except (UnicodeDecodeError, csv.Error, StopIteration) as exc:
            report.problem = f"cannot read the header line: {exc}"
            yield ("file", report)
            return
        report.header = [h.strip() for h in header]
        missing = [c for c in columns if c not in report.header]
        unexpected = [h for h in report.header if h not in columns]
        dupes = sorted({h for h in report.header if report.header.count(h) > 1})
        if missing or unexpected or dupes:
            parts = []
            if missing:
                parts.append(f"missing columns {missing}")
            if unexpected:
                parts.append(f"unexpected columns {unexpected}")
            if dupes:
                parts.append(f"repeated columns {dupes}")
            report.problem = "CSV header does not match the declared columns: " + ", ".join(parts)
            yield ("file", report)
            return
        positions = [report.header.index(c) for c in columns]
    report.records = len(spans)
    width = len(report.header) if report.header is not None else len(columns)
    for start, end, line in spans:
        raw = data[offset + start : offset + end]
        values, error = None, None
        try:
            text = raw.decode(codec)
        except UnicodeDecodeError as exc:
            error = (
                f"invalid {opts.encoding} byte 0x{raw[exc.start]:02x} at byte offset"
                f" {offset + start + exc.start} (declare the file's encoding in options.encoding)"
            )
        else:
            if opts.format == "csv":
                values, error = _csv_values(text, opts, width, positions, nulls)
            else:
                values, error = _json_values(text, columns, report.undeclared)
        yield ("record", path, line, values, error, _text(raw, opts.encoding) if error else None)
    yield ("file", report)


def _csv_reader(source, opts: FormatOptions):
    return csv.reader(
        source,
        delimiter=opts.delimiter,
        quotechar=opts.quote,
        doublequote=opts.escape == opts.quote,
        escapechar=None if opts.escape == opts.quote else opts.escape,
        strict=True,
    )


def _csv_values(text: str, opts: FormatOptions, width: int, positions: list[int], nulls: list[frozenset[str]]):
    if opts.quote in text or opts.escape in text or "\r" in text:
        try:
            rows = list(_csv_reader(io.StringIO(text, newline=""), opts))
        except csv.Error as exc:
            return None, f"malformed CSV record: {exc}"
        if len(rows) != 1:
            return None, f"malformed CSV record: reads as {len(rows)} rows"
        row = rows[0]
    else:
        # Without quote, escape or carriage return the csv module only splits on the delimiter.
        row = text.split(opts.delimiter)
    if len(row) != width:
        return None, f"record has {len(row)} fields, expected {width}"
    return [None if row[p] in null else row[p] for p, null in zip(positions, nulls)], None


def _json_values(text: str, columns: list[str], undeclared: dict[str, int]):
    try:
        document = json.loads(text, parse_int=_Literal, parse_float=_Literal)
    except json.JSONDecodeError as exc:
        reason = "more than one JSON value on the line" if exc.msg == "Extra data" else f"not valid JSON: {exc.msg}"
        return None, f"{reason} (column {exc.colno})"
    if not isinstance(document, dict):
        kind = {list: "an array", str: "a string", _Literal: "a number", bool: "a boolean", type(None): "null"}
        return (
            None,
            f"a JSONL line must be one JSON object, this one is {kind.get(type(document), type(document).__name__)}",
        )
    for key in document:
        if key not in columns:
            undeclared[key] = undeclared.get(key, 0) + 1
    return [_json_value(document.get(c)) for c in columns], None


ARROW_CHUNK = 65536


def arrow_names(width: int) -> list[str]:
    """Column names of :func:`parse_file_arrow`'s batches for ``width`` declared columns."""
    return [
        "kind",
        "_source_file",
        "_source_line",
        *[f"__value_{i}" for i in range(width)],
        "_parse_error",
        "_corrupt_record",
        "report",
    ]


def parse_file_arrow(path: str, content: bytes, opts: FormatOptions, columns: list[str]):
    """:func:`parse_file` as Arrow record batches (one row per record, then one for the file).

    A plain UTF-8 CSV file (no quote, escape or carriage-return byte, every record of the
    declared width) is cut and split by Arrow's compute kernels; any other file goes through
    :func:`parse_file` record by record. Both give the same rows: the fast path only serves
    files where the CSV reader would do nothing but split lines on the delimiter.
    """
    fast = _plain_csv(path, content, opts, columns)
    if fast is not None:
        yield from fast
        return
    chunk: list[tuple] = []
    for out in parse_file(path, content, opts, columns):
        chunk.append(out)
        if len(chunk) >= ARROW_CHUNK:
            yield _tuples_to_arrow(chunk, len(columns))
            chunk = []
    if chunk:
        yield _tuples_to_arrow(chunk, len(columns))


def _tuples_to_arrow(outputs: list[tuple], width: int):
    import pyarrow as pa

    kinds: list[str] = []
    files: list[str] = []
    lines: list[int | None] = []
    errors: list[str | None] = []
    corrupt: list[str | None] = []
    reports: list[str | None] = []
    values: list[list] = [[] for _ in range(width)]
    for out in outputs:
        if out[0] == "file":
            kinds.append("file")
            files.append(out[1].path)
            lines.append(None)
            errors.append(None)
            corrupt.append(None)
            reports.append(json.dumps(out[1].__dict__))
            row = None
        else:
            _, file, line, row, error, text = out
            kinds.append("record")
            files.append(file)
            lines.append(line)
            errors.append(error)
            corrupt.append(text)
            reports.append(None)
        if row is None:
            for column in values:
                column.append(None)
        else:
            for column, value in zip(values, row):
                column.append(value)
    arrays = [
        pa.array(kinds, pa.string()),
        pa.array(files, pa.string()),
        pa.array(lines, pa.int64()),
        *[pa.array(v, pa.string()) for v in values],
        pa.array(errors, pa.string()),
        pa.array(corrupt, pa.string()),
        pa.array(reports, pa.string()),
    ]
    return pa.RecordBatch.from_arrays(arrays, names=arrow_names(width))


def _plain_csv(path: str, content: bytes, opts: FormatOptions, columns: list[str]):
    """Arrow batches for a plain CSV file, or None when the file needs the record-by-record path."""
    import pyarrow as pa
    import pyarrow.compute as pc

    if opts.format != "csv" or opts.encoding != "utf-8" or len(opts.delimiter) != 1:
        return None
    try:
        data = decompress(path, content, opts.compression)
    except (OSError, EOFError):
        return None
    if any(ch.encode() in data for ch in {opts.quote, opts.escape, "\r"}):
        return None
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return None
    offset = len(BOM) if data.startswith(BOM) else 0
    lines = data[offset:].split(b"\n")
    numbers = pa.array(range(1, len(lines) + 1), pa.int64())
    texts = pa.array(lines, pa.binary()).cast(pa.string())
    nonblank = pc.greater(pc.binary_length(texts), 0)
    # The empty text after a final line feed is the file's end, not a blank line.
    blank = len(lines) - (pc.sum(nonblank).as_py() or 0) - (lines[-1] == b"")
    texts, numbers = texts.filter(nonblank), numbers.filter(nonblank)
    positions = list(range(len(columns)))
    header = None
    if opts.header:
        if len(texts) == 0:
            return None
        header = [h.strip() for h in texts[0].as_py().split(opts.delimiter)]
        if sorted(header) != sorted(columns) or len(set(header)) != len(header):
            return None
        positions = [header.index(c) for c in columns]
        texts, numbers = texts.slice(1), numbers.slice(1)
    width = len(header) if header is not None else len(columns)
    fields = pc.split_pattern(texts, opts.delimiter)
    if (
        len(texts)
        and pc.min(pc.list_value_length(fields)).as_py() != width
        or len(texts)
        and pc.max(pc.list_value_length(fields)).as_py() != width
    ):
        return None
    report = FileReport(
        path=path,
        size=len(content),
        sha256=hashlib.sha256(content).hexdigest(),
        md5=hashlib.md5(content, usedforsecurity=False).hexdigest(),
        records=len(texts),
        blank_lines=blank,
        header=header,
    )
    values = []
    for column, position in zip(columns, positions):
        value = pc.list_element(fields, position) if len(texts) else pa.array([], pa.string())
        nulls = pa.array(sorted(opts.nulls_of(column)), pa.string())
        values.append(pc.if_else(pc.is_in(value, value_set=nulls), pa.scalar(None, pa.string()), value))
    n = len(texts)
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
                names=arrow_names(len(columns)),
            )
        )
    batches.append(_tuples_to_arrow([("file", report)], len(columns)))
    return batches
