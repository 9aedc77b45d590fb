"""``lake query``'s shortcut: the file lists of committed table versions, remembered by version.

A remembered list is used only while the catalog still points at the same metadata file; any
commit makes the next query take the full path (pyiceberg's scan plan) again.
"""

from __future__ import annotations

from lake_platform.query_cache import cached_query
from lake_platform.resources.query_engine import DuckDBQueryEngine

from .conftest import ORDERS_HEADER, order_row


def _land_and_prepare(lake, batch_id, rows):
    lake.land("orders", batch_id, {"a.csv": ORDERS_HEADER + "".join(rows)})
    lake.ingest("orders", batch_id)
    lake.prepare("orders", batch_id)


def test_a_repeated_query_gives_the_full_paths_rows_from_remembered_files(lake):
    _land_and_prepare(lake, "20260101T000000Z", [order_row(1, "NEW", 10), order_row(2, "NEW", 10)])
    sql = "select order_id, order_status from sales.orders order by order_id"
    assert cached_query(lake.catalog, sql) is None, "nothing remembered before the first full query"
    full = DuckDBQueryEngine(catalog_uri=lake.catalog).query(sql, [])
    assert cached_query(lake.catalog, sql) == (full.columns, full.rows)


def test_a_commit_makes_the_next_query_take_the_full_path(lake):
    _land_and_prepare(lake, "20260101T000000Z", [order_row(1, "NEW", 10)])
    sql = "select count(*) from sales.orders"
    engine = DuckDBQueryEngine(catalog_uri=lake.catalog)
    assert engine.query(sql, []).rows == [(1,)]
    _land_and_prepare(lake, "20260102T000000Z", [order_row(2, "NEW", 11)])
    assert cached_query(lake.catalog, sql) is None
    assert engine.query(sql, []).rows == [(2,)]
    assert cached_query(lake.catalog, sql)[1] == [(2,)]


def test_time_travel_is_never_remembered_as_the_current_version(lake):
    _land_and_prepare(lake, "20260101T000000Z", [order_row(1, "NEW", 10)])
    first = lake.iceberg("orders").current_snapshot().snapshot_id
    _land_and_prepare(lake, "20260102T000000Z", [order_row(2, "NEW", 11)])
    sql = "select count(*) from sales.orders"
    assert DuckDBQueryEngine(catalog_uri=lake.catalog).query(sql, [], as_of=str(first)).rows == [(1,)]
    assert cached_query(lake.catalog, sql) is None


def test_sql_the_shortcut_cannot_answer_goes_the_full_way_for_its_message(lake):
    _land_and_prepare(lake, "20260101T000000Z", [order_row(1, "NEW", 10)])
    DuckDBQueryEngine(catalog_uri=lake.catalog).query("select count(*) from sales.orders", [])
    assert cached_query(lake.catalog, "select * from sales.nope join sales.orders using (order_id)") is None
    assert cached_query(lake.catalog, "select count(*) from sales.orders") == (["count_star()"], [(1,)])
