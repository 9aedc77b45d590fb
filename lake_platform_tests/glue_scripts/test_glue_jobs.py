"""The Glue entry points' job logic, run in-process on the shared SparkSession.

Buckets are folders under the session's Spark root; each test uses its own prefixes.
"""

import json

import pytest

from lake_glue.args import IngestArgs, PrepareArgs
from lake_platform_tests.conftest import ORDERS_HEADER, ingest_job
from lake_platform_tests.conftest import order_row as _order


def test_ingest_reconciles_landed_rows_with_source_and_quarantine(lake):
    lake.land("orders", "20260101T000000Z", {"a.csv": ORDERS_HEADER + _order(1, "NEW", 10) + "2;x;NEW;1;ZAR;;\n"})
    figures = lake.ingest("orders", "20260101T000000Z")
    assert (figures["landed_rows"], figures["source_rows"], figures["quarantined_rows"]) == (2, 1, 1)
    assert "customer_id: cannot read 'x' as bigint" in figures["quarantine_examples"][0]


def test_rerunning_a_batch_replaces_it_instead_of_duplicating(lake):
    lake.land("orders", "20260101T000000Z", {"a.csv": ORDERS_HEADER + _order(1, "NEW", 10) + _order(2, "NEW", 10)})
    lake.ingest("orders", "20260101T000000Z")
    again = lake.ingest("orders", "20260101T000000Z")
    assert again["source_rows"] == 2
    lake.prepare("orders", "20260101T000000Z")
    assert lake.prepare("orders", "20260101T000000Z")["target_rows"] == 2


def test_incomplete_batch_is_refused_naming_the_marker(lake):
    lake.land("orders", "20260101T000000Z", {"a.csv": ORDERS_HEADER}, complete=False)
    with pytest.raises(ingest_job.IngestError, match=r"orders/20260101T000000Z.*_SUCCESS is missing"):
        lake.ingest("orders", "20260101T000000Z")


def test_header_drift_fails_the_batch_naming_the_file(lake):
    lake.land(
        "orders", "20260101T000000Z", {"drifted.csv": ORDERS_HEADER.replace("currency", "ccy") + _order(1, "NEW", 10)}
    )
    with pytest.raises(
        ingest_job.IngestError,
        match=r"batch erp.orders/20260101T000000Z: .*/drifted.csv: CSV header does not match the declared columns:"
        r" missing columns \['currency'\], unexpected columns \['ccy'\]$",
    ):
        lake.ingest("orders", "20260101T000000Z")


def _use_buckets(lake, **settings):
    orders = next(t for t in lake.sales["table_config"] if t["table_name"] == "orders")
    for key in ("bucket_by", "bucket_width", "num_buckets"):
        orders.pop(key, None)
    orders.update(settings)


def test_hash_bucketed_upsert_applies_updates_and_touches_only_the_keys_buckets(lake):
    _use_buckets(lake, bucket_by="hash", num_buckets=8)
    lake.land(
        "orders", "20260101T000000Z", {"a.csv": ORDERS_HEADER + "".join(_order(i, "NEW", 10) for i in range(1, 41))}
    )
    lake.land("orders", "20260102T000000Z", {"a.csv": ORDERS_HEADER + _order(7, "PAID", 12) + _order(41, "NEW", 11)})
    for batch in ("20260101T000000Z", "20260102T000000Z"):
        lake.ingest("orders", batch)
        figures = lake.prepare("orders", batch)
    assert figures["target_rows"] == 41
    assert figures["partitions_touched"] <= 2 < 8
    assert figures["existing_rows_read"] < 40
    statuses = {r["order_id"]: r["order_status"] for r in lake.target("orders").collect()}
    assert statuses[7] == "PAID" and statuses[8] == "NEW"


def test_range_bucketed_upsert_reads_only_the_recent_buckets_however_large_the_table(lake):
    _use_buckets(lake, bucket_by="range", bucket_width=50)
    lake.land(
        "orders", "20260101T000000Z", {"a.csv": ORDERS_HEADER + "".join(_order(i, "NEW", 10) for i in range(1, 200))}
    )
    lake.land("orders", "20260102T000000Z", {"a.csv": ORDERS_HEADER + _order(195, "PAID", 12) + _order(201, "NEW", 11)})
    for batch in ("20260101T000000Z", "20260102T000000Z"):
        lake.ingest("orders", batch)
        figures = lake.prepare("orders", batch)
    assert figures["partitions_touched"] == 2
    assert figures["existing_rows_read"] == 50
    assert figures["target_rows"] == 200
    rows = {r["order_id"]: (r["order_status"], r["p_bucket"]) for r in lake.target("orders").collect()}
    assert rows[195] == ("PAID", 3) and rows[201] == ("NEW", 4) and rows[1] == ("NEW", 0)


def test_overwrite_keeps_the_newest_snapshot_when_an_older_batch_is_replayed(lake):
    header = "customer_id,customer_name,email,country_code,credit_limit,created_at\n"
    lake.land("customers", "20260101T000000Z", {"c.csv": header + "1,A,,ZA,1.00,2025-01-01 00:00:00\n"})
    lake.land(
        "customers",
        "20260102T000000Z",
        {"c.csv": header + "1,A,,ZA,1.00,2025-01-01 00:00:00\n2,B,,NL,,2025-01-01 00:00:00\n"},
    )
    for batch in ("20260101T000000Z", "20260102T000000Z"):
        lake.ingest("customers", batch)
    lake.prepare("customers", "20260102T000000Z")
    replay = lake.prepare("customers", "20260101T000000Z")
    assert replay["applied"] is False and "newer" in replay["skipped_reason"]
    assert lake.target("customers").count() == 2


