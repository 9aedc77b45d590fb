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
    """The splitting rule stated byte by byte: the reference the fast splitter must match.

    CSV lines end at CR LF, LF or a bare CR; JSONL lines at LF. A quote opens a quoted field
    only at a field's start; inside, a doubled quote (or escape + any byte) stays inside. A
    quoted field unclosed at the end of the data, or spanning more than ``max_record_lines``
    line ends, cuts its record at the end of the line where it opened.
    """
    quote, escape, delimiter = ord(opts.quote), ord(opts.escape), ord(opts.delimiter)
    csv_format = opts.format == "csv"
    quoting = csv_format and opts.multiline
    n = len(data)

    def line_end(i):  # (content end, next start) if a line ends at i, else None
        if data[i] == 0x0A:
            return i, i + 1
        if data[i] == 0x0D and i + 1 < n and data[i + 1] == 0x0A:
            return i, i + 2
        if data[i] == 0x0D and (csv_format or i + 1 == n):
            return i, i + 1
        return None

    def count_ends(a, b):
        k, ends = a, 0
        while k < b:
            end = line_end(k)
            ends += end is not None
            k = end[1] if end else k + 1
        return ends

    spans, problems, blank, start, line = [], {}, 0, 0, 1
    while start < n:
        i, in_quotes, opened, cut = start, False, None, None
        stop = following = n
        while i < n:
            b = data[i]
            if in_quotes:
                if escape != quote and b == escape:
                    i += 2
                    continue
                if b == quote and escape == quote and i + 1 < n and data[i + 1] == quote:
                    i += 2
                    continue
                if b == quote:
                    in_quotes = False
                    if count_ends(opened, i) > opts.max_record_lines:
                        cut = opened
                        break
                    i += 1
                    continue
                i += 1
                continue
            if quoting and b == quote and (i == start or data[i - 1] == delimiter):
                in_quotes, opened = True, i
                i += 1
                continue
            end = line_end(i)
            if end:
                stop, following = end
                break
            i += 1
        if in_quotes:
            cut = opened
        problem = None
        if cut is not None:
            j = cut
            while j < n and line_end(j) is None:
                j += 1
            stop, following = (n, n) if j == n else line_end(j)
            problem = f"line {line + count_ends(start, cut)}"
        if stop > start:
            spans.append((start, stop, line))
            if problem:
                problems[start] = problem
        else:
            blank += 1
        start, line = following, line + max(count_ends(start, following), 1)
    return spans, blank, problems


SPLITTER_OPTIONS = [
    FormatOptions(),
    FormatOptions(escape="\\"),
    FormatOptions(multiline=False),
    FormatOptions(format="jsonl"),
    FormatOptions(escape="\\", multiline=False),
    FormatOptions(max_record_lines=1),
    FormatOptions(escape="\\", max_record_lines=2),
]


@pytest.mark.parametrize(
    "opts", SPLITTER_OPTIONS, ids=lambda o: f"{o.format}-escape{o.escape!r}-multiline{o.multiline}"
)
def test_record_splitter_matches_the_byte_by_byte_rule(opts):
    rnd = random.Random(11)
    alphabet = [b"a", b'"', b"\\", b"\n", b"\r", b",", b"x"]
    for _ in range(20_000):
        data = b"".join(rnd.choice(alphabet) for _ in range(rnd.randint(0, 16)))
        split = R.record_spans(data, opts)
        spans, blank, problems = _walk_spans(data, opts)
        assert (split.spans, split.blank) == (spans, blank), data
        reasons = split.problems.items()
        opened = {k: v.split(" is not closed")[0].removeprefix("quoted field opened on ") for k, v in reasons}
        assert opened == problems, data


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
