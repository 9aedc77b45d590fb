"""Parquet landing files: each row is a record, identified by its row group and row.

Declared columns are matched by name against the file's schema; a declared column the file
lacks refuses the file (naming it and the column), and a column no declaration names is
counted like an undeclared JSON key. Each value is handed to the ingest job as text (strings
as they are; numbers, decimals, booleans, dates and timestamps as Arrow writes them: ``12``,
``12.50``, ``true``, ``2026-01-05``, ``2026-01-05 10:00:00.000000``) and cast with the same
rules as CSV and JSONL, so a value that does not fit the declared type is quarantined. A null
is a null: ``null_values`` texts apply to text formats only.

A record's identity is ``_source_file``, ``_source_row_group`` (0-based), ``_source_row``
(0-based within its row group) and ``_source_line``, the 1-based row across the file's row
groups. ``landed`` is the row count in the file's footer, not the rows read, so the
reconciliation still catches a row lost between reading and storing.
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from typing import Any

from lake_glue import evolution
from lake_glue.formats.base import (
    ARROW_CHUNK,
    FileReport,
    FormatOptions,
    LandingFormat,
    Output,
    arrow_names,
    tuples_to_arrow,
    value_width,
)
from lake_glue.formats.compression import DecompressError, decompress
from lake_glue.formats.registry import register


@register
class ParquetFormat(LandingFormat):
    """Parquet files, read row group by row group with Arrow (never row by row in Python)."""

    name = "parquet"
    extra_identity = ("_source_row_group", "_source_row")

    def parse_file(self, path: str, content: bytes, opts: FormatOptions, columns: list[str]) -> Iterator[Output]:
        width = value_width(opts, columns)
        for batch in self.arrow_batches(path, content, opts, columns):
            for row in batch.to_pylist():
                if row["kind"] == "file":
                    yield ("file", FileReport(**json.loads(row["report"])))
                    continue
                values = [row[f"__value_{i}"] for i in range(width)]
                identity = (row["_source_row_group"], row["_source_row"])
                yield ("record", row["_source_file"], row["_source_line"], values, None, None, *identity)

    def arrow_batches(self, path: str, content: bytes, opts: FormatOptions, columns: list[str]) -> Iterator[Any]:
        report = FileReport.of(path, content)
        parquet = _open(path, content, opts, report)
        if parquet is not None:
            header = report.header = list(parquet.schema_arrow.names)
            report.problem = _schema_problem(header, columns)
        if parquet is not None and report.problem is None:
            report.records = parquet.metadata.num_rows
            report.undeclared = {c: report.records for c in header if c not in columns}
            # Under rescue/add each row also carries its undeclared columns' texts (``_rescued``).
            rescued = list(report.undeclared) if evolution.rescuing(opts.on_new_columns) else None
            yield from _record_batches(path, parquet, columns, rescued)
        yield tuples_to_arrow([("file", report)], value_width(opts, columns), self.extra_identity)


def _open(path: str, content: bytes, opts: FormatOptions, report: FileReport) -> Any:
    """The file as a ``pyarrow.parquet.ParquetFile``, or None with ``report.problem`` saying why."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        return pq.ParquetFile(io.BytesIO(decompress(path, content, opts.compression)))
    except (OSError, EOFError, DecompressError) as exc:
        report.problem = f"cannot decompress ({opts.compression}): {exc}"
    except (pa.ArrowException, ValueError) as exc:
        report.problem = f"not a readable Parquet file: {exc}"
    return None


def _schema_problem(header: list[str], columns: list[str]) -> str | None:
    """Why the file's columns cannot give the declared ones (missing or repeated), or None."""
    missing = [c for c in columns if c not in header]
    repeated = sorted({c for c in header if header.count(c) > 1 and c in columns})
    parts = []
    if missing:
        parts.append(f"missing declared columns {missing}")
    if repeated:
        parts.append(f"repeated columns {repeated}")
    return "Parquet columns do not match the declared columns: " + ", ".join(parts) if parts else None


def _record_batches(path: str, parquet: Any, columns: list[str], rescued: list[str] | None) -> Iterator[Any]:
    """The record rows of every row group, at most ``ARROW_CHUNK`` rows a batch.

    ``rescued`` (when the table rescues or adds new columns) names the undeclared columns whose
    texts go into a last ``_rescued`` value per row.
    """
    import pyarrow as pa

    line = 1
    extra = [] if rescued is None else [_rescued_column(rescued)]
    for group in range(parquet.metadata.num_row_groups):
        table = parquet.read_row_group(group, columns=columns + (rescued or []))
        for start in range(0, table.num_rows, ARROW_CHUNK):
            chunk = table.slice(start, ARROW_CHUNK)
            n = chunk.num_rows
            rows = pa.array(range(start, start + n), pa.int64())
            nothing = pa.nulls(n, pa.string())
            arrays = [
                pa.array(["record"] * n, pa.string()),
                pa.array([path] * n, pa.string()),
                pa.array(range(line + start, line + start + n), pa.int64()),
                *[_as_text(chunk.column(c)) for c in columns],
                *[make(chunk) for make in extra],
                nothing,
                nothing,
                nothing,
                pa.array([group] * n, pa.int64()),
                rows,
            ]
            names = arrow_names(len(columns) + len(extra), ParquetFormat.extra_identity)
            yield pa.RecordBatch.from_arrays(arrays, names=names)
        line += table.num_rows


def _rescued_column(names: list[str]) -> Any:
    """A function of a chunk giving each row's ``_rescued`` JSON (null for no undeclared column)."""
    import pyarrow as pa

    def make(chunk: Any) -> Any:
        if not names:
            return pa.nulls(chunk.num_rows, pa.string())
        texts = {name: _as_text(chunk.column(name)).to_pylist() for name in names}
        rows = [{name: texts[name][i] for name in names} for i in range(chunk.num_rows)]
        return pa.array([evolution.rescued_text(row) for row in rows], pa.string())

    return make


def _as_text(values: Any) -> Any:
    """A column's values as the texts the cast rules read; nested or binary values as JSON text."""
    import pyarrow as pa

    values = values.combine_chunks() if isinstance(values, pa.ChunkedArray) else values
    if pa.types.is_string(values.type):
        return values
    try:
        return values.cast(pa.string())
    except (pa.ArrowNotImplementedError, pa.ArrowInvalid):
        return pa.array(
            [None if v is None else json.dumps(v, default=str, ensure_ascii=False) for v in values.to_pylist()],
            pa.string(),
        )
