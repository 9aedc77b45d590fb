"""Files larger than a task: an uncompressed CSV or JSONL file read as byte ranges, one task each.

A landed file above ``split_bytes`` is not read as one ``binaryFile`` row (Spark caps a row at
2 GiB, and one task would parse the whole file in one core's memory). Two passes instead:

1. **Survey** (:func:`survey`, one task per file, streaming it in blocks): the file's size,
   SHA-256 and MD5 (neither combines across ranges, so one sequential pass computes them; it
   runs at hashing speed, measured in ``bench/large_file.py``), its header record, and the cut
   points: the first record boundary at or after every ``split_bytes`` multiple, each with the
   1-based line it starts on. JSONL, and CSV with ``multiline`` off, cut after a line feed.
   CSV with quoted line ends cuts after the first line feed where the count of quote bytes since
   the file's start is even (doubled quotes count twice, so their parity is exact); CSV with an
   ``escape`` other than the quote is not split (an escaped quote breaks the parity).
2. **Ranges** (:func:`parse_range`, one task per range): each reads only its bytes, splits them
   with the same :func:`lake_glue.formats.text.record_spans` as the whole-file path, reads the
   header from the file's first bytes, and yields each record with its file, its line (the
   range's first line plus its own) and its byte offsets in the file.

A quote-parity cut is only a guess when a quote is a literal character (``3/4" pipe``) or never
closes. A range therefore says whether its split is exact: it is, unless a range that is not
the file's last ends inside an open quote. Starting from the file's first byte (a true record
boundary), a range whose quotes all close ends at a true boundary, so every cut is checked by
the range before it. When one is not exact the job reads that file again as one range (the
whole-file parse, without the row cap), so the records, quarantine reasons and counts are
exactly those of the whole-file path either way.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote, urlparse

from lake_glue.formats.base import (
    ARROW_CHUNK,
    ENCODINGS,
    FileReport,
    FormatOptions,
    Output,
    tuples_to_arrow,
    value_width,
)
from lake_glue.formats.compression import compression_of
from lake_glue.formats.registry import format_of
from lake_glue.formats.text import BOM, TextFormat

BLOCK = 8 * 1024 * 1024
SPLIT_FORMATS = ("csv", "jsonl")


# The smallest range a batch is cut into to share it among idle cores. Below it the survey pass
# and a second Python worker cost more than the parallel parse saves: measured on 2 cores, a
# 10 MB file in a fresh job process took 3.9 s read whole and 4.6 s in two ranges, while a
# 21 MB file on a warm session took 2.85 s whole and 2.58 s in two ranges.
MIN_SHARED_RANGE = 32 * 1024 * 1024


def range_bytes(opts: FormatOptions, batch_bytes: int, cores: int) -> int:
    """The range size for a batch: ``split_bytes``, or less when that would leave cores idle.

    As Spark sizes its own file splits, the batch's bytes are shared among the cores, so a
    100 MB file on 2 cores is read in two ranges rather than by one task; a shared range is
    never smaller than :data:`MIN_SHARED_RANGE` (nor a set ``split_bytes`` made larger).
    """
    share = -(-batch_bytes // max(cores, 1))
    return min(opts.split_bytes, max(MIN_SHARED_RANGE, share))


def split_reason(path: str, size: int, opts: FormatOptions) -> str | None:
    """Why a file is read whole rather than in ranges (None: it is split)."""
    if size <= opts.split_bytes:
        return "not larger than split_bytes"
    if opts.format not in SPLIT_FORMATS:
        return f"format {opts.format} is not split"
    if compression_of(path, opts.compression) != "none":
        return "a compressed file cannot be split"
    if _quoting(opts) and opts.escape != opts.quote:
        return "CSV with quoted line ends and an escape other than the quote cannot be split"
    return None


def _quoting(opts: FormatOptions) -> bool:
    return opts.format == "csv" and opts.multiline


def open_stream(uri: str, start: int = 0, stop: int | None = None) -> Iterator[bytes]:
    """The bytes ``[start, stop)`` of a file, in blocks of at most :data:`BLOCK`.

    ``uri`` is already resolved by the driver through Hadoop's file system
    (:func:`lake_glue.storage.resolved_file`): ``file:`` locally, ``s3://`` on Glue (read with
    ranged GETs, as EMRFS does).
    """
    parsed = urlparse(uri)
    if parsed.scheme in ("", "file"):
        with open(unquote(parsed.path), "rb") as handle:
            handle.seek(start)
            left = None if stop is None else stop - start
            while left is None or left > 0:
                block = handle.read(BLOCK if left is None else min(BLOCK, left))
                if not block:
                    return
                if left is not None:
                    left -= len(block)
                yield block
        return
    if parsed.scheme in ("s3", "s3a", "s3n"):
        import boto3

        wanted = f"bytes={start}-" + ("" if stop is None else str(stop - 1))
        body = boto3.client("s3").get_object(Bucket=parsed.netloc, Key=unquote(parsed.path.lstrip("/")), Range=wanted)
        yield from body["Body"].iter_chunks(BLOCK)
        return
    raise ValueError(f"{uri}: cannot read a range of a file on {parsed.scheme}://")


@dataclass
class Range:
    """One task's share of a file: bytes ``[start, stop)``, whose first record starts on ``line``."""

    path: str
    uri: str
    index: int
    start: int
    stop: int
    line: int
    last: bool
    header_end: int = 0


