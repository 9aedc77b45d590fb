"""The record parser's two paths: Arrow kernels for plain CSV, record by record for the rest.

Both must give the same rows for every file the fast path accepts, and the fast path must
refuse every file where the CSV reader would do more than split lines on the delimiter. The
record splitter is pinned against a byte-by-byte walk of the same rule.
"""

from __future__ import annotations

import random

import pytest

from lake_glue import records as R
from lake_glue.records import FormatOptions


def _rows(batches) -> list[dict]:
    return [row for batch in batches for row in batch.to_pylist()]


def _record_by_record(data: bytes, opts: FormatOptions, columns: list[str]) -> list[dict]:
    return _rows(R._tuples_to_arrow([out], len(columns)) for out in R.parse_file("f.csv", data, opts, columns))


def _walk_spans(data: bytes, opts: FormatOptions):
    """The splitting rule stated byte by byte: the reference the fast splitter must match."""
    quote, escape = ord(opts.quote), ord(opts.escape)
    quoting = opts.format == "csv" and opts.multiline
    spans, blank = [], 0
    start, line, start_line, in_quotes, i, n = 0, 1, 1, False, 0, len(data)
    while i < n:
        b = data[i]
        if quoting and in_quotes and b == escape and escape != quote and i + 1 < n:
            line += data[i + 1] == 0x0A
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


SPLITTER_OPTIONS = [
    FormatOptions(),
    FormatOptions(escape="\\"),
    FormatOptions(multiline=False),
    FormatOptions(format="jsonl"),
    FormatOptions(escape="\\", multiline=False),
]


@pytest.mark.parametrize(
    "opts", SPLITTER_OPTIONS, ids=lambda o: f"{o.format}-escape{o.escape!r}-multiline{o.multiline}"
)
def test_record_splitter_matches_the_byte_by_byte_rule(opts):
    rnd = random.Random(11)
    alphabet = [b"a", b'"', b"\\", b"\n", b"\r", b",", b"x"]
    for _ in range(20_000):
        data = b"".join(rnd.choice(alphabet) for _ in range(rnd.randint(0, 16)))
        assert R.record_spans(data, opts) == _walk_spans(data, opts), data


PLAIN_OPTIONS = [
    (FormatOptions(header=False), ["a", "b"], [b""]),
    (
        FormatOptions(null_values=("", "NA")),
        ["a", "b"],
        [b"a,b\n", b"b,a\n", b"\xef\xbb\xbfa,b\n", b"a\n", b"a,a\n", b""],
    ),
    (FormatOptions(header=False, delimiter=";", column_null_values=(("b", ("NA",)),)), ["a", "b", "c"], [b""]),
]


@pytest.mark.parametrize("opts,columns,headers", PLAIN_OPTIONS, ids=["no-header", "header-and-nulls", "column-nulls"])
def test_plain_csv_fast_path_gives_the_same_rows_as_the_record_by_record_parser(opts, columns, headers):
    rnd = random.Random(5)
    alphabet = [b"a", b"\n", b",", b";", b" ", b"\xc3\xa9", b"NA", b"b", b"\n\n"]
    fast_files = 0
    for _ in range(6_000):
        data = rnd.choice(headers) + b"".join(rnd.choice(alphabet) for _ in range(rnd.randint(0, 25)))
        fast = R._plain_csv("f.csv", data, opts, columns)
        if fast is None:
            continue
        fast_files += 1
        assert _rows(fast) == _record_by_record(data, opts, columns), data
    assert fast_files > 300, "the generator must exercise the fast path"


@pytest.mark.parametrize(
    "data,why",
    [
        (b'a,b\n"1",2\n', "a quote"),
        (b"a,b\n1,2\r\n", "a carriage return"),
        (b"a,b\n1,\xff\n", "an invalid UTF-8 byte"),
        (b"a,b\n1,2,3\n", "a record of the wrong width"),
        (b"b,c\n1,2\n", "a header that does not match"),
    ],
)
def test_files_the_csv_reader_must_judge_take_the_record_by_record_path(data, why):
    opts, columns = FormatOptions(), ["a", "b"]
    assert R._plain_csv("f.csv", data, opts, columns) is None, why
    assert _rows(R.parse_file_arrow("f.csv", data, opts, columns)) == _record_by_record(data, opts, columns)


def test_jsonl_and_other_encodings_never_take_the_csv_fast_path():
    assert R._plain_csv("f.jsonl", b'{"a": 1}\n', FormatOptions(format="jsonl", header=False), ["a"]) is None
    assert R._plain_csv("f.csv", b"a\n1\n", FormatOptions(encoding="latin-1"), ["a"]) is None


def test_large_plain_files_come_out_in_bounded_batches_with_the_file_report_last():
    data = b"a,b\n" + b"".join(b"%d,x\n" % i for i in range(R.ARROW_CHUNK + 10))
    batches = list(R.parse_file_arrow("f.csv", data, FormatOptions(), ["a", "b"]))
    assert [b.num_rows for b in batches] == [R.ARROW_CHUNK, 10, 1]
    assert batches[-1].column("kind").to_pylist() == ["file"]
    assert batches[1].column("_source_line").to_pylist()[-1] == R.ARROW_CHUNK + 11
