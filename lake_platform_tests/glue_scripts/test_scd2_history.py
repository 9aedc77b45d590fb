"""The ``scd2`` write mode: a Type-2 history per primary key that does not depend on the order,
the repetition or the concurrency of the batches that built it, nor on a kill mid-commit."""

import json
import signal
from datetime import datetime, timezone

import pytest

from lake_glue.config import ConfigError, parse_config
from lake_glue.prepare import PrepareError
from lake_glue.tables import find_table, open_catalog
from lake_glue.write_modes import write_mode_of
from lake_platform.assets.checks import duplicate_keys_sql
from lake_platform_tests.conftest import SALES
from lake_platform_tests.glue_scripts.test_killed_jobs import _run_job
from lake_platform_tests.glue_scripts.test_transactional_tables import _at_once, _land_orders, query

A, B, C, D = "20260101T000000Z", "20260102T000000Z", "20260103T000000Z", "20260104T000000Z"


COLUMNS = [
    {"name": "order_id", "type": "bigint", "nullable": False},
    {"name": "order_status", "type": "string", "nullable": False},
    {"name": "order_total", "type": "decimal(12,2)", "nullable": False},
    {"name": "updated_at", "type": "timestamp", "nullable": False},
]


def _history_table(name: str, **changes: object) -> dict:
    """An scd2 table over ``erp.orders``: status and total per order, valid from ``updated_at``."""
    table = {
        "table_name": name,
        "source_table_name": "orders",
        "write_mode": "scd2",
        "columns": COLUMNS,
        "primary_key": ["order_id"],
        "order_by": ["updated_at"],
        "partitions": ["p_bucket"],
        "num_buckets": 4,
    }
    table.update(changes)
    return table


@pytest.fixture
def history_lake(lake):
    """The test lake with scd2 tables ``in_order``, ``shuffled`` and ``by_batch`` (no order_by, one bucket)."""
    lake.sales["table_config"] += [
        _history_table("in_order"),
        _history_table("shuffled"),
        _history_table("by_batch", order_by=[], num_buckets=1),
    ]
    return lake


def _at(hour: int) -> datetime:
    return datetime(2026, 1, 1, hour, tzinfo=timezone.utc)


def _history(lake, table: str) -> list[tuple]:
    return sorted(
        query(lake, f"select order_id, order_status, valid_from, valid_to, is_current, _batch_id from sales.{table}")
    )


# Order 1 changes twice, order 2 is delivered again unchanged, order 3 arrives last.
BATCHES = {
    A: [(1, "NEW", 10), (2, "NEW", 10)],
    B: [(1, "PAID", 11), (2, "NEW", 10)],
    C: [(1, "SHIPPED", 12), (3, "NEW", 12)],
}
EXPECTED = [
    (1, "NEW", _at(10), _at(11), False, A),
    (1, "PAID", _at(11), _at(12), False, B),
    (1, "SHIPPED", _at(12), None, True, C),
    (2, "NEW", _at(10), None, True, B),
    (3, "NEW", _at(12), None, True, C),
]


def test_late_out_of_order_and_replayed_batches_build_the_same_history_as_in_order_runs(history_lake):
    lake = history_lake
    # in_order is prepared as each batch arrives; B arrives late (after C), with older updates.
    for batch in (A, C, B):
        _land_orders(lake, batch, BATCHES[batch])
        lake.prepare("in_order", batch)
    assert _history(lake, "in_order") == EXPECTED
    for batch in (C, A, B, B, A):
        lake.prepare("shuffled", batch)
    assert _history(lake, "shuffled") == EXPECTED
    snapshot = lake.iceberg("in_order").current_snapshot().snapshot_id
    assert lake.prepare("in_order", B)["duplicate_keys"] == 0
    assert _history(lake, "in_order") == EXPECTED
    assert lake.iceberg("in_order").current_snapshot().snapshot_id != snapshot  # committed, same rows


