"""Strict typing on a real local SparkSession: each text, then what is stored or why it is quarantined."""

from __future__ import annotations

import datetime as dt
import math
from decimal import Decimal

from pyspark.sql import types as T

from lake_glue.config import Column
from lake_glue.ingest import cast_and_validate, literal_path

COLUMNS = [
    Column(name="id", type="bigint", nullable=False),
    Column(name="ratio", type="double", nullable=True),
    Column(name="day", type="date", nullable=True),
    Column(name="big", type="decimal(38,2)", nullable=True),
]
SCHEMA = T.StructType(
    [T.StructField(c.name, T.StringType()) for c in COLUMNS]
    + [T.StructField("_parse_error", T.StringType()), T.StructField("_corrupt_record", T.StringType())]
)


def _split(spark, rows: list[tuple]):
    """(stored rows by id, reasons by id) for records of (id, ratio, day, big)."""
    df = spark.createDataFrame([(*r, None, None) for r in rows], SCHEMA)
    valid, rejected = cast_and_validate(df, COLUMNS)
    return {r["id"]: r for r in valid.collect()}, {r["id"]: r["_reject_reason"] for r in rejected.collect()}


def test_doubles_that_overflow_or_underflow_are_quarantined_unless_the_text_says_so(spark):
    stored, reasons = _split(
        spark,
        [
            ("1", "1e400", None, None),
            ("2", "-1e400", None, None),
            ("3", "1e-400", None, None),
            ("4", "Infinity", None, None),
            ("5", "-inf", None, None),
            ("6", "0.000e-12", None, None),
            ("7", "1.5e300", None, None),
        ],
    )
    assert reasons == {
        "1": "ratio: cannot read '1e400' as double",
        "2": "ratio: cannot read '-1e400' as double",
        "3": "ratio: cannot read '1e-400' as double",
    }
    assert stored[4]["ratio"] == math.inf and stored[5]["ratio"] == -math.inf
    assert stored[6]["ratio"] == 0.0 and stored[7]["ratio"] == 1.5e300


def test_an_unmasked_date_is_exactly_yyyy_mm_dd(spark):
    stored, reasons = _split(
        spark,
        [
            ("1", None, "2026-01-05 garbage", None),
            ("2", None, "2026-01-05T23:30:00-05:00", None),
            ("3", None, "2026-01-05", None),
            ("4", None, " 2026-01-06 ", None),
        ],
    )
    assert reasons == {
        "1": "day: cannot read '2026-01-05 garbage' as date",
        "2": "day: cannot read '2026-01-05T23:30:00-05:00' as date",
    }
    assert stored[3]["day"] == dt.date(2026, 1, 5) and stored[4]["day"] == dt.date(2026, 1, 6)


def test_decimals_are_checked_at_their_declared_precision(spark):
    wide = "123456789012345678901234567890123456.78"  # 36 integer digits: fits decimal(38,2)
    stored, reasons = _split(
        spark,
        [
            ("1", None, None, wide),
            ("2", None, None, "-99999999999999999999999.50"),
            ("3", None, None, "1.230"),
            ("4", None, None, "1.234"),
            ("5", None, None, "1234567890123456789012345678901234567"),  # 37 integer digits
            ("6", None, None, "1.5e2"),
        ],
    )
    assert stored[1]["big"] == Decimal(wide)
    assert stored[2]["big"] == Decimal("-99999999999999999999999.50")
    assert stored[3]["big"] == Decimal("1.23") and stored[6]["big"] == Decimal("150.00")
    assert reasons == {
        "4": "big: cannot read '1.234' as decimal(38,2)",
        "5": "big: cannot read '1234567890123456789012345678901234567' as decimal(38,2)",
    }


def test_landed_names_are_loaded_as_exact_paths_not_glob_patterns(spark, tmp_path):
    (tmp_path / "lines[1].jsonl").write_bytes(b"bracketed\n")
    (tmp_path / "lines1.jsonl").write_bytes(b"plain\n")
    (tmp_path / "a{b,c}*?.csv").write_bytes(b"braces\n")
    uris = [f"file://{tmp_path}/lines[1].jsonl", f"file://{tmp_path}/a{{b,c}}*?.csv"]
    rows = spark.read.format("binaryFile").load([literal_path(u) for u in uris]).select("path", "content").collect()
    assert sorted((r["path"].rsplit("/", 1)[-1], bytes(r["content"])) for r in rows) == [
        ("a{b,c}*?.csv", b"braces\n"),
        ("lines[1].jsonl", b"bracketed\n"),
    ]
