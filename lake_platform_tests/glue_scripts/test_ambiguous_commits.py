"""A commit whose outcome is unknown is resolved by its batch id before any output file is deleted.

The commit protocol (``lake_glue.tables``) tags each commit's snapshot with ``lake.batch-id`` and
a fresh ``lake.commit-id``. When the commit raises anything but a clear conflict, the table is
reloaded: a snapshot with this commit's id means it landed (the job carries on), none means it
did not (the output may go), and a failed reload keeps every file and says so.

The same cases run on the local SQLite catalog and on moto's Glue Data Catalog; "the swap
succeeds, then the call raises" is a Glue ``UpdateTable`` that timed out after applying.
"""

import os
import uuid
from urllib.parse import urlparse

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from lake_glue import failpoints
from lake_glue.tables import (
    CommitNotLanded,
    CommitOutcomeUnknown,
    TableSpec,
    column_equals,
    commit,
    data_files,
    load_table,
    open_catalog,
    surely_not_committed,
    total_records,
)

BATCH = "20260101T000000Z"
SCHEMA = pa.schema(
    [
        pa.field("order_id", pa.int64()),
        pa.field("_batch_id", pa.string()),
        pa.field("p_batch_id", pa.string()),
    ]
)


def _raise_at(monkeypatch, point: str, then=None) -> list[str]:
    """Make the commit protocol's ``point`` raise once, as a call that times out there would.

    ``then`` runs just before, e.g. to take the catalog down.
    """
    real = failpoints.hit
    raised: list[str] = []

    def hit(name: str) -> None:
        if name == point and not raised:
            raised.append(name)
            if then is not None:
                then()
            raise TimeoutError(f"read timed out at {name}")
        real(name)

    monkeypatch.setattr(failpoints, "hit", hit)
    return raised


@pytest.fixture
def sqlite_table(tmp_path, monkeypatch):
    """The orders table on a local SQLite catalog (pyiceberg writes ``file://`` paths)."""
    monkeypatch.delenv("LAKE_LOCAL_BUCKET_ROOT", raising=False)
    catalog = open_catalog(f"sqlite:///{tmp_path / 'catalog.sqlite'}")
    spec = TableSpec("erp", "orders", f"file://{tmp_path}/lake-source/erp/orders", partition_columns=["p_batch_id"])
    return catalog, spec


@pytest.fixture
def glue_table(aws, monkeypatch):
    """The orders table on moto's Glue catalog and S3."""
    import boto3

    monkeypatch.delenv("LAKE_LOCAL_BUCKET_ROOT", raising=False)
    boto3.client("s3").create_bucket(
        Bucket="lake-source", CreateBucketConfiguration={"LocationConstraint": "eu-west-1"}
    )
    boto3.client("glue").create_database(DatabaseInput={"Name": "erp"})  # Terraform's, as in AWS
    return open_catalog("glue"), TableSpec(
        "erp", "orders", "s3://lake-source/erp/orders", partition_columns=["p_batch_id"]
    )


@pytest.fixture(params=["sqlite", pytest.param("glue", marks=pytest.mark.aws)])
def catalog_table(request):
    """The same table on each catalog the lake runs on."""
    return request.getfixturevalue(f"{request.param}_table")


def _write(table, order_ids: list[int]) -> list[str]:
    rows = pa.table(
        {"order_id": order_ids, "_batch_id": [BATCH] * len(order_ids), "p_batch_id": [BATCH] * len(order_ids)},
        schema=SCHEMA,
    )
    path = f"{table.location()}/data/{uuid.uuid4().hex}/part-0.parquet"
    with table.io.new_output(path).create() as stream:
        pq.write_table(rows, stream)
    return [path]


def _commit_batch(table, files):
    batch = column_equals("p_batch_id", BATCH)
    return commit(table, delete_filter=batch, files=files, summary={"lake.batch-id": BATCH})


def _exists(table, path: str) -> bool:
    return table.io.new_input(path).exists()


def test_a_commit_that_lands_and_then_raises_is_taken_as_done_and_holds_the_batch_once(catalog_table, monkeypatch):
    catalog, spec = catalog_table
    table = load_table(catalog, spec, SCHEMA)
    raised = _raise_at(monkeypatch, "commit:after")
    result = _commit_batch(table, _write(table, [1, 2]))
    assert raised == ["commit:after"]
    fresh = catalog.load_table(spec.identifier)
    assert result.current_snapshot().snapshot_id == fresh.current_snapshot().snapshot_id
    assert sorted(fresh.scan().to_arrow()["order_id"].to_pylist()) == [1, 2]
    assert all(_exists(fresh, f) for f in data_files(fresh))
    # A re-run of the batch replaces it: still once.
    _commit_batch(fresh, _write(fresh, [1, 2]))
    assert total_records(catalog.load_table(spec.identifier)) == 2


