"""Parquet landing files: declared columns by name, the text formats' cast rules, row identity.

The ``erp.order_lines`` table is switched to ``format: parquet``; its batches are Parquet files
written with pyarrow, some with several row groups. Every row is stored or quarantined with
its file, row group and row; ``landed`` comes from the files' footers.
"""

import json
import signal
from decimal import Decimal
from urllib.parse import urlparse

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from lake_glue import ingest_job
from lake_platform_tests.glue_scripts.test_killed_jobs import _ingest
from lake_platform_tests.glue_scripts.test_transactional_tables import query

BATCH, NEXT = "20260101T000000Z", "20260102T000000Z"
SCHEMA = pa.schema(
    [
        ("order_id", pa.int64()),
        ("line_number", pa.int32()),
        ("sku", pa.string()),
        ("quantity", pa.int64()),
        ("unit_price", pa.decimal128(12, 3)),
        ("shipped_on", pa.date32()),
        ("warehouse", pa.string()),
    ]
)


@pytest.fixture
def parquet_lake(lake):
    next(t for t in lake.erp["table_config"] if t["table_name"] == "order_lines")["format"] = "parquet"
    return lake


def _lines(first: int, count: int, quantity: int = 1, price: str = "2.500") -> dict:
    return {
        "order_id": list(range(first, first + count)),
        "line_number": [1] * count,
        "sku": [f"S{i}" for i in range(first, first + count)],
        "quantity": [quantity] * count,
        "unit_price": [Decimal(price)] * count,
        "shipped_on": [None] * count,
        "warehouse": ["W1"] * count,
    }


def _land(lake, batch: str, files: dict[str, pa.Table], row_group_size: int = 2) -> None:
    folder = lake.root / "lake-raw" / lake.erp["source"]["landing_prefix"] / "order_lines" / batch
    folder.mkdir(parents=True, exist_ok=True)
    for name, table in files.items():
        pq.write_table(table, folder / name, row_group_size=row_group_size)
    (folder / "_SUCCESS").write_text("")


def _stored(lake) -> list[tuple]:
    return sorted(
        query(lake, "select order_id, sku, quantity, unit_price, _source_file, _source_line from erp.order_lines")
    )


def _quarantined(lake, uri: str) -> list[dict]:
    parsed = urlparse(uri)
    folder = lake.root / parsed.netloc / parsed.path.lstrip("/")
    return [json.loads(line) for f in sorted(folder.glob("*.json")) for line in f.read_text().splitlines()]


def test_parquet_rows_land_exactly_with_their_declared_types_and_row_numbers(parquet_lake):
    lake = parquet_lake
    _land(lake, BATCH, {"a.parquet": pa.table(_lines(1, 5), SCHEMA), "b.parquet": pa.table(_lines(6, 1), SCHEMA)})
    figures = lake.ingest("order_lines", BATCH)
    assert (figures["landed_rows"], figures["source_rows"], figures["quarantined_rows"]) == (6, 6, 0)
    assert figures["format"] == "parquet"
    assert figures["undeclared_fields"] == {"warehouse": 6}
    rows = _stored(lake)
    assert [(r[0], r[1], r[2], r[3]) for r in rows] == [(i, f"S{i}", 1, Decimal("2.50")) for i in range(1, 7)]
    # _source_line is the 1-based row across the file's row groups (three groups of two in a.parquet).
    assert [(r[4].rsplit("/", 1)[-1], r[5]) for r in rows] == [("a.parquet", n) for n in range(1, 6)] + [
        ("b.parquet", 1)
    ]