def test_the_primary_key_check_counts_current_rows_only(history_lake):
    lake = history_lake
    for batch in (A, B):
        _land_orders(lake, batch, BATCHES[batch])
        lake.prepare("in_order", batch)
    current_only = duplicate_keys_sql("sales.in_order", ["order_id"], rows=write_mode_of("scd2").pk_rows)
    assert query(lake, current_only) == [(0,)]
    assert query(lake, duplicate_keys_sql("sales.in_order", ["order_id"])) == [(1,)]


def test_an_unchanged_row_opens_no_version_and_a_change_back_opens_one(history_lake):
    lake = history_lake
    for batch, status in ((A, "NEW"), (B, "NEW"), (C, "PAID"), (D, "NEW")):
        _land_orders(lake, batch, [(2, status, 10)])
        lake.prepare("by_batch", batch)
    days = {batch: datetime.strptime(batch, "%Y%m%dT%H%M%SZ").replace(tzinfo=timezone.utc) for batch in (A, C, D)}
    assert _history(lake, "by_batch") == [
        (2, "NEW", days[A], days[C], False, A),
        (2, "NEW", days[D], None, True, D),
        (2, "PAID", days[C], days[D], False, C),
    ]


def test_two_concurrent_prepares_of_one_bucket_both_land_in_the_history(history_lake):
    lake = history_lake
    for batch in (A, B):
        _land_orders(lake, batch, BATCHES[batch])
    _at_once(lambda: lake.prepare("by_batch", A), lambda: lake.prepare("by_batch", B))
    history = _history(lake, "by_batch")
    assert [(r[0], r[1], r[4]) for r in history] == [(1, "NEW", False), (1, "PAID", True), (2, "NEW", True)]


@pytest.mark.slow
def test_a_prepare_killed_mid_commit_leaves_the_history_and_its_rerun_completes_it(history_lake, tmp_path):
    lake = history_lake
    for batch in (A, B):
        _land_orders(lake, batch, BATCHES[batch])
    lake.prepare("in_order", A)
    before = _history(lake, "in_order")
    args = {"config_name": "sales", "table_name": "in_order", "batch_id": B, "target_bucket": "lake-target"}
    killed = _run_job(lake, tmp_path, "dapfw_prepare_default", args, "commit:staged")
    assert killed.returncode == -signal.SIGKILL, killed.stderr[-2000:]
    assert _history(lake, "in_order") == before
    lake.prepare("in_order", B)  # the re-run in-process, on the warm session: one JVM start less
    assert _history(lake, "in_order") == [
        (1, "NEW", _at(10), _at(11), False, A),
        (1, "PAID", _at(11), None, True, B),
        (2, "NEW", _at(10), None, True, B),
    ]


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"order_by": ["order_status"]}, "one timestamp or date column"),
        ({"primary_key": []}, "write_mode 'scd2' needs a primary_key"),
        ({"columns": [*COLUMNS, {"name": "is_current", "type": "boolean"}]}, "written by write_mode 'scd2'"),
    ],
)
def test_a_history_config_the_mode_cannot_write_is_refused_naming_the_table(changes, message):
    document = {**SALES, "table_config": [*SALES["table_config"], _history_table("history", **changes)]}
    with pytest.raises(ConfigError, match=rf"sales\.json: invalid config\n.*table 'history': .*{message}"):
        parse_config(json.loads(json.dumps(document)), "sales.json")


def test_a_batch_whose_required_column_would_be_null_is_refused_and_the_history_kept(history_lake):
    lake = history_lake
    narrow = [c if c["name"] != "order_total" else {**c, "type": "decimal(3,2)"} for c in COLUMNS]
    lake.sales["table_config"].append(_history_table("narrow", columns=narrow))
    _land_orders(lake, A, BATCHES[A])
    lake.prepare("in_order", A)
    with pytest.raises(PrepareError, match=r"required columns would be null after casting: \{'order_total': 2\}"):
        lake.prepare("narrow", A)
    assert find_table(open_catalog(lake.catalog), "sales", "narrow") is None
    assert _history(lake, "in_order") == [(1, "NEW", _at(10), None, True, A), (2, "NEW", _at(10), None, True, A)]
