"""Ingest transforms on a real local SparkSession: typing, quarantine reasons, lineage."""

import datetime as dt
from decimal import Decimal

import pytest
from pyspark.sql import types as T

from lake_glue.config import Column
from lake_glue.ingest import add_lineage, cast_and_validate, read_landed_records
from lake_glue.records import FormatOptions

COLUMNS = [
    Column(name="id", type="bigint", nullable=False),
    Column(name="amount", type="decimal(10,2)", nullable=True),
    Column(name="seen_at", type="timestamp", nullable=True, timestamp_mask="dd/MM/yyyy HH:mm:ss"),
    Column(name="label", type="string", nullable=True),
]


RECORD_SCHEMA = T.StructType(
    [T.StructField(c.name, T.StringType()) for c in COLUMNS]
    + [T.StructField("_parse_error", T.StringType()), T.StructField("_corrupt_record", T.StringType())]
)


def _split(spark, rows):
    rows = [(*r[:4], None if r[4] is None else f"malformed CSV record: {r[4]}", r[4]) for r in rows]
    df = spark.createDataFrame(rows, RECORD_SCHEMA)
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
        (("1", None, None, None, "1;2;3;4;5"), "malformed CSV record: 1;2;3;4;5"),
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


def _read(spark, tmp_path, **options):
    opts = FormatOptions(**options)
    uris = [f"file://{p}" for p in sorted(tmp_path.iterdir())]
    landed = read_landed_records(spark, uris, opts, COLUMNS)
    valid, rejected = cast_and_validate(landed.records, COLUMNS)
    return valid.collect(), rejected.collect(), landed.reports()[0]


def test_the_reports_of_a_read_no_action_has_run_are_refused_not_guessed(spark, tmp_path):
    # The reports come from the tasks that parsed the files: before any action there are none,
    # and a batch is refused rather than checked against missing figures.
    (tmp_path / "a.csv").write_text("id;amount;seen_at;label\n1;2.00;;x\n")
    landed = read_landed_records(spark, [f"file://{tmp_path / 'a.csv'}"], FormatOptions(delimiter=";"), COLUMNS)
    with pytest.raises(RuntimeError, match=r"the parse reported nothing for .*a\.csv"):
        landed.reports()


def test_a_read_run_by_two_actions_reports_each_file_once(spark, tmp_path):
    # Spark may run a parse task again (a retry, a second action): the reports are keyed by file.
    (tmp_path / "a.csv").write_text("id;amount;seen_at;label\n1;2.00;;x\n2;3.00;;y\n")
    landed = read_landed_records(spark, [f"file://{tmp_path / 'a.csv'}"], FormatOptions(delimiter=";"), COLUMNS)
    assert landed.records.count() == landed.records.count() == 2
    reports, inexact = landed.reports()
    assert ([r.records for r in reports], inexact) == ([2], set())


def test_csv_is_read_with_the_declared_delimiter_and_quoting_and_keeps_file_and_line(spark, tmp_path):
    (tmp_path / "a.csv").write_text('id;amount;seen_at;label\n1;2.00;01/01/2026 00:00:00;"x;y"\n2;bad\n')
    valid, rejected, reports = _read(spark, tmp_path, delimiter=";")
    assert [(r["label"], r["_source_line"]) for r in valid] == [("x;y", 2)]
    assert valid[0]["_source_file"].endswith("/a.csv")
    assert rejected[0]["_reject_reason"] == "record has 2 fields, expected 4"
    assert (rejected[0]["_source_line"], rejected[0]["_corrupt_record"]) == (3, "2;bad")
    assert [r.records for r in reports] == [2]


def test_csv_header_columns_are_matched_by_name_and_a_mismatch_names_the_columns(spark, tmp_path):
    (tmp_path / "reordered.csv").write_text("label;id;amount;seen_at\nx;1;2.00;\n")
    valid, _, _ = _read(spark, tmp_path, delimiter=";")
    assert (valid[0]["id"], valid[0]["label"]) == (1, "x")
    (tmp_path / "reordered.csv").unlink()
    (tmp_path / "drift.csv").write_text("id;amount;seen;label\n1;2.00;;x\n")
    _, _, reports = _read(spark, tmp_path, delimiter=";")
    assert reports[0].problem == (
        "CSV header does not match the declared columns: missing columns ['seen_at'], unexpected columns ['seen']"
    )


def test_json_lines_keep_numbers_as_written_and_quarantine_anything_but_one_object(spark, tmp_path):
    (tmp_path / "a.jsonl").write_text(
        '{"id": 5, "amount": 3.5, "label": {"nested": true}, "gift_wrap": 1}\n{"id": \n[]\n{"id": 1}{"id": 2}\n'
    )
    valid, rejected, reports = _read(spark, tmp_path, format="jsonl")
    row = valid[0]
    assert row["id"] == 5 and row["amount"] == Decimal("3.50") and row["label"] == '{"nested":true}'
    assert [(r["_source_line"], r["_reject_reason"].split(" (")[0]) for r in rejected] == [
        (2, "not valid JSON: Expecting value"),
        (3, "a JSONL line must be one JSON object, this one is an array"),
        (4, "more than one JSON value on the line"),
    ]
    assert reports[0].undeclared == {"gift_wrap": 1} and reports[0].records == 4
