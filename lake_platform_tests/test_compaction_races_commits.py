"""A compaction racing a batch commit: the batch retries on the new base, no row is lost or doubled.

The Glue table optimizer in AWS and `lake maintain` locally both compact with an Iceberg commit on
the table's metadata pointer, the same pointer a batch commits to. Here `lake maintain`'s
compaction stands in for both.
"""

import uuid
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from pyiceberg.catalog.sql import SqlCatalog
from pyiceberg.partitioning import PartitionField, PartitionSpec
from pyiceberg.schema import Schema
from pyiceberg.transforms import IdentityTransform
from pyiceberg.types import LongType, NestedField, StringType

from lake_glue.tables import column_equals, commit, retry_on_conflict
from lake_platform.maintenance import compact

SCHEMA = pa.schema([pa.field("id", pa.int64(), nullable=False), pa.field("p", pa.string(), nullable=False)])


def rows(p: str, ids: list[int]) -> pa.Table:
    return pa.table({"id": pa.array(ids, pa.int64()), "p": pa.array([p] * len(ids))}, schema=SCHEMA)


@pytest.fixture
def table(tmp_path):
    catalog = SqlCatalog("lake", uri=f"sqlite:///{tmp_path / 'c.sqlite'}", warehouse=f"file://{tmp_path}")
    catalog.create_namespace("erp")
    spec = PartitionSpec(PartitionField(source_id=2, field_id=1000, transform=IdentityTransform(), name="p"))
    schema = Schema(NestedField(1, "id", LongType(), required=True), NestedField(2, "p", StringType(), required=True))
    table = catalog.create_table(("erp", "orders"), schema=schema, partition_spec=spec)
    for i in range(3):  # three small files in partition a: compaction's work
        table.append(rows("a", [2 * i, 2 * i + 1]))
    return catalog, catalog.load_table(("erp", "orders"))


def batch_file(table, p: str, ids: list[int]) -> str:
    """A batch's data file, written before its commit (as the Glue job's Spark write does)."""
    path = f"{table.location()}/data/p={p}/{uuid.uuid4().hex}.parquet".removeprefix("file://")
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(rows(p, ids), path)
    return f"file://{path}"


def commit_batch(catalog, stale, p: str, files: list[str], tries: list[int] | None = None):
    """The jobs' commit protocol: the first try on the base planned earlier, each retry re-reads."""

    def attempt(n: int):
        if tries is not None:
            tries.append(n)
        base = stale if n == 0 else catalog.load_table(("erp", "orders"))
        return commit(base, delete_filter=column_equals("p", p), files=files, summary={"lake.batch-id": p})

    return retry_on_conflict(f"erp.orders batch {p}", attempt)


def ids_by_partition(table) -> dict[str, list[int]]:
    data = table.scan().to_arrow().to_pylist()
    return {p: sorted(r["id"] for r in data if r["p"] == p) for p in sorted({r["p"] for r in data})}


@pytest.mark.parametrize(
    "partition,ids,expected,retried",
    [
        # another partition: pyiceberg re-validates against the compaction and re-applies
        ("b", [100, 101], {"a": [0, 1, 2, 3, 4, 5], "b": [100, 101]}, False),
        # the compacted partition replayed: validation refuses, the retry re-reads and replaces it
        ("a", [0, 1, 2, 3, 4, 5, 6], {"a": [0, 1, 2, 3, 4, 5, 6]}, True),
    ],
)
def test_a_batch_whose_base_a_compaction_replaced_commits_every_row_once(table, partition, ids, expected, retried):
    catalog, stale = table
    files = [batch_file(stale, partition, ids)]
    partitions, compacted, skipped = compact(catalog.load_table(("erp", "orders")), 2, "erp.orders")
    assert (partitions, compacted, skipped) == (1, 3, [])
    tries: list[int] = []
    commit_batch(catalog, stale, partition, files, tries)
    assert tries == ([0, 1] if retried else [0])
    assert ids_by_partition(catalog.load_table(("erp", "orders"))) == expected


def test_a_compaction_that_loses_to_a_batch_commit_is_skipped_and_the_batch_stands(table):
    catalog, planned = table
    files = [batch_file(planned, "a", [0, 1, 2, 3, 4, 5, 6])]  # a replay of partition a, one row more
    real_overwrite = planned.overwrite

    def batch_commits_first(*args, **kwargs):
        commit_batch(catalog, catalog.load_table(("erp", "orders")), "a", files)
        return real_overwrite(*args, **kwargs)

    planned.overwrite = batch_commits_first  # the batch lands between compaction's read and its commit
    partitions, compacted, skipped = compact(planned, 2, "erp.orders")
    assert (partitions, compacted) == (0, 0)
    assert "a job committed meanwhile" in skipped[0]
    assert ids_by_partition(catalog.load_table(("erp", "orders"))) == {"a": [0, 1, 2, 3, 4, 5, 6]}
