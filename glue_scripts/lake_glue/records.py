"""Landed bytes -> records -> declared fields, in plain Python (no Spark, no JVM).

The ingest job runs :func:`parse_file_arrow` once per landed file, inside Spark tasks, so it
stays distributed. How a file splits into records, reads its header, parses a record and what
identifies a record is the file's landing format's business (:mod:`lake_glue.formats`, one
module per format); this module is the door the rest of the job uses, whatever the format.

Every record yields one output row, valid or quarantined, carrying its file and the record it
is (the line it starts on for text). The job then reconciles what it stored against the count
of records each file's report gives.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from lake_glue.formats.base import (
    ARROW_CHUNK,
    ENCODING_ALIASES,
    ENCODINGS,
    Encoding,
    FileReport,
    FormatOptions,
    Output,
    arrow_names,
    value_width,
)
from lake_glue.formats.base import tuples_to_arrow as _tuples_to_arrow
from lake_glue.formats.compression import COMPRESSIONS, DecompressError, decompress
from lake_glue.formats.csv import plain_csv as _plain_csv
from lake_glue.formats.registry import format_of
from lake_glue.formats.text import BOM, Split, TextFormat

__all__ = [
    "ARROW_CHUNK",
    "BOM",
    "COMPRESSIONS",
    "ENCODINGS",
    "ENCODING_ALIASES",
    "DecompressError",
    "Encoding",
    "FileReport",
    "FormatOptions",
    "Split",
    "arrow_names",
    "decompress",
    "format_of",
    "parse_file",
    "parse_file_arrow",
    "record_spans",
    "value_width",
    "_plain_csv",
    "_tuples_to_arrow",
]


def record_spans(data: bytes, opts: FormatOptions) -> Split:
    """The physical records of a text file in ``opts.format`` (see :mod:`lake_glue.formats.text`)."""
    landing = format_of(opts.format)
    if not isinstance(landing, TextFormat):
        raise TypeError(f"format {opts.format!r} is not line-oriented text")
    return landing.split(data, opts)


def parse_file(path: str, content: bytes, opts: FormatOptions, columns: list[str]) -> Iterator[Output]:
    """Yield ("record", file, line, values | None, error | None, raw text) per record, then one
    ("file", FileReport) for the file, as the file's format reads it."""
    return format_of(opts.format).parse_file(path, content, opts, columns)


def parse_file_arrow(path: str, content: bytes, opts: FormatOptions, columns: list[str]) -> Iterator[Any]:
    """:func:`parse_file` as Arrow record batches (one row per record, then one for the file)."""
    return format_of(opts.format).arrow_batches(path, content, opts, columns)
