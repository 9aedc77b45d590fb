"""Ingest transforms on a real local SparkSession: typing, quarantine reasons, lineage."""

import datetime as dt
from decimal import Decimal

import pytest

from lake_glue.ingest import add_lineage, cast_and_validate, raw_read_schema, read_landed_batch

COLUMNS = [
    {"name": "id", "type": "bigint", "nullable": False},
    {"name": "amount", "type": "decimal(10,2)", "nullable": True},
    {"name": "seen_at", "type": "timestamp", "nullable": True, "timestamp_mask": "dd/MM/yyyy HH:mm:ss"},
    {"name": "label", "type": "string", "nullable": True},
]


def _split(spark, rows):
    df = spark.createDataFrame(rows, raw_read_schema(COLUMNS))
    valid, rejected = cast_and_validate(df, COLUMNS)
    return valid.collect(), {r["id"]: r["_reject_reason"] for r in rejected.collect()}


def test_valid_text_is_cast_to_the_declared_types(spark):
    valid, rejected = _split(spark, [("7", "12.50", "31/12/2025 23:59:58", " padded ", None)])
    assert rejected == {}
    row = valid[0]
    assert row["id"] == 7
    assert row["amount"] == Decimal("12.50")
    assert row["seen_at"] == dt.datetime(2025, 12, 31, 23, 59, 58)
    assert row["label"] == " padded "


@pytest.mark.parametrize(
    "row, reason",
    [
        (("12.7", None, None, None, None), "id: cannot read '12.7' as bigint"),
        (("", None, None, None, None), "id: required value is missing"),
        (("1", "12.345", None, None, None), "amount: cannot read '12.345' as decimal(10,2)"),
        (("1", "abc", None, None, None), "amount: cannot read 'abc'"),
        (("1", None, "2025-12-31 23:59:58", None, None), "with mask 'dd/MM/yyyy HH:mm:ss'"),
        (("1", None, None, None, "1;2;3;4;5"), "malformed record: 1;2;3;4;5"),
    ],
)
def test_bad_values_are_quarantined_with_a_reason(spark, row, reason):
    valid, rejected = _split(spark, [row])
    assert valid == []
    assert reason in next(iter(rejected.values()))


def test_every_record_goes_to_exactly_one_side(spark):
    rows = [(str(i), "1.00" if i % 3 else "x", None, None, None) for i in range(30)]
    valid, rejected = _split(spark, rows)
    assert len(valid) + len(rejected) == 30
    assert len(rejected) == 10


def test_several_problems_in_one_row_are_all_reported(spark):
    _, rejected = _split(spark, [("x", "1.234", "yesterday", None, None)])
    reason = next(iter(rejected.values()))
    assert reason.count(";") == 2 and "id:" in reason and "amount:" in reason and "seen_at:" in reason


def test_lineage_partition_day_comes_from_the_batch_id_not_the_clock(spark):
    df = spark.createDataFrame([("1",)], "id string")
    row = add_lineage(df, "20240229T235959Z", "2026-11-22 10:00:00").first()
    assert row["p_ingest_day"] == dt.date(2024, 2, 29)
    assert row["p_batch_id"] == row["_batch_id"] == "20240229T235959Z"
    assert row["_ingested_at"] == dt.datetime(2026, 11, 22, 10, 0)


def test_csv_is_read_with_the_declared_delimiter_and_quoting(spark, tmp_path):
    (tmp_path / "a.csv").write_text('id;amount;seen_at;label\n1;2.00;01/01/2026 00:00:00;"x;y"\n2;bad\n')
    table = {"columns": COLUMNS, "delimiter": ";", "header": True}
    df = read_landed_batch(spark, str(tmp_path), table, "csv", {})
    valid, rejected = cast_and_validate(df, COLUMNS)
    assert [r["label"] for r in valid.collect()] == ["x;y"]
    assert "malformed record: 2;bad" in rejected.first()["_reject_reason"]


def test_csv_header_that_does_not_match_the_declared_columns_fails_naming_the_file(spark, tmp_path):
    (tmp_path / "drift.csv").write_text("id;amount;seen;label\n1;2.00;;x\n")
    df = read_landed_batch(spark, str(tmp_path), {"columns": COLUMNS, "delimiter": ";"}, "csv", {})
    with pytest.raises(Exception, match=r"(?s)CSV header does not conform.*drift.csv"):
        df.collect()


def test_json_lines_keep_numbers_and_report_broken_lines(spark, tmp_path):
    (tmp_path / "a.jsonl").write_text('{"id": 5, "amount": 3.5, "label": {"nested": true}}\n{"id": \n')
    df = read_landed_batch(spark, str(tmp_path), {"columns": COLUMNS}, "jsonl", {})
    valid, rejected = cast_and_validate(df, COLUMNS)
    row = valid.first()
    assert row["id"] == 5 and row["amount"] == Decimal("3.50") and row["label"] == '{"nested":true}'
    assert rejected.first()["_reject_reason"].startswith("malformed record")


def test_header_length_mismatch_is_explained_with_the_file_and_no_java_stack():
    from lake_glue.ingest import explain_header_mismatch

    text = (
        "py4j.protocol.Py4JJavaError: An error occurred\n: org.apache.spark.SparkException: Job aborted: "
        "java.lang.IllegalArgumentException: Number of column in CSV header is not equal to number of fields"
        " in the schema:\n Header length: 2, schema size: 6\nCSV file: s3://raw/landing/a/b/c/x.csv\n\tat org.apache..."
    )
    assert explain_header_mismatch(text) == (
        "CSV header does not match the declared columns: Number of column in CSV header is not equal to number"
        " of fields in the schema: Header length: 2, schema size: 6 CSV file: s3://raw/landing/a/b/c/x.csv"
    )
    assert explain_header_mismatch("some other failure") is None


def test_json_fields_nobody_declared_are_counted_not_silently_dropped(spark):
    from lake_glue.ingest import undeclared_json_fields

    text = spark.createDataFrame(
        [('{"id": 1, "gift_wrap": true}',), ('{"id": 2, "gift_wrap": false, "note": "x"}',), ('{"id": ',)], "value string"
    )
    assert undeclared_json_fields(text, ["id", "amount"]) == {"gift_wrap": 2, "note": 1}
