"""Strict record splitting and JSON values, in plain Python: each case, then the rows it gives.

Every physical record becomes one row, valid or quarantined with its reason; a stray or
unclosed quote never joins the lines after it into one record.
"""

from __future__ import annotations

from lake_glue import records as R
from lake_glue.records import FormatOptions

COLUMNS = ["id", "name", "qty"]
HEADER = "id,name,qty\n"


CSV = FormatOptions()
JSONL = FormatOptions(format="jsonl")


def _parse(data: bytes, opts: FormatOptions = CSV, columns: list[str] = COLUMNS):
    """(rows by line: values or the reason, the file's report) of a file parsed record by record."""
    outputs = list(R.parse_file("f", data, opts, columns))
    rows = {line: values if error is None else error for _, _, line, values, error, _ in outputs[:-1]}
    return rows, outputs[-1][1]


def test_a_stray_quote_inside_an_unquoted_field_is_a_literal_character():
    body = "".join(f"{i},item {i},{i}\n" for i in range(3, 1001))
    rows, report = _parse((HEADER + '1,NEW 3/4" pipe,5\n2,"plain, quoted",6\n' + body).encode())
    assert report.records == 1000
    assert rows[2] == ["1", 'NEW 3/4" pipe', "5"]
    assert rows[3] == ["2", "plain, quoted", "6"]
    assert rows[1001] == ["1000", "item 1000", "1000"]
    # Text after a closing quote is malformed, as for Python's csv (strict): that row only.
    rows, report = _parse((HEADER + '1,"abc"def,5\n2,NEW 3/4" pipe,6\n').encode())
    assert report.records == 2
    assert "malformed CSV record" in rows[2]
    assert rows[3] == ["2", 'NEW 3/4" pipe', "6"]


def test_the_plain_csv_fast_path_and_the_record_path_agree_on_a_stray_quote():
    data = (HEADER + '1,NEW 3/4" pipe,5\n2,b,6\n').encode()
    fast = [r for b in R.parse_file_arrow("f.csv", data, FormatOptions(), COLUMNS) for r in b.to_pylist()]
    records = [r for r in fast if r["kind"] == "record"]
    assert [(r["_source_line"], r["__value_1"], r["_parse_error"]) for r in records] == [
        (2, 'NEW 3/4" pipe', None),
        (3, "b", None),
    ]


def test_a_quote_left_open_to_the_end_of_the_file_quarantines_only_its_line():
    rows, report = _parse((HEADER + '1,a,5\n2,"never closed,6\n3,c,7\n4,d,8\n').encode())
    assert report.records == 4
    assert rows[2] == ["1", "a", "5"]
    assert "quoted field opened on line 3 is not closed before the end of the file" in rows[3]
    assert rows[4] == ["3", "c", "7"]
    assert rows[5] == ["4", "d", "8"]


def test_a_quoted_field_spanning_more_than_max_record_lines_is_an_unclosed_quote():
    many = "".join(f"{i},x,{i}\n" for i in range(3, 8))
    data = (HEADER + '1,"opens here,5\n' + many + '9,"closes" here,9\n10,z,10\n').encode()
    rows, report = _parse(data, FormatOptions(max_record_lines=3))
    assert "quoted field opened on line 2 is not closed within 3 lines" in rows[2]
    assert rows[3] == ["3", "x", "3"]
    assert rows[9] == ["10", "z", "10"]
    assert report.records == 8
    # Within the bound the same quoted field is one record of several lines.
    rows, _ = _parse((HEADER + '1,"two\nlines",5\n2,b,6\n').encode(), FormatOptions(max_record_lines=3))
    assert rows == {2: ["1", "two\nlines", "5"], 4: ["2", "b", "6"]}


def test_an_unclosed_quote_in_the_header_refuses_the_file_naming_the_line():
    _, report = _parse(b'id,"name,qty\n1,a,5\n')
    assert "quoted field opened on line 1 is not closed" in report.problem


def test_bare_cr_line_ends_are_line_ends():
    rows, report = _parse(b"id,name,qty\r1,a,5\r2,b,6\r")
    assert report.header == COLUMNS
    assert report.records == 2
    assert rows == {2: ["1", "a", "5"], 3: ["2", "b", "6"]}


def test_a_bare_cr_inside_quotes_stays_in_the_value():
    rows, _ = _parse(b'id,name,qty\r1,"a\rb",5\r2,b,6\r')
    assert rows == {2: ["1", "a\rb", "5"], 4: ["2", "b", "6"]}


def test_json_with_a_repeated_key_is_quarantined():
    rows, _ = _parse(b'{"id": 1, "name": "a", "name": "b", "qty": 1}\n', JSONL)
    assert rows[1] == "not strict JSON: key 'name' appears more than once in one object"


def test_json_non_finite_numbers_are_quarantined():
    data = b'{"id": 1, "name": "a", "qty": NaN}\n{"id": 2, "name": "b", "qty": -Infinity}\n{"id": 3, "qty": 1}\n'
    rows, _ = _parse(data, JSONL)
    assert rows[1] == "not strict JSON: NaN is not a JSON number"
    assert rows[2] == "not strict JSON: -Infinity is not a JSON number"
    assert rows[3] == ["3", None, "1"]


def test_a_json_lone_surrogate_is_quarantined_and_a_pair_is_kept():
    data = b'{"id": 1, "name": "\\ud83d", "qty": 1}\n{"id": 2, "name": "\\ud83d\\ude00", "qty": 1}\n'
    rows, _ = _parse(data, JSONL)
    assert rows[1].startswith("name: a JSON string holds a lone surrogate")
    assert rows[2] == ["2", "\U0001f600", "1"]
    # The quarantined row converts to Arrow (the Spark task's transfer) without failing.
    arrow = [r for b in R.parse_file_arrow("f.jsonl", data, JSONL, COLUMNS) for r in b.to_pylist()]
    assert [r["_parse_error"] is None for r in arrow if r["kind"] == "record"] == [False, True]
