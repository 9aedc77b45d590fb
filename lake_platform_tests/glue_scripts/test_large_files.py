"""Files larger than a task: read as byte ranges, one task each, with exactly the whole-file result.

The parse of every bad-input corpus file is compared both ways (ranges of a few bytes against
the whole file): the same records, lines, values, quarantine reasons and file report. The job
then ingests a file above Spark's per-row cap (lowered here rather than writing 2 GiB), in
more than one task, and a job killed mid-commit replays it exactly once.
"""

from __future__ import annotations

import dataclasses
import json
import signal
from pathlib import Path

import pytest

from lake_glue.formats.base import FormatOptions
from lake_glue.formats.csv import plain_csv
from lake_glue.formats.ranges import (
    Range,
    _plain_range,
    _read,
    file_report,
    parse_range,
    range_batches,
    split_reason,
    survey,
)
from lake_glue.records import format_of, parse_file
from lake_platform_tests.conftest import ORDERS_HEADER, order_row
from lake_platform_tests.glue_scripts.test_bad_input_corpus import CASES, CUSTOMERS_HEADER, LINES
from lake_platform_tests.glue_scripts.test_killed_jobs import _ingest
from lake_platform_tests.glue_scripts.test_transactional_tables import query

_OPTION_KEYS = {f.name for f in dataclasses.fields(FormatOptions)}


def _both_ways(tmp_path: Path, name: str, content: bytes, opts: FormatOptions, columns: list[str]):
    """(whole-file outputs, split outputs, how many ranges, whether every cut was a record end).

    The split outputs are the ranges' records in order and the file report combined from the
    survey and the ranges, or, when a cut was not a record end, the one-range re-read the job
    then does.
    """
    file = tmp_path / name
    file.write_bytes(content)
    path = f"s3://b/{name}"
    whole = list(parse_file(path, content, opts, columns))
    surveyed = survey(path, file.as_uri(), opts)
    outputs = [out for part in surveyed.ranges for out in parse_range(part, opts, columns)]
    exact = all(out[1].exact for out in outputs if out[0] == "range")
    if not exact:
        one = dataclasses.replace(surveyed.ranges[0], stop=surveyed.size, last=True)
        outputs = list(parse_range(one, opts, columns))
    parts = [dataclasses.asdict(out[1]) for out in outputs if out[0] == "range"]
    records = [out for out in outputs if out[0] == "record"]
    return whole, [*records, ("file", file_report(surveyed, parts))], len(surveyed.ranges), exact


def _arrow_both_ways(tmp_path: Path, name: str, content: bytes, opts: FormatOptions, columns: list[str]):
    """(whole-file Arrow rows, split Arrow rows) as the job's tasks produce them (Arrow kernels
    for a plain CSV), the split file's report combined as the job combines it; None when a cut
    was not a record end (the job then re-reads the file as one range: see :func:`_both_ways`)."""
    file = tmp_path / f"arrow-{name}"
    file.write_bytes(content)
    path = f"s3://b/{name}"
    whole = [r for b in format_of(opts.format).arrow_batches(path, content, opts, columns) for r in b.to_pylist()]
    surveyed = survey(path, file.as_uri(), opts)
    split = [r for part in surveyed.ranges for b in range_batches(part, opts, columns) for r in b.to_pylist()]
    parts = [json.loads(r["report"]) for r in split if r["kind"] == "range"]
    if not all(p["exact"] for p in parts):
        return None
    report = file_report(surveyed, parts).__dict__
    whole_report = next(json.loads(r["report"]) for r in whole if r["kind"] == "file")
    return (
        ([r for r in whole if r["kind"] == "record"], whole_report),
        ([r for r in split if r["kind"] == "record"], report),
    )


def _corpus_files():
    for case in CASES:
        for name, content in case.files.items():
            fmt = "csv" if name.endswith((".csv", ".txt")) else "jsonl" if name.endswith(".jsonl") else None
            if fmt is None:
                continue
            options = {k: v for k, v in (case.options or {}).items() if k in _OPTION_KEYS}
            if "null_values" in options:
                options["null_values"] = tuple(options["null_values"])
            columns = CUSTOMERS_HEADER.strip().split(",") if case.table == "customers" else LINES.split(",")
            yield pytest.param(name, content, fmt, options, columns, id=f"{case.name}/{name}")