def test_a_value_that_does_not_fit_is_quarantined_with_its_file_row_group_and_row(parquet_lake):
    lake = parquet_lake
    columns = _lines(1, 5)
    columns["quantity"][3] = 3_000_000_000  # beyond the declared int
    columns["unit_price"][4] = Decimal("1.005")  # would be rounded by decimal(10,2)
    _land(lake, BATCH, {"a.parquet": pa.table(columns, SCHEMA)})
    figures = lake.ingest("order_lines", BATCH)
    assert (figures["landed_rows"], figures["source_rows"], figures["quarantined_rows"]) == (5, 3, 2)
    quarantined = sorted(_quarantined(lake, figures["quarantine_uri"]), key=lambda r: r["_source_line"])
    identity = [
        (r["_source_file"].rsplit("/", 1)[-1], r["_source_row_group"], r["_source_row"], r["_source_line"])
        for r in quarantined
    ]
    assert identity == [("a.parquet", 1, 1, 4), ("a.parquet", 2, 0, 5)]
    assert quarantined[0]["_reject_reason"] == "quantity: cannot read '3000000000' as int"
    assert quarantined[1]["_reject_reason"] == "unit_price: cannot read '1.005' as decimal(10,2)"
    assert [r[0] for r in _stored(lake)] == [1, 2, 3]


def test_a_file_missing_a_declared_column_refuses_the_batch_naming_the_file_and_column(parquet_lake):
    lake = parquet_lake
    _land(
        lake,
        BATCH,
        {"a.parquet": pa.table(_lines(1, 2), SCHEMA), "b.parquet": pa.table(_lines(3, 2), SCHEMA).drop(["sku"])},
    )
    with pytest.raises(ingest_job.IngestError, match=r"b\.parquet: .*missing declared columns \['sku'\]"):
        lake.ingest("order_lines", BATCH)


def test_rows_lost_after_the_files_were_read_fail_the_reconciliation_against_their_footers(parquet_lake, monkeypatch):
    lake = parquet_lake
    _land(lake, BATCH, {"a.parquet": pa.table(_lines(1, 5), SCHEMA)})
    real = ingest_job.read_landed_records

    def losing_one(*args, **kwargs):  # a fault no input can produce: a record dropped after parsing
        landed = real(*args, **kwargs)
        landed.records = landed.records.where("_source_line != 3")
        return landed

    monkeypatch.setattr(ingest_job, "read_landed_records", losing_one)
    with pytest.raises(ingest_job.IngestError, match=r"reconciliation failed: 5 records landed, 4 stored in source"):
        lake.ingest("order_lines", BATCH)
    monkeypatch.undo()
    assert lake.ingest("order_lines", BATCH)["source_rows"] == 5


def test_a_replayed_parquet_batch_is_stored_once(parquet_lake):
    lake = parquet_lake
    _land(lake, BATCH, {"a.parquet": pa.table(_lines(1, 5), SCHEMA)})
    first = lake.ingest("order_lines", BATCH)
    replay = lake.ingest("order_lines", BATCH)
    assert replay["snapshot_id"] != first["snapshot_id"]
    assert (first["table_rows"], replay["table_rows"]) == (5, 5)
    assert [r[0] for r in _stored(lake)] == [1, 2, 3, 4, 5]


@pytest.mark.slow
# ingest:cast is killed in test_ingest_cleanup.py; a format reaches the commit the same way.
@pytest.mark.parametrize("failpoint", ["commit:staged"])
def test_a_parquet_ingest_killed_mid_way_changes_nothing_and_its_rerun_lands_the_batch_once(
    parquet_lake, tmp_path, failpoint
):
    lake = parquet_lake
    _land(lake, BATCH, {"a.parquet": pa.table(_lines(1, 3), SCHEMA)})
    lake.ingest("order_lines", BATCH)
    _land(lake, NEXT, {"a.parquet": pa.table(_lines(4, 2), SCHEMA)})
    killed = _ingest(lake, tmp_path, "order_lines", NEXT, failpoint)
    assert killed.returncode == -signal.SIGKILL, killed.stderr[-2000:]
    assert [r[0] for r in _stored(lake)] == [1, 2, 3]
    lake.ingest("order_lines", NEXT)  # the re-run in-process, on the warm session
    assert [r[0] for r in _stored(lake)] == [1, 2, 3, 4, 5]
