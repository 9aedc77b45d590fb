"""Line-oriented text formats (CSV, JSONL): the shared split of bytes into records, and the loop.

1. **Split into physical records** by a fixed rule on the raw bytes (:meth:`TextFormat.split`):
   a line ends at LF (a CR before it belongs to the line end); a format that allows a bare CR
   as a line end (CSV) says so with ``bare_cr``, and a format with quoting (CSV with
   ``multiline``) keeps a quoted field's line ends inside its record. Blank lines are not
   records; they are counted separately. A UTF-8 byte order mark is skipped. The count of
   those records is what "landed" means in the reconciliation.
2. **Read the header** (:meth:`TextFormat.read_header`): the file's own column names, if the
   format has them, matched against the declared columns.
3. **Parse each record on its own** (:meth:`TextFormat.parse_record`): decode it strictly in
   the declared encoding, then read it as the format says. Anything that does not give
   exactly one row becomes a quarantined record with the reason; its text is kept with
   invalid bytes written as ``\\xNN``, never replaced by U+FFFD.

A record is identified by its file and the line it starts on. Delimiter, quote and escape
must be ASCII: the byte-level split is then exact for UTF-8, Latin-1 and Windows-1252, where
an ASCII byte is never part of a multi-byte character.
"""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Iterator
from dataclasses import dataclass, field

from lake_glue.formats.base import ENCODINGS, Encoding, FileReport, FormatOptions, LandingFormat, Output
from lake_glue.formats.compression import DecompressError, decompress

BOM = b"\xef\xbb\xbf"
Span = tuple[int, int, int]


Values = tuple[list[str | None] | None, str | None]
"""(the declared columns' texts, None) or (None, why the record is quarantined)."""


@dataclass(frozen=True)
class Split:
    """A file's physical records: (start byte, end byte, 1-based line) each, the blank lines,
    and why a record is not whole (start byte -> reason: its quoted field never closed)."""

    spans: list[Span]
    blank: int
    problems: dict[int, str]


@dataclass
class Shape:
    """Where the declared columns are in a record: what a header (or its absence) tells."""

    columns: list[str]
    positions: list[int]
    width: int
    nulls: list[frozenset[str]]
    undeclared: dict[str, int] = field(default_factory=dict)
    # (name, position) of the header's undeclared columns, kept when the table rescues or adds them.
    extras: list[tuple[str, int]] = field(default_factory=list)


class TextFormat(LandingFormat):
    """A format whose records are lines of text (a quoted field may hold line ends)."""

    # True where a bare CR ends a line (CSV); else only LF does, a CR before it belonging to it.
    bare_cr: bool = False

    def quoting(self, opts: FormatOptions) -> bool:
        """True when a quoted field may span line ends."""
        return False

    def split(self, data: bytes, opts: FormatOptions, first_line: int = 1) -> Split:
        """The file's physical records (see :func:`record_spans`); ``data`` starts on ``first_line``
        (a range of a file read in ranges starts further on: :mod:`lake_glue.formats.ranges`)."""
        return record_spans(data, opts, self.bare_cr, self.quoting(opts), first_line)

    def read_header(
        self, data: bytes, split: Split, opts: FormatOptions, columns: list[str], report: FileReport
    ) -> tuple[list[Span], Shape] | None:
        """(the data records, their shape), or None when the file stops here (``report.problem``
        says why, or it holds no record at all). Without a header every record is data."""
        nulls = [opts.nulls_of(c) for c in columns]
        return split.spans, Shape(columns, list(range(len(columns))), len(columns), nulls)

    @abstractmethod
    def parse_record(self, text: str, opts: FormatOptions, shape: Shape) -> Values:
        """(the declared columns' texts, None) or (None, why the record is quarantined)."""

    def parse_file(self, path: str, content: bytes, opts: FormatOptions, columns: list[str]) -> Iterator[Output]:
        report = FileReport.of(path, content)
        try:
            data = decompress(path, content, opts.compression)
        except (OSError, EOFError, DecompressError) as exc:
            report.problem = f"cannot decompress ({opts.compression}): {exc}"
            yield ("file", report)
            return
        offset = len(BOM) if opts.encoding == "utf-8" and data.startswith(BOM) else 0
        data = data[offset:]
        split = self.split(data, opts)
        report.blank_lines = split.blank
        read = self.read_header(data, split, opts, columns, report)
        if read is None:
            yield ("file", report)
            return
        spans, shape = read
        shape.undeclared, report.records = report.undeclared, len(spans)
        for start, end, line in spans:
            raw = data[start:end]
            values, error = self._record(raw, start + offset, split.problems.get(start), opts, shape)
            yield ("record", path, line, values, error, _text(raw, opts.encoding) if error else None)
        yield ("file", report)

    def _record(self, raw: bytes, at: int, problem: str | None, opts: FormatOptions, shape: Shape) -> Values:
        try:
            text = raw.decode(ENCODINGS[opts.encoding])
        except UnicodeDecodeError as exc:
            return None, (
                f"invalid {opts.encoding} byte 0x{raw[exc.start]:02x} at byte offset"
                f" {at + exc.start} (declare the file's encoding in options.encoding)"
            )
        if problem:
            return None, problem
        return self.parse_record(text, opts, shape)


def _text(raw: bytes, encoding: Encoding) -> str:
    """Readable text of a record whatever its bytes: invalid ones as ``\\xNN``."""
    return raw.decode(ENCODINGS[encoding], errors="backslashreplace")


class _LineEnds:
    """The file's line ends in order, found with ``bytes.find`` (C speed, no byte loop).

    With ``bare_cr`` a line ends at CR LF, LF or a bare CR (RFC 4180 and Python's ``csv``);
    without, a line ends at LF only (a CR before it belongs to the line end).
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


def record_spans(data: bytes, opts: FormatOptions, bare_cr: bool, quoting: bool, first_line: int = 1) -> Split:
    """The physical records of a file (RFC 4180 quoting with ``quoting``).

    A quote opens a quoted field only at the start of a field (at the record's start or right
    after the delimiter); anywhere else it is a literal character. Inside quotes a doubled
    quote, or the ``escape`` byte and the byte after it, does not close the field. A quoted
    field that is not closed before the end of the file, or within ``max_record_lines`` lines,
    makes only the line where it opened a record, with the reason; splitting goes on after it.

    Lines are found with ``bytes.find``; only a line holding a quote is looked at further, and
    then again quote by quote with ``find``, never byte by byte.
    """
    ends = _LineEnds(data, bare_cr=bare_cr)
    quote = opts.quote.encode()
    delimiter = ord(opts.delimiter[0]) if opts.delimiter else -1
    escape = opts.escape.encode() if opts.escape != opts.quote else b""
    spans: list[Span] = []
    problems: dict[int, str] = {}
    blank, line, start, n = 0, first_line, 0, len(data)
    while start < n:
        stop, following = ends.next(start)
        lines, problem = 1, None
        if quoting and not _closes_on_its_line(data, start, stop, quote, delimiter, escape):
            stop, following, lines, problem = _quoted_record(
                data, (start, stop, following), line, ends, (quote, delimiter, escape), opts.max_record_lines
            )
        if not bare_cr and following == n and stop == n and n > start and data[n - 1] == 0x0D:
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
) -> tuple[int, int, int, str | None]:
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