@pytest.mark.parametrize("split_bytes", [16, 61])
@pytest.mark.parametrize(("name", "content", "fmt", "options", "columns"), list(_corpus_files()))
def test_corpus_files_parse_the_same_in_ranges_as_whole(tmp_path, name, content, fmt, options, columns, split_bytes):
    content = content if isinstance(content, bytes) else content.encode()
    opts = FormatOptions(format=fmt, header=fmt == "csv", split_bytes=split_bytes, **options)
    if split_reason(name, len(content), opts):
        pytest.skip(split_reason(name, len(content), opts))
    whole, split, _, _ = _both_ways(tmp_path, name, content, opts, columns)
    assert split == whole
    arrow = _arrow_both_ways(tmp_path, name, content, opts, columns)
    if arrow is not None:
        assert arrow[1] == arrow[0]


def _quoted_rows(count: int) -> bytes:
    rows = [
        f'{i},"Ann ""{i}""\nline two\r\nline three",a{i}@x.org,ZA,10.00,2026-01-01 10:00:00\n' for i in range(count)
    ]
    return (CUSTOMERS_HEADER + "".join(rows)).encode()


def test_quoted_line_ends_straddling_range_boundaries_keep_their_records_and_lines(tmp_path):
    content = _quoted_rows(40)
    columns = CUSTOMERS_HEADER.strip().split(",")
    opts = FormatOptions(split_bytes=100)
    whole, split, ranges, exact = _both_ways(tmp_path, "q.csv", content, opts, columns)
    assert (ranges > 10, exact) == (True, True)
    assert split == whole
    assert [out[2] for out in split if out[0] == "record"] == list(range(2, 2 + 3 * 40, 3))


def test_a_literal_quote_that_breaks_the_quote_parity_reads_the_file_as_one_range(tmp_path):
    # `3/4" pipe` is a literal quote: by parity, everything after it is inside quotes.
    rows = [f"{i},Ann,a{i}@x.org,ZA,10.00,2026-01-01 10:00:00\n" for i in range(30)]
    rows[3] = '3,NEW 3/4" pipe,a3@x.org,ZA,10.00,2026-01-01 10:00:00\n'
    rows[20] = '20,"two\nlines",a@x.org,ZA,10.00,2026-01-01 10:00:00\n'
    content = (CUSTOMERS_HEADER + "".join(rows)).encode()
    whole, split, ranges, exact = _both_ways(
        tmp_path, "p.csv", content, FormatOptions(split_bytes=120), CUSTOMERS_HEADER.strip().split(",")
    )
    assert (ranges > 1, exact) == (True, False)
    assert split == whole


def test_a_plain_csv_split_into_ranges_is_read_by_arrow_kernels_with_the_same_rows(tmp_path):
    content = ("\n" + ORDERS_HEADER + "\n".join(order_row(i, "NEW", 10) for i in range(1, 300)) + "\n\n").encode()
    columns = ORDERS_HEADER.strip().split(";")
    opts = FormatOptions(delimiter=";", split_bytes=1000)
    assert plain_csv("a.csv", content, opts, columns) is not None
    arrow = _arrow_both_ways(tmp_path, "a.csv", content, opts, columns)
    assert arrow is not None
    assert arrow[1] == arrow[0]
    assert len(arrow[0][0]) == 299
    parts = survey("s3://b/a.csv", (tmp_path / "arrow-a.csv").as_uri(), opts).ranges
    assert len(parts) > 5
    assert all(_plain_range(p, *_read(p), opts, columns) is not None for p in parts)


