"""Landed bytes -> physical records -> declared fields, in plain Python (no Spark, no JVM).

The ingest job runs :func:`parse_file` once per landed file, inside Spark tasks, so it stays
distributed. It does two separate things with each file's bytes:

1. **Split into physical records** by a fixed rule on the raw bytes (:func:`record_spans`):
   - CSV (RFC 4180, as Python's ``csv`` and Spark read it): a line ends at CR LF, LF or a
     bare CR. A record ends at a line end outside a quoted field. A quote opens a quoted
     field only at the start of a field (record start, or right after the delimiter); a quote
     anywhere else is a literal character of an unquoted field (``NEW 3/4" pipe`` is stored
     as written). Inside quotes, a doubled quote (or the ``escape`` character followed by any
     byte) does not close the field. A quoted field not closed before the end of the file or
     within ``max_record_lines`` line ends is an unclosed quote: the line where it opened is
     quarantined with that reason, and the lines after it are split again as records. With
     ``multiline`` off, every line end ends a record.
   - JSONL: a record is one line (ended by LF; a CR before it belongs to the line end).
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

from lake_glue import evolution

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
    # A quoted field spanning more line ends than this is taken as an unclosed quote.
    max_record_lines: int = 1000
    # fail | rescue | add (lake_glue.evolution): whether records carry their undeclared fields.
    on_new_columns: str = "fail"

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
        merged["on_new_columns"] = table.get("on_new_columns", "fail")
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


@dataclass(frozen=True)
class Split:
    """A file's physical records: (start byte, end byte, 1-based line) each, the blank lines,
    and why a record is not whole (start byte -> reason: its quoted field never closed)."""

    spans: list[tuple[int, int, int]]
    blank: int
    problems: dict[int, str]


class _LineEnds:
    """The file's line ends in order, found with ``bytes.find`` (C speed, no byte loop).

    A CSV line ends at CR LF, LF or a bare CR (RFC 4180 and Python's ``csv``); a JSONL line
    ends at LF only (a CR before it belongs to the line end).
    """

    def __init__(self, data: bytes, bare_cr: bool):
        self.data, self.n = data, len(data)
        # Two passes in C tell whether any CR is not part of a CR LF; only then is each line
        # looked at for one.
        self.bare_cr = bare_cr and data.count(b"\r") != data.count(b"\r\n")
        self._lf, self._cr = -1, -1

    def next(self, pos: int) -> tuple[int, int]:
        """(content end, next line start) of the line holding ``pos``; (n, n) at the end."""
        if self._lf < pos:
            self._lf = self.data.find(b"\n", pos)
            if self._lf < 0:
                self._lf = self.n
        lf = self._lf
        if self.bare_cr:
            if self._cr < pos:
                self._cr = self.data.find(b"\r", pos)
                if self._cr < 0:
                    self._cr = self.n
            if self._cr < lf:
                return self._cr, self._cr + 2 if self._cr + 1 == lf else self._cr + 1
        if lf < self.n:
            return (lf - 1 if lf > pos and self.data[lf - 1] == 0x0D else lf), lf + 1
        return self.n, self.n

    def count(self, start: int, stop: int) -> int:
        """Line ends between two byte positions."""
        lfs = self.data.count(b"\n", start, stop)
        if not self.bare_cr:
            return lfs
        return lfs + self.data.count(b"\r", start, stop) - self.data.count(b"\r\n", start, stop)


def record_spans(data: bytes, opts: FormatOptions) -> Split:
    """The physical records of a file (RFC 4180 quoting for CSV with ``multiline``).

    A quote opens a quoted field only at the start of a field (at the record's start or right
    after the delimiter); anywhere else it is a literal character. Inside quotes a doubled
    quote, or the ``escape`` byte and the byte after it, does not close the field. A quoted
    field that is not closed before the end of the file, or within ``max_record_lines`` lines,
    makes only the line where it opened a record, with the reason; splitting goes on after it.

    Lines are found with ``bytes.find``; only a line holding a quote is looked at further, and
    then again quote by quote with ``find``, never byte by byte.
    """
    csv_format = opts.format == "csv"
    ends = _LineEnds(data, bare_cr=csv_format)
    quoting = csv_format and opts.multiline
    quote = opts.quote.encode()
    delimiter = ord(opts.delimiter[0]) if opts.delimiter else -1
    escape = opts.escape.encode() if opts.escape != opts.quote else b""
    spans: list[tuple[int, int, int]] = []
    problems: dict[int, str] = {}
    blank, line, start, n = 0, 1, 0, len(data)
    while start < n:
        stop, following = ends.next(start)
        lines, problem = 1, None
        if quoting and not _closes_on_its_line(data, start, stop, quote, delimiter, escape):
            stop, following, lines, problem = _quoted_record(
                data, (start, stop, following), line, ends, (quote, delimiter, escape), opts.max_record_lines
            )
        if not csv_format and following == n and stop == n and n > start and data[n - 1] == 0x0D:
            stop = n - 1
        if stop > start:
            spans.append((start, stop, line))
            if problem:
                problems[start] = problem
        else:
            blank += 1
        start, line = following, line + lines
    return Split(spans, blank, problems)


def _closes_on_its_line(data: bytes, start: int, stop: int, quote: bytes, delimiter: int, escape: bytes) -> bool:
    """True for a line whose quoted fields all close on it without a doubled quote or an escape:
    the common line, told with a few ``find`` calls; any other is walked by :func:`_quoted_record`."""
    q = data.find(quote, start, stop)
    while q >= 0:
        if q == start or data[q - 1] == delimiter:
            close = data.find(quote, q + 1, stop)
            if close < 0 or data[close + 1 : close + 2] == quote or (escape and data.find(escape, q, close) >= 0):
                return False
            q = close
        q = data.find(quote, q + 1, stop)
    return True


def _quoted_record(
    data: bytes,
    first_line: tuple[int, int, int],
    line: int,
    ends: _LineEnds,
    characters: tuple[bytes, int, bytes],
    max_record_lines: int,
):
    """(content end, next record start, lines taken, problem) of the CSV record whose first line
    is (start, content end, next line start); ``characters`` are the quote, delimiter and escape."""
    quote, delimiter, escape = characters
    start, stop, following = first_line
    pos, one_line = start, True
    while True:
        if pos > stop:
            stop, following = ends.next(pos)
        q = data.find(quote, pos, stop)
        while q >= 0 and not (q == start or data[q - 1] == delimiter):
            q = data.find(quote, q + 1, stop)  # a quote inside an unquoted field is literal
        if q < 0:
            return stop, following, 1 if one_line else ends.count(start, following) or 1, None
        close = _closing_quote(data, q + 1, quote, escape)
        if 0 <= close < stop:
            pos = close + 1  # closed on its own line: the common case, nothing to count
            continue
        one_line = False
        if close < 0 or ends.count(q, close) > max_record_lines:
            opened = line + ends.count(start, q)
            where = "before the end of the file" if close < 0 else f"within {max_record_lines} lines"
            problem = (
                f"quoted field opened on line {opened} is not closed {where}; the record is cut at the end of"
                " that line and the lines after it are read as records (max_record_lines bounds a quoted field)"
            )
            stop, following = ends.next(q)
            return stop, following, ends.count(start, following) or 1, problem
        pos = close + 1


def _closing_quote(data: bytes, pos: int, quote: bytes, escape: bytes) -> int:
    """Position of the quote that closes a quoted field whose content starts at ``pos``, or -1."""
    while True:
        q = data.find(quote, pos)
        if escape:
            e = data.find(escape, pos, q if q >= 0 else len(data))
            if e >= 0:
                pos = e + 2  # the escape and the byte it escapes
                continue
        if q < 0:
            return -1
        if not escape and data[q + 1 : q + 2] == quote:
            pos = q + 2  # a doubled quote is one quote of the content
            continue
        return q


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
    split = record_spans(data[offset:], opts)
    spans, report.blank_lines = split.spans, split.blank
    codec = ENCODINGS[opts.encoding]
    positions = list(range(len(columns)))
    nulls = [opts.nulls_of(c) for c in columns]
    extras: list[tuple[str, int]] = []
    if opts.format == "csv" and opts.header:
        if not spans:
            yield ("file", report)
            return
        start, end, _ = spans[0]
        spans = spans[1:]
        try:
            if start in split.problems:
                raise csv.Error(split.problems[start])
            header = next(_csv_reader(io.StringIO(data[offset + start : offset + end].decode(codec), newline=""), opts))
        except (UnicodeDecodeError, csv.Error, StopIteration) as exc:
            report.problem = f"cannot read the header line: {exc}"
            yield ("file", report)
            return
        report.header = [h.strip() for h in header]
        missing = [c for c in columns if c not in report.header]
        extra = [h for h in report.header if h not in columns]
        # Under rescue/add an extra column is data to keep, not a mismatch; a missing one always is.
        unexpected = [] if evolution.rescuing(opts.on_new_columns) else extra
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
        extras = [(h, report.header.index(h)) for h in extra] if not unexpected else []
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
            if start in split.problems:
                error = split.problems[start]
            elif opts.format == "csv":
                values, error = _csv_values(text, opts, width, positions, nulls, extras)
                if values is not None and extras:
                    evolution.count_fields(report.undeclared, dict(extras))
            else:
                values, error = _json_values(text, columns, report.undeclared, evolution.rescuing(opts.on_new_columns))
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


def _csv_values(
    text: str,
    opts: FormatOptions,
    width: int,
    positions: list[int],
    nulls: list[frozenset[str]],
    extras: list[tuple[str, int]] | None = None,
):
    """The declared columns' values of one CSV record (then ``_rescued`` when rescuing), or the error."""
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
    values = [None if row[p] in null else row[p] for p, null in zip(positions, nulls)]
    if evolution.rescuing(opts.on_new_columns):
        values.append(evolution.rescued_text({name: row[p] for name, p in extras or []}))
    return values, None


class _StrictJsonError(ValueError):
    """A JSON document that parses but is not strict JSON (a repeated key, a non-finite number)."""


def _unique_keys(pairs: list[tuple[str, object]]) -> dict:
    """An object's members; a key written twice is refused rather than keeping the last value."""
    document: dict = {}
    for key, value in pairs:
        if key in document:
            raise _StrictJsonError(f"key {key!r} appears more than once in one object")
        document[key] = value
    return document


def _non_finite(name: str):
    raise _StrictJsonError(f"{name} is not a JSON number")


def _json_values(text: str, columns: list[str], undeclared: dict[str, int], rescue: bool = False):
    try:
        document = json.loads(
            text,
            parse_int=_Literal,
            parse_float=_Literal,
            parse_constant=_non_finite,
            object_pairs_hook=_unique_keys,
        )
    except json.JSONDecodeError as exc:
        reason = "more than one JSON value on the line" if exc.msg == "Extra data" else f"not valid JSON: {exc.msg}"
        return None, f"{reason} (column {exc.colno})"
    except _StrictJsonError as exc:
        return None, f"not strict JSON: {exc}"
    if not isinstance(document, dict):
        kind = {list: "an array", str: "a string", _Literal: "a number", bool: "a boolean", type(None): "null"}
        return (
            None,
            f"a JSONL line must be one JSON object, this one is {kind.get(type(document), type(document).__name__)}",
        )
    values = [_json_value(document.get(c)) for c in columns]
    for column, value in zip(columns, values):
        # "\ud83d" decodes to half a surrogate pair, which no UTF-8 column can hold.
        if value is not None and not _encodable(value):
            return None, f"{column}: a JSON string holds a lone surrogate (an unpaired \\uD800-\\uDFFF escape)"
    others = {key: value for key, value in document.items() if key not in columns}
    evolution.count_fields(undeclared, others)
    if rescue:
        rescued = {key: _json_value(value) for key, value in others.items()}
        if any(value is not None and not _encodable(value) for value in rescued.values()):
            return None, "an undeclared field's JSON string holds a lone surrogate (an unpaired \\uD800-\\uDFFF escape)"
        values.append(evolution.rescued_text(rescued))
    return values, None


def _encodable(value: str) -> bool:
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


ARROW_CHUNK = 65536


def value_width(opts: FormatOptions, columns: list[str]) -> int:
    """Value columns of a parsed record: the declared ones, then ``_rescued`` when the table rescues."""
    return len(columns) + evolution.rescuing(opts.on_new_columns)


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
            yield _tuples_to_arrow(chunk, value_width(opts, columns))
            chunk = []
    if chunk:
        yield _tuples_to_arrow(chunk, value_width(opts, columns))


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
    # The header matched exactly, so no record has anything to rescue.
    values += [missing] * (value_width(opts, columns) - len(columns))
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
                names=arrow_names(len(values)),
            )
        )
    batches.append(_tuples_to_arrow([("file", report)], len(values)))
    return batches
