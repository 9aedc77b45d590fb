"""Undeclared fields per record (``on_new_columns``), in the plain-Python parser: no Spark.

Under ``rescue`` and ``add`` every record carries its own undeclared fields as ``_rescued`` (the
last value of the record), as original text; under ``fail`` nothing changes.
"""

import json

from lake_glue import records as R
from lake_glue.records import FormatOptions

COLUMNS = ["id", "name"]
CSV_RESCUE = FormatOptions(on_new_columns="rescue")
JSONL_RESCUE = FormatOptions(format="jsonl", on_new_columns="rescue")


def _parse(data: bytes, opts: FormatOptions, columns: list[str] = COLUMNS):
    """(values or the reason, by line; the file's report) of a file parsed record by record."""
    outputs = list(R.parse_file("f", data, opts, columns))
    rows = {out[2]: out[3] if out[4] is None else out[4] for out in outputs[:-1]}
    return rows, outputs[-1][1]


def _arrow_rows(data: bytes, opts: FormatOptions, columns: list[str] = COLUMNS) -> list[dict]:
    rows = [r for b in R.parse_file_arrow("f.csv", data, opts, columns) for r in b.to_pylist()]
    return [r for r in rows if r["kind"] == "record"]


def test_each_csv_record_keeps_its_own_extra_columns_as_written():
    data = b'id,channel,name,note\n1,web,ann, spaced \n2,,bob,"a, quoted"\n'
    rows, report = _parse(data, CSV_RESCUE)
    assert rows[2] == ["1", "ann", json.dumps({"channel": "web", "note": " spaced "}, sort_keys=True)]
    assert json.loads(rows[3][2]) == {"channel": "", "note": "a, quoted"}
    assert report.problem is None and report.undeclared == {"channel": 2, "note": 2}


def test_a_csv_record_of_the_wrong_width_is_quarantined_not_rescued():
    rows, report = _parse(b"id,name,channel\n1,ann,web\n2,bob\n", CSV_RESCUE)
    assert rows[3] == "record has 2 fields, expected 3"
    assert report.undeclared == {"channel": 1}


def test_each_json_record_keeps_its_own_undeclared_fields_as_their_text():
    data = (
        b'{"id": 1, "name": "ann", "price": 1.50, "tags": ["a", 2], "gift": true}\n'
        b'{"id": 2, "name": "bob"}\n'
        b'{"id": 3, "name": "cy", "price": null, "meta": {"k": 1e3}}\n'
    )
    rows, report = _parse(data, JSONL_RESCUE)
    assert json.loads(rows[1][2]) == {"price": "1.50", "tags": '["a",2]', "gift": "true"}
    assert rows[2] == ["2", "bob", None]
    assert json.loads(rows[3][2]) == {"price": None, "meta": '{"k":1e3}'}
    assert report.undeclared == {"price": 2, "tags": 1, "gift": 1, "meta": 1}


def test_a_json_record_missing_a_declared_field_reads_it_as_null_in_every_mode():
    for mode in ("fail", "rescue", "add"):
        rows, _ = _parse(b'{"id": 1}\n', FormatOptions(format="jsonl", on_new_columns=mode))
        assert rows[1][:2] == ["1", None]


def test_a_lone_surrogate_in_an_undeclared_field_quarantines_the_record():
    rows, _ = _parse(b'{"id": 1, "name": "a", "x": "\\ud83d"}\n', JSONL_RESCUE)
    assert "lone surrogate" in rows[1]


def test_under_fail_records_carry_no_rescued_value_and_extra_csv_columns_refuse_the_file():
    rows, report = _parse(b'{"id": 1, "name": "a", "x": 1}\n', FormatOptions(format="jsonl"))
    assert rows[1] == ["1", "a"] and report.undeclared == {"x": 1}
    rows, report = _parse(b"id,name,x\n1,a,b\n", FormatOptions())
    assert rows == {} and "unexpected columns ['x']" in (report.problem or "")


def test_a_csv_header_missing_a_declared_column_refuses_the_file_under_rescue():
    _, report = _parse(b"id,channel\n1,web\n", CSV_RESCUE)
    assert report.problem == "CSV header does not match the declared columns: missing columns ['name']"


def test_the_plain_csv_fast_path_and_the_record_path_agree_under_rescue():
    plain = b"id,name\n1,ann\n2,bob\n"
    fast = _arrow_rows(plain, CSV_RESCUE)
    assert [(r["__value_0"], r["__value_1"], r["__value_2"]) for r in fast] == [("1", "ann", None), ("2", "bob", None)]
    # A header with an extra column goes record by record and fills the same column.
    slow = _arrow_rows(b"id,name,channel\n1,ann,web\n", CSV_RESCUE)
    assert [(r["__value_0"], r["__value_2"]) for r in slow] == [("1", '{"channel": "web"}')]


def test_each_parquet_row_keeps_its_undeclared_columns_as_text():
    import io

    import pyarrow as pa
    import pyarrow.parquet as pq

    buffer = io.BytesIO()
    table = pa.table({"id": [1, 2], "name": ["ann", None], "channel": [7, None]})
    pq.write_table(table, buffer)
    opts = FormatOptions(format="parquet", on_new_columns="rescue")
    rows, report = _parse(buffer.getvalue(), opts)
    assert rows == {1: ["1", "ann", '{"channel": "7"}'], 2: ["2", None, '{"channel": null}']}
    assert report.undeclared == {"channel": 2}
    rows, _ = _parse(buffer.getvalue(), FormatOptions(format="parquet"))
    assert rows[1] == ["1", "ann"]