@pytest.mark.parametrize("header", ['customer_id,"customer_name,email', 'customer_id,"customer\nname",email'])
def test_a_header_whose_quote_spans_or_never_closes_reads_as_the_whole_file_reads_it(tmp_path, header):
    rows = "".join(f"{i},Ann,a{i}@x.org,ZA,10.00,2026-01-01 10:00:00\n" for i in range(20))
    content = (header + ",country_code,credit_limit,created_at\n" + rows).encode()
    columns = CUSTOMERS_HEADER.strip().split(",")
    whole, split, _, _ = _both_ways(tmp_path, "h.csv", content, FormatOptions(split_bytes=64), columns)
    assert split == whole
    assert whole[-1][1].problem


def test_files_that_cannot_be_split_say_why():
    big = FormatOptions(split_bytes=1024)
    assert split_reason("a.csv", 2048, big) is None
    assert split_reason("a.csv", 1024, big) == "not larger than split_bytes"
    assert split_reason("a.csv.gz", 2048, big) == "a compressed file cannot be split"
    assert "escape" in (split_reason("a.csv", 2048, dataclasses.replace(big, escape="\\")) or "")
    assert split_reason("a.csv", 2048, dataclasses.replace(big, escape="\\", multiline=False)) is None


def _orders_file(count: int) -> str:
    return ORDERS_HEADER + "".join(order_row(i, "NEW", 10) for i in range(1, count + 1))


@pytest.fixture
def row_cap(spark):
    """Spark's per-row cap of a ``binaryFile`` read, lowered to 8 KiB for the test."""
    key = "spark.sql.sources.binaryFile.maxLength"
    before = spark.conf.get(key, None)
    spark.conf.set(key, "8192")
    yield 8192
    if before is None:
        spark.conf.unset(key)
    else:
        spark.conf.set(key, before)


def test_a_file_above_the_row_cap_ingests_exactly_in_more_than_one_task(lake, spark, row_cap):
    lake.erp["source"]["options"]["split_bytes"] = 4096
    text = _orders_file(600)
    assert len(text) > 4 * row_cap
    lake.land("orders", "20260101T000000Z", {"a.csv": text, "b.csv": _orders_file(3)})
    spark.sparkContext.setJobGroup("large-file-ingest", "large file ingest")
    try:
        result = lake.ingest("orders", "20260101T000000Z")
    finally:
        spark.sparkContext.setJobGroup("", "")
    tracker = spark.sparkContext.statusTracker()
    stages = [s for j in tracker.getJobIdsForGroup("large-file-ingest") for s in tracker.getJobInfo(j).stageIds]
    assert max(tracker.getStageInfo(s).numTasks for s in stages if tracker.getStageInfo(s)) >= 5
    figures = result["materialization"] if "materialization" in result else result
    assert (figures["landed_rows"], figures["source_rows"]) == (603, 603)
    rows = query(lake, "select _source_file, _source_line, order_id from erp.orders")
    assert len({f.rsplit("/", 1)[0] for f, _, _ in rows}) == 1  # the split file is named as a whole-read one
    lines = sorted((f.rsplit("/", 1)[-1], line, int(oid)) for f, line, oid in rows)
    expected = sorted([("a.csv", i + 1, i) for i in range(1, 601)] + [("b.csv", i + 1, i) for i in range(1, 4)])
    assert lines == expected


def test_a_split_file_whose_quote_parity_misleads_the_cuts_is_ingested_exactly_by_a_whole_reread(lake):
    # `3/4" pipe` is a literal quote mid-field: by parity every later cut is inside quotes, so
    # the ranges after it report inexact cuts and the job re-reads the file as one range.
    lake.erp["source"]["options"]["split_bytes"] = 2048
    rows = [order_row(i, "NEW", 10) for i in range(1, 201)]
    rows[4] = order_row(5, 'NEW 3/4" pipe', 10)
    # ... so the first "even" line end after it is inside this real quoted field: a wrong cut.
    rows[99] = order_row(100, '"two\nlines"', 10)
    lake.land("orders", "20260101T000000Z", {"a.csv": ORDERS_HEADER + "".join(rows)})
    result = lake.ingest("orders", "20260101T000000Z")
    figures = result["materialization"] if "materialization" in result else result
    assert (figures["landed_rows"], figures["source_rows"]) == (200, 200)
    stored = query(lake, "select order_id, order_status, _source_line from erp.orders order by 1")
    assert [(int(o), line) for o, _, line in stored] == [(i, i + 1 + (i > 100)) for i in range(1, 201)]
    assert (stored[4][1], stored[99][1]) == ('NEW 3/4" pipe', "two\nlines")