def test_a_commit_that_raises_before_the_swap_is_surely_not_landed_and_leaves_the_table(catalog_table, monkeypatch):
    catalog, spec = catalog_table
    table = load_table(catalog, spec, SCHEMA)
    _raise_at(monkeypatch, "commit:staged")
    with pytest.raises(CommitNotLanded, match=f"erp.orders batch {BATCH}.*holds no snapshot") as caught:
        _commit_batch(table, _write(table, [1, 2]))
    assert surely_not_committed(caught.value)
    assert catalog.load_table(spec.identifier).current_snapshot() is None


def test_a_commit_whose_table_cannot_be_reloaded_keeps_its_files_and_says_the_outcome_is_unknown(
    catalog_table, monkeypatch
):
    catalog, spec = catalog_table
    table = load_table(catalog, spec, SCHEMA)
    files = _write(table, [1, 2])

    def catalog_down():
        monkeypatch.setattr(type(catalog), "load_table", lambda *a, **k: (_ for _ in ()).throw(OSError("down")))

    _raise_at(monkeypatch, "commit:after", then=catalog_down)
    with pytest.raises(CommitOutcomeUnknown, match="whether it landed is unknown.*files are kept") as caught:
        _commit_batch(table, files)
    assert not surely_not_committed(caught.value)
    monkeypatch.undo()
    assert total_records(catalog.load_table(spec.identifier)) == 2
    assert _exists(table, files[0])


def _local_path(uri: str) -> str:
    return urlparse(uri).path


def test_an_upsert_whose_commit_lands_and_raises_keeps_the_current_files_and_replays_cleanly(lake, monkeypatch):
    from lake_platform_tests.conftest import ORDERS_HEADER, order_row

    lake.land("orders", BATCH, {"a.csv": ORDERS_HEADER + "".join(order_row(i, "NEW", 10) for i in (1, 2, 3))})
    lake.ingest("orders", BATCH)
    raised = _raise_at(monkeypatch, "commit:after")
    figures = lake.prepare("orders", BATCH)
    assert raised == ["commit:after"] and figures["target_rows"] == 3
    table = lake.iceberg("orders")
    assert all(os.path.exists(_local_path(f)) for f in data_files(table))
    assert sorted(r.order_id for r in lake.target("orders").collect()) == [1, 2, 3]
    again = lake.prepare("orders", BATCH)
    assert again["target_rows"] == 3
    assert sorted(r.order_id for r in lake.target("orders").collect()) == [1, 2, 3]


def test_an_append_whose_commit_lands_and_raises_holds_the_batch_once_and_replays_cleanly(lake, monkeypatch):
    import json

    lines = "".join(
        json.dumps({"order_id": i, "line_number": 1, "sku": "S", "quantity": 1, "unit_price": 2.5}) + "\n"
        for i in (1, 2)
    )
    lake.land("order_lines", BATCH, {"l.jsonl": lines})
    lake.ingest("order_lines", BATCH)
    _raise_at(monkeypatch, "commit:after")
    assert lake.prepare("order_lines", BATCH)["target_rows"] == 2
    assert all(os.path.exists(_local_path(f)) for f in data_files(lake.iceberg("order_lines")))
    assert lake.prepare("order_lines", BATCH)["target_rows"] == 2
    assert sorted(r.order_id for r in lake.target("order_lines").collect()) == [1, 2]


def test_an_ingest_whose_commit_lands_and_raises_keeps_the_quarantine_its_snapshot_names(lake, monkeypatch):
    from lake_platform_tests.conftest import ORDERS_HEADER, order_row

    lake.land("orders", BATCH, {"a.csv": ORDERS_HEADER + order_row(1, "NEW", 10) + "2;x;NEW;1;ZAR;;\n"})
    _raise_at(monkeypatch, "commit:after")
    figures = lake.ingest("orders", BATCH)
    assert (figures["source_rows"], figures["quarantined_rows"]) == (1, 1)
    source = lake.iceberg("orders", database=lake.erp["target"]["database"])
    named = urlparse(source.current_snapshot().summary.additional_properties["lake.quarantine-uri"])
    assert os.listdir(os.path.join(str(lake.root), named.netloc, named.path.lstrip("/")))
    assert total_records(source) == 1