def test_append_keeps_every_batch_and_computes_expressions(lake):
    for batch, lines in (("20260101T000000Z", 2), ("20260102T000000Z", 3)):
        text = "".join(
            json.dumps({"order_id": i, "line_number": 1, "sku": "S", "quantity": 2, "unit_price": 1.25}) + "\n"
            for i in range(lines)
        )
        lake.land("order_lines", batch, {"l.jsonl": text})
        lake.ingest("order_lines", batch)
        figures = lake.prepare("order_lines", batch)
    assert figures["target_rows"] == 5
    assert {str(r["line_amount"]) for r in lake.target("order_lines").collect()} == {"2.50"}


def test_undeclared_json_fields_are_reported_and_the_records_still_load(lake):
    text = json.dumps(
        {"order_id": 1, "line_number": 1, "sku": "S", "quantity": 2, "unit_price": 1.25, "gift_wrap": True}
    )
    lake.land("order_lines", "20260101T000000Z", {"l.jsonl": text + "\n"})
    figures = lake.ingest("order_lines", "20260101T000000Z")
    assert figures["undeclared_fields"] == {"gift_wrap": 1}
    assert figures["source_rows"] == 1


def test_all_rows_quarantined_yields_an_empty_batch_not_an_error(lake):
    lake.land("orders", "20260101T000000Z", {"a.csv": ORDERS_HEADER + _order(1, "NEW", 10)})
    lake.ingest("orders", "20260101T000000Z")
    lake.land("orders", "20260103T000000Z", {"a.csv": ORDERS_HEADER + "bad;;;;;;\n"})
    assert lake.ingest("orders", "20260103T000000Z")["source_rows"] == 0
    assert lake.prepare("orders", "20260103T000000Z")["batch_rows"] == 0


def test_job_arguments_ignore_what_glue_adds_and_require_ours():
    argv = [
        "--JOB_ID",
        "j_1",
        "--config_name",
        "erp",
        "--job-bookmark-option=job-bookmark-disable",
        "--table_name",
        "t",
    ]
    argv += ["--batch_id", "b", "--config_source", "file:///c", "--catalog", "glue", "--target_bucket", "t-b"]
    args = PrepareArgs.from_argv(argv)
    assert args == PrepareArgs("erp", "t", "b", "file:///c", "glue", target_bucket="t-b", rebuild=False)
    with pytest.raises(SystemExit, match="PrepareArgs: --batch_id is required; --target_bucket is required"):
        PrepareArgs.from_argv(["--config_name", "erp", "--table_name", "t", "--config_source", "c", "--catalog", "g"])


def test_job_arguments_are_typed_and_round_trip_through_the_glue_command_line():
    ingest = IngestArgs("erp", "orders", "20260101T000000Z", "dynamodb://c", "glue", "raw", "src", object_listing="s3")
    argv = [token for pair in ingest.glue_arguments().items() for token in pair]
    assert IngestArgs.from_argv(argv) == ingest
    rebuild = PrepareArgs("sales", "orders", "rebuild", "file:///c", "glue", "tgt", rebuild=True)
    assert rebuild.glue_arguments()["--rebuild"] == "true"
    assert PrepareArgs.from_argv([t for p in rebuild.glue_arguments().items() for t in p]) == rebuild
    with pytest.raises(SystemExit, match="--object_listing must be one of s3, filesystem, got 'hdfs'"):
        IngestArgs.from_argv(argv + ["--object_listing", "hdfs"])
    with pytest.raises(SystemExit, match="--rebuild must be true or false, got 'yes'"):
        PrepareArgs.from_argv([t for p in rebuild.glue_arguments().items() for t in p] + ["--rebuild", "yes"])


def test_figures_with_dict_values_are_valid_pipes_metadata():
    from dagster_pipes import _normalize_param_metadata

    from lake_glue.entrypoint import pipes_metadata

    figures = {"landed_rows": 3, "undeclared_fields": {}, "quarantine_examples": ["x"]}
    normalized = _normalize_param_metadata(pipes_metadata(figures), "report_asset_materialization", "metadata")
    assert normalized["undeclared_fields"] == {"raw_value": {}, "type": "json"}


def test_a_batch_with_no_rejected_row_leaves_no_quarantine_and_replaces_an_earlier_attempts(lake):
    bad = ORDERS_HEADER + _order(1, "NEW", 10) + "2;x;NEW;1;ZAR;;\n"
    lake.land("orders", "20260101T000000Z", {"a.csv": bad})
    first = lake.ingest("orders", "20260101T000000Z")
    quarantine_batch = (
        lake.root
        / "lake-source"
        / "quarantine"
        / lake.erp["target"]["prefix"]
        / "orders"
        / "p_batch_id=20260101T000000Z"
    )
    assert first["quarantined_rows"] == 1 and len(list(quarantine_batch.iterdir())) == 1

    lake.land("orders", "20260101T000000Z", {"a.csv": ORDERS_HEADER + _order(1, "NEW", 10) + _order(2, "NEW", 10)})
    again = lake.ingest("orders", "20260101T000000Z")
    assert (again["source_rows"], again["quarantined_rows"], again["quarantine_uri"]) == (2, 0, None)
    # The earlier attempt stays while a retained snapshot names it; maintenance removes it after.
    assert len(list(quarantine_batch.iterdir())) == 1
    from datetime import datetime, timedelta, timezone

    from lake_platform.maintenance import maintain_table

    later = datetime.now(timezone.utc) + timedelta(days=30)
    table = lake.iceberg("orders", database=lake.erp["target"]["database"])
    report = maintain_table(table, retain=timedelta(days=7), orphan_age=timedelta(hours=72), now=later)
    assert len(report.quarantine_removed) == 1 and list(quarantine_batch.iterdir()) == []