def test_the_whole_file_read_of_the_same_file_hits_the_row_cap(lake, spark, row_cap):
    lake.land("orders", "20260101T000000Z", {"a.csv": _orders_file(600)})
    with pytest.raises(Exception, match="(?i)length|maxLength|exceed"):
        lake.ingest("orders", "20260101T000000Z")


@pytest.mark.slow
def test_an_ingest_of_a_split_file_killed_mid_commit_replays_it_once(lake, tmp_path):
    lake.erp["source"]["options"]["split_bytes"] = 4096
    lake.land("orders", "20260102T000000Z", {"a.csv": _orders_file(500)})
    killed = _ingest(lake, tmp_path, "orders", "20260102T000000Z", "commit:staged")
    assert killed.returncode == -signal.SIGKILL
    assert query(lake, "select count(*) from erp.orders") == [(0,)]
    # The re-run in-process, on the warm session: one JVM start less.
    figures = lake.ingest("orders", "20260102T000000Z")
    assert (figures["landed_rows"], figures["source_rows"]) == (500, 500)
    assert query(lake, "select count(*), count(distinct _source_line) from erp.orders") == [(500, 500)]


def test_a_range_reads_only_its_bytes(tmp_path):
    file = tmp_path / "a.jsonl"
    file.write_bytes(b'{"a": "1"}\n{"a": "2"}\n{"a": "3"}\n')
    part = Range("s3://b/a.jsonl", file.as_uri(), 1, 11, 22, 2, False)
    outputs = list(parse_range(part, FormatOptions(format="jsonl", split_bytes=11), ["a"]))
    assert [(o[2], o[3]) for o in outputs if o[0] == "record"] == [(2, ["2"])]


@pytest.mark.parametrize("fmt", ["csv", "jsonl"])
def test_rescued_fields_are_the_same_in_ranges_as_whole(tmp_path, fmt):
    # Under on_new_columns: rescue each record carries its undeclared fields; a range must too.
    columns = ["id", "name"]
    if fmt == "csv":
        content = ("id,name,loyalty_tier\n" + "".join(f'{i},"Ann\n{i}",gold{i}\n' for i in range(40))).encode()
    else:
        content = "".join(json.dumps({"id": i, "name": f"Ann {i}", "tier": f"gold{i}"}) + "\n" for i in range(40))
        content = content.encode()
    opts = FormatOptions(format=fmt, header=fmt == "csv", split_bytes=64, on_new_columns="rescue")
    whole, split, ranges, _ = _both_ways(tmp_path, f"r.{fmt}", content, opts, columns)
    assert ranges > 5
    assert split == whole
    rescued = [json.loads(out[3][-1]) for out in split if out[0] == "record"]
    assert rescued[7] == ({"loyalty_tier": "gold7"} if fmt == "csv" else {"tier": "gold7"})
    arrow = _arrow_both_ways(tmp_path, f"r.{fmt}", content, opts, columns)
    assert arrow is not None and arrow[1] == arrow[0]


def test_a_range_of_an_s3_object_is_read_with_a_ranged_get(monkeypatch):
    # On Glue the tasks read their ranges from S3 themselves (moto stands in for S3 here).
    import boto3
    from moto import mock_aws

    from lake_glue.formats.ranges import open_stream

    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    body = bytes(range(256)) * 40
    with mock_aws():
        s3 = boto3.client("s3", region_name="us-east-1")
        s3.create_bucket(Bucket="raw")
        s3.put_object(Bucket="raw", Key="landing/erp/orders/b 1/big file.csv", Body=body)
        uri = "s3://raw/landing/erp/orders/b%201/big%20file.csv"
        assert b"".join(open_stream(uri, 1000, 5000)) == body[1000:5000]
        assert b"".join(open_stream(uri, 9000)) == body[9000:]
        assert b"".join(open_stream(uri)) == body