@dataclass
class Survey:
    """What the first pass learnt of a file: its report's digests and where its ranges are."""

    path: str
    size: int
    sha256: str
    md5: str
    ranges: list[Range] = field(default_factory=list)


class _Counts:
    """Running counts over the streamed file: line feeds, carriage returns, CR LF, quotes."""

    def __init__(self, quote: bytes):
        self.quote, self.lf, self.cr, self.crlf, self.quotes, self.last = quote, 0, 0, 0, 0, b""

    def add(self, block: bytes) -> None:
        self.lf += block.count(b"\n")
        self.cr += block.count(b"\r")
        self.crlf += block.count(b"\r\n") + (self.last == b"\r" and block[:1] == b"\n")
        self.quotes += block.count(self.quote) if self.quote else 0
        self.last = block[-1:]


def survey(path: str, uri: str, opts: FormatOptions) -> Survey:
    """Stream the file once: its digests, its header's end and its cut points (see the module)."""
    sha, md5 = hashlib.sha256(), hashlib.md5(usedforsecurity=False)
    landing = format_of(opts.format)
    quote = opts.quote.encode() if _quoting(opts) else b""
    counts, pos, target, header_end = _Counts(quote), 0, opts.split_bytes, -1
    cuts: list[tuple[int, int, int, int]] = []  # (byte, LFs, CRs, CR LFs) before the cut
    for block in open_stream(uri):
        sha.update(block)
        md5.update(block)
        if header_end < 0:
            header_end = _header_end(block, landing, opts)
        target = _cuts_in(block, pos, max(target, header_end), counts, cuts, opts.split_bytes)
        counts.add(block)
        pos += len(block)
    bare_cr = isinstance(landing, TextFormat) and landing.bare_cr and counts.cr != counts.crlf
    starts = [(0, 1)] + [(at, 1 + lf + (cr - crlf if bare_cr else 0)) for at, lf, cr, crlf in cuts if at < pos]
    if header_end < 0:
        starts = starts[:1]  # a header that does not end in the first block: read the file whole
    ranges = [
        Range(path, uri, i, at, starts[i + 1][0] if i + 1 < len(starts) else pos, line, i + 1 == len(starts))
        for i, (at, line) in enumerate(starts)
    ]
    for r in ranges:
        r.header_end = max(header_end, 0)
    return Survey(path, pos, sha.hexdigest(), md5.hexdigest(), ranges)


def _header_end(block: bytes, landing: Any, opts: FormatOptions) -> int:
    """Byte just after the header record (0 without a header), or -1 when it is not in ``block``.

    The header is split out of a window that grows from 64 KiB, not out of the whole block: a
    record split of 8 MiB in Python would cost more than hashing it.
    """
    if not (opts.format == "csv" and opts.header):
        return 0
    offset = len(BOM) if opts.encoding == "utf-8" and block.startswith(BOM) else 0
    window = 65536
    while True:
        split = landing.split(block[offset : offset + window], opts)
        whole = bool(split.spans) and split.spans[0][0] not in split.problems
        if len(split.spans) > 1 and whole:
            return offset + split.spans[1][0]
        if offset + window >= len(block):
            break
        window *= 4
    if len(block) >= BLOCK or (split.spans and not whole):
        return -1  # the block may cut the header, or its quote never closes: the file is read whole
    return len(block)


def _cuts_in(block: bytes, pos: int, target: int, counts: _Counts, cuts: list, every: int) -> int:
    """Add the cuts that fall in ``block`` (at file offset ``pos``); returns the next target."""
    while target < pos + len(block):
        lf = block.find(b"\n", max(target - pos, 0))
        while lf >= 0 and counts.quote and (counts.quotes + block.count(counts.quote, 0, lf)) % 2:
            lf = block.find(b"\n", lf + 1)  # inside a quoted field by parity: not a record end
        if lf < 0:
            return target  # no cut in this block: look again in the next one
        at = lf + 1
        cuts.append(
            (
                pos + at,
                counts.lf + block.count(b"\n", 0, at),
                counts.cr + block.count(b"\r", 0, at),
                counts.crlf + block.count(b"\r\n", 0, at) + (counts.last == b"\r" and block[:1] == b"\n"),
            )
        )
        target = (pos + at) // every * every + every
    return target


