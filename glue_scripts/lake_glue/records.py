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

ENCODINGS = {"utf-8": "utf-8", "latin-1": "latin-1", "windows-1252": "cp1252"}
ENCODING_ALIASES = {
    "utf8": "utf-8", "utf-8": "utf-8", "latin-1": "latin-1", "latin1": "latin-1", "iso-8859-1": "latin-1",
    "windows-1252": "windows-1252", "cp1252": "windows-1252",
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
    encoding: str = "utf-8"
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
    """Physical records as (start byte, end byte, 1-based line) and the number of blank lines."""
    quote, escape = ord(opts.quote), ord(opts.escape)
    quoting = opts.format == "csv" and opts.multiline
    spans, blank = [], 0
    start, line, start_line, in_quotes, i, n = 0, 1, 1, False, 0, len(data)
    while i < n:
        b = data[i]
        if quoting and in_quotes and b == escape and escape != quote and i + 1 < n:
            if data[i + 1] == 0x0A:
                line += 1
            i += 2
            continue
        if quoting and b == quote:
            in_quotes = not in_quotes
        elif b == 0x0A:
            if not in_quotes:
                end = i - 1 if i > start and data[i - 1] == 0x0D else i
                if end > start:
                    spans.append((start, end, start_line))
                else:
                    blank += 1
                start, start_line = i + 1, line + 1
            line += 1
        i += 1
    end = n - 1 if n > start and data[n - 1] == 0x0D else n
    if end > start:
        spans.append((start, end, start_line))
    return spans, blank


def _text(raw: bytes, encoding: str) -> str:
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
    report = FileReport(path=path, size=len(content), sha256=hashlib.sha256(content).hexdigest(),
                        md5=hashlib.md5(content, usedforsecurity=False).hexdigest())
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
            header = next(_csv_reader(io.StringIO(data[offset + start:offset + end].decode(codec), newline=""), opts))
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
        raw = data[offset + start:offset + end]
        values, error = None, None
        try:
            text = raw.decode(codec)
        except UnicodeDecodeError as exc:
            error = (f"invalid {opts.encoding} byte 0x{raw[exc.start]:02x} at byte offset"
                     f" {offset + start + exc.start} (declare the file's encoding in options.encoding)")
        else:
            if opts.format == "csv":
                values, error = _csv_values(text, opts, width, positions, nulls)
            else:
                values, error = _json_values(text, columns, report.undeclared)
        yield ("record", path, line, values, error, _text(raw, opts.encoding) if error else None)
    yield ("file", report)


def _csv_reader(source, opts: FormatOptions):
    return csv.reader(source, delimiter=opts.delimiter, quotechar=opts.quote, doublequote=opts.escape == opts.quote,
                      escapechar=None if opts.escape == opts.quote else opts.escape, strict=True)


def _csv_values(text: str, opts: FormatOptions, width: int, positions: list[int], nulls: list[frozenset[str]]):
    try:
        rows = list(_csv_reader(io.StringIO(text, newline=""), opts))
    except csv.Error as exc:
        return None, f"malformed CSV record: {exc}"
    if len(rows) != 1:
        return None, f"malformed CSV record: reads as {len(rows)} rows"
    row = rows[0]
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
        return None, f"a JSONL line must be one JSON object, this one is {kind.get(type(document), type(document).__name__)}"
    for key in document:
        if key not in columns:
            undeclared[key] = undeclared.get(key, 0) + 1
    return [_json_value(document.get(c)) for c in columns], None
