"""The local query engine as a strict reader: ``--as-of`` names a snapshot of every queried
table or is refused, sessions run in UTC, and an empty statement is refused without a traceback.

Tables are written with pyiceberg straight into a SQLite catalog (no Spark needed).
"""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pyarrow as pa
import pytest

from lake_glue.tables import open_catalog
from lake_platform.query_cache import cached_query
from lake_platform.resources.catalog import LakeCatalog
from lake_platform.resources.query_engine.base import QueryError
from lake_platform.resources.query_engine.local import DuckDBQueryEngine

SCHEMA = pa.schema([("id", pa.int64()), ("created_at", pa.timestamp("us", tz="UTC"))])


def _rows(*ids: int) -> pa.Table:
    # 02:00 UTC on 2025-01-01 is still 2024-12-31 in New York.
    moment = datetime(2025, 1, 1, 2, 0, tzinfo=timezone.utc)
    return pa.table({"id": list(ids), "created_at": [moment] * len(ids)}, schema=SCHEMA)


@pytest.fixture
def lake(tmp_path):
    """A catalog with sales.customers (two snapshots: rows 1, then 1 and 2) and sales.orders (one)."""
    uri = f"sqlite:///{tmp_path / 'catalog.sqlite'}"
    catalog = open_catalog(uri)
    catalog.create_namespace("sales")
    customers = catalog.create_table(("sales", "customers"), schema=SCHEMA)
    customers.append(_rows(1))
    customers.append(_rows(2))
    orders = catalog.create_table(("sales", "orders"), schema=SCHEMA)
    orders.append(_rows(7))
    return uri


def _engine(uri: str) -> DuckDBQueryEngine:
    return DuckDBQueryEngine(catalog=LakeCatalog(uri=uri))


def test_as_of_an_unknown_snapshot_id_is_refused_naming_the_table_and_the_id(lake):
    with pytest.raises(QueryError) as refused:
        _engine(lake).query("select count(*) from sales.customers", as_of="12345")
    assert "sales.customers" in str(refused.value) and "12345" in str(refused.value)


def test_as_of_another_tables_snapshot_id_is_refused_instead_of_reading_current_data(lake):
    orders_snapshot = open_catalog(lake).load_table(("sales", "orders")).current_snapshot().snapshot_id
    with pytest.raises(QueryError, match=rf"{orders_snapshot}: sales.customers has no snapshot"):
        _engine(lake).query("select count(*) from sales.customers", as_of=str(orders_snapshot))


def test_as_of_a_snapshot_id_is_refused_when_one_queried_table_lacks_it(lake):
    first = open_catalog(lake).load_table(("sales", "customers")).snapshots()[0].snapshot_id
    sql = "select count(*) from sales.customers join sales.orders using (id)"
    with pytest.raises(QueryError, match="sales.orders has no snapshot"):
        _engine(lake).query(sql, as_of=str(first))


def test_as_of_an_expired_snapshot_id_or_its_time_is_refused(lake):
    customers = open_catalog(lake).load_table(("sales", "customers"))
    first = customers.snapshots()[0]
    moment = datetime.fromtimestamp(first.timestamp_ms / 1000, timezone.utc).isoformat()
    assert _engine(lake).query("select id from sales.customers", as_of=moment).rows == [(1,)]
    customers.maintenance.expire_snapshots().by_id(first.snapshot_id).commit()
    with pytest.raises(QueryError, match="sales.customers has no snapshot"):
        _engine(lake).query("select id from sales.customers", as_of=str(first.snapshot_id))
    with pytest.raises(QueryError, match="sales.customers"):
        _engine(lake).query("select id from sales.customers", as_of=moment)


def test_as_of_a_time_before_the_tables_first_snapshot_is_refused_naming_the_table_and_time(lake):
    before = datetime.now(timezone.utc) - timedelta(days=30)
    with pytest.raises(QueryError) as refused:
        _engine(lake).query("select count(*) from sales.customers", as_of=before.isoformat())
    assert "no snapshot of sales.customers covers" in str(refused.value)
    assert before.isoformat() in str(refused.value)


def test_as_of_a_retained_snapshot_id_or_time_reads_that_snapshot(lake):
    customers = open_catalog(lake).load_table(("sales", "customers"))
    first = customers.snapshots()[0]
    sql = "select id from sales.customers order by id"
    assert _engine(lake).query(sql, as_of=str(first.snapshot_id)).rows == [(1,)]
    assert _engine(lake).query(sql, as_of=datetime.now(timezone.utc).isoformat()).rows == [(1,), (2,)]


_QUERY_IN_ZONE = """
import sys
from lake_platform.query_cache import cached_query
from lake_platform.resources.catalog import LakeCatalog
from lake_platform.resources.query_engine.local import DuckDBQueryEngine
sql = "select count(*) from sales.customers where created_at >= '2025-01-01'"
engine = DuckDBQueryEngine(catalog=LakeCatalog(uri=sys.argv[1]))
print(engine.query(sql).rows[0][0], cached_query(sys.argv[1], sql)[1][0][0])
"""


def test_a_date_literal_against_a_timestamp_is_read_in_utc_whatever_the_machines_zone(lake):
    # Both rows are at 2025-01-01 02:00 UTC: on or after 2025-01-01 in UTC (and Athena), not in New York.
    env = {**os.environ, "TZ": "America/New_York"}
    out = subprocess.run(
        [sys.executable, "-c", _QUERY_IN_ZONE, lake], env=env, capture_output=True, text=True, check=True
    ).stdout.split()
    assert out == ["2", "2"], "full path and the remembered-files shortcut both answer in UTC"


@pytest.mark.parametrize("sql", ["", "  \n"])
def test_an_empty_statement_is_not_run_by_the_shortcut_even_with_remembered_files(lake, sql):
    _engine(lake).query("select count(*) from sales.customers")
    assert cached_query(lake, "select count(*) from sales.customers") == (["count_star()"], [(2,)])
    assert cached_query(lake, sql) is None
    with pytest.raises(QueryError, match="no SQL given"):
        _engine(lake).query(sql)


def test_lake_query_with_an_empty_statement_exits_2_with_a_message(lake, monkeypatch, capsys):
    from lake_platform.cli import main

    _engine(lake).query("select count(*) from sales.customers")  # remembered files: the shortcut is live
    monkeypatch.setenv("LAKE_ENV", "local")
    monkeypatch.setenv("LAKE_HOME", str(Path(lake.removeprefix("sqlite:///")).parent))
    assert main(["query", ""]) == 2
    assert "no SQL given" in capsys.readouterr().err