def parse_range(part: Range, opts: FormatOptions, columns: list[str]) -> Iterator[Output]:
    """Yield ("record", ...) per record of the range, then one ("range", RangeReport)."""
    return _parse_bytes(part, *_read(part), opts, columns)


def _read(part: Range) -> tuple[bytes, bytes]:
    """(the range's bytes, the file's first bytes up to its first data record)."""
    data = b"".join(open_stream(part.uri, part.start, part.stop))
    head = data[: part.header_end] if part.index == 0 else b"".join(open_stream(part.uri, 0, part.header_end))
    return data, head


def _parse_bytes(part: Range, data: bytes, head: bytes, opts: FormatOptions, columns: list[str]) -> Iterator[Output]:
    landing = format_of(opts.format)
    assert isinstance(landing, TextFormat)
    first = data if part.index == 0 else head
    offset = len(BOM) if opts.encoding == "utf-8" and first.startswith(BOM) else 0
    report = RangeReport(path=part.path, index=part.index)
    base = part.start + (offset if part.index == 0 else 0)
    if part.index == 0:  # the file's start: read exactly as the whole-file path reads it
        data = data[offset:]
        split = landing.split(data, opts)
        header = landing.read_header(data, split, opts, columns, report)
    else:  # the header from the file's first bytes, the records from the range's
        header = landing.read_header(head[offset:], landing.split(head[offset:], opts), opts, columns, report)
        split = landing.split(data, opts, part.line)
    report.blank_lines = split.blank
    if header is None:
        yield ("range", report)
        return
    spans, shape = header if part.index == 0 else (split.spans, header[1])
    shape.undeclared = report.undeclared
    report.records = len(spans)
    for start, end, line in spans:
        raw = data[start:end]
        problem = split.problems.get(start)
        if problem and not part.last and "end of the file" in problem:
            report.exact = False  # the range ends inside an open quote: its cut was a guess
        values, error = landing._record(raw, start + base, problem, opts, shape)
        text = raw.decode(ENCODINGS[opts.encoding], errors="backslashreplace") if error else None
        yield ("record", part.path, line, values, error, text)
    yield ("range", report)


def range_batches(part: Range, opts: FormatOptions, columns: list[str]) -> Iterator[Any]:
    """:func:`parse_range` as Arrow record batches of :func:`lake_glue.formats.base.arrow_names`:
    by Arrow's kernels for a plain CSV range, as the whole-file path does, else record by record."""
    data, head = _read(part)
    fast = _plain_range(part, data, head, opts, columns)
    if fast is not None:
        yield from fast
        return
    chunk: list[Output] = []
    for out in _parse_bytes(part, data, head, opts, columns):
        chunk.append(out)
        if len(chunk) >= ARROW_CHUNK:
            yield tuples_to_arrow(chunk, value_width(opts, columns))
            chunk = []
    if chunk:
        yield tuples_to_arrow(chunk, value_width(opts, columns))


def _plain_range(part: Range, data: bytes, head: bytes, opts: FormatOptions, columns: list[str]) -> list | None:
    """A plain CSV range (see :func:`lake_glue.formats.csv.plain_csv`) read after its file's header,
    its lines moved to where the range starts; None when the range needs the record path."""
    import json

    import pyarrow.compute as pc

    from lake_glue.formats.csv import plain_csv

    prefix = b"" if part.index == 0 else head
    batches = plain_csv(part.path, prefix + data, opts, columns)
    if batches is None:
        return None
    *records, whole = batches
    got = json.loads(whole.column("report")[0].as_py())
    start = len(BOM) if prefix.startswith(BOM) else 0
    prefix_blank = prefix[start:].split(b"\n")[:-1].count(b"")
    shift = part.line - 1 - prefix.count(b"\n")
    line = records[0].schema.get_field_index("_source_line") if records else 0
    moved = [b.set_column(line, "_source_line", pc.add(b.column(line), shift)) for b in records]
    report = RangeReport(path=part.path, index=part.index, header=got["header"], records=got["records"])
    report.blank_lines = got["blank_lines"] - prefix_blank
    return moved + [tuples_to_arrow([("range", report)], value_width(opts, columns))]


@dataclass
class RangeReport(FileReport):
    """A range's share of its file's report; ``exact`` is False when its cut was not a record end."""

    path: str = ""
    index: int = 0
    exact: bool = True
    size: int = 0
    sha256: str = ""


def file_report(surveyed: Survey, parts: list[dict]) -> FileReport:
    """A split file's report: the survey's digests and size plus its ranges' counts, in order."""
    parts = sorted(parts, key=lambda p: p["index"])
    report = FileReport(path=surveyed.path, size=surveyed.size, sha256=surveyed.sha256, md5=surveyed.md5)
    report.header, report.problem = parts[0]["header"], parts[0]["problem"]
    for part in parts:
        report.records += part["records"]
        report.blank_lines += part["blank_lines"]
        for name, count in part["undeclared"].items():
            report.undeclared[name] = report.undeclared.get(name, 0) + count
    return report
