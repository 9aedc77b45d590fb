"""What every landing format shares: the read options, the per-file report, the rows it yields.

A landing format (:class:`LandingFormat`) turns one landed file's bytes into records, each
carrying the identity that the reconciliation and the quarantine name it by. Its rows come out
as Arrow record batches of one shape (:func:`arrow_names`) whatever the format, so the ingest
job reads every format the same way.
"""

from __future__ import annotations

import hashlib
import json
from abc import ABC, abstractmethod
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar, Literal

if TYPE_CHECKING:
    from lake_glue.config import IngestConfig, TableConfig

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
ARROW_CHUNK = 65536
# Every record row names its file and the 1-based record it is within the file.
IDENTITY = ("_source_file", "_source_line")


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
    # An uncompressed CSV or JSONL file larger than this is read as byte ranges of about this
    # size, one Spark task each (lake_glue.formats.ranges), not as one row holding the file.
    split_bytes: int = 128 * 1024 * 1024

    def nulls_of(self, column: str) -> frozenset[str]:
        """The texts read as null in ``column``: its own list if it declares one, else the table's."""
        return frozenset(dict(self.column_null_values).get(column, self.null_values))

    @classmethod
    def of(cls, config: IngestConfig, table: TableConfig) -> "FormatOptions":
        """The effective options of a table: defaults < ``source.options`` < the table's own.

        The models hold the defaults; a table's ``options`` override the config's key by key
        (only the keys the table sets).
        """
        own = table.options.model_dump(exclude_unset=True) if table.options is not None else {}
        merged = {**config.source.options.model_dump(), **own}
        return cls(
            format=table.format or config.source.format,
            delimiter=table.delimiter,
            header=table.header,
            quote=merged["quote"],
            escape=merged["escape"],
            encoding=merged["encoding"],
            multiline=merged["multiline"],
            compression=merged["compression"],
            null_values=tuple(merged["null_values"]),
            column_null_values=tuple(
                (c.name, tuple(c.null_values)) for c in table.columns if c.null_values is not None
            ),
            max_record_lines=merged["max_record_lines"],
            on_new_columns=table.on_new_columns,
            split_bytes=merged["split_bytes"],
        )


@dataclass
class FileReport:
    """What one landed file held: its records and what became of its bytes."""

    path: str
    size: int
    sha256: str
    md5: str = ""
    records: int = 0
    blank_lines: int = 0
    header: list[str] | None = None
    problem: str | None = None
    undeclared: dict[str, int] = field(default_factory=dict)

    @classmethod
    def of(cls, path: str, content: bytes) -> "FileReport":
        """The report of a file not yet read: its name, size and digests."""
        return cls(
            path=path,
            size=len(content),
            sha256=hashlib.sha256(content).hexdigest(),
            md5=hashlib.md5(content, usedforsecurity=False).hexdigest(),
        )


# ("record", file, line, values | None, error | None, raw text | None[, extra identity...]) or
# ("file", FileReport): what a format yields per record, then once per file.
Output = tuple[Any, ...]


class LandingFormat(ABC):
    """One way landed files are written (CSV, JSONL, Parquet, ...): a strategy of the ingest job.

    A format says how a file splits into records, how it reads the file's header (the
    columns it holds), how it parses one record into the declared columns' texts, and what
    identifies a record (``identity``: always the file and a 1-based ``_source_line``; a
    format may add columns, kept with quarantined records). The declared columns' texts are
    cast by the ingest job with the same rules whatever the format.

    A subclass registers itself with :func:`lake_glue.formats.registry.register`.
    """

    name: ClassVar[str]
    # Columns beyond IDENTITY that identify a record (long integers), kept in the quarantine.
    extra_identity: ClassVar[tuple[str, ...]] = ()

    @property
    def identity(self) -> tuple[str, ...]:
        """The columns that identify a record within a batch."""
        return IDENTITY + self.extra_identity

    @abstractmethod
    def parse_file(self, path: str, content: bytes, opts: FormatOptions, columns: list[str]) -> Iterator[Output]:
        """Yield one ("record", ...) output per record of the file, then one ("file", FileReport).

        ``values`` are the declared columns' texts in order (``None`` for null); ``error`` says
        why a record is quarantined, and its raw text is then kept. The report's ``records``
        is what "landed" means for the file in the reconciliation.
        """

    def arrow_batches(self, path: str, content: bytes, opts: FormatOptions, columns: list[str]) -> Iterator[Any]:
        """:meth:`parse_file` as Arrow record batches of :func:`arrow_names` (bounded in size)."""
        chunk: list[Output] = []
        for out in self.parse_file(path, content, opts, columns):
            chunk.append(out)
            if len(chunk) >= ARROW_CHUNK:
                yield tuples_to_arrow(chunk, value_width(opts, columns), self.extra_identity)
                chunk = []
        if chunk:
            yield tuples_to_arrow(chunk, value_width(opts, columns), self.extra_identity)


def value_width(opts: FormatOptions, columns: list[str]) -> int:
    """Value columns of a parsed record: the declared ones, then ``_rescued`` when the table rescues."""
    return len(columns) + evolution.rescuing(opts.on_new_columns)


def arrow_names(width: int, extra_identity: Iterable[str] = ()) -> list[str]:
    """Column names of the parsed batches for ``width`` declared columns."""
    return [
        "kind",
        "_source_file",
        "_source_line",
        *[f"__value_{i}" for i in range(width)],
        "_parse_error",
        "_corrupt_record",
        "report",
        *extra_identity,
    ]


def tuples_to_arrow(outputs: list[Output], width: int, extra_identity: tuple[str, ...] = ()) -> Any:
    """One Arrow record batch of a format's outputs (records and file reports)."""
    import pyarrow as pa

    names = arrow_names(width, extra_identity)
    columns: list[list] = [[] for _ in names]
    for out in outputs:
        for column, value in zip(columns, _row(out, width, len(extra_identity))):
            column.append(value)
    types = [pa.string(), pa.string(), pa.int64(), *[pa.string()] * (width + 3), *[pa.int64()] * len(extra_identity)]
    return pa.RecordBatch.from_arrays([pa.array(c, t) for c, t in zip(columns, types)], names=names)


def _row(out: Output, width: int, extra: int) -> list:
    """One output as the values of :func:`arrow_names`' columns."""
    if out[0] in ("file", "range"):  # a range's report: its share of a split file's (formats.ranges)
        return [out[0], out[1].path, None, *[None] * width, None, None, json.dumps(out[1].__dict__), *[None] * extra]
    _, file, line, values, error, text, *identity = out
    return ["record", file, line, *(values or [None] * width), error, text, None, *(identity or [None] * extra)]
